"""The demo's bandwidth finance: an active plan from the catalog's queues, a pagu, and backfilled usage.

Data flow: ``catalog.AGENCIES`` (ceilings and typical use) + ``snmpdata.traffic_factor`` → a deterministic
5-minute rate per queue and uplink → ``traffic_5m`` rows for the two previous months and this month so far,
with their hours marked for the collectors' rollup → "last month's report" exists on a fresh demo.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from netmgr.demo import catalog
from netmgr.demo.snmpdata import _jitter, traffic_factor
from netmgr.localtime import zone
from netmgr.models import Agency, BudgetYear, Device, Traffic5m, TrafficDirtyHour, TrafficMeter, Uplink
from netmgr.models.finance import BandwidthPlan
from netmgr.models.traffic import MeterKind
from netmgr.schemas.finance import AllocationIn, PlanCreate, VersionCreate
from netmgr.security.permissions import Actor
from netmgr.services import budget, plans

log = logging.getLogger(__name__)
PLAN_NAME = "Internet Pemkab Kotim"
CORE = "core-diskominfo"
LAN = "bridge-lan"
# Telkom carries this share of the offices' traffic (Icon+ the rest), as the core's routing does.
TELKOM_SHARE = 0.72


def _targets() -> list[tuple[catalog.DemoAgency, str]]:
    out = [(a, f"10.20.{n}.0/24") for n, a in enumerate(catalog.AGENCIES, start=1)]
    return [*out, (catalog.HOTSPOT_POOL, "10.30.0.0/16")]


def seed_plan(session: Session, actor: Actor) -> BandwidthPlan | None:
    """The demo's plan: one allocation per agency queue (CIR half the ceiling) plus the hotspot pool."""
    existing = session.scalar(select(BandwidthPlan).where(BandwidthPlan.name == PLAN_NAME))
    if existing is not None:
        return existing
    core = session.scalar(select(Device).where(Device.name == CORE))
    uplink_ids = list(session.scalars(select(Uplink.id).where(Uplink.name.in_([u.name for u in catalog.UPLINKS]))))
    if core is None or not uplink_ids:
        return None
    agency_ids = {a.code: a.id for a in session.scalars(select(Agency))}
    plan = plans.create_plan(session, actor, PlanCreate(
        name=PLAN_NAME, description="Internet terpusat Diskominfo untuk seluruh SOPD dan Wi-Fi publik",
        device_id=core.id, wan_interface=catalog.UPLINKS[0].interface_name, lan_interface=LAN,
        uplink_ids=uplink_ids))
    allocations = [AllocationIn(name=a.code, agency_id=agency_ids.get(a.code),
                                is_hotspot_pool=a is catalog.HOTSPOT_POOL, target=target,
                                cir_mbps=a.ceiling_mbps / 2, mir_mbps=a.ceiling_mbps,
                                priority=6 if a is catalog.HOTSPOT_POOL else 4 if a.around_the_clock else 5)
                   for a, target in _targets()]
    version = plans.create_version(session, actor, plan.id, VersionCreate(note="Rencana awal 2025",
                                                                          allocations=allocations))
    plans.activate_without_push(session, actor, version.id)
    version.activated_at = datetime(2025, 1, 1, tzinfo=UTC)
    return plan


def _meter(session: Session, device_id: int, kind: MeterKind, name: str, agency_id: int | None) -> int:
    row = session.scalar(select(TrafficMeter).where(TrafficMeter.device_id == device_id, TrafficMeter.kind == kind,
                                                    TrafficMeter.name == name))
    if row is None:
        row = TrafficMeter(device_id=device_id, kind=kind, name=name, agency_id=agency_id, billing=True)
        session.add(row)
        session.flush()
    return row.id


def queue_rate_bps(agency: catalog.DemoAgency, moment: datetime) -> float:
    """Download rate of an agency's queue at ``moment``: its ceiling × typical use × time of day, ±15 %."""
    public = agency is catalog.HOTSPOT_POOL
    factor = traffic_factor(moment, public=public, around_the_clock=agency.around_the_clock)
    wobble = 0.85 + 0.3 * _jitter(agency.code, int(moment.timestamp()) // 300)
    return min(agency.ceiling_mbps, agency.ceiling_mbps * agency.usage * factor * wobble) * 1e6


def backfill_usage(session: Session, *, timezone: str, now: datetime | None = None, months: int = 2) -> int:
    """Write 5-minute usage for the ``months`` months before this one and this month so far (skipped when the
    queues already have rows then). Months and days are the installation's (``timezone``, NETMGR_TIMEZONE), as
    the collectors' rollup files them; only the traffic's daily shape is Sampit's (WIB, ``traffic_factor``).
    Returns the rows written."""
    now = now or datetime.now(UTC)
    local = zone(timezone)
    core = session.scalar(select(Device).where(Device.name == CORE))
    if core is None:
        return 0
    agency_ids = {a.code: a.id for a in session.scalars(select(Agency))}
    queues = {a.code: (a, _meter(session, core.id, MeterKind.QUEUE, a.code, agency_ids.get(a.code)))
              for a, _ in _targets()}
    uplinks = [(u, _meter(session, core.id, MeterKind.INTERFACE, u.interface_name, None)) for u in catalog.UPLINKS]
    first = now.astimezone(local).date().replace(day=1)
    for _ in range(months):
        first = (first - timedelta(days=1)).replace(day=1)
    start = datetime(first.year, first.month, first.day, tzinfo=local).astimezone(UTC)
    end = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    meter_ids = [m for _, m in queues.values()]
    if session.scalar(select(func.count()).select_from(Traffic5m).where(
            Traffic5m.meter_id.in_(meter_ids), Traffic5m.bucket_start >= start, Traffic5m.bucket_start < end)):
        return 0
    rows: list[dict[str, object]] = []
    hours: set[datetime] = set()
    t = start
    written = 0
    while t < end:
        hour = t.replace(minute=0)
        day = t.astimezone(local).date()
        total = 0.0
        for agency, meter_id in queues.values():
            down = queue_rate_bps(agency, t)
            total += down
            rows.append({"meter_id": meter_id, "bucket_start": t, "hour_start": hour, "day": day,
                         "in_octets": int(down * 0.22 * 300 / 8), "out_octets": int(down * 300 / 8),
                         "covered_s": 300.0})
        for n, (u, meter_id) in enumerate(uplinks):
            share = TELKOM_SHARE if n == 0 else 1 - TELKOM_SHARE
            down = min(u.capacity_mbps * 1e6, total * share)
            rows.append({"meter_id": meter_id, "bucket_start": t, "hour_start": hour, "day": day,
                         "in_octets": int(down * 300 / 8), "out_octets": int(down * 0.22 * 300 / 8),
                         "covered_s": 300.0})
        hours.add(hour)
        if len(rows) >= 20_000:
            session.execute(insert(Traffic5m.__table__), rows)  # type: ignore[arg-type]
            written += len(rows)
            rows = []
        t += timedelta(minutes=5)
    if rows:
        session.execute(insert(Traffic5m.__table__), rows)  # type: ignore[arg-type]
        written += len(rows)
    marked = datetime.now(UTC)
    known = set(session.scalars(select(TrafficDirtyHour.hour_start)))
    dirty = [{"hour_start": h, "marked_at": marked} for h in sorted(hours) if h not in known]
    if dirty:
        session.execute(insert(TrafficDirtyHour.__table__), dirty)  # type: ignore[arg-type]
    return written


def seed_finance(session: Session, actor: Actor, *, now: datetime | None = None,
                 timezone: str, usage_months: int | None = 2) -> dict[str, int]:
    """Plan, pagu and backfilled usage for the demo (idempotent).

    Args:
        timezone: the installation's time zone (``settings.timezone``): the months and days of the usage.
        usage_months: whole months of usage to backfill before this one (plus this month so far); None
            writes no usage at all (tests that only need the inventory and the plan, and want it fast).
    """
    seed_plan(session, actor)
    year = (now or datetime.now(UTC)).year
    if session.scalar(select(BudgetYear).where(BudgetYear.year == year)) is None:
        from netmgr.schemas.finance import BudgetSet

        monthly = sum(budget.contract_month_cost(u) for u in session.scalars(select(Uplink)))
        budget.set_budget(session, actor, year, BudgetSet(
            pagu_idr=int(round(monthly * 12 * 1.05, -6)), note="Pagu belanja internet (demo)"))
    if usage_months is None:
        return {"usage_rows": 0}
    rows = backfill_usage(session, now=now, months=usage_months, timezone=timezone)
    log.info("demo finance: %d usage rows backfilled", rows)
    return {"usage_rows": rows}
