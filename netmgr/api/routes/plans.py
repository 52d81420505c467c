"""/api/v1/plans and /api/v1/bandwidth-requests: bandwidth plans, their versions, and offices' requests.

Request → one service in ``netmgr.services.plans`` / ``bandwidth_requests`` → read schema. Applying a version
sends ``provisioning.run_job`` by name through ``netmgr.api.deps.DispatchDep`` (after the commit), so no request
waits on the router.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status

from netmgr.api.deps import CurrentActor, DispatchDep, SessionDep, require
from netmgr.models.finance import BandwidthPlan, PlanVersion, RequestStatus
from netmgr.schemas.finance import (
    AllocationRead,
    ApplyResult,
    PlanCreate,
    PlanRead,
    RequestCreate,
    RequestDecision,
    RequestRead,
    VersionCreate,
    VersionRead,
    VersionUpdate,
)
from netmgr.security.permissions import Actor, Permission
from netmgr.services import bandwidth_requests, plans

router = APIRouter(tags=["plans"])
NetworkChanger = Annotated[Actor, require(Permission.NETWORK_CHANGE)]
Requester = Annotated[Actor, require(Permission.BANDWIDTH_REQUEST)]




def get_job_requester(request: Request) -> plans.JobRequester | None:
    """Provisioning's ``request_job`` when the capability is installed (its manifest's ``services``)."""
    services: dict[str, Any] = getattr(request.app.state, "capability_services", {})
    requester: plans.JobRequester | None = services.get("request_provision_job")
    return requester


JobRequesterDep = Annotated[plans.JobRequester | None, Depends(get_job_requester)]


def version_read(actor: Actor, version: PlanVersion) -> VersionRead:
    allocations = [AllocationRead(id=a.id, name=a.name, agency_id=a.agency_id, is_hotspot_pool=a.is_hotspot_pool,
                                  target=a.target, cir_mbps=a.cir_mbps, mir_mbps=a.mir_mbps,
                                  priority=a.priority, schedule=a.schedule,
                                  agency_code=a.agency.code if a.agency else None)
                   for a in plans.visible_allocations(actor, version)]
    problems = plans.check_version(version) if actor.can(Permission.NETWORK_CHANGE) else []
    return VersionRead(id=version.id, plan_id=version.plan_id, number=version.number, status=version.status,
                       capacity_down_mbps=version.capacity_down_mbps, capacity_up_mbps=version.capacity_up_mbps,
                       note=version.note, created_at=version.created_at, created_by=version.created_by,
                       activated_at=version.activated_at, activated_by=version.activated_by,
                       provision_job_id=version.provision_job_id, allocations=allocations, problems=problems)


def plan_read(actor: Actor, plan: BandwidthPlan) -> PlanRead:
    return PlanRead(id=plan.id, name=plan.name, description=plan.description, device_id=plan.device_id,
                    wan_interface=plan.wan_interface, lan_interface=plan.lan_interface,
                    uplink_ids=[u.id for u in plan.uplinks], capacity_down_mbps=plans.plan_capacity(plan)[0],
                    versions=[version_read(actor, v) for v in plan.versions])


@router.get("/plans", response_model=list[PlanRead])
def list_plans(session: SessionDep, actor: CurrentActor) -> list[PlanRead]:
    """Every plan and version; agency viewers see only their own office's allocation in each."""
    return [plan_read(actor, p) for p in plans.list_plans(session, actor)]


@router.post("/plans", response_model=PlanRead, status_code=status.HTTP_201_CREATED)
def create_plan(data: PlanCreate, session: SessionDep, actor: NetworkChanger) -> PlanRead:
    plan = plans.create_plan(session, actor, data)
    return plan_read(actor, plans.get_plan(session, actor, plan.id))


@router.post("/plans/{plan_id}/versions", response_model=VersionRead, status_code=status.HTTP_201_CREATED)
def create_version(plan_id: int, data: VersionCreate, session: SessionDep, actor: NetworkChanger) -> VersionRead:
    return version_read(actor, plans.create_version(session, actor, plan_id, data))


@router.put("/plans/versions/{version_id}", response_model=VersionRead)
def update_version(version_id: int, data: VersionUpdate, session: SessionDep, actor: NetworkChanger) -> VersionRead:
    return version_read(actor, plans.update_version(session, actor, version_id, data))


@router.post("/plans/versions/{version_id}/apply", response_model=ApplyResult)
def apply_version(version_id: int, session: SessionDep, actor: NetworkChanger, dispatch: DispatchDep,
                  request_job: JobRequesterDep, dry_run: Annotated[bool, Query()] = True) -> ApplyResult:
    """Dry run (default) or apply the version's queues on the plan's router through a provisioning job; a real
    run's job waits for a second person's approval in provisioning before anything is pushed."""
    applied = plans.apply_version(session, actor, version_id, dry_run=dry_run, dispatch=dispatch,
                                  request_job=request_job)
    return ApplyResult(version_id=applied.version.id, job_id=applied.job.id, dry_run=applied.dry_run,
                       task=plans.RUN_JOB_TASK)


@router.post("/plans/versions/{version_id}/queues", response_model=dict[str, dict[str, Any]])
def preview_queues(version_id: int, session: SessionDep, actor: NetworkChanger) -> dict[str, dict[str, Any]]:
    """The variables the version gives the ``queues`` template, per platform (nothing is sent)."""
    return plans.render_plan_queues(plans.get_version(session, actor, version_id))


@router.get("/bandwidth-requests", response_model=list[RequestRead])
def list_requests(session: SessionDep, actor: CurrentActor,
                  status_filter: Annotated[RequestStatus | None, Query(alias="status")] = None) -> list[RequestRead]:
    return [bandwidth_requests.to_read(session, r)
            for r in bandwidth_requests.list_requests(session, actor, status=status_filter)]


@router.post("/bandwidth-requests", response_model=RequestRead, status_code=status.HTTP_201_CREATED)
def create_request(data: RequestCreate, session: SessionDep, actor: Requester) -> RequestRead:
    return bandwidth_requests.to_read(session, bandwidth_requests.create_request(session, actor, data))


@router.post("/bandwidth-requests/{request_id}/approve", response_model=VersionRead)
def approve_request(request_id: int, data: RequestDecision, session: SessionDep,
                    actor: NetworkChanger) -> VersionRead:
    """Approve (not your own request): a new draft plan version with the office's new rates."""
    return version_read(actor, bandwidth_requests.approve_request(session, actor, request_id, note=data.note))


@router.post("/bandwidth-requests/{request_id}/reject", response_model=RequestRead)
def reject_request(request_id: int, data: RequestDecision, session: SessionDep, actor: NetworkChanger) -> RequestRead:
    return bandwidth_requests.to_read(session, bandwidth_requests.reject_request(session, actor, request_id,
                                                                                 note=data.note))
