"""Monthly bandwidth finance reports: what each uplink cost, who used it, and what to change.

Data flow: ``traffic_5m`` rollups (uplink interfaces and per-agency queues) + uplink contracts + the plan
version in force + hotspot sessions → ``load_month`` (plain inputs) → ``compute_report`` (pure, a JSON-ready
dict) → pages, exports and closed-period snapshots. Money is whole rupiah (int); shares are split with the
largest-remainder method so they add up to the uplink totals exactly.

95th percentile convention (the billing one, as in the collectors' daily rollups): the month's 5-minute
samples of a meter (buckets with at least 30 s of trustworthy data; rate = octets × 8 / covered seconds)
are sorted, the top 5 % (rounded down) are discarded, and the highest remaining sample is the 95th
percentile. It is taken per direction; a meter's figure is the greater of download and upload.
GB are decimal (10⁹ bytes), download plus upload.

An uplink costs money only for the days a contract covers (``contracts.billing_periods``): each period bills
the month's whole charge under its terms × its days / the days in the month.
"""

from __future__ import annotations

import calendar
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from netmgr import localtime
from netmgr.errors import NotFound, ValidationFailed
from netmgr.models import Agency, HotspotSession, Uplink
from netmgr.models.enums import BillingModel, Role
from netmgr.models.finance import PlanStatus, PlanVersion
from netmgr.models.hotspot import Hotspot
from netmgr.models.traffic import BUCKET_S, MeterKind, Traffic5m, TrafficMeter
from netmgr.security.permissions import Actor, Permission
from netmgr.services import contracts
from netmgr.services.contracts import BillingPeriod, ContractTerms
from netmgr.settings import FinanceSettings

MIN_SAMPLE_COVERAGE_S = 30.0
"""A 5-minute bucket counts as a rate sample once this much of it had a trustworthy rate."""
GB = 10**9
REPORT_VERSION = 2
"""2: uplink rows carry their contract coverage (``contract_days``, ``contract_status``, ``contract_periods``);
months closed under version 1 keep their stored bytes without these fields."""


# --- arithmetic ----------------------------------------------------------------------------------


def percentile_95(values: Sequence[float]) -> float:
    """The billing 95th percentile: sort the samples, discard the top 5 % (rounded down), take the highest left.

    With 288 five-minute samples in a day the 14 highest are discarded and the 274th smallest is billed (the
    collectors' daily rollups use this function too). An empty list gives 0.
    """
    if not values:
        return 0.0
    ordered = sorted(values)
    discard = len(ordered) * 5 // 100
    return float(ordered[len(ordered) - discard - 1])


def sample_bps(octets: int, covered_s: float) -> float:
    """A 5-minute bucket's rate sample in bit/s: its octets over the part of it that had a trustworthy rate.

    Only buckets with ``covered_s >= MIN_SAMPLE_COVERAGE_S`` are samples (the caller filters).
    """
    return octets * 8 / min(float(covered_s), float(BUCKET_S))


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` rupiah in proportion to ``weights`` into whole rupiah that add up to ``total`` exactly.

    Each share gets the floor of its exact quota; the rupiah left over go one each to the largest
    fractional remainders (ties to the earlier share). All-zero weights split evenly.
    """
    if not weights:
        return []
    exact = [Decimal(str(max(w, 0.0))) for w in weights]
    whole = sum(exact)
    if whole == 0:
        exact = [Decimal(1)] * len(weights)
        whole = Decimal(len(weights))
    quotas = [Decimal(total) * w / whole for w in exact]
    shares = [int(q) for q in quotas]  # floor: total and weights are non-negative
    left = total - sum(shares)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return shares


def rupiah(value: Decimal | float | int) -> int:
    """Round to whole rupiah, halves up."""
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _r(value: float, digits: int = 3) -> float:
    return round(float(value), digits)


def parse_month(raw: str | date | None, *, today: date | None = None) -> date:
    """``2025-05`` (or a date) → 1 May 2025; None → the previous month."""
    if isinstance(raw, date):
        return raw.replace(day=1)
    if not raw:
        first = (today or date.today()).replace(day=1)
        return (first - timedelta(days=1)).replace(day=1)
    try:
        year, month = raw.split("-")[:2]
        return date(int(year), int(month), 1)
    except (ValueError, TypeError):
        raise ValidationFailed(f"{raw!r} is not a month like 2025-05", field="month") from None


def month_end(month: date) -> date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def previous_month(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def month_key(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


# --- inputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeterUsage:
    """One meter's month: its 5-minute rate samples (bit/s) per direction and its octets."""

    in_bps: list[float] = field(default_factory=list)
    out_bps: list[float] = field(default_factory=list)
    in_octets: int = 0
    out_octets: int = 0

    @property
    def gb(self) -> float:
        return (self.in_octets + self.out_octets) / GB

    @property
    def p95_bps(self) -> float:
        return max(percentile_95(self.in_bps), percentile_95(self.out_bps))

    @property
    def avg_bps(self) -> float:
        ins = sum(self.in_bps) / len(self.in_bps) if self.in_bps else 0.0
        outs = sum(self.out_bps) / len(self.out_bps) if self.out_bps else 0.0
        return max(ins, outs)

    @property
    def max_bps(self) -> float:
        return max([0.0, *self.in_bps, *self.out_bps])

    @property
    def samples(self) -> int:
        return len(self.in_bps)


@dataclass(frozen=True)
class UplinkInput:
    """An uplink's month: its current terms (for display) and the contract periods that bill the month's days."""

    id: int
    name: str
    isp_name: str
    capacity_mbps: int
    billing_model: str
    contract_end: date | None
    periods: list[BillingPeriod]
    usage: MeterUsage | None


@dataclass(frozen=True)
class AllocationInput:
    name: str
    agency_id: int | None
    agency_code: str
    agency_name: str
    is_hotspot_pool: bool
    cir_mbps: float
    mir_mbps: float
    usage: MeterUsage | None
    previous_gb: float | None


@dataclass(frozen=True)
class PlanInput:
    id: int
    name: str
    version: int
    capacity_mbps: float
    uplink_ids: list[int]
    allocations: list[AllocationInput]


@dataclass(frozen=True)
class HotspotInput:
    id: int
    name: str
    sessions: int
    unique_devices: int
    octets: int
    starts_by_hour: dict[int, int]


@dataclass(frozen=True)
class MonthInputs:
    month: date
    uplinks: list[UplinkInput]
    plans: list[PlanInput]
    hotspots: list[HotspotInput]
    thresholds: FinanceSettings = field(default_factory=FinanceSettings)


# --- computation ---------------------------------------------------------------------------------


def month_charge(terms: ContractTerms, usage: MeterUsage | None) -> Decimal:
    """A whole month's charge under ``terms`` before tax, in (unrounded) rupiah.

    flat: the monthly price. burstable_95th: the monthly price buys ``committed_mbps``; the 95th percentile
    above it is charged pro rata at the same price per Mbps. per_gb: the monthly price plus every GB at
    ``price_per_gb_idr``. Without usage, the monthly price.
    """
    base = Decimal(terms.monthly_price_idr)
    if terms.billing_model == BillingModel.BURSTABLE_95TH and terms.committed_mbps and usage is not None:
        over = max(Decimal(0), Decimal(str(usage.p95_bps / 1e6)) - terms.committed_mbps)
        base += over * Decimal(terms.monthly_price_idr) / terms.committed_mbps
    elif terms.billing_model == BillingModel.PER_GB and terms.price_per_gb_idr and usage is not None:
        base += Decimal(str(usage.gb)) * terms.price_per_gb_idr
    return base


@dataclass(frozen=True)
class PeriodCost:
    """What one contract period of a month costs: the prorated charge before tax and the PPN on it."""

    period: BillingPeriod
    price_idr: int
    tax_idr: int


def prorated_cost(terms: ContractTerms, usage: MeterUsage | None, days: int, days_in_month: int) -> tuple[int, int]:
    """Proration by days: the month's whole charge under ``terms`` (overage and GB included) × ``days`` /
    ``days_in_month``, rounded to the rupiah, and the PPN on that."""
    before_tax = rupiah(month_charge(terms, usage) * days / days_in_month)
    return before_tax, rupiah(Decimal(before_tax) * Decimal(str(terms.tax_percent)) / 100)


def period_cost(period: BillingPeriod, usage: MeterUsage | None, days_in_month: int) -> PeriodCost:
    return PeriodCost(period, *prorated_cost(period.terms, usage, period.days, days_in_month))


def uplink_cost(periods: Sequence[BillingPeriod], usage: MeterUsage | None, month: date) -> list[PeriodCost]:
    """The cost of each contract period of ``month`` (none covered: an empty list, the uplink costs nothing)."""
    days = contracts.days_in_month(month)
    return [period_cost(p, usage, days) for p in periods]


def contract_status(covered_days: int, days_in_month: int) -> str:
    """``full``, ``partial`` or ``none``: how much of the month contracts cover (``none`` bills nothing)."""
    if covered_days == 0:
        return "none"
    return "full" if covered_days >= days_in_month else "partial"


def _weekly_cir(a: AllocationInput) -> float:
    return a.cir_mbps


def compute_report(inputs: MonthInputs) -> dict[str, Any]:
    """The month's report as a JSON-ready dict (every number rounded, so equal inputs give equal bytes)."""
    t = inputs.thresholds
    uplinks_out: list[dict[str, Any]] = []
    cost_by_uplink: dict[int, int] = {}
    days_in_month = contracts.days_in_month(inputs.month)
    for u in inputs.uplinks:
        costs = uplink_cost(u.periods, u.usage, inputs.month)
        before_tax, tax = sum(c.price_idr for c in costs), sum(c.tax_idr for c in costs)
        cost = before_tax + tax
        covered = sum(c.period.days for c in costs)
        cost_by_uplink[u.id] = cost
        usage = u.usage or MeterUsage()
        p95_mbps, avg_mbps = usage.p95_bps / 1e6, usage.avg_bps / 1e6
        uplinks_out.append({
            "id": u.id, "name": u.name, "isp_name": u.isp_name, "capacity_mbps": u.capacity_mbps,
            "billing_model": u.billing_model, "price_idr": before_tax,
            "tax_percent": _r(costs[-1].period.terms.tax_percent, 2) if costs else 0.0,
            "tax_idr": tax, "cost_idr": cost, "samples": usage.samples, "gb": _r(usage.gb),
            "avg_mbps": _r(avg_mbps), "p95_mbps": _r(p95_mbps), "max_mbps": _r(usage.max_bps / 1e6),
            "avg_utilisation_percent": _r(100 * avg_mbps / u.capacity_mbps if u.capacity_mbps else 0, 2),
            "p95_utilisation_percent": _r(100 * p95_mbps / u.capacity_mbps if u.capacity_mbps else 0, 2),
            "cost_per_mbps_used_idr": rupiah(cost / p95_mbps) if p95_mbps > 0 else None,
            "cost_per_gb_idr": rupiah(cost / usage.gb) if usage.gb > 0 else None,
            "contract_end": u.contract_end.isoformat() if u.contract_end else None,
            "contract_days": covered, "days_in_month": days_in_month,
            "contract_status": contract_status(covered, days_in_month),
            "contract_periods": [{"start": c.period.first.isoformat(), "end": c.period.last.isoformat(),
                                  "days": c.period.days, "monthly_price_idr": c.period.terms.monthly_price_idr,
                                  "billing_model": c.period.terms.billing_model, "price_idr": c.price_idr,
                                  "tax_idr": c.tax_idr} for c in costs],
        })

    agencies_out: list[dict[str, Any]] = []
    plans_out: list[dict[str, Any]] = []
    for plan in inputs.plans:
        total = sum(cost_by_uplink.get(uid, 0) for uid in plan.uplink_ids)
        by_alloc = largest_remainder(total, [_weekly_cir(a) for a in plan.allocations])
        by_use = largest_remainder(total, [(a.usage.gb if a.usage else 0.0) for a in plan.allocations])
        plans_out.append({"id": plan.id, "name": plan.name, "version": plan.version,
                          "capacity_mbps": _r(plan.capacity_mbps), "uplink_ids": sorted(plan.uplink_ids),
                          "cost_idr": total, "by_allocation_total_idr": sum(by_alloc),
                          "by_use_total_idr": sum(by_use)})
        for a, share_alloc, share_use in zip(plan.allocations, by_alloc, by_use, strict=True):
            usage = a.usage or MeterUsage()
            p95 = usage.p95_bps / 1e6
            gb = usage.gb
            change = None
            if a.previous_gb is not None and a.previous_gb > 0:
                change = _r(100 * (gb - a.previous_gb) / a.previous_gb, 1)
            agencies_out.append({
                "plan_id": plan.id, "allocation": a.name, "agency_id": a.agency_id, "code": a.agency_code,
                "name": a.agency_name, "is_hotspot_pool": a.is_hotspot_pool, "cir_mbps": _r(a.cir_mbps),
                "mir_mbps": _r(a.mir_mbps), "gb": _r(gb), "avg_mbps": _r(usage.avg_bps / 1e6), "p95_mbps": _r(p95),
                "use_of_cir_percent": _r(100 * p95 / a.cir_mbps if a.cir_mbps else 0, 1),
                "use_of_mir_percent": _r(100 * p95 / a.mir_mbps if a.mir_mbps else 0, 1),
                "cost_by_allocation_idr": share_alloc, "cost_by_use_idr": share_use,
                "previous_gb": None if a.previous_gb is None else _r(a.previous_gb), "change_percent": change,
            })

    pool_cost = sum(a["cost_by_use_idr"] for a in agencies_out if a["is_hotspot_pool"])
    hotspots_out: list[dict[str, Any]] = []
    hs_costs = largest_remainder(pool_cost, [h.octets for h in inputs.hotspots]) if inputs.hotspots else []
    for h, cost in zip(inputs.hotspots, hs_costs, strict=True):
        peaks = [hour for hour, _ in sorted(h.starts_by_hour.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]
        hotspots_out.append({
            "id": h.id, "name": h.name, "sessions": h.sessions, "unique_devices": h.unique_devices,
            "gb": _r(h.octets / GB), "peak_hours": peaks, "cost_idr": cost,
            "cost_per_session_idr": rupiah(cost / h.sessions) if h.sessions else None,
        })

    recommendations = _recommendations(inputs, uplinks_out, agencies_out, t)
    return {
        "report_version": REPORT_VERSION,
        "month": month_key(inputs.month),
        "currency": "IDR",
        "percentile": "95th: top 5% of 5-minute samples discarded, highest remaining; greater of download/upload",
        "uplinks": uplinks_out,
        "plans": plans_out,
        "agencies": agencies_out,
        "hotspots": hotspots_out,
        "recommendations": recommendations,
        "totals": {
            "cost_idr": sum(cost_by_uplink.values()),
            "tax_idr": sum(u["tax_idr"] for u in uplinks_out),
            "gb": _r(sum(u["gb"] for u in uplinks_out)),
            "by_allocation_idr": sum(a["cost_by_allocation_idr"] for a in agencies_out),
            "by_use_idr": sum(a["cost_by_use_idr"] for a in agencies_out),
        },
    }


def _step_down(capacity: int, needed: float) -> int:
    """The smallest common contract size (multiples of 50 Mbps, or 10 below 100) that still covers ``needed``."""
    step = 10 if needed < 100 else 50
    return max(step, min(capacity, int(math.ceil(needed / step) * step)))


def _recommendations(inputs: MonthInputs, uplinks: list[dict[str, Any]], agencies: list[dict[str, Any]],
                     t: FinanceSettings) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for u in uplinks:
        if u["samples"] == 0 or not u["capacity_mbps"] or u["contract_status"] == "none":
            continue
        per_mbps = Decimal(u["cost_idr"]) / u["capacity_mbps"]
        if u["p95_utilisation_percent"] < t.downgrade_below_percent:
            # Keep the 95th percentile at no more than 70 % of the new capacity.
            target = _step_down(u["capacity_mbps"], u["p95_mbps"] / 0.7)
            if target < u["capacity_mbps"]:
                saving = rupiah(per_mbps * (u["capacity_mbps"] - target))
                out.append({"kind": "downgrade_uplink", "subject": u["name"], "saving_idr": saving,
                            "from_mbps": u["capacity_mbps"], "to_mbps": target,
                            "message": f"{u['name']}: 95th percentile {u['p95_mbps']:g} Mbps is "
                                       f"{u['p95_utilisation_percent']:g}% of {u['capacity_mbps']} Mbps; a "
                                       f"{target} Mbps contract would save about Rp {saving:,} a month"})
        if u["p95_utilisation_percent"] >= t.saturated_above_percent:
            needed = _step_down(10**9, u["p95_mbps"] / 0.8)
            cost = rupiah(per_mbps * max(0, needed - u["capacity_mbps"]))
            out.append({"kind": "saturated_uplink", "subject": u["name"], "saving_idr": -cost,
                        "from_mbps": u["capacity_mbps"], "to_mbps": needed,
                        "message": f"{u['name']} is saturated at peak: 95th percentile {u['p95_mbps']:g} Mbps is "
                                   f"{u['p95_utilisation_percent']:g}% of capacity; {needed} Mbps would cost about "
                                   f"Rp {cost:,} a month more"})
    by_plan: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for a in agencies:
        by_plan[a["plan_id"]].append(a)
    for plan in inputs.plans:
        rows = by_plan[plan.id]
        plan_cost = sum(r["cost_by_allocation_idr"] for r in rows)
        per_cir_mbps = Decimal(plan_cost) / Decimal(str(sum(r["cir_mbps"] for r in rows)) or 1)
        idle = [r for r in rows if r["cir_mbps"] > 0 and r["use_of_cir_percent"] < t.idle_cir_below_percent]
        starved = [r for r in rows if r["mir_mbps"] > 0 and r["use_of_mir_percent"] >= 95.0]
        if not idle or not starved:
            continue
        # Idle offices keep twice their 95th percentile (at least 1 Mbps) guaranteed; the rest moves.
        spare = [(r, r["cir_mbps"] - max(1.0, math.ceil(2 * r["p95_mbps"]))) for r in idle]
        spare = [(r, s) for r, s in spare if s >= 1]
        total_spare = sum(s for _, s in spare)
        if total_spare <= 0:
            continue
        value = rupiah(per_cir_mbps * Decimal(str(total_spare)))
        donors = ", ".join(f"{r['code']} ({r['use_of_cir_percent']:g}% of CIR {r['cir_mbps']:g})" for r, _ in spare)
        takers = ", ".join(f"{r['code']} ({r['use_of_mir_percent']:g}% of MIR {r['mir_mbps']:g})" for r in starved)
        out.append({"kind": "move_cir", "subject": plan.name, "saving_idr": value, "mbps": _r(total_spare),
                    "from": [r["code"] for r, _ in spare], "to": [r["code"] for r in starved],
                    "message": f"move {total_spare:g} Mbps of guaranteed rate (worth about Rp {value:,} a month) "
                               f"from {donors} to {takers}"})
    return out


# --- loading from the database -------------------------------------------------------------------


def usage_by_meter(session: Session, meter_ids: Sequence[int], first: date, last: date) -> dict[int, MeterUsage]:
    """Each meter's 5-minute rate samples and octets over the local days ``first``..``last`` (a billing month)."""
    ins: dict[int, list[float]] = defaultdict(list)
    outs: dict[int, list[float]] = defaultdict(list)
    octets: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    if not meter_ids:
        return {}
    rows = session.execute(
        select(Traffic5m.meter_id, Traffic5m.in_octets, Traffic5m.out_octets, Traffic5m.covered_s)
        .where(Traffic5m.meter_id.in_(meter_ids), Traffic5m.day >= first, Traffic5m.day <= last)
        .order_by(Traffic5m.meter_id, Traffic5m.bucket_start))
    for meter_id, i, o, covered in rows:
        octets[meter_id][0] += int(i)
        octets[meter_id][1] += int(o)
        if covered >= MIN_SAMPLE_COVERAGE_S:
            ins[meter_id].append(sample_bps(i, covered))
            outs[meter_id].append(sample_bps(o, covered))
    return {m: MeterUsage(ins[m], outs[m], octets[m][0], octets[m][1]) for m in octets}


def _octets_by_meter(session: Session, meter_ids: Sequence[int], first: date, last: date) -> dict[int, int]:
    if not meter_ids:
        return {}
    rows = session.execute(
        select(Traffic5m.meter_id, func.sum(Traffic5m.in_octets + Traffic5m.out_octets))
        .where(Traffic5m.meter_id.in_(meter_ids), Traffic5m.day >= first, Traffic5m.day <= last)
        .group_by(Traffic5m.meter_id))
    return {int(m): int(total or 0) for m, total in rows}


def version_in_force(session: Session, plan_id: int, month: date, tz: str) -> PlanVersion | None:
    """The plan version active at the end of local ``month`` (the latest activated by then), else the active one."""
    end = localtime.month_bounds_utc(month, tz)[1]
    candidates = list(session.scalars(select(PlanVersion).where(
        PlanVersion.plan_id == plan_id, PlanVersion.status.in_([PlanStatus.ACTIVE, PlanStatus.SUPERSEDED]))))
    dated = []
    for v in candidates:
        if v.activated_at is None:
            continue
        at = v.activated_at
        if at < end:
            dated.append((at, v.number, v))
    if dated:
        return max(dated, key=lambda x: (x[0], x[1]))[2]
    return next((v for v in candidates if v.status == PlanStatus.ACTIVE), None)


def _meters(session: Session) -> dict[tuple[int, str, str], int]:
    return {(m.device_id, str(m.kind), m.name): m.id for m in session.scalars(select(TrafficMeter))}


def load_month(session: Session, month: date, *, thresholds: FinanceSettings | None = None,
               tz: str) -> MonthInputs:
    """Everything ``compute_report`` needs for local ``month`` (in zone ``tz``), read from the database."""
    from netmgr.models.finance import BandwidthPlan

    first, last = month, month_end(month)
    prev_first, prev_last = previous_month(month), month - timedelta(days=1)
    meters = _meters(session)
    uplink_rows = list(session.scalars(select(Uplink).order_by(Uplink.name)))
    uplink_meter = {u.id: meters.get((u.device_id or 0, MeterKind.INTERFACE.value, u.interface_name))
                    for u in uplink_rows}
    plans = list(session.scalars(select(BandwidthPlan).order_by(BandwidthPlan.name)))
    versions = {p.id: version_in_force(session, p.id, month, tz) for p in plans}
    alloc_meter: dict[tuple[int, str], int | None] = {}
    for p in plans:
        v = versions[p.id]
        for a in v.allocations if v else []:
            alloc_meter[(p.id, a.name)] = meters.get((p.device_id or 0, MeterKind.QUEUE.value, a.name))
    ids = sorted({m for m in [*uplink_meter.values(), *alloc_meter.values()] if m is not None})
    usage = usage_by_meter(session, ids, first, last)
    prev = _octets_by_meter(session, [m for m in alloc_meter.values() if m is not None], prev_first, prev_last)
    agencies = {a.id: a for a in session.scalars(select(Agency))}
    terms = contracts.contracts_by_uplink(session, uplink_rows)

    uplinks = [UplinkInput(
        id=u.id, name=u.name, isp_name=u.isp_name, capacity_mbps=u.capacity_down_mbps,
        billing_model=str(u.billing_model), contract_end=u.contract_end,
        periods=contracts.billing_periods(terms[u.id], month),
        usage=usage.get(uplink_meter[u.id] or -1)) for u in uplink_rows]
    plan_inputs = []
    for p in plans:
        v = versions[p.id]
        if v is None:
            continue
        allocs = []
        for a in v.allocations:
            meter = alloc_meter.get((p.id, a.name))
            agency = agencies.get(a.agency_id) if a.agency_id is not None else None
            allocs.append(AllocationInput(
                name=a.name, agency_id=a.agency_id, agency_code=agency.code if agency else a.name,
                agency_name=agency.name if agency else a.name, is_hotspot_pool=a.is_hotspot_pool,
                cir_mbps=a.cir_mbps, mir_mbps=a.mir_mbps, usage=usage.get(meter) if meter else None,
                previous_gb=(prev[meter] / GB if meter in prev else None) if meter else None))
        plan_inputs.append(PlanInput(id=p.id, name=p.name, version=v.number, capacity_mbps=v.capacity_down_mbps,
                                     uplink_ids=[u.id for u in p.uplinks], allocations=allocs))
    return MonthInputs(month=month, uplinks=uplinks, plans=plan_inputs,
                       hotspots=_hotspots(session, month, tz), thresholds=thresholds or FinanceSettings())


def _hotspots(session: Session, month: date, tz: str) -> list[HotspotInput]:
    start, end = localtime.month_bounds_utc(month, tz)
    names = {h.id: h.name for h in session.scalars(select(Hotspot))}
    sessions: dict[int, int] = Counter()
    macs: dict[int, set[str]] = defaultdict(set)
    octets: dict[int, int] = Counter()
    hours: dict[int, Counter[int]] = defaultdict(Counter)
    rows = session.execute(select(HotspotSession.hotspot_id, HotspotSession.mac, HotspotSession.started_at,
                                  HotspotSession.input_octets, HotspotSession.output_octets)
                           .where(HotspotSession.started_at >= start, HotspotSession.started_at < end,
                                  HotspotSession.hotspot_id.is_not(None)))
    for hotspot_id, mac, started, i, o in rows:
        if hotspot_id is None:
            continue
        sessions[hotspot_id] += 1
        if mac:
            macs[hotspot_id].add(mac)
        octets[hotspot_id] += int(i) + int(o)
        hours[hotspot_id][localtime.to_local(started, tz).hour] += 1
    return [HotspotInput(id=h, name=names.get(h, str(h)), sessions=sessions[h], unique_devices=len(macs[h]),
                         octets=octets[h], starts_by_hour=dict(hours[h])) for h in sorted(sessions)]


# --- what each role sees --------------------------------------------------------------------------


def scope_report(report: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """The part of ``report`` ``actor`` may see: everything, or an agency viewer's own office only."""
    actor.require(Permission.REPORTS_READ)
    if actor.role != Role.AGENCY_VIEWER:
        return report
    own = [a for a in report["agencies"] if actor.agency_scope is not None and a["agency_id"] == actor.agency_scope]
    recommendations = [view for r in report["recommendations"] if (view := _own_office_view(r, own)) is not None]
    return {**report, "uplinks": [], "plans": [], "hotspots": [],
            "recommendations": recommendations,
            "agencies": own,
            "totals": {"cost_idr": None, "tax_idr": None, "gb": None,
                       "by_allocation_idr": sum(a["cost_by_allocation_idr"] for a in own),
                       "by_use_idr": sum(a["cost_by_use_idr"] for a in own)}}


def _own_office_view(recommendation: dict[str, Any], own: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A recommendation as an agency viewer may see it: about its own office only, or not at all.

    A "move guaranteed rate" advice names several offices and their usage; a viewer learns only what it
    means for its own office, never the other offices' figures.
    """
    rows = {a["code"]: a for a in own}
    gives = [c for c in recommendation.get("from", []) if c in rows]
    takes = [c for c in recommendation.get("to", []) if c in rows]
    if not gives and not takes:
        return None
    if gives:
        a = rows[gives[0]]
        message = (f"{a['code']} used {a['use_of_cir_percent']:g}% of its guaranteed {a['cir_mbps']:g} Mbps "
                   "at the 95th percentile; part of it can move to offices that hit their ceiling")
    else:
        a = rows[takes[0]]
        message = (f"{a['code']} reached {a['use_of_mir_percent']:g}% of its ceiling of {a['mir_mbps']:g} Mbps; "
                   "it can receive guaranteed rate from offices that leave theirs unused")
    return {"kind": recommendation["kind"], "subject": a["code"], "saving_idr": recommendation.get("saving_idr"),
            "mbps": recommendation.get("mbps"), "from": gives, "to": takes, "message": message}


def agency_statement(report: dict[str, Any], actor: Actor, agency_id: int) -> dict[str, Any]:
    """One agency's rows of a report (the monthly statement it is sent); an agency viewer may ask for their own.

    Raises:
        NotFound: an agency viewer asked for another agency (whose existence is not theirs to learn).
    """
    actor.require(Permission.REPORTS_READ)
    if actor.role == Role.AGENCY_VIEWER and agency_id != actor.agency_scope:
        raise NotFound(f"agency {agency_id} does not exist")
    rows = [a for a in report["agencies"] if a["agency_id"] == agency_id]
    return {"month": report["month"], "agencies": rows, "percentile": report["percentile"]}
