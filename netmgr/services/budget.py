"""Budget and contracts: the yearly pagu, spend against it, contract reminders timed for the RKA, SLA figures.

Data flow: uplink contracts + closed (or recomputed) monthly reports + budget_years → year-to-date spend
and projection; contract end dates + the RKA due month (settings.finance) → reminders; device_events of each
uplink's router → minutes down per month against the promised availability.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from netmgr import localtime
from netmgr.errors import PermissionDenied
from netmgr.models import DeviceEvent, PingHourly, Uplink
from netmgr.models.enums import Role
from netmgr.models.finance import BudgetYear
from netmgr.schemas.finance import BudgetSet
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit, contracts, periods, reports, uplinks
from netmgr.settings import FinanceSettings, Settings

# --- who sees regency-wide figures ---------------------------------------------------------------


def sees_regency_wide(actor: Actor) -> bool:
    """Whether ``actor`` may see the regency-wide figures (budget, contracts, SLA): whoever reads reports, except
    an agency viewer, who sees their own office's statement only."""
    return actor.can(Permission.REPORTS_READ) and actor.role != Role.AGENCY_VIEWER


def require_regency_wide(actor: Actor) -> None:
    """Refuse ``actor`` unless :func:`sees_regency_wide` (the one rule every page and API route gets).

    Raises:
        PermissionDenied: the actor's role does not read reports, or is an agency viewer.
    """
    actor.require(Permission.REPORTS_READ)
    if not sees_regency_wide(actor):
        raise PermissionDenied("the budget, contracts and SLA are regency-wide figures; an agency viewer sees "
                               "their own office's monthly statement only")


# --- pagu ----------------------------------------------------------------------------------------


def get_budget(session: Session, actor: Actor, year: int) -> BudgetYear | None:
    actor.require(Permission.REPORTS_READ)
    return session.scalar(select(BudgetYear).where(BudgetYear.year == year))


def set_budget(session: Session, actor: Actor, year: int, data: BudgetSet) -> BudgetYear:
    """Set (or change) the internet budget ceiling of a budget year."""
    actor.require(Permission.FINANCE_MANAGE)
    row = session.scalar(select(BudgetYear).where(BudgetYear.year == year))
    before = None if row is None else {"pagu_idr": row.pagu_idr, "note": row.note}
    if row is None:
        row = BudgetYear(year=year, pagu_idr=data.pagu_idr, note=data.note)
        session.add(row)
    else:
        row.pagu_idr, row.note = data.pagu_idr, data.note
    session.flush()
    audit.record(session, actor, action="create" if before is None else "update", entity_type="budget_year",
                 entity_id=row.id, message="budget_year.set",
                 params={"year": year, "pagu_idr": data.pagu_idr},
                 before=before, after={"pagu_idr": data.pagu_idr, "note": data.note})
    return row


def contract_month_cost(u: Uplink) -> int:
    """A whole month of the current contract's base price with PPN, in rupiah."""
    return uplinks.price_with_tax(u)


def projected_month_cost(terms: list[contracts.ContractTerms], month: date) -> int:
    """What an uplink's contracts will cost in ``month`` at their base price with PPN, prorated by days
    like the monthly report (the same periods, the same rule)."""
    costs = reports.uplink_cost(contracts.billing_periods(terms, month), None, month)
    return sum(c.price_idr + c.tax_idr for c in costs)


@dataclass(frozen=True)
class MonthSpend:
    month: date
    cost_idr: int
    closed: bool
    projected: bool


@dataclass(frozen=True)
class BudgetStatus:
    year: int
    pagu_idr: int | None
    months: list[MonthSpend]
    spent_idr: int
    projected_idr: int

    @property
    def remaining_idr(self) -> int | None:
        return None if self.pagu_idr is None else self.pagu_idr - self.projected_idr

    @property
    def over_budget(self) -> bool:
        return self.pagu_idr is not None and self.projected_idr > self.pagu_idr


def budget_status(session: Session, actor: Actor, year: int, settings: Settings, *,
                  today: date | None = None) -> BudgetStatus:
    """Spend so far this budget year (ended months, from their reports) and the projected year end
    (the months still to come at the contracts' base price with PPN, only for the days contracts cover)."""
    require_regency_wide(actor)
    today = today or localtime.local_today(settings.timezone)
    budget = session.scalar(select(BudgetYear).where(BudgetYear.year == year))
    terms = contracts.contracts_by_uplink(session, session.scalars(select(Uplink)))
    months: list[MonthSpend] = []
    for m in range(1, 13):
        month = date(year, m, 1)
        if reports.month_end(month) < today:
            whole = periods.full_report(session, month, settings)
            months.append(MonthSpend(month, int(whole.report["totals"]["cost_idr"]), whole.closed is not None,
                                     False))
        else:
            cost = sum(projected_month_cost(t, month) for t in terms.values())
            months.append(MonthSpend(month, cost, False, True))
    spent = sum(s.cost_idr for s in months if not s.projected)
    return BudgetStatus(year=year, pagu_idr=budget.pagu_idr if budget else None, months=months, spent_idr=spent,
                        projected_idr=sum(s.cost_idr for s in months))


# --- contracts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContractEntry:
    """One uplink contract with the dates the budget cycle cares about."""

    uplink_id: int
    name: str
    isp_name: str
    contract_start: date | None
    contract_end: date | None
    monthly_cost_idr: int
    renewal_budget_year: int | None
    """The budget year the service after this contract falls in (it needs money in that year's APBD)."""
    proposal_due: date | None
    """When that year's RKA proposal is due (``rka_due_month`` of the year before)."""
    remind_from: date | None
    days_left: int | None
    due: bool
    """True once ``remind_from`` has come, and for as long as the contract has expired."""
    expired: bool
    """The contract ended before today and no renewal was entered: the uplink bills nothing from then on."""


def contract_register(session: Session, actor: Actor, finance: FinanceSettings, *,
                      today: date | None = None) -> list[ContractEntry]:
    """Every uplink contract, soonest end first, with its renewal's budget year and reminder date."""
    require_regency_wide(actor)
    today = today or date.today()
    out = []
    for u in session.scalars(select(Uplink)):
        renewal = due_date = remind = None
        days_left = None
        if u.contract_end is not None:
            renewal = (u.contract_end + timedelta(days=1)).year
            due_date = date(renewal - 1, finance.rka_due_month, 1)
            # Remind before the RKA is due, or before the contract ends if that comes first.
            remind = min(due_date, u.contract_end) - timedelta(days=finance.reminder_lead_days)
            days_left = (u.contract_end - today).days
        # An expired contract stays due until a renewal is entered: its uplink is not billed meanwhile, which
        # is rarely what the regency wants (or the uplink should be removed).
        expired = days_left is not None and days_left < 0
        is_due = expired or (remind is not None and today >= remind)
        out.append(ContractEntry(u.id, u.name, u.isp_name, u.contract_start, u.contract_end,
                                 contract_month_cost(u), renewal, due_date, remind, days_left, is_due, expired))
    return sorted(out, key=lambda c: (c.contract_end or date.max, c.name))


def due_reminders(session: Session, actor: Actor, finance: FinanceSettings, *,
                  today: date | None = None) -> list[ContractEntry]:
    return [c for c in contract_register(session, actor, finance, today=today) if c.due]


# --- SLA -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaEntry:
    """One uplink's month against its contract's SLA.

    ``source`` says what measured it: ``ping`` (the uplink's far end, pinged every interval: each unanswered
    round counts one interval as outage), ``router`` (the up/down events of the router carrying it, when the
    uplink has no probe address or no ping rounds in the month) or ``none``.
    """

    uplink_id: int
    name: str
    promised_percent: float | None
    minutes_in_month: int
    minutes_down: float
    allowed_minutes_down: float | None
    availability_percent: float
    breached: bool
    measured: bool
    source: str = "none"
    avg_latency_ms: float | None = None
    max_latency_ms: float | None = None
    """The contract's promised average latency."""
    latency_breached: bool = False
    avg_loss_percent: float | None = None
    max_loss_percent: float | None = None
    """The contract's promised average loss."""
    loss_breached: bool = False
    excess_minutes_down: float = 0.0
    restitution_idr: int | None = None
    """What the ISP owes back for outage beyond the SLA, up to the contract's cap; None without a cap."""


@dataclass(frozen=True)
class PingMonth:
    """Sums of an uplink's hourly ping rollups over a period."""

    rounds: int
    up_rounds: int
    up_s: float
    down_s: float
    rtt_sum_ms: float
    loss_sum_percent: float


def ping_month(session: Session, subject_type: str, subject_id: int, start: datetime, end: datetime) -> PingMonth:
    """The ping rollups of one target in [start, end), summed."""
    row = session.execute(select(
        func.coalesce(func.sum(PingHourly.rounds), 0), func.coalesce(func.sum(PingHourly.up_rounds), 0),
        func.coalesce(func.sum(PingHourly.up_s), 0.0), func.coalesce(func.sum(PingHourly.down_s), 0.0),
        func.coalesce(func.sum(PingHourly.rtt_sum_ms), 0.0), func.coalesce(func.sum(PingHourly.loss_sum_percent), 0.0),
    ).where(PingHourly.subject_type == subject_type, PingHourly.subject_id == subject_id,
            PingHourly.hour_start >= start, PingHourly.hour_start < end)).one()
    return PingMonth(int(row[0]), int(row[1]), float(row[2]), float(row[3]), float(row[4]), float(row[5]))


def restitution(uplink: Uplink, excess_minutes: float, month_minutes: int) -> int | None:
    """The monthly price (before PPN) in proportion to outage beyond the SLA, capped at the contract's cap.

    For example 438 minutes beyond the allowed 216 of a 30-day month at Rp 27.500.000 with a 100 % cap:
    Rp 27.500.000 x 438 / 43.200 = Rp 278.819. None when the contract states no restitution.
    """
    if uplink.sla_restitution_cap_percent is None or month_minutes <= 0:
        return None
    share = min(uplink.sla_restitution_cap_percent / 100, max(0.0, excess_minutes) / month_minutes)
    return reports.rupiah(uplink.monthly_price_idr * share)


def minutes_down(session: Session, device_id: int, start: datetime, end: datetime) -> tuple[float, bool]:
    """Minutes ``device_id`` was down within [start, end), from its up/down events; and whether any event
    (inside or before the window) tells its state at all."""
    before = session.scalar(select(DeviceEvent).where(DeviceEvent.device_id == device_id, DeviceEvent.at < start)
                            .order_by(DeviceEvent.at.desc()).limit(1))
    events = list(session.scalars(select(DeviceEvent).where(DeviceEvent.device_id == device_id,
                                                            DeviceEvent.at >= start, DeviceEvent.at < end)
                                  .order_by(DeviceEvent.at, DeviceEvent.id)))
    measured = before is not None or bool(events)
    down_since: datetime | None = start if before is not None and before.kind == "down" else None
    total = 0.0
    for e in events:
        at = e.at
        if e.kind == "down" and down_since is None:
            down_since = at
        elif e.kind == "up" and down_since is not None:
            total += (at - down_since).total_seconds()
            down_since = None
    if down_since is not None:
        total += (end - down_since).total_seconds()
    return total / 60, measured


def sla_report(session: Session, actor: Actor, month: date, *, tz: str,
               now: datetime | None = None) -> list[SlaEntry]:
    """Per uplink: outage minutes, latency and loss in ``month`` against the contract's SLA, and the restitution.

    An uplink with a probe address is measured by pinging its far end (every unanswered round counts one ping
    interval as outage). Without one, or without any ping round in the month, it is as available as the router
    it is delivered on (netmgr then sees the router, not the ISP's line).
    """
    require_regency_wide(actor)
    start, full_end = localtime.month_bounds_utc(month, tz)
    end = min(full_end, now or datetime.now(UTC))
    minutes = max(0, int((end - start).total_seconds() // 60))
    month_minutes = int((full_end - start).total_seconds() // 60)
    out = []
    for u in session.scalars(select(Uplink).order_by(Uplink.name)):
        ping = ping_month(session, "uplink", u.id, start, end) if u.probe_address else None
        latency = loss = None
        if ping is not None and ping.rounds:
            source, measured, down = "ping", True, ping.down_s / 60
            latency = ping.rtt_sum_ms / ping.up_rounds if ping.up_rounds else None
            loss = ping.loss_sum_percent / ping.rounds
        elif u.device_id:
            down, measured = minutes_down(session, u.device_id, start, end)
            source = "router" if measured else "none"
        else:
            source, measured, down = "none", False, 0.0
        allowed = minutes * (100 - u.sla_availability_percent) / 100 if u.sla_availability_percent else None
        availability = 100 * (1 - down / minutes) if minutes else 100.0
        excess = max(0.0, down - allowed) if allowed is not None and measured else 0.0
        out.append(SlaEntry(
            u.id, u.name, u.sla_availability_percent, minutes, round(down, 1),
            None if allowed is None else round(allowed, 1), round(availability, 3),
            allowed is not None and down > allowed, measured, source=source,
            avg_latency_ms=None if latency is None else round(latency, 2), max_latency_ms=u.sla_max_latency_ms,
            latency_breached=latency is not None and u.sla_max_latency_ms is not None
            and latency > u.sla_max_latency_ms,
            avg_loss_percent=None if loss is None else round(loss, 3), max_loss_percent=u.sla_max_loss_percent,
            loss_breached=loss is not None and u.sla_max_loss_percent is not None and loss > u.sla_max_loss_percent,
            excess_minutes_down=round(excess, 1),
            restitution_idr=restitution(u, excess, month_minutes) if measured else None))
    return out
