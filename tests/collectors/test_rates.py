"""Rates from counters: examples for each rule, and property tests over simulated devices."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.rates import (
    COUNTER32_MODULO,
    TIMETICKS_MODULO,
    CounterSample,
    NoRate,
    NoRateReason,
    Rate,
    counter_rate,
    is_plausible,
    spread,
)

MBPS = 1_000_000


def sample(value: int, t: float, uptime_s: float | None = None, *, width: int = 64,
           disc: int | None = None) -> CounterSample:
    uptime = None if uptime_s is None else int(uptime_s * 100) % TIMETICKS_MODULO
    return CounterSample(value=value, wall_time=t, uptime_cs=uptime, width=width, discontinuity_cs=disc)


def test_first_poll_gives_no_rate() -> None:
    result = counter_rate(None, sample(123, 1000.0, 50))
    assert isinstance(result, NoRate) and result.reason is NoRateReason.FIRST_POLL


def test_steady_traffic_gives_bits_per_second_over_agent_time() -> None:
    # Wall clock says 61 s (poller was late reading the answer), the agent says 60 s: trust the agent.
    result = counter_rate(sample(1_000, 1000.0, 500), sample(1_000 + 7_500_000, 1061.0, 560),
                          speed_bps=100 * MBPS)
    assert isinstance(result, Rate)
    assert result.interval_s == 60
    assert result.bits_per_second == pytest.approx(1 * MBPS)
    assert (result.start, result.end) == (1001.0, 1061.0)


def test_wall_time_is_used_when_sysuptime_is_missing() -> None:
    result = counter_rate(sample(0, 1000.0), sample(1_250_000, 1010.0))
    assert isinstance(result, Rate) and result.bits_per_second == pytest.approx(1 * MBPS)


def test_counter32_wrapping_once_counts_the_wrapped_octets() -> None:
    before = COUNTER32_MODULO - 1_000
    result = counter_rate(sample(before, 0.0, 100, width=32), sample(4_000, 60.0, 160, width=32),
                          speed_bps=10 * MBPS)
    assert isinstance(result, Rate) and result.octets == 5_000


def test_counter64_going_back_is_a_discontinuity_not_a_spike() -> None:
    result = counter_rate(sample(10**15, 0.0, 100), sample(10**6, 60.0, 160), speed_bps=10_000 * MBPS)
    assert isinstance(result, NoRate) and result.reason is NoRateReason.DISCONTINUITY


def test_counter64_wrapping_past_2_to_the_64_by_a_plausible_amount_is_traffic() -> None:
    near_top = 2**64 - 1_000
    result = counter_rate(sample(near_top, 0.0, 100), sample(4_000, 60.0, 160), speed_bps=10 * MBPS)
    assert isinstance(result, Rate) and result.octets == 5_000


def test_counter64_going_back_without_a_known_speed_is_a_discontinuity() -> None:
    result = counter_rate(sample(2**64 - 1_000, 0.0, 100), sample(4_000, 60.0, 160))
    assert isinstance(result, NoRate) and result.reason is NoRateReason.DISCONTINUITY


def test_changed_discontinuity_time_gives_no_rate_even_if_counter_grew() -> None:
    result = counter_rate(sample(100, 0.0, 100, disc=0), sample(5_000, 60.0, 160, disc=15_000))
    assert isinstance(result, NoRate) and result.reason is NoRateReason.DISCONTINUITY


def test_reboot_between_polls_writes_no_spike() -> None:
    # Rebooted 30 s ago; the 32-bit counter restarted near zero and now looks like a wrap.
    prev = sample(COUNTER32_MODULO - 10, 0.0, 86_400, width=32)
    cur = sample(50, 60.0, 30, width=32)
    result = counter_rate(prev, cur, speed_bps=100 * MBPS)
    assert isinstance(result, NoRate) and result.reason is NoRateReason.REBOOT


def test_reboot_with_uptime_longer_than_before_is_still_a_reboot() -> None:
    # Up 20 s at the last poll; rebooted during a 10-minute outage and has now been up 300 s.
    result = counter_rate(sample(9_000, 0.0, 20), sample(9_500, 600.0, 300))
    assert isinstance(result, NoRate) and result.reason is NoRateReason.REBOOT


def test_sysuptime_wrapping_after_497_days_is_not_a_reboot() -> None:
    prev = CounterSample(value=1_000, wall_time=0.0, uptime_cs=TIMETICKS_MODULO - 2_000)
    cur = CounterSample(value=1_000 + 750_000, wall_time=60.0, uptime_cs=4_000)
    result = counter_rate(prev, cur, speed_bps=100 * MBPS)
    assert isinstance(result, Rate) and result.interval_s == 60 and result.bits_per_second == pytest.approx(100_000)


def test_delta_beyond_interface_capacity_is_treated_as_a_reset() -> None:
    # 10 Mbit/s for 60 s is at most 75 MB; a 32-bit "wrap" of 4 GB cannot have happened.
    result = counter_rate(sample(3_000_000_000, 0.0, 100, width=32), sample(1_000, 60.0, 160, width=32),
                          speed_bps=10 * MBPS)
    assert isinstance(result, NoRate) and result.reason is NoRateReason.IMPOSSIBLE


def test_unknown_speed_skips_the_capacity_check() -> None:
    result = counter_rate(sample(0, 0.0, 100), sample(10**12, 60.0, 160), speed_bps=None)
    assert isinstance(result, Rate)


def test_duplicate_sample_gives_no_interval() -> None:
    s = sample(5, 10.0)
    result = counter_rate(s, s)
    assert isinstance(result, NoRate) and result.reason is NoRateReason.NO_INTERVAL


def test_missed_polls_lose_no_traffic_and_spread_evenly() -> None:
    # Two polls missed: the delta covers 180 s and is spread into three 60-s points.
    result = counter_rate(sample(0, 0.0, 1000), sample(1_000_001, 180.0, 1180), poll_interval_s=60)
    assert isinstance(result, Rate) and result.spans_gap
    slices = list(spread(result, 60))
    assert [s.time for s in slices] == [60.0, 120.0, 180.0]
    assert sum(s.octets for s in slices) == 1_000_001
    assert [s.octets for s in slices] == [333_334, 333_334, 333_333]


def test_one_poll_interval_does_not_span_a_gap() -> None:
    result = counter_rate(sample(0, 0.0, 1000), sample(10, 62.0, 1062), poll_interval_s=60)
    assert isinstance(result, Rate) and not result.spans_gap
    assert len(list(spread(result, 60))) == 1


# ---- property tests: a simulated device with random traffic, wraps, reboots, resets and missed polls ----

BOOT_S = 15  # a reboot keeps the agent silent for at least this long


@dataclass
class Step:
    duration_cs: int
    utilisation: float
    event: str  # "none", "reboot", "reset", "missed"
    event_at: float  # where in the step the reboot/reset happens (0..1)
    jitter_s: float


@dataclass
class Scenario:
    width: int
    speed_bps: int
    poll_s: int
    with_uptime: bool
    with_discontinuity: bool
    counter0: int
    uptime0_cs: int
    steps: list[Step] = field(default_factory=list)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    width = draw(st.sampled_from([32, 64]))
    with_uptime = draw(st.booleans())
    with_disc = draw(st.booleans())
    poll_s = draw(st.sampled_from([30, 60, 300]))
    events = ["none", "missed"] + (["reboot"] if with_uptime else []) + (["reset"] if with_disc else [])
    uptime0 = draw(st.one_of(st.integers(0, TIMETICKS_MODULO - 1),
                             st.integers(TIMETICKS_MODULO - 100 * 3 * poll_s, TIMETICKS_MODULO - 1)))
    steps = draw(st.lists(st.builds(
        Step,
        duration_cs=st.integers(poll_s * 100 - 150, poll_s * 100 + 150),
        utilisation=st.floats(0, 1),
        event=st.sampled_from(events),
        event_at=st.floats(0.01, 0.99),
        jitter_s=st.floats(-0.5, 0.5),
    ), min_size=1, max_size=30))
    # The poller never misses more than two polls in a row here: beyond that a 32-bit counter on a busy
    # link may wrap twice, which no poller can see.
    run = 0
    for step in steps:
        run = run + 1 if step.event == "missed" else 0
        if run > 2:
            step.event = "none"
            run = 0
    return Scenario(width=width, speed_bps=draw(st.sampled_from([10 * MBPS, 100 * MBPS, 1000 * MBPS])),
                    poll_s=poll_s, with_uptime=with_uptime, with_discontinuity=with_disc,
                    counter0=draw(st.integers(0, 2**width - 1)), uptime0_cs=uptime0, steps=steps)


def simulate(sc: Scenario) -> tuple[list[CounterSample], list[tuple[int, bool]]]:
    """The samples the poller saw, and per observed interval (true octets, interval had a reboot/reset)."""
    modulo = 2**sc.width
    per_step_cap = (COUNTER32_MODULO - 1) // 3 if sc.width == 32 else 2**62
    counter, uptime, disc, t_cs = sc.counter0, sc.uptime0_cs, 0, 0

    def observe(jitter: float) -> CounterSample:
        return CounterSample(value=counter, wall_time=1.7e9 + t_cs / 100 + jitter,
                             uptime_cs=uptime if sc.with_uptime else None, width=sc.width,
                             discontinuity_cs=disc if sc.with_discontinuity else None)

    samples = [observe(0.0)]
    truths: list[tuple[int, bool]] = []
    pending_octets, pending_event = 0, False
    for step in sc.steps:
        d = step.duration_cs
        octets = min(int(step.utilisation * sc.speed_bps / 8 * d / 100), per_step_cap)
        event = step.event
        if event == "reboot" and uptime + d + 100 * 10 >= TIMETICKS_MODULO:
            event = "none"  # a reboot right at sysUpTime's wrap is indistinguishable from the wrap
        if event == "reboot":
            down_at = int(step.event_at * (d - BOOT_S * 100))
            # Half the step's traffic before going down; the agent comes back after the boot time with
            # its counters and sysUpTime restarted from zero, then carries the other half.
            counter = (octets - octets // 2) % modulo
            uptime = d - down_at - BOOT_S * 100
            disc = 0
        elif event == "reset":
            counter = (counter + octets // 2) % modulo
            disc = (uptime + int(step.event_at * d)) % TIMETICKS_MODULO
            counter = (octets - octets // 2) % modulo
            uptime = (uptime + d) % TIMETICKS_MODULO
        else:
            counter = (counter + octets) % modulo
            uptime = (uptime + d) % TIMETICKS_MODULO
        t_cs += d
        pending_octets += octets
        pending_event = pending_event or event in ("reboot", "reset")
        if event != "missed":
            samples.append(observe(step.jitter_s))
            truths.append((pending_octets, pending_event))
            pending_octets, pending_event = 0, False
    return samples, truths


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_rates_conserve_bytes_except_across_reboots_and_resets(sc: Scenario) -> None:
    samples, truths = simulate(sc)
    first = counter_rate(None, samples[0], speed_bps=sc.speed_bps)
    assert isinstance(first, NoRate) and first.reason is NoRateReason.FIRST_POLL

    emitted_octets = 0
    emitted_bits = 0.0
    expected = 0
    for prev, cur, (true_octets, had_event) in zip(samples[:-1], samples[1:], truths, strict=True):
        result = counter_rate(prev, cur, speed_bps=sc.speed_bps, poll_interval_s=sc.poll_s)
        if had_event:
            assert isinstance(result, NoRate), f"reboot/reset emitted {result}"
            continue
        assert isinstance(result, Rate), f"clean interval gave {result}"
        assert is_plausible(result, sc.speed_bps)
        assert result.octets == true_octets
        slices = list(spread(result, sc.poll_s))
        assert sum(s.octets for s in slices) == result.octets
        assert all(s.bits_per_second >= 0 for s in slices)
        emitted_octets += result.octets
        emitted_bits += result.bits_per_second * result.interval_s
        expected += true_octets
    assert emitted_octets == expected
    assert emitted_bits == pytest.approx(expected * 8, rel=1e-9, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_missed_polls_are_marked_as_spanning_a_gap(sc: Scenario) -> None:
    samples, _ = simulate(sc)
    gap_steps = []
    run = 1
    for step in sc.steps:
        if step.event == "missed":
            run += 1
            continue
        gap_steps.append(run)
        run = 1
    for (prev, cur), steps in zip(zip(samples, samples[1:], strict=False), gap_steps, strict=False):
        result = counter_rate(prev, cur, speed_bps=sc.speed_bps, poll_interval_s=sc.poll_s)
        if isinstance(result, Rate):
            assert result.spans_gap == (steps > 1)
            assert len(list(spread(result, sc.poll_s))) == steps
