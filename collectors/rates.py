"""Rates from SNMP octet counters: two samples in, bits per second (or the reason there is none) out.

Pure arithmetic, no I/O. The poller keeps the previous ``CounterSample`` per counter, calls
``counter_rate`` with the new one, and writes the ``Rate`` (spread over a gap with ``spread``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

COUNTER32_MODULO = 2**32
COUNTER64_MODULO = 2**64
TIMETICKS_MODULO = 2**32
"""sysUpTime is a 32-bit TimeTicks in centiseconds: it wraps after 497 days."""

DEFAULT_CAPACITY_TOLERANCE = 1.1
"""A delta may exceed speed × interval by 10 % (sampling jitter, speed rounding) before it counts as a reset."""

DEFAULT_CLOCK_SLACK_S = 5.0
"""How far agent time and wall time may disagree before a short sysUpTime means a reboot.

A real reboot also takes the device's boot time (tens of seconds) before the agent answers again.
"""


@dataclass(frozen=True, slots=True)
class CounterSample:
    """One reading of an octet counter, as the poller saw it.

    Attributes:
        value: the counter (ifHCInOctets, ifInOctets, ...), already an unsigned integer.
        wall_time: the poller's clock when the answer arrived, in seconds since the epoch.
        uptime_cs: sysUpTime from the same PDU, in centiseconds, or None when not polled.
        width: 32 for Counter32, 64 for Counter64.
        discontinuity_cs: ifCounterDiscontinuityTime (a TimeTicks) when the agent has it, else None.
    """

    value: int
    wall_time: float
    uptime_cs: int | None = None
    width: int = 64
    discontinuity_cs: int | None = None


class NoRateReason(StrEnum):
    FIRST_POLL = "first_poll"
    """Nothing to compare with yet."""
    REBOOT = "reboot"
    """sysUpTime says the agent restarted inside the interval: the counters restarted from zero."""
    DISCONTINUITY = "discontinuity"
    """A 64-bit counter went back, ifCounterDiscontinuityTime changed, or the counter width changed."""
    IMPOSSIBLE = "impossible"
    """The delta is more than the interface could carry in the interval: a reset we could not see otherwise."""
    NO_INTERVAL = "no_interval"
    """Zero or negative time between the samples (duplicate sample, clock stepped back)."""


@dataclass(frozen=True, slots=True)
class NoRate:
    """Why no rate was produced for this interval; the interval's traffic is unknown, not zero."""

    reason: NoRateReason
    detail: str


@dataclass(frozen=True, slots=True)
class Rate:
    """Traffic over one interval between two samples.

    ``bits_per_second * interval_s == octets * 8`` exactly (up to float rounding), so spreading it over a
    gap or summing it later conserves the bytes. ``start``/``end`` are wall-clock seconds; ``end`` is the
    current sample's wall time and ``interval_s`` is measured in agent time when sysUpTime is available.
    """

    octets: int
    start: float
    end: float
    interval_s: float
    bits_per_second: float
    spans_gap: bool = False
    """True when the interval covers more than one poll interval (missed polls): use ``spread``."""


def _elapsed_agent_cs(prev: CounterSample, cur: CounterSample, wall_elapsed: float,
                      clock_slack_s: float) -> int | NoRate | None:
    """Agent time between the samples in centiseconds, a reboot verdict, or None if sysUpTime is missing."""
    if prev.uptime_cs is None or cur.uptime_cs is None:
        return None
    # Agent clocks drift a little against the poller's: allow 0.1 % on top of the fixed slack.
    slack_s = clock_slack_s + abs(wall_elapsed) * 0.001
    if cur.uptime_cs < prev.uptime_cs:
        # Going back is either sysUpTime's own 32-bit wrap (then the wrapped delta matches the wall time
        # since the last poll) or the agent restarting.
        wrapped_cs = cur.uptime_cs + TIMETICKS_MODULO - prev.uptime_cs
        if abs(wrapped_cs / 100 - wall_elapsed) <= slack_s:
            return wrapped_cs
        return NoRate(NoRateReason.REBOOT,
                      f"sysUpTime went back from {prev.uptime_cs} to {cur.uptime_cs} centiseconds")
    if cur.uptime_cs / 100 < wall_elapsed - slack_s:
        # The agent has been up for less time than since the last poll, yet sysUpTime grew: it restarted
        # and has run longer than it had been up before.
        return NoRate(NoRateReason.REBOOT,
                      f"agent up {cur.uptime_cs / 100:.0f}s but {wall_elapsed:.0f}s passed since the last poll")
    return cur.uptime_cs - prev.uptime_cs


def restarted(previous_wall: float | None, previous_uptime_cs: int | None, wall: float, uptime_cs: int | None, *,
              clock_slack_s: float = DEFAULT_CLOCK_SLACK_S) -> bool:
    """True when an uptime (sysUpTime or hrSystemUptime, centiseconds) shows a restart between two readings.

    The same verdict ``counter_rate`` gives its counters: going back is a restart unless it is the 32-bit
    TimeTicks wrap after 497 days (the wrapped delta then matches the wall time); an uptime shorter than the
    wall time since the last reading is a restart too. False when either reading lacks an uptime.
    """
    if previous_wall is None or previous_uptime_cs is None or uptime_cs is None:
        return False
    verdict = _elapsed_agent_cs(CounterSample(0, previous_wall, previous_uptime_cs), CounterSample(0, wall, uptime_cs),
                                wall - previous_wall, clock_slack_s)
    return isinstance(verdict, NoRate)


def counter_rate(previous: CounterSample | None, current: CounterSample, *, speed_bps: float | None = None,
                 poll_interval_s: float | None = None, tolerance: float = DEFAULT_CAPACITY_TOLERANCE,
                 clock_slack_s: float = DEFAULT_CLOCK_SLACK_S) -> Rate | NoRate:
    """The rate between two samples of an octet counter, or why there is none.

    Args:
        previous: the last sample of this counter, None on the first poll.
        current: the sample just taken.
        speed_bps: the interface speed (ifHighSpeed × 10^6); None or 0 when unknown, which skips the
            capacity check.
        poll_interval_s: the scheduled poll interval; an interval longer than 1.5 of them is marked
            ``spans_gap``.
        tolerance: how far over speed × interval a delta may be before it is treated as a reset.
        clock_slack_s: how far agent and wall time may disagree before a short sysUpTime means a reboot.

    Returns:
        a ``Rate``, or a ``NoRate`` naming the reason (first poll, reboot, discontinuity, impossible delta).
    """
    if previous is None:
        return NoRate(NoRateReason.FIRST_POLL, "first sample of this counter")
    if previous.width != current.width:
        return NoRate(NoRateReason.DISCONTINUITY,
                      f"counter width changed from {previous.width} to {current.width} bits")
    if (previous.discontinuity_cs is not None and current.discontinuity_cs is not None
            and previous.discontinuity_cs != current.discontinuity_cs):
        return NoRate(NoRateReason.DISCONTINUITY,
                      f"ifCounterDiscontinuityTime changed from {previous.discontinuity_cs} "
                      f"to {current.discontinuity_cs}")

    wall_elapsed = current.wall_time - previous.wall_time
    agent = _elapsed_agent_cs(previous, current, wall_elapsed, clock_slack_s)
    if isinstance(agent, NoRate):
        return agent
    interval_s = agent / 100 if agent is not None else wall_elapsed
    if interval_s <= 0:
        return NoRate(NoRateReason.NO_INTERVAL, f"{interval_s:.2f}s between samples")

    if current.value >= previous.value:
        octets = current.value - previous.value
    elif current.width == 32:
        octets = current.value + COUNTER32_MODULO - previous.value  # Counter32 wrapped once
    else:
        # A Counter64 that went back is a reset, unless the wrapped delta is traffic the link could
        # really have carried (a counter that started near 2**64, as some agents' do after a reset).
        wrapped = current.value + COUNTER64_MODULO - previous.value
        if not speed_bps or wrapped * 8 > speed_bps * interval_s * tolerance:
            return NoRate(NoRateReason.DISCONTINUITY,
                          f"64-bit counter went back from {previous.value} to {current.value}")
        octets = wrapped

    if speed_bps and octets * 8 > speed_bps * interval_s * tolerance:
        return NoRate(NoRateReason.IMPOSSIBLE,
                      f"{octets} octets in {interval_s:.1f}s is more than {speed_bps:.0f} bit/s can carry")

    spans_gap = poll_interval_s is not None and interval_s > 1.5 * poll_interval_s
    return Rate(octets=octets, start=current.wall_time - interval_s, end=current.wall_time,
                interval_s=interval_s, bits_per_second=octets * 8 / interval_s, spans_gap=spans_gap)


@dataclass(frozen=True, slots=True)
class RateSlice:
    """One evenly spread piece of a ``Rate``: the slice ends at ``time`` (wall seconds)."""

    time: float
    octets: int
    interval_s: float
    bits_per_second: float


def spread(rate: Rate, step_s: float) -> Iterator[RateSlice]:
    """Split ``rate`` into slices of about ``step_s`` seconds with the same bit rate, conserving the octets.

    A missed poll loses no traffic: the delta after the gap covers the whole gap, and spreading it gives the
    graph one point per poll interval instead of one long, flat point. The slices' octets sum exactly to
    ``rate.octets`` (the remainder goes to the first slices).
    """
    if step_s <= 0:
        raise ValueError("step_s must be positive")
    count = max(1, round(rate.interval_s / step_s))
    width = rate.interval_s / count
    base, remainder = divmod(rate.octets, count)
    for index in range(count):
        octets = base + (1 if index < remainder else 0)
        yield RateSlice(time=rate.start + width * (index + 1), octets=octets, interval_s=width,
                        bits_per_second=octets * 8 / width)


def is_plausible(rate: Rate, speed_bps: float | None, tolerance: float = DEFAULT_CAPACITY_TOLERANCE) -> bool:
    """Whether a rate is non-negative, finite and within what the interface can carry."""
    if rate.octets < 0 or not math.isfinite(rate.bits_per_second) or rate.bits_per_second < 0:
        return False
    return not speed_bps or rate.bits_per_second <= speed_bps * tolerance
