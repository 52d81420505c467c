"""A small regency for the finance tests: two offices and the hotspot pool on two uplinks, with an active plan,
traffic meters, and a generator that writes a month of 5-minute usage through the collectors' rollup code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from collectors.rollups import add_usage, rollup_pending
from netmgr.models import Traffic5m, TrafficMeter
from netmgr.models.enums import DeviceRole, SiteKind
from netmgr.models.traffic import MeterKind
from netmgr.schemas.finance import AllocationIn, PlanCreate, VersionCreate
from netmgr.security.permissions import SYSTEM
from netmgr.services import plans, reports
from tests import factories

WIB = ZoneInfo("Asia/Jakarta")
MONTH = date(2025, 2, 1)  # 28 days: 8064 five-minute samples per meter
Rate = Callable[[datetime], tuple[int, int]]
"""Local time of a bucket → (in, out) bit/s, multiples of 8 so octets per bucket are whole."""


@dataclass
class World:
    agency_busy: int
    agency_idle: int
    core: int
    telkom: int
    iconplus: int
    plan: int
    version: int
    meters: dict[str, int]


def office_hours(busy_bps: int, quiet_bps: int) -> Rate:
    def rate(local: datetime) -> tuple[int, int]:
        hour = local.hour + local.minute / 60
        on = local.weekday() < 5 and 7.5 <= hour < 16
        out = busy_bps if on else quiet_bps
        return out // 5 // 8 * 8, out
    return rate


def spiky(base_bps: int, spike_bps: int, every: int) -> Rate:
    """A low rate with a spike in every ``every``-th bucket (so spikes are under or over 5 %)."""
    def rate(local: datetime) -> tuple[int, int]:
        n = (local.day * 288 + local.hour * 12 + local.minute // 5)
        out = spike_bps if n % every == 0 else base_bps + (n % 7) * 8000
        return out // 4 // 8 * 8, out
    return rate


def samples(rate: Rate, month: date) -> list[tuple[int, int]]:
    """The (in, out) rate of every 5-minute bucket of the local month, in order."""
    start = datetime(month.year, month.month, 1, tzinfo=WIB)
    end = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=WIB)
    out = []
    t = start
    while t < end:
        out.append(rate(t))
        t += timedelta(minutes=5)
    return out


def write_month(session: Session, rates: dict[int, Rate], month: date, *, scale: float = 1.0,
                via_collectors: bool = False) -> None:
    """Write a month of buckets per meter: a bulk insert, or (slower, end to end) the collectors' ``add_usage``
    followed by their rollup."""
    start = datetime(month.year, month.month, 1, tzinfo=WIB)
    end = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=WIB)
    rows: dict[tuple[int, datetime], list[float]] = {}
    for meter_id, rate in rates.items():
        t = start
        while t < end:
            i, o = rate(t)
            rows[(meter_id, t.astimezone(UTC))] = [int(i * scale) * 300 // 8, int(o * scale) * 300 // 8, 300.0]
            t += timedelta(minutes=5)
    if via_collectors:
        add_usage(session, rows, tz=WIB)
        session.commit()
        rollup_pending(session, tz=WIB)
    else:
        session.execute(insert(Traffic5m.__table__), [
            {"meter_id": m, "bucket_start": b, "hour_start": b.replace(minute=0), "day": b.astimezone(WIB).date(),
             "in_octets": int(v[0]), "out_octets": int(v[1]), "covered_s": v[2]} for (m, b), v in rows.items()])
    session.commit()


def _meter(session: Session, device_id: int, kind: MeterKind, name: str, agency_id: int | None = None) -> int:
    row = TrafficMeter(device_id=device_id, kind=kind, name=name, agency_id=agency_id, billing=True)
    session.add(row)
    session.commit()
    return row.id


@pytest.fixture
def world(session: Session) -> World:
    busy = factories.agency(session, code="DUKCAPIL", name="Dinas Kependudukan dan Pencatatan Sipil")
    idle = factories.agency(session, code="INSPEKTORAT", name="Inspektorat Daerah")
    pop = factories.site(session, name="Ruang Server Diskominfo", kind=SiteKind.POP)
    core = factories.device(session, site_id=pop.id, name="core-diskominfo", role=DeviceRole.CORE_ROUTER)
    telkom = factories.uplink(session, name="telkom-astinet-500", device_id=core.id, interface_name="sfp-sfpplus1",
                              capacity_down_mbps=500, capacity_up_mbps=500, monthly_price_idr=27_500_000,
                              tax_percent=11.0, contract_end=date(2025, 12, 31), sla_availability_percent=99.5)
    icon = factories.uplink(session, name="iconplus-200", isp_name="PLN Icon Plus", device_id=core.id,
                            interface_name="sfp-sfpplus2", capacity_down_mbps=200, capacity_up_mbps=200,
                            monthly_price_idr=9_000_000, tax_percent=11.0, contract_end=date(2026, 2, 28))
    plan = plans.create_plan(session, SYSTEM, PlanCreate(name="Internet Pemkab", device_id=core.id,
                                                         wan_interface="sfp-sfpplus1", lan_interface="bridge-lan",
                                                         uplink_ids=[telkom.id, icon.id]))
    version = plans.create_version(session, SYSTEM, plan.id, VersionCreate(note="awal", allocations=[
        AllocationIn(name="DUKCAPIL", agency_id=busy.id, target="10.20.8.0/24", cir_mbps=20, mir_mbps=30,
                     priority=4),
        AllocationIn(name="INSPEKTORAT", agency_id=idle.id, target="10.20.10.0/24", cir_mbps=10, mir_mbps=10),
        AllocationIn(name="HOTSPOT-PUBLIK", is_hotspot_pool=True, target="10.30.0.0/16", cir_mbps=50,
                     mir_mbps=100, priority=6),
    ]))
    plans.activate_without_push(session, SYSTEM, version.id)
    version.activated_at = datetime(2025, 1, 1, tzinfo=UTC)
    session.commit()
    meters = {
        "telkom": _meter(session, core.id, MeterKind.INTERFACE, "sfp-sfpplus1"),
        "iconplus": _meter(session, core.id, MeterKind.INTERFACE, "sfp-sfpplus2"),
        "DUKCAPIL": _meter(session, core.id, MeterKind.QUEUE, "DUKCAPIL", busy.id),
        "INSPEKTORAT": _meter(session, core.id, MeterKind.QUEUE, "INSPEKTORAT", idle.id),
        "HOTSPOT-PUBLIK": _meter(session, core.id, MeterKind.QUEUE, "HOTSPOT-PUBLIK"),
    }
    return World(busy.id, idle.id, core.id, telkom.id, icon.id, plan.id, version.id, meters)


STANDARD_RATES: dict[str, Rate] = {
    # Telkom: 300 Mbps in office hours, 60 at night → 95th percentile 300 of 500 (60 %): right-sized.
    "telkom": lambda t: (office_hours(300_000_000, 60_000_000)(t)[1], office_hours(300_000_000, 60_000_000)(t)[0]),
    # Icon+: 40 Mbps busy, 8 quiet → 95th percentile 40 of 200 (20 %): a downgrade candidate.
    "iconplus": lambda t: (office_hours(40_000_000, 8_000_000)(t)[1], office_hours(40_000_000, 8_000_000)(t)[0]),
    "DUKCAPIL": office_hours(29_600_000, 2_000_000),  # at its 30 Mbps ceiling in office hours
    "INSPEKTORAT": spiky(400_000, 9_000_000, 25),  # spikes in 4 % of buckets: discarded by the 95th percentile
    "HOTSPOT-PUBLIK": office_hours(60_000_000, 35_000_000),
}


def standard_month(session: Session, world: World, month: date = MONTH, scale: float = 1.0,
                   via_collectors: bool = False) -> None:
    write_month(session, {world.meters[k]: r for k, r in STANDARD_RATES.items()}, month, scale=scale,
                via_collectors=via_collectors)


__all__ = ["MONTH", "STANDARD_RATES", "World", "reports", "samples", "standard_month", "write_month"]
