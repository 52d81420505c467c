"""Finance API: the role matrix over the reports, plans and bandwidth-request routes; scoping of agency viewers."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.models import Device
from netmgr.models.enums import Role
from netmgr.schemas.finance import AllocationIn, PlanCreate, VersionCreate
from netmgr.security.permissions import SYSTEM
from netmgr.services import plans
from tests.netmgr.api import test_role_matrix as matrix
from tests.netmgr.api.conftest import World

API = "/api/v1"
MINE = ("/reports", "/plans", "/bandwidth-requests")


def _plan(session: Session, world: World) -> int:
    device = session.get(Device, world.own_device)
    assert device is not None
    plan = plans.create_plan(session, SYSTEM, PlanCreate(name="Internet Pemkab", device_id=device.id,
                                                         lan_interface="bridge-lan", uplink_ids=[world.uplink]))
    version = plans.create_version(session, SYSTEM, plan.id, VersionCreate(allocations=[
        AllocationIn(name="DISDIK", agency_id=world.own_agency, target="10.20.2.0/24", cir_mbps=50, mir_mbps=100),
        AllocationIn(name="DINKES", agency_id=world.other_agency, target="10.20.3.0/24", cir_mbps=40, mir_mbps=80),
    ]))
    plans.activate_without_push(session, SYSTEM, version.id)
    session.commit()
    return plan.id


def test_finance_routes_follow_the_role_matrix(client: TestClient, world: World, session: Session) -> None:
    _plan(session, world)
    routes = [(m, p) for m, p in matrix._routes(client) if p.removeprefix(API).startswith(MINE)]
    assert ("GET", f"{API}/reports/monthly.xlsx") in routes and ("POST", f"{API}/bandwidth-requests") in routes
    failures: list[str] = []
    for method, path in routes:
        rule = matrix.rule_for(method, path)
        assert rule is not None, path
        for role in (None, *Role):
            url = path.format(**matrix._ids(world, role, method))
            body = {} if method in {"POST", "PUT", "PATCH"} else None
            got = client.request(method, url, json=body, headers=world.headers(role)).status_code
            if role is None:
                ok = got == 401
            elif role not in rule.allowed:
                ok = got == 403
            elif matrix._expected_hidden(role, method, path):
                ok = got == 404
            elif method == "GET":
                ok = got in (200, 422)
            else:
                ok = got not in (401, 403) and got < 500
            if not ok:
                failures.append(f"{role} {method} {url}: {got}")
    assert not failures, failures


def test_finance_reads_reports_but_cannot_write_plans(client: TestClient, world: World, session: Session) -> None:
    plan_id = _plan(session, world)
    headers = world.headers(Role.FINANCE)
    report = client.get(f"{API}/reports/monthly", params={"month": "2025-02"}, headers=headers).json()
    assert {a["code"] for a in report["agencies"]} == {"DISDIK", "DINKES"}
    response = client.post(f"{API}/plans/{plan_id}/versions", json={}, headers=headers)
    assert response.status_code == 403 and "network.change" in response.json()["detail"]
    assert client.get(f"{API}/reports/monthly.pdf", params={"month": "2025-02"},
                      headers=headers).headers["content-type"] == "application/pdf"


def test_agency_viewer_sees_and_requests_only_for_its_own_agency(client: TestClient, world: World,
                                                                 session: Session) -> None:
    plan_id = _plan(session, world)
    headers = world.headers(Role.AGENCY_VIEWER)
    report = client.get(f"{API}/reports/monthly", params={"month": "2025-02"}, headers=headers).json()
    assert [a["code"] for a in report["agencies"]] == ["DISDIK"] and report["uplinks"] == []
    listed: list[dict[str, Any]] = client.get(f"{API}/plans", headers=headers).json()
    assert [a["agency_code"] for a in listed[0]["versions"][0]["allocations"]] == ["DISDIK"]
    other = client.post(f"{API}/bandwidth-requests", json={"plan_id": plan_id, "agency_id": world.other_agency,
                                                           "cir_mbps": 60, "mir_mbps": 100, "reason": "ujian"},
                        headers=headers)
    assert other.status_code == 403
    own = client.post(f"{API}/bandwidth-requests", json={"plan_id": plan_id, "cir_mbps": 60, "mir_mbps": 100,
                                                         "reason": "ujian nasional berbasis komputer"},
                      headers=headers)
    assert own.status_code == 201, own.text
    request_id = own.json()["id"]
    assert own.json()["current_cir_mbps"] == 50
    approved = client.post(f"{API}/bandwidth-requests/{request_id}/approve", json={"note": "ok"},
                           headers=world.headers(Role.OPERATOR))
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "draft" and approved.json()["number"] == 2
    assert {a["name"]: a["cir_mbps"] for a in approved.json()["allocations"]}["DISDIK"] == 60


def test_report_files_are_indonesian_unless_english_is_asked_for(client: TestClient, world: World,
                                                                  session: Session) -> None:
    _plan(session, world)
    headers = world.headers(Role.FINANCE)
    month = {"month": "2025-02"}
    indonesian = client.get(f"{API}/reports/monthly.csv", params=month, headers=headers).text
    assert indonesian.splitlines()[0].startswith("\ufeffLaporan bandwidth Februari 2025") and "Instansi" in indonesian
    english = client.get(f"{API}/reports/monthly.csv", params={**month, "lang": "en"}, headers=headers).text
    assert english.splitlines()[0].startswith("\ufeffBandwidth report February 2025") and "Agencies" in english
    refused = client.get(f"{API}/reports/monthly.xlsx", params={**month, "lang": "fr"}, headers=headers)
    assert refused.status_code == 422
