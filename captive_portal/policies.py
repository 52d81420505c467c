"""Hotspot policies as plain values: a policy's limits, what was used, and what one login gets.

``captive_portal.decisions.grant_for`` turns limits and today's usage into an ``Allowance`` (rendered into
reply attributes by ``captive_portal.dialects``). Nothing here touches the database or the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from netmgr.models.hotspot import HotspotPolicy

GIGAWORD = 2**32


@dataclass(frozen=True)
class Usage:
    """Time and octets used (both directions summed)."""

    time_s: int = 0
    octets: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.time_s + other.time_s, self.octets + other.octets)


@dataclass(frozen=True)
class PolicyLimits:
    """A snapshot of a ``HotspotPolicy`` row (so the arithmetic needs no session)."""

    session_timeout_s: int | None = None
    idle_timeout_s: int | None = None
    interim_interval_s: int = 300
    rate_down_kbps: int | None = None
    rate_up_kbps: int | None = None
    device_daily_time_s: int | None = None
    device_daily_bytes: int | None = None
    person_daily_time_s: int | None = None
    person_daily_bytes: int | None = None
    max_devices: int = 1
    voucher_lifetime_s: int | None = None
    opening_start: str | None = None
    """``HH:MM`` in the installation's zone when logins open (with ``opening_end``; none: always open)."""
    opening_end: str | None = None

    @classmethod
    def of(cls, policy: HotspotPolicy) -> PolicyLimits:
        return cls(
            session_timeout_s=policy.session_timeout_s,
            idle_timeout_s=policy.idle_timeout_s,
            interim_interval_s=policy.interim_interval_s,
            rate_down_kbps=policy.rate_down_kbps,
            rate_up_kbps=policy.rate_up_kbps,
            device_daily_time_s=policy.device_daily_time_s,
            device_daily_bytes=policy.device_daily_bytes,
            person_daily_time_s=policy.person_daily_time_s,
            person_daily_bytes=policy.person_daily_bytes,
            max_devices=policy.max_devices,
            voucher_lifetime_s=policy.voucher_lifetime_s,
            opening_start=policy.opening_start,
            opening_end=policy.opening_end,
        )


@dataclass(frozen=True)
class Allowance:
    """What one login gets: the session's limits, already reduced to what is left of every quota."""

    session_timeout_s: int | None
    idle_timeout_s: int | None
    interim_interval_s: int
    rate_down_kbps: int | None
    rate_up_kbps: int | None
    data_bytes: int | None
    """Octets (both directions) left for this session, None when unlimited."""


def seconds_until(when: datetime | None, now: datetime) -> int | None:
    return None if when is None else int((when - now) / timedelta(seconds=1))


def split_gigawords(octets: int) -> tuple[int, int]:
    """``(gigawords, octets mod 2**32)`` for RADIUS attributes that carry 64-bit counts in two 32-bit halves."""
    return octets // GIGAWORD, octets % GIGAWORD


def join_gigawords(gigawords: int, octets: int) -> int:
    return gigawords * GIGAWORD + octets
