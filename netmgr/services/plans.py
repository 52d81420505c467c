"""Bandwidth plans: versions of allocations, their validation, and their application to the core router.

Data flow: draft version (edited) → ``check_version`` (every rule, clear messages) → ``apply_version``
asks provisioning for a ``queues`` job through the injected ``JobRequester`` (provisioning validates the
variables, sends a dry run to ``provisioning.run_job`` through ``dispatch``, and leaves a real change
pending until a second person approves it); the real run activates the version and supersedes the
previous one. netmgr never imports the provisioning package.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from netmgr.db import TaskSender
from netmgr.errors import NotFound, ValidationFailed
from netmgr.models import Agency, Device, ProvisionJob, ProvisionResultRecord, Uplink
from netmgr.models.base import utcnow
from netmgr.models.finance import Allocation, BandwidthPlan, PlanStatus, PlanVersion
from netmgr.models.provisioning import JobStatus
from netmgr.schemas.finance import AllocationIn, PlanCreate, ScheduleWindow, VersionCreate, VersionUpdate
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit
from netmgr.services.common import ensure_unique, flush_or_conflict

RUN_JOB_TASK = "provisioning.run_job"
QUEUE_PLATFORMS = ("mikrotik_routeros", "linux", "cisco_ios")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


class JobRequester(Protocol):
    """Provisioning's public ``request_job`` (``provisioning.jobs:request_job``), declared in provisioning's manifest
    (``services``), kept by the app at start-up and injected, so the core asks for a job without importing provisioning.

    It validates ``variables`` for ``purpose``, records the job for ``devices`` (names), sends a dry run through
    ``dispatch`` and leaves a real change pending for a second person's approval. Raises ValidationFailed.
    """

    def __call__(self, session: Session, actor: Actor, *, purpose: str, devices: list[str],
                 variables: dict[str, Any], dry_run: bool, summary: str = "",
                 dispatch: TaskSender | None = None) -> ProvisionJob: ...


# --- reading -------------------------------------------------------------------------------------


def _plan_query() -> Any:
    return select(BandwidthPlan).options(
        selectinload(BandwidthPlan.uplinks),
        selectinload(BandwidthPlan.versions).selectinload(PlanVersion.allocations).selectinload(Allocation.agency),
    )


def list_plans(session: Session, actor: Actor) -> list[BandwidthPlan]:
    """Every plan with its versions (agency viewers get them too; callers show only their allocation)."""
    actor.require(Permission.REPORTS_READ)
    return list(session.scalars(_plan_query().order_by(BandwidthPlan.name)).unique())


def get_plan(session: Session, actor: Actor, plan_id: int) -> BandwidthPlan:
    actor.require(Permission.REPORTS_READ)
    plan: BandwidthPlan | None = session.scalars(_plan_query().where(BandwidthPlan.id == plan_id)).unique().first()
    if plan is None:
        raise NotFound(f"bandwidth plan {plan_id} does not exist")
    return plan


def get_version(session: Session, actor: Actor, version_id: int) -> PlanVersion:
    actor.require(Permission.REPORTS_READ)
    version = session.scalar(select(PlanVersion).options(selectinload(PlanVersion.allocations))
                             .where(PlanVersion.id == version_id))
    if version is None:
        raise NotFound(f"plan version {version_id} does not exist")
    return version


def active_version(plan: BandwidthPlan) -> PlanVersion | None:
    return next((v for v in plan.versions if v.status == PlanStatus.ACTIVE), None)


def active_versions(session: Session) -> list[PlanVersion]:
    """The active version of every plan (what the reports compare usage with)."""
    return list(session.scalars(select(PlanVersion).options(selectinload(PlanVersion.allocations),
                                                            selectinload(PlanVersion.plan))
                                .where(PlanVersion.status == PlanStatus.ACTIVE).order_by(PlanVersion.plan_id)))


def visible_allocations(actor: Actor, version: PlanVersion) -> list[Allocation]:
    """The allocations ``actor`` may see: all of them, or only their own agency's for an agency viewer."""
    scope = actor.agency_scope
    if actor.role.value == "agency_viewer":
        return [a for a in version.allocations if scope is not None and a.agency_id == scope]
    return list(version.allocations)


# --- validation ----------------------------------------------------------------------------------


def _minute(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _clock(minute_of_week: int, *, end: bool = False) -> str:
    day, minute = divmod(minute_of_week, MINUTES_PER_DAY)
    if end and minute == 0 and day > 0:
        return f"{DAY_NAMES[day - 1]} 24:00"
    return f"{DAY_NAMES[day % 7]} {minute // 60:02d}:{minute % 60:02d}"


def _runs(minutes: Iterable[int]) -> list[tuple[int, int]]:
    """Contiguous ``[start, end)`` runs of sorted minutes-of-week."""
    out: list[tuple[int, int]] = []
    for m in sorted(minutes):
        if out and out[-1][1] == m:
            out[-1] = (out[-1][0], m + 1)
        else:
            out.append((m, m + 1))
    return out


def _describe(runs: list[tuple[int, int]]) -> str:
    shown = ", ".join(f"{_clock(a)}–{_clock(b, end=True)}" for a, b in runs[:3])
    return shown + (f" and {len(runs) - 3} more" if len(runs) > 3 else "")


def _window_minutes(window: ScheduleWindow) -> list[int]:
    start, end = _minute(window.start), _minute(window.end)
    return [day * MINUTES_PER_DAY + m for day in window.days for m in range(start, end)]


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name for "mark for translation only"
    """Marks a rule's wording for the UI catalog (``python -m netmgr.web.catalogs update``)."""
    return message


class RuleProblem(str):
    """One broken plan rule: an English sentence (a ``str``, as the API, logs and errors show it) that keeps
    what it is about, its wording and its figures, so a page can say it in the reader's language.

    ``RuleProblem("DUKCAPIL", N_("the guaranteed rate (CIR) %(cir)s Mbps is above its ceiling (MIR) %(mir)s
    Mbps"), cir=40, mir=30)`` reads "DUKCAPIL: the guaranteed rate (CIR) 40 Mbps is above …".
    """

    subject: str
    template: str
    values: dict[str, str | float]

    def __new__(cls, subject: str, template: str, **values: str | float) -> RuleProblem:
        shown = {k: f"{v:g}" if isinstance(v, float | int) else v for k, v in values.items()}
        text = template % shown if shown else template
        self = super().__new__(cls, f"{subject}: {text}" if subject else text)
        self.subject, self.template, self.values = subject, template, dict(values)
        return self


def schedule_problems(name: str, windows: Sequence[ScheduleWindow]) -> list[RuleProblem]:
    """Why a schedule is wrong: a window ending before it starts, minutes not covered, or covered twice."""
    if not windows:
        return []
    problems: list[RuleProblem] = []
    count = [0] * MINUTES_PER_WEEK
    for window in windows:
        if _minute(window.end) <= _minute(window.start):
            problems.append(RuleProblem(name, N_("the window %(start)s–%(end)s ends before it starts"),
                                        start=window.start, end=window.end))
            continue
        if window.cir_mbps > window.mir_mbps:
            problems.append(RuleProblem(name, N_("in %(start)s–%(end)s the guaranteed rate (CIR) %(cir)s Mbps is "
                                                 "above the ceiling (MIR) %(mir)s Mbps"),
                                        start=window.start, end=window.end, cir=window.cir_mbps, mir=window.mir_mbps))
        for m in _window_minutes(window):
            count[m] += 1
    gaps = [m for m, c in enumerate(count) if c == 0]
    doubles = [m for m, c in enumerate(count) if c > 1]
    if gaps:
        problems.append(RuleProblem(name, N_("the schedule does not cover %(when)s; every minute of the week needs "
                                             "exactly one window"), when=_describe(_runs(gaps))))
    if doubles:
        problems.append(RuleProblem(name, N_("schedule windows overlap on %(when)s"),
                                    when=_describe(_runs(doubles))))
    return problems


def _weekly_rates(allocation: AllocationIn) -> list[tuple[int, int, float, float]]:
    """``(start, end, cir, mir)`` minute-of-week spans of an allocation (its base rates without a schedule)."""
    if not allocation.schedule:
        return [(0, MINUTES_PER_WEEK, allocation.cir_mbps, allocation.mir_mbps)]
    spans = []
    for w in allocation.schedule:
        for day in w.days:
            spans.append((day * MINUTES_PER_DAY + _minute(w.start), day * MINUTES_PER_DAY + _minute(w.end),
                          w.cir_mbps, w.mir_mbps))
    return spans


def allocation_problems(capacity_mbps: float, allocations: Sequence[AllocationIn]) -> list[RuleProblem]:
    """Every broken rule of a set of allocations, each as a sentence a planner understands.

    Rules: names unique; CIR ≤ MIR; every MIR ≤ capacity; schedules cover the week exactly once; and
    the guaranteed rates (CIR) in force at any minute of the week add up to no more than the capacity.
    """
    problems: list[RuleProblem] = []
    names = [a.name for a in allocations]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(RuleProblem(dup, N_("the name is used by more than one allocation")))
    agencies = [a.agency_id for a in allocations if a.agency_id is not None]
    if len(set(agencies)) != len(agencies):
        problems.append(RuleProblem("", N_("an agency has more than one allocation; give each office one share")))
    if not allocations:
        problems.append(RuleProblem("", N_("the plan has no allocations")))
    for a in allocations:
        if a.agency_id is None and not a.is_hotspot_pool:
            problems.append(RuleProblem(a.name, N_("choose the agency it belongs to, or mark it as the public "
                                                   "hotspot pool")))
        if a.cir_mbps > a.mir_mbps:
            problems.append(RuleProblem(a.name, N_("the guaranteed rate (CIR) %(cir)s Mbps is above its ceiling "
                                                   "(MIR) %(mir)s Mbps"), cir=a.cir_mbps, mir=a.mir_mbps))
        top = max([a.mir_mbps, *(w.mir_mbps for w in a.schedule)])
        if top > capacity_mbps:
            problems.append(RuleProblem(a.name, N_("the ceiling (MIR) %(mir)s Mbps is above the plan's capacity "
                                                   "of %(capacity)s Mbps"), mir=top, capacity=capacity_mbps))
        problems.extend(schedule_problems(a.name, a.schedule))
    # Sum of CIR over the week, evaluated on each span between breakpoints.
    spans = [s for a in allocations for s in _weekly_rates(a)]
    points = sorted({0, MINUTES_PER_WEEK, *(s[0] for s in spans), *(s[1] for s in spans)})
    worst: tuple[float, int] | None = None
    for start, end in zip(points, points[1:], strict=False):
        if start >= end:
            continue
        total = sum(cir for a_start, a_end, cir, _ in spans if a_start <= start < a_end)
        if total > capacity_mbps + 1e-9 and (worst is None or total > worst[0]):
            worst = (total, start)
    if worst is not None:
        problems.append(RuleProblem("", N_("the guaranteed rates (CIR) add up to %(cir)s Mbps at %(when)s, more than "
                                           "the plan's capacity of %(capacity)s Mbps"),
                                    cir=worst[0], when=_clock(worst[1]), capacity=capacity_mbps))
    return problems


def allocations_in(version: PlanVersion) -> list[AllocationIn]:
    return [AllocationIn(name=a.name, agency_id=a.agency_id, is_hotspot_pool=a.is_hotspot_pool,
                         target=a.target, cir_mbps=a.cir_mbps, mir_mbps=a.mir_mbps,
                         priority=a.priority, schedule=[ScheduleWindow.model_validate(w) for w in a.schedule])
            for a in version.allocations]


def check_version(version: PlanVersion) -> list[RuleProblem]:
    """The problems of a stored version (empty when it may be applied)."""
    return allocation_problems(version.capacity_down_mbps, allocations_in(version))


# --- changing ------------------------------------------------------------------------------------


def _uplinks(session: Session, ids: Sequence[int]) -> list[Uplink]:
    rows = list(session.scalars(select(Uplink).where(Uplink.id.in_(ids))))
    missing = sorted(set(ids) - {u.id for u in rows})
    if missing:
        raise ValidationFailed(f"uplink(s) {missing} do not exist", field="uplink_ids")
    return rows


def _snapshot(plan: BandwidthPlan) -> dict[str, Any]:
    return {"name": plan.name, "device_id": plan.device_id, "uplinks": [u.name for u in plan.uplinks],
            "wan_interface": plan.wan_interface, "lan_interface": plan.lan_interface}


def create_plan(session: Session, actor: Actor, data: PlanCreate) -> BandwidthPlan:
    """A plan over a group of uplinks; its first version is an empty draft."""
    actor.require(Permission.NETWORK_CHANGE)
    ensure_unique(session, BandwidthPlan, "name", data.name, label="bandwidth plan")
    if data.device_id is not None and session.get(Device, data.device_id) is None:
        raise ValidationFailed(f"device {data.device_id} does not exist", field="device_id")
    plan = BandwidthPlan(name=data.name, description=data.description, device_id=data.device_id,
                         wan_interface=data.wan_interface, lan_interface=data.lan_interface,
                         uplinks=_uplinks(session, data.uplink_ids))
    session.add(plan)
    flush_or_conflict(session, f"bandwidth plan {data.name!r}")
    audit.record(session, actor, action="create", entity_type="bandwidth_plan", entity_id=plan.id,
                 message="bandwidth_plan.created", params={"name": plan.name}, after=_snapshot(plan))
    return plan


def plan_capacity(plan: BandwidthPlan) -> tuple[float, float]:
    """Download and upload capacity of the plan's uplinks together, in Mbps."""
    return (float(sum(u.capacity_down_mbps for u in plan.uplinks)),
            float(sum(u.capacity_up_mbps for u in plan.uplinks)))


def _check_agencies(session: Session, allocations: Sequence[AllocationIn]) -> None:
    ids = {a.agency_id for a in allocations if a.agency_id is not None}
    found = set(session.scalars(select(Agency.id).where(Agency.id.in_(ids)))) if ids else set()
    if ids - found:
        raise ValidationFailed(f"agency id(s) {sorted(ids - found)} do not exist", field="allocations")


def _set_allocations(session: Session, version: PlanVersion, allocations: Sequence[AllocationIn]) -> None:
    if version.allocations:
        version.allocations.clear()
        session.flush()  # delete the old rows before inserting new ones with the same names
    for n, a in enumerate(allocations):
        version.allocations.append(Allocation(
            position=n, name=a.name, agency_id=a.agency_id, is_hotspot_pool=a.is_hotspot_pool,
            target=str(a.target), cir_mbps=a.cir_mbps, mir_mbps=a.mir_mbps, priority=a.priority,
            schedule=[w.model_dump(mode="json") for w in a.schedule]))


def _version_summary(version: PlanVersion) -> dict[str, Any]:
    return {"number": version.number, "status": version.status.value if isinstance(version.status, PlanStatus)
            else version.status, "allocations": {a.name: [a.cir_mbps, a.mir_mbps] for a in version.allocations}}


def create_version(session: Session, actor: Actor, plan_id: int, data: VersionCreate) -> PlanVersion:
    """A new draft version: the given allocations, or a copy of the active version's."""
    actor.require(Permission.NETWORK_CHANGE)
    plan = get_plan(session, actor, plan_id)
    if data.allocations is not None:
        allocations = data.allocations
    else:
        current = active_version(plan) or (plan.versions[-1] if plan.versions else None)
        allocations = allocations_in(current) if current else []
    return new_version(session, actor, plan, allocations, note=data.note)


def new_version(session: Session, actor: Actor, plan: BandwidthPlan, allocations: Sequence[AllocationIn], *,
                 note: str) -> PlanVersion:
    _check_agencies(session, allocations)
    down, up = plan_capacity(plan)
    number = max((v.number for v in plan.versions), default=0) + 1
    version = PlanVersion(plan=plan, number=number, status=PlanStatus.DRAFT, capacity_down_mbps=down,
                          capacity_up_mbps=up, note=note, created_by=actor.username)
    _set_allocations(session, version, allocations)
    session.add(version)
    flush_or_conflict(session, f"version {number} of plan {plan.name!r}")
    audit.record(session, actor, action="create", entity_type="plan_version", entity_id=version.id,
                 message="plan_version.created", params={"number": number, "name": plan.name},
                 after=_version_summary(version))
    return version


def update_version(session: Session, actor: Actor, version_id: int, data: VersionUpdate) -> PlanVersion:
    """Replace a draft's allocations (an applied version never changes; make a new one)."""
    actor.require(Permission.NETWORK_CHANGE)
    version = get_version(session, actor, version_id)
    if version.status != PlanStatus.DRAFT:
        raise ValidationFailed(f"version {version.number} is {version.status}; only drafts can be edited — "
                               "create a new version instead", field="status")
    _check_agencies(session, data.allocations)
    before = _version_summary(version)
    _set_allocations(session, version, data.allocations)
    if data.note is not None:
        version.note = data.note
    session.flush()
    audit.record(session, actor, action="update", entity_type="plan_version", entity_id=version.id,
                 message="plan_version.changed",
                 params={"number": version.number, "name": version.plan.name},
                 before=before, after=_version_summary(version))
    return version


# --- applying ------------------------------------------------------------------------------------


def rates_at(allocation: Allocation, at: datetime | None) -> tuple[float, float]:
    """CIR and MIR of ``allocation`` at local time ``at`` (its base rates when ``at`` is None)."""
    if at is None or not allocation.schedule:
        return allocation.cir_mbps, allocation.mir_mbps
    minute = at.weekday() * MINUTES_PER_DAY + at.hour * 60 + at.minute
    for w in allocation.schedule:
        for day in w["days"]:
            start = day * MINUTES_PER_DAY + _minute(w["start"])
            if start <= minute < day * MINUTES_PER_DAY + _minute(w["end"]):
                return float(w["cir_mbps"]), float(w["mir_mbps"])
    return allocation.cir_mbps, allocation.mir_mbps


def render_plan_queues(version: PlanVersion, *, at: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Variables for the ``queues`` template, per platform: the plan's router's platform, or every platform
    that has a queues template when the plan names no router.

    Args:
        at: local time whose scheduled rates to render; None renders each allocation's base rates.
    """
    plan = version.plan
    allocations = [
        {"name": a.name, "target": a.target, "cir_mbps": rates_at(a, at)[0], "mir_mbps": rates_at(a, at)[1],
         "priority": a.priority}
        for a in version.allocations
    ]
    variables = {
        "wan_interface": plan.wan_interface or (plan.uplinks[0].interface_name if plan.uplinks else ""),
        "lan_interface": plan.lan_interface,
        "total_down_mbps": version.capacity_down_mbps,
        "total_up_mbps": version.capacity_up_mbps,
        "allocations": allocations,
    }
    platforms = [str(plan.device.platform)] if plan.device is not None else list(QUEUE_PLATFORMS)
    return {p: dict(variables) for p in platforms}


@dataclass(frozen=True)
class Applied:
    version: PlanVersion
    job: ProvisionJob
    dry_run: bool


def _last_dry_run_ok(session: Session, version: PlanVersion) -> bool:
    if version.provision_job_id is None:
        return False
    job = session.get(ProvisionJob, version.provision_job_id)
    return job is not None and job.dry_run and job.status == JobStatus.SUCCEEDED


def apply_version(session: Session, actor: Actor, version_id: int, *, dry_run: bool,
                  dispatch: TaskSender | None, request_job: JobRequester | None) -> Applied:
    """Ask provisioning for a job that puts the version's queues on the plan's router.

    A dry run only shows the queue diff and starts at once. The real run needs a successful dry run of the
    same version first; provisioning keeps its job pending until another person approves it
    (maker-checker), and the version becomes active and the previous active version superseded.

    Raises:
        ValidationFailed: the version breaks a rule, has no router, was not dry-run first, provisioning is
            not installed, or provisioning refuses the job's variables.
    """
    actor.require(Permission.NETWORK_CHANGE)
    version = get_version(session, actor, version_id)
    plan = version.plan
    problems = check_version(version)
    if problems:
        raise ValidationFailed("the plan cannot be applied: " + "; ".join(problems), field="allocations")
    if plan.device is None:
        raise ValidationFailed(f"plan {plan.name} names no router to put the queues on", field="device_id")
    if not plan.lan_interface:
        raise ValidationFailed(f"plan {plan.name} has no LAN interface for the queues", field="lan_interface")
    if version.status == PlanStatus.SUPERSEDED:
        raise ValidationFailed(f"version {version.number} was superseded; make a new version", field="status")
    if not dry_run and not _last_dry_run_ok(session, version):
        raise ValidationFailed("run a dry run of this version first and check its queue diff", field="dry_run")
    if request_job is None:
        raise ValidationFailed("provisioning is not installed: put the queues on the router by hand and "
                               "activate the version without a push", field="dry_run")
    device = plan.device
    summary = f"bandwidth plan {plan.name} version {version.number}" + (" (dry run)" if dry_run else "")
    job = request_job(session, actor, purpose="queues", devices=[device.name],
                      variables=render_plan_queues(version)[str(device.platform)], dry_run=dry_run,
                      summary=summary, dispatch=dispatch)
    version.provision_job_id = job.id
    if not dry_run:
        for other in plan.versions:
            if other.status == PlanStatus.ACTIVE and other.id != version.id:
                other.status = PlanStatus.SUPERSEDED
        version.status = PlanStatus.ACTIVE
        version.activated_at = utcnow()
        version.activated_by = actor.username
    session.flush()
    audit.record(session, actor, action="apply" if not dry_run else "dry_run", entity_type="plan_version",
                 entity_id=version.id, message="plan_version.dry_run" if dry_run else "plan_version.applied",
                 params={"number": version.number, "name": plan.name, "device": device.name, "job": job.id},
                 after=_version_summary(version))
    return Applied(version=version, job=job, dry_run=dry_run)


def activate_without_push(session: Session, actor: Actor, version_id: int) -> PlanVersion:
    """Record a version as active without touching a router (queues set by hand, or the demo)."""
    actor.require(Permission.NETWORK_CHANGE)
    version = get_version(session, actor, version_id)
    problems = check_version(version)
    if problems:
        raise ValidationFailed("the plan cannot be activated: " + "; ".join(problems), field="allocations")
    for other in version.plan.versions:
        if other.status == PlanStatus.ACTIVE and other.id != version.id:
            other.status = PlanStatus.SUPERSEDED
    version.status = PlanStatus.ACTIVE
    version.activated_at = utcnow()
    version.activated_by = actor.username
    session.flush()
    audit.record(session, actor, action="activate", entity_type="plan_version", entity_id=version.id,
                 message="plan_version.activated",
                 params={"number": version.number, "name": version.plan.name}, after=_version_summary(version))
    return version


def version_diff(old: PlanVersion | None, new: PlanVersion) -> list[str]:
    """What changes between two versions, one line per allocation, e.g. ``DUKCAPIL: CIR 20 → 30 Mbps``."""
    before = {a.name: a for a in old.allocations} if old else {}
    after = {a.name: a for a in new.allocations}
    lines = []
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name), after.get(name)
        if a is None and b is not None:
            lines.append(f"+ {name}: CIR {b.cir_mbps:g} / MIR {b.mir_mbps:g} Mbps, priority {b.priority}")
        elif b is None and a is not None:
            lines.append(f"- {name}")
        elif a is not None and b is not None:
            changes = [f"{label} {x:g} → {y:g}" for label, x, y in
                       (("CIR", a.cir_mbps, b.cir_mbps), ("MIR", a.mir_mbps, b.mir_mbps),
                        ("priority", a.priority, b.priority)) if x != y]
            if a.target != b.target:
                changes.append(f"target {a.target} → {b.target}")
            if a.schedule != b.schedule:
                changes.append("schedule changed")
            if changes:
                lines.append(f"~ {name}: " + ", ".join(changes))
    return lines


def job_results(session: Session, version: PlanVersion) -> list[ProvisionResultRecord]:
    """The per-device results (with the queue diff) of the version's latest provisioning job."""
    if version.provision_job_id is None:
        return []
    return list(session.scalars(select(ProvisionResultRecord)
                                .where(ProvisionResultRecord.job_id == version.provision_job_id)))
