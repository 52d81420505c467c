"""Bandwidth requests: an office asks for a different share, someone else decides (maker-checker).

Data flow: agency viewer (or operator) files a request → admin/operator, never the requester, approves
(a new draft plan version with the office's new CIR/MIR, validated) or rejects; every step is audited.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from netmgr.errors import NotFound, PermissionDenied, ValidationFailed
from netmgr.models import Agency
from netmgr.models.base import utcnow
from netmgr.models.enums import Role
from netmgr.models.finance import BandwidthRequest, PlanVersion, RequestStatus
from netmgr.schemas.finance import RequestCreate, RequestRead
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit, plans


def _current(session: Session, request: BandwidthRequest) -> tuple[float | None, float | None]:
    plan = plans.get_plan(session, plans_reader(), request.plan_id)
    version = plans.active_version(plan)
    alloc = next((a for a in version.allocations if a.agency_id == request.agency_id), None) if version else None
    return (alloc.cir_mbps, alloc.mir_mbps) if alloc else (None, None)


def plans_reader() -> Actor:
    """An internal reader used to look up the plan a request refers to (the caller was checked already)."""
    return Actor(user_id=None, username="system", role=Role.ADMIN)


def to_read(session: Session, request: BandwidthRequest) -> RequestRead:
    cir, mir = _current(session, request)
    return RequestRead(
        id=request.id, plan_id=request.plan_id, agency_id=request.agency_id, agency_code=request.agency.code,
        cir_mbps=request.cir_mbps, mir_mbps=request.mir_mbps, current_cir_mbps=cir, current_mir_mbps=mir,
        reason=request.reason, status=request.status, requested_by=request.requested_by,
        created_at=request.created_at, decided_by=request.decided_by, decided_at=request.decided_at,
        decision_note=request.decision_note, version_id=request.version_id)


def list_requests(session: Session, actor: Actor, *, status: RequestStatus | None = None) -> list[BandwidthRequest]:
    """Newest first; an agency viewer sees only their own office's requests."""
    actor.require(Permission.REPORTS_READ)
    stmt = select(BandwidthRequest).options(selectinload(BandwidthRequest.agency))
    if actor.role == Role.AGENCY_VIEWER:
        stmt = stmt.where(BandwidthRequest.agency_id == (actor.agency_scope or -1))
    if status is not None:
        stmt = stmt.where(BandwidthRequest.status == status)
    return list(session.scalars(stmt.order_by(BandwidthRequest.id.desc())))


def get_request(session: Session, actor: Actor, request_id: int) -> BandwidthRequest:
    actor.require(Permission.REPORTS_READ)
    row = session.get(BandwidthRequest, request_id)
    if row is None or (actor.role == Role.AGENCY_VIEWER and row.agency_id != actor.agency_scope):
        raise NotFound(f"bandwidth request {request_id} does not exist")
    return row


def create_request(session: Session, actor: Actor, data: RequestCreate) -> BandwidthRequest:
    """File a request. Agency viewers may only ask for their own office."""
    actor.require(Permission.BANDWIDTH_REQUEST)
    agency_id = data.agency_id if data.agency_id is not None else actor.agency_scope
    if actor.role == Role.AGENCY_VIEWER and agency_id != actor.agency_scope:
        raise PermissionDenied("an agency viewer may only ask for bandwidth for their own office")
    if agency_id is None:
        raise ValidationFailed("say which agency the request is for", field="agency_id")
    agency = session.get(Agency, agency_id)
    if agency is None:
        raise ValidationFailed(f"agency {agency_id} does not exist", field="agency_id")
    plan = plans.get_plan(session, actor, data.plan_id)
    if data.cir_mbps > data.mir_mbps:
        raise ValidationFailed(f"the guaranteed rate (CIR) {data.cir_mbps:g} Mbps is above the ceiling (MIR) "
                               f"{data.mir_mbps:g} Mbps", field="cir_mbps")
    version = plans.active_version(plan)
    if version is None or not any(a.agency_id == agency_id for a in version.allocations):
        raise ValidationFailed(f"{agency.code} has no allocation in the active version of plan {plan.name}",
                               field="agency_id")
    row = BandwidthRequest(plan_id=plan.id, agency_id=agency_id, cir_mbps=data.cir_mbps, mir_mbps=data.mir_mbps,
                           reason=data.reason, status=RequestStatus.PENDING, requested_by_id=actor.user_id,
                           requested_by=actor.username)
    session.add(row)
    session.flush()
    audit.record(session, actor, action="create", entity_type="bandwidth_request", entity_id=row.id,
                 message="bandwidth_request.created",
                 params={"agency": agency.code, "cir": float(data.cir_mbps), "mir": float(data.mir_mbps)},
                 after={"agency": agency.code, "cir_mbps": data.cir_mbps, "mir_mbps": data.mir_mbps,
                        "reason": data.reason})
    return row


def _decidable(session: Session, actor: Actor, request_id: int) -> BandwidthRequest:
    actor.require(Permission.NETWORK_CHANGE)
    row = get_request(session, actor, request_id)
    if row.status != RequestStatus.PENDING:
        raise ValidationFailed(f"request {row.id} was already {row.status}", field="status")
    same_user = row.requested_by_id is not None and row.requested_by_id == actor.user_id
    if same_user or row.requested_by == actor.username:
        raise PermissionDenied("you filed this request; someone else must approve or reject it (maker-checker)")
    return row


def approve_request(session: Session, actor: Actor, request_id: int, *, note: str = "") -> PlanVersion:
    """Approve: a new draft version of the plan with the office's new rates (it must pass validation).

    Raises:
        ValidationFailed: the change breaks a plan rule (e.g. the CIRs would exceed the capacity).
        PermissionDenied: the approver filed the request.
    """
    row = _decidable(session, actor, request_id)
    plan = plans.get_plan(session, actor, row.plan_id)
    current = plans.active_version(plan)
    if current is None:
        raise ValidationFailed(f"plan {plan.name} has no active version to change", field="plan_id")
    allocations = plans.allocations_in(current)
    for a in allocations:
        if a.agency_id == row.agency_id:
            a.cir_mbps, a.mir_mbps, a.schedule = row.cir_mbps, row.mir_mbps, []
    problems = plans.allocation_problems(current.capacity_down_mbps, allocations)
    if problems:
        raise ValidationFailed("approving would break the plan: " + "; ".join(problems), field="cir_mbps")
    version = plans.new_version(session, actor, plan, allocations,
                                 note=f"request {row.id} from {row.agency.code}: {row.reason}")
    row.status, row.decided_by_id, row.decided_by = RequestStatus.APPROVED, actor.user_id, actor.username
    row.decided_at, row.decision_note, row.version_id = utcnow(), note, version.id
    session.flush()
    audit.record(session, actor, action="approve", entity_type="bandwidth_request", entity_id=row.id,
                 message="bandwidth_request.approved",
                 params={"number": row.id, "agency": row.agency.code, "version": version.number, "name": plan.name},
                 after={"version": version.number, "note": note})
    return version


def reject_request(session: Session, actor: Actor, request_id: int, *, note: str) -> BandwidthRequest:
    row = _decidable(session, actor, request_id)
    if not note.strip():
        raise ValidationFailed("say why the request is rejected", field="note")
    row.status, row.decided_by_id, row.decided_by = RequestStatus.REJECTED, actor.user_id, actor.username
    row.decided_at, row.decision_note = utcnow(), note
    session.flush()
    audit.record(session, actor, action="reject", entity_type="bandwidth_request", entity_id=row.id,
                 message="bandwidth_request.rejected",
                 params={"number": row.id, "agency": row.agency.code, "note": note}, after={"note": note})
    return row
