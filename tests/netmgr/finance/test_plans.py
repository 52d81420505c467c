"""Plan validation messages, versioning, the queue variables and applying through a provisioning job."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from netmgr.errors import PermissionDenied, ValidationFailed
from netmgr.models import ProvisionJob
from netmgr.models.enums import Role
from netmgr.models.finance import PlanStatus
from netmgr.models.provisioning import JobStatus
from netmgr.schemas.finance import AllocationIn, ScheduleWindow, VersionCreate, VersionUpdate
from netmgr.security.permissions import SYSTEM, Actor
from netmgr.services import plans
from provisioning.jobs import approve_job, request_job
from tests.netmgr.finance.conftest import World

OFFICE = ScheduleWindow(days=[0, 1, 2, 3, 4], start="07:30", end="16:00", cir_mbps=20, mir_mbps=30)
EVENING = ScheduleWindow(days=[0, 1, 2, 3, 4], start="16:00", end="24:00", cir_mbps=5, mir_mbps=30)
NIGHT = ScheduleWindow(days=[0, 1, 2, 3, 4], start="00:00", end="07:30", cir_mbps=5, mir_mbps=30)
WEEKEND = ScheduleWindow(days=[5, 6], start="00:00", end="24:00", cir_mbps=2, mir_mbps=30)


def alloc(name: str, cir: float, mir: float, **extra: Any) -> AllocationIn:
    return AllocationIn(name=name, agency_id=extra.pop("agency_id", 1), target=extra.pop("target", "10.0.0.0/24"),
                        cir_mbps=cir, mir_mbps=mir, **extra)


def test_sum_of_guaranteed_rates_above_capacity_is_refused_with_the_numbers() -> None:
    problems = plans.allocation_problems(100, [alloc("A", 60, 80, agency_id=1), alloc("B", 50, 80, agency_id=2)])
    assert problems == ["the guaranteed rates (CIR) add up to 110 Mbps at Mon 00:00, more than the plan's capacity "
                        "of 100 Mbps"]


def test_ceiling_above_capacity_and_cir_above_mir_are_named_per_allocation() -> None:
    problems = plans.allocation_problems(100, [alloc("A", 10, 150, agency_id=1), alloc("B", 30, 20, agency_id=2)])
    assert "A: the ceiling (MIR) 150 Mbps is above the plan's capacity of 100 Mbps" in problems
    assert "B: the guaranteed rate (CIR) 30 Mbps is above its ceiling (MIR) 20 Mbps" in problems


def test_schedule_must_cover_the_week_without_gaps_or_overlaps() -> None:
    assert plans.allocation_problems(100, [alloc("A", 20, 30, schedule=[OFFICE, EVENING, NIGHT, WEEKEND])]) == []
    gap = plans.allocation_problems(100, [alloc("A", 20, 30, schedule=[OFFICE, EVENING, NIGHT])])
    assert gap == ["A: the schedule does not cover Sat 00:00–Sun 24:00; every minute of the week needs exactly "
                   "one window"]
    late_start = ScheduleWindow(days=[0, 1, 2, 3, 4], start="15:00", end="24:00", cir_mbps=5, mir_mbps=30)
    overlap = plans.allocation_problems(100, [alloc("A", 20, 30, schedule=[OFFICE, late_start, NIGHT, WEEKEND])])
    assert overlap == ["A: schedule windows overlap on Mon 15:00–Mon 16:00, Tue 15:00–Tue 16:00, "
                       "Wed 15:00–Wed 16:00 and 2 more"]


def test_scheduled_guarantees_are_summed_per_time_of_day() -> None:
    # Office hours: 20 + 85 = 105 > 100, although evenings (5 + 85) would fit.
    office = alloc("A", 20, 30, agency_id=1, schedule=[OFFICE, EVENING, NIGHT, WEEKEND])
    problems = plans.allocation_problems(100, [office, alloc("B", 85, 90, agency_id=2)])
    assert problems == ["the guaranteed rates (CIR) add up to 105 Mbps at Mon 07:30, more than the plan's capacity "
                        "of 100 Mbps"]


def test_render_plan_queues_gives_the_queues_template_its_variables(session: Session, world: World) -> None:
    version = plans.get_version(session, SYSTEM, world.version)
    out = plans.render_plan_queues(version)
    assert list(out) == ["mikrotik_routeros"]
    variables = out["mikrotik_routeros"]
    assert variables["total_down_mbps"] == 700 and variables["lan_interface"] == "bridge-lan"
    assert variables["allocations"][0] == {"name": "DUKCAPIL", "target": "10.20.8.0/24", "cir_mbps": 20.0,
                                           "mir_mbps": 30.0, "priority": 4}
    # The provisioning engineer's own validation accepts them.
    from provisioning.variables import validate_variables
    validate_variables("queues", variables)


def test_new_version_copies_the_active_one_and_only_drafts_change(session: Session, world: World) -> None:
    draft = plans.create_version(session, SYSTEM, world.plan, VersionCreate(note="lebih untuk dukcapil"))
    assert draft.number == 2 and draft.status == PlanStatus.DRAFT
    assert [a.name for a in draft.allocations] == ["DUKCAPIL", "INSPEKTORAT", "HOTSPOT-PUBLIK"]
    allocations = plans.allocations_in(draft)
    allocations[0].cir_mbps = 25
    plans.update_version(session, SYSTEM, draft.id, VersionUpdate(allocations=allocations))
    assert plans.version_diff(plans.get_version(session, SYSTEM, world.version), draft) == [
        "~ DUKCAPIL: CIR 20 → 25"]
    with pytest.raises(ValidationFailed, match="only drafts can be edited"):
        plans.update_version(session, SYSTEM, world.version, VersionUpdate(allocations=allocations))


def test_apply_runs_a_dry_run_first_then_activates_and_supersedes(session: Session, world: World) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    def dispatch(name: str, *, kwargs: dict[str, Any]) -> None:
        sent.append((name, kwargs))

    draft = plans.create_version(session, SYSTEM, world.plan, VersionCreate())
    with pytest.raises(ValidationFailed, match="dry run of this version first"):
        plans.apply_version(session, SYSTEM, draft.id, dry_run=False, dispatch=dispatch, request_job=request_job)
    applied = plans.apply_version(session, SYSTEM, draft.id, dry_run=True, dispatch=dispatch, request_job=request_job)
    job = session.get(ProvisionJob, applied.job.id)
    assert job is not None and job.dry_run and job.purpose == "queues" and job.targets["devices"] == ["core-diskominfo"]
    assert sent == [("provisioning.run_job", {"job_id": job.id})]
    assert draft.status == PlanStatus.DRAFT
    job.status = JobStatus.SUCCEEDED  # what the provisioning worker records after the dry run
    session.flush()
    plans.apply_version(session, SYSTEM, draft.id, dry_run=False, dispatch=dispatch, request_job=request_job)
    assert draft.status == PlanStatus.ACTIVE
    assert plans.get_version(session, SYSTEM, world.version).status == PlanStatus.SUPERSEDED
    assert len(sent) == 1, "a real change waits for approval; nothing is sent yet"


def test_a_plans_push_is_a_provisioning_job_that_a_second_person_must_approve(session: Session, world: World) -> None:
    operator = Actor(user_id=None, username="operator-satu", role=Role.OPERATOR)
    sent: list[tuple[str, dict[str, Any]]] = []

    def dispatch(name: str, *, kwargs: dict[str, Any]) -> None:
        sent.append((name, kwargs))

    draft = plans.create_version(session, operator, world.plan, VersionCreate())
    dry = plans.apply_version(session, operator, draft.id, dry_run=True, dispatch=dispatch, request_job=request_job)
    dry.job.status = JobStatus.SUCCEEDED
    session.flush()
    real = plans.apply_version(session, operator, draft.id, dry_run=False, dispatch=dispatch,
                               request_job=request_job).job
    assert real.status == JobStatus.PENDING and real.approved_by is None and real.created_by == "operator-satu"
    assert [kwargs["job_id"] for _, kwargs in sent] == [dry.job.id], "the push is not sent before approval"
    with pytest.raises(PermissionDenied, match="maker-checker"):
        approve_job(session, operator, real.id)
    approved = approve_job(session, Actor(user_id=None, username="operator-dua", role=Role.OPERATOR), real.id)
    assert approved.approved_by == "operator-dua" and approved.approved_pin is not None


def test_provisioning_refuses_queue_variables_its_own_validation_rejects(session: Session, world: World) -> None:
    draft = plans.create_version(session, SYSTEM, world.plan, VersionCreate())
    draft.plan.wan_interface = "ether1 /system reset-configuration"  # plans accept any text here
    session.flush()
    with pytest.raises(ValidationFailed, match="queues variables are not valid: wan_interface"):
        plans.apply_version(session, SYSTEM, draft.id, dry_run=True, dispatch=None, request_job=request_job)


def test_without_provisioning_a_plan_is_not_pushed(session: Session, world: World) -> None:
    draft = plans.create_version(session, SYSTEM, world.plan, VersionCreate())
    with pytest.raises(ValidationFailed, match="provisioning is not installed"):
        plans.apply_version(session, SYSTEM, draft.id, dry_run=True, dispatch=None, request_job=None)


def test_finance_cannot_change_plans(session: Session, world: World) -> None:
    finance = Actor(user_id=None, username="keuangan", role=Role.FINANCE)
    with pytest.raises(PermissionDenied):
        plans.create_version(session, finance, world.plan, VersionCreate())
    assert plans.list_plans(session, finance)[0].name == "Internet Pemkab"
