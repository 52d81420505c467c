"""Hotspot policies as arithmetic: what is left of a citizen's quotas, and what one login may get.

Data flows policy row + today's usage (per device and per person) → ``grant_for`` → an ``Allowance``
(rendered into reply attributes by ``captive_portal.dialects``) or a ``Refusal`` with a plain reason.
Nothing here touches the database or the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from netmgr.models.hotspot import HotspotPolicy

GIGAWORD = 2**32


class RefusalCode(StrEnum):
    UNKNOWN_USER = "unknown_user"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - a reason code, not a password
    VOUCHER_USED = "voucher_used"
    VOUCHER_EXPIRED = "voucher_expired"
    VOUCHER_REVOKED = "voucher_revoked"
    VOUCHER_WRONG_HOTSPOT = "voucher_wrong_hotspot"
    GRANT_EXPIRED = "grant_expired"
    GRANT_WRONG_DEVICE = "grant_wrong_device"
    TOO_MANY_DEVICES = "too_many_devices"
    DEVICE_TIME_USED = "device_time_used"
    DEVICE_DATA_USED = "device_data_used"
    PERSON_TIME_USED = "person_time_used"
    PERSON_DATA_USED = "person_data_used"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    UNKNOWN_NAS = "unknown_nas"
    HOTSPOT_DISABLED = "hotspot_disabled"
    BAD_REQUEST = "bad_request"


# The Reply-Message a citizen sees on the gateway's login page, in the regency's default language.
# An unknown code and a used, expired, revoked or other hotspot's one read the same: a guesser must not learn
# which codes exist (the attempt row keeps the precise code for the operator).
_NOT_USABLE = {"id": "Kode voucher atau nama pengguna ini tidak dapat dipakai",
               "en": "This voucher code or user name cannot be used"}
MESSAGES: dict[str, dict[RefusalCode, str]] = {
    "id": {
        RefusalCode.UNKNOWN_USER: _NOT_USABLE["id"],
        RefusalCode.WRONG_PASSWORD: "Kode voucher atau kata sandi salah",
        RefusalCode.VOUCHER_USED: _NOT_USABLE["id"],
        RefusalCode.VOUCHER_EXPIRED: _NOT_USABLE["id"],
        RefusalCode.VOUCHER_REVOKED: _NOT_USABLE["id"],
        RefusalCode.VOUCHER_WRONG_HOTSPOT: _NOT_USABLE["id"],
        RefusalCode.GRANT_EXPIRED: "Sesi login sudah kedaluwarsa, silakan login ulang",
        RefusalCode.GRANT_WRONG_DEVICE: "Login ini dibuat untuk perangkat lain",
        RefusalCode.TOO_MANY_DEVICES: "Voucher ini sedang dipakai di perangkat lain",
        RefusalCode.DEVICE_TIME_USED: "Kuota waktu harian perangkat ini sudah habis",
        RefusalCode.DEVICE_DATA_USED: "Kuota data harian perangkat ini sudah habis",
        RefusalCode.PERSON_TIME_USED: "Kuota waktu harian Anda sudah habis",
        RefusalCode.PERSON_DATA_USED: "Kuota data harian Anda sudah habis",
        RefusalCode.TOO_MANY_ATTEMPTS: "Terlalu banyak percobaan gagal, coba lagi nanti",
        RefusalCode.UNKNOWN_NAS: "Gateway ini tidak terdaftar",
        RefusalCode.HOTSPOT_DISABLED: "Hotspot ini sedang tidak aktif",
        RefusalCode.BAD_REQUEST: "Permintaan tidak valid",
    },
    "en": {
        RefusalCode.UNKNOWN_USER: _NOT_USABLE["en"],
        RefusalCode.WRONG_PASSWORD: "Wrong voucher code or password",
        RefusalCode.VOUCHER_USED: _NOT_USABLE["en"],
        RefusalCode.VOUCHER_EXPIRED: _NOT_USABLE["en"],
        RefusalCode.VOUCHER_REVOKED: _NOT_USABLE["en"],
        RefusalCode.VOUCHER_WRONG_HOTSPOT: _NOT_USABLE["en"],
        RefusalCode.GRANT_EXPIRED: "Your login has expired, please log in again",
        RefusalCode.GRANT_WRONG_DEVICE: "This login was made for another device",
        RefusalCode.TOO_MANY_DEVICES: "This voucher is in use on another device",
        RefusalCode.DEVICE_TIME_USED: "This device's daily time quota is used up",
        RefusalCode.DEVICE_DATA_USED: "This device's daily data quota is used up",
        RefusalCode.PERSON_TIME_USED: "Your daily time quota is used up",
        RefusalCode.PERSON_DATA_USED: "Your daily data quota is used up",
        RefusalCode.TOO_MANY_ATTEMPTS: "Too many failed attempts, try again later",
        RefusalCode.UNKNOWN_NAS: "This gateway is not registered",
        RefusalCode.HOTSPOT_DISABLED: "This hotspot is switched off",
        RefusalCode.BAD_REQUEST: "Invalid request",
    },
}


def message(code: RefusalCode, language: str = "id") -> str:
    """The plain reason for ``code`` in ``language`` (Indonesian when the language is unknown)."""
    return MESSAGES.get(language, MESSAGES["id"])[code]


@dataclass(frozen=True)
class Refusal:
    code: RefusalCode

    def message(self, language: str = "id") -> str:
        return message(self.code, language)


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


def _remaining(limit: int | None, used: int) -> int | None:
    return None if limit is None else max(0, limit - used)


def _min_known(*values: int | None) -> int | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def grant_for(limits: PolicyLimits, *, device_today: Usage, person_today: Usage,
              valid_for_s: int | None = None) -> Allowance | Refusal:
    """What a login may get now, or why it may not.

    Args:
        limits: the policy.
        device_today: what this MAC used today (all hotspots).
        person_today: what this voucher/phone used today (all its devices).
        valid_for_s: seconds until the credential itself ends (a voucher's lifetime), if it does.
    """
    device_time = _remaining(limits.device_daily_time_s, device_today.time_s)
    person_time = _remaining(limits.person_daily_time_s, person_today.time_s)
    device_data = _remaining(limits.device_daily_bytes, device_today.octets)
    person_data = _remaining(limits.person_daily_bytes, person_today.octets)
    for left, code in ((person_time, RefusalCode.PERSON_TIME_USED), (device_time, RefusalCode.DEVICE_TIME_USED),
                       (person_data, RefusalCode.PERSON_DATA_USED), (device_data, RefusalCode.DEVICE_DATA_USED)):
        if left is not None and left <= 0:
            return Refusal(code)
    if valid_for_s is not None and valid_for_s <= 0:
        return Refusal(RefusalCode.VOUCHER_EXPIRED)
    return Allowance(
        session_timeout_s=_min_known(limits.session_timeout_s, device_time, person_time, valid_for_s),
        idle_timeout_s=limits.idle_timeout_s,
        interim_interval_s=limits.interim_interval_s,
        rate_down_kbps=limits.rate_down_kbps,
        rate_up_kbps=limits.rate_up_kbps,
        data_bytes=_min_known(device_data, person_data),
    )


def exhausted(*, allowance_bytes: int | None, allowance_time_s: int | None, used: Usage) -> RefusalCode | None:
    """Whether a running session has used what it was allowed (the reason to disconnect it), else None."""
    if allowance_bytes is not None and used.octets >= allowance_bytes:
        return RefusalCode.PERSON_DATA_USED
    if allowance_time_s is not None and used.time_s >= allowance_time_s:
        return RefusalCode.PERSON_TIME_USED
    return None


def seconds_until(when: datetime | None, now: datetime) -> int | None:
    return None if when is None else int((when - now) / timedelta(seconds=1))


def split_gigawords(octets: int) -> tuple[int, int]:
    """``(gigawords, octets mod 2**32)`` for RADIUS attributes that carry 64-bit counts in two 32-bit halves."""
    return octets // GIGAWORD, octets % GIGAWORD


def join_gigawords(gigawords: int, octets: int) -> int:
    return gigawords * GIGAWORD + octets
