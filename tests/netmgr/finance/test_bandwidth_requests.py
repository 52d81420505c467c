"""Bandwidth requests: maker-checker, approval makes a validated new version, everything audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.errors import PermissionDenied, ValidationFailed
from netmgr.models import AuditLog
from netmgr.models.enums import Role
from netmgr.models.finance import RequestStatus
from netmgr.schemas.finance import RequestCreate
from netmgr.services import bandwidth_requests, users
from tests import factories
from tests.netmgr.finance.conftest import World


def test_requester_cannot_approve_their_own_request_but_a_colleague_can(session: Session, world: World) -> None:
    maker = users.actor_for(factories.user(session, role=Role.OPERATOR, username="ops-a"))
    checker = users.actor_for(factories.user(session, role=Role.OPERATOR, username="ops-b"))
    request = bandwidth_requests.create_request(session, maker, RequestCreate(
        plan_id=world.plan, agency_id=world.agency_busy, cir_mbps=25, mir_mbps=40, reason="antrian e-KTP pagi"))
    with pytest.raises(PermissionDenied, match="maker-checker"):
        bandwidth_requests.approve_request(session, maker, request.id)
    version = bandwidth_requests.approve_request(session, checker, request.id, note="disetujui")
    assert version.number == 2 and request.status == RequestStatus.APPROVED and request.version_id == version.id
    dukcapil = next(a for a in version.allocations if a.name == "DUKCAPIL")
    assert (dukcapil.cir_mbps, dukcapil.mir_mbps) == (25, 40)
    actions = [(a.actor, a.action) for a in session.scalars(select(AuditLog).where(
        AuditLog.entity_type == "bandwidth_request").order_by(AuditLog.id))]
    assert actions == [("ops-a", "create"), ("ops-b", "approve")]


def test_agency_viewer_asks_only_for_their_office_and_cannot_decide(session: Session, world: World) -> None:
    viewer = users.actor_for(factories.user(session, role=Role.AGENCY_VIEWER, agency_id=world.agency_idle))
    with pytest.raises(PermissionDenied, match="their own office"):
        bandwidth_requests.create_request(session, viewer, RequestCreate(
            plan_id=world.plan, agency_id=world.agency_busy, cir_mbps=25, mir_mbps=40, reason="bukan kantor saya"))
    request = bandwidth_requests.create_request(session, viewer, RequestCreate(
        plan_id=world.plan, cir_mbps=2, mir_mbps=5, reason="kami jarang memakai"))
    assert request.agency_id == world.agency_idle
    with pytest.raises(PermissionDenied):
        bandwidth_requests.reject_request(session, viewer, request.id, note="x")


def test_approval_that_would_overbook_the_uplinks_is_refused_with_the_reason(session: Session, world: World) -> None:
    maker = users.actor_for(factories.user(session, role=Role.OPERATOR))
    checker = users.actor_for(factories.user(session, role=Role.ADMIN))
    request = bandwidth_requests.create_request(session, maker, RequestCreate(
        plan_id=world.plan, agency_id=world.agency_busy, cir_mbps=660, mir_mbps=700, reason="semua untuk kami"))
    with pytest.raises(ValidationFailed, match=r"add up to 720 Mbps .* capacity of 700 Mbps"):
        bandwidth_requests.approve_request(session, checker, request.id)
    with pytest.raises(ValidationFailed, match="say why"):
        bandwidth_requests.reject_request(session, checker, request.id, note=" ")
    bandwidth_requests.reject_request(session, checker, request.id, note="melebihi kapasitas")
    assert request.status == RequestStatus.REJECTED
