"""Rollups in the database: hourly and daily octets, the billing 95th percentile, late polls, idempotence."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.pipeline import MeterUsage, record_usage
from collectors.rollups import prune_5m, rollup_pending, split_into_buckets
from netmgr.models import MeterKind, Traffic5m, TrafficDaily, TrafficDirtyHour, TrafficHourly, TrafficMeter
from netmgr.services.reports import percentile_95, usage_by_meter
from tests import factories

WIB = ZoneInfo("Asia/Jakarta")
# 2026-03-02 00:00 WIB = 2026-03-01 17:00 UTC
DAY = date(2026, 3, 2)
DAY_START = datetime(2026, 3, 1, 17, 0, tzinfo=UTC).timestamp()


def billing_p95(values: list[float]) -> float:
    """The convention, written out independently: sort, drop the top 5 % of samples, take the highest left."""
    ordered = sorted(values)
    drop = int(len(ordered) * 0.05 + 1e-9)
    return ordered[:len(ordered) - drop][-1]


@given(st.lists(st.floats(min_value=0, max_value=1e10, allow_nan=False), min_size=1, max_size=400))
def test_percentile_95_follows_the_billing_convention(values: list[float]) -> None:
    assert percentile_95(values) == billing_p95(values)


def test_percentile_95_of_a_day_discards_the_14_highest_of_288() -> None:
    values = [float(v) for v in range(1, 289)]
    assert percentile_95(values) == 274.0


@given(st.floats(min_value=0, max_value=1e9), st.floats(min_value=0.5, max_value=20_000),
       st.integers(min_value=0, max_value=10**12))
def test_split_into_buckets_conserves_octets(start: float, length: float, octets: int) -> None:
    pieces = split_into_buckets(start, start + length, octets)
    assert sum(p[1] for p in pieces) == octets
    assert abs(sum(p[2] for p in pieces) - length) < 1e-6 * max(1.0, length)


def usage(name: str, start: float, end: float, in_octets: int, out_octets: int) -> MeterUsage:
    return MeterUsage(MeterKind.INTERFACE, name, start, end, in_octets, out_octets, billing=True)


def test_daily_octets_and_p95_match_an_independent_computation(session: Session) -> None:
    site = factories.site(session)
    device = factories.device(session, site_id=site.id)
    rng = random.Random(7)
    rates_in = [rng.uniform(1e6, 5e8) for _ in range(288)]
    rates_out = [rng.uniform(1e5, 5e7) for _ in range(288)]
    for n in range(288):  # one poll every 5 minutes, exactly on the buckets
        start = DAY_START + n * 300
        record_usage(session, device.id, [usage("sfp-sfpplus1", start, start + 300, round(rates_in[n] * 300 / 8),
                                                round(rates_out[n] * 300 / 8))], tz=WIB)
    session.commit()
    result = rollup_pending(session, tz=WIB)
    assert result.hours == 24 and result.days == 1
    (daily,) = session.scalars(select(TrafficDaily))
    assert daily.day == DAY and daily.samples == 288
    expected_in = [round(r * 300 / 8) * 8 / 300 for r in rates_in]
    assert abs(daily.p95_in_bps - billing_p95(expected_in)) < 1e-6
    assert abs(daily.p95_out_bps - billing_p95([round(r * 300 / 8) * 8 / 300 for r in rates_out])) < 1e-6
    assert abs(daily.max_in_bps - max(expected_in)) < 1e-6
    assert daily.in_octets == sum(round(r * 300 / 8) for r in rates_in)
    hours = session.scalars(select(TrafficHourly).order_by(TrafficHourly.hour_start)).all()
    assert len(hours) == 24 and {h.day for h in hours} == {DAY}
    assert hours[0].hour_start == datetime(2026, 3, 1, 17, tzinfo=UTC)
    assert hours[0].in_octets == sum(round(r * 300 / 8) for r in rates_in[:12])
    assert session.scalars(select(TrafficDirtyHour)).all() == []

    again = rollup_pending(session, tz=WIB)  # nothing marked: nothing to do, nothing changes
    assert again.hours == 0
    assert session.scalars(select(TrafficDaily)).one().in_octets == daily.in_octets


def test_a_late_poll_lands_its_bytes_in_the_hours_it_covers(session: Session) -> None:
    site = factories.site(session)
    device = factories.device(session, site_id=site.id)
    t0 = DAY_START + 9 * 3600  # 09:00 WIB
    record_usage(session, device.id, [usage("ether1", t0, t0 + 60, 60_000, 6_000)], tz=WIB)
    session.commit()
    rollup_pending(session, tz=WIB)
    before = session.scalars(select(TrafficDaily)).one().in_octets
    # The device was unreachable from 09:01 to 12:01; the next poll's delta covers the three hours.
    record_usage(session, device.id, [usage("ether1", t0 + 60, t0 + 60 + 3 * 3600, 10_800_000, 0)], tz=WIB)
    session.commit()
    rollup_pending(session, tz=WIB)
    hourly = {h.hour_start: h.in_octets for h in session.scalars(select(TrafficHourly))}
    start = datetime.fromtimestamp(t0, UTC)
    assert hourly[start] == 60_000 + 59 * 60 * 1000  # 1000 octets/s for the rest of the hour
    assert hourly[start + timedelta(hours=1)] == 3_600_000
    assert hourly[start + timedelta(hours=2)] == 3_600_000
    assert hourly[start + timedelta(hours=3)] == 60_000
    daily = session.scalars(select(TrafficDaily)).one()
    assert daily.in_octets == before + 10_800_000


def test_usage_on_both_sides_of_local_midnight_splits_into_two_days(session: Session) -> None:
    site = factories.site(session)
    device = factories.device(session, site_id=site.id)
    midnight = DAY_START + 86_400  # 2026-03-03 00:00 WIB
    record_usage(session, device.id, [usage("ether1", midnight - 600, midnight + 600, 1_200_000, 0)], tz=WIB)
    session.commit()
    rollup_pending(session, tz=WIB)
    days = {d.day: d.in_octets for d in session.scalars(select(TrafficDaily))}
    assert days == {DAY: 600_000, DAY + timedelta(days=1): 600_000}


def test_prune_keeps_billing_rows_longer(session: Session) -> None:
    site = factories.site(session)
    device = factories.device(session, site_id=site.id)
    record_usage(session, device.id, [usage("uplink", DAY_START, DAY_START + 300, 1, 1),
                                      MeterUsage(MeterKind.INTERFACE, "ether9", DAY_START, DAY_START + 300, 1, 1)],
                 tz=WIB)
    session.commit()
    deleted = prune_5m(session, today=DAY + timedelta(days=10), keep_days=3, keep_billing_days=400)
    assert deleted == 1
    left = session.execute(select(TrafficMeter.name).join(Traffic5m, Traffic5m.meter_id == TrafficMeter.id)).all()
    assert [name for (name,) in left] == ["uplink"]
    meter = session.scalars(select(TrafficMeter).where(TrafficMeter.name == "uplink")).one()
    month = usage_by_meter(session, [meter.id], DAY, DAY + timedelta(days=29))[meter.id]
    assert len(month.in_bps) == 1 and abs(month.p95_bps - 8 / 300) < 1e-12
