"""Agency viewers, for two agencies: the API and the web pages give the same answer for budget, contracts, SLA and
plan lines (403 for regency-wide figures, or the viewer's own office only), because the services decide it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.errors import PermissionDenied
from netmgr.models import Agency, User
from netmgr.models.enums import Role
from netmgr.security.permissions import Actor
from netmgr.services import budget, users
from netmgr.settings import Settings
from tests.netmgr.api.conftest import World, password_hash
from tests.netmgr.api.test_finance_api import _plan
from tests.netmgr.web.helpers import login

API = "/api/v1"


@dataclass
class Viewer:
    agency_id: int
    code: str
    other_code: str
    username: str
    headers: dict[str, str]
    actor: Actor


@pytest.fixture
def viewers(session: Session, world: World) -> list[Viewer]:
    """The world's viewer (DISDIK) and a second one for the other agency (DINKES)."""
    other = User(username="u-viewer-dinkes", password_hash=password_hash(), role=Role.AGENCY_VIEWER,
                 agency_id=world.other_agency)
    session.add(other)
    session.commit()
    _, token = users.create_api_token(session, users.actor_for(other), name="tests")
    session.commit()
    own_user = session.get(User, world.user_ids[Role.AGENCY_VIEWER])
    assert own_user is not None
    codes = {a.id: a.code for a in session.query(Agency)}
    return [
        Viewer(world.own_agency, codes[world.own_agency], codes[world.other_agency],
               world.usernames[Role.AGENCY_VIEWER], world.headers(Role.AGENCY_VIEWER), users.actor_for(own_user)),
        Viewer(world.other_agency, codes[world.other_agency], codes[world.own_agency], other.username,
               {"Authorization": f"Bearer {token}"}, users.actor_for(other)),
    ]


# (API path, page path, status both must answer); "{agency}" is the viewer's own agency id, "{other}" another's.
REGENCY_WIDE = [
    ("budget", f"{API}/reports/budget", "/reports/budget"),
    ("contracts", f"{API}/reports/contracts", "/reports/budget"),
    ("sla", f"{API}/reports/sla?month=2025-02", None),
]


@pytest.mark.parametrize(("what", "api_path", "page_path"), REGENCY_WIDE)
def test_regency_wide_figures_are_refused_to_agency_viewers_by_api_and_page_alike(
        client: TestClient, session: Session, world: World, viewers: list[Viewer], what: str, api_path: str,
        page_path: str | None) -> None:
    _plan(session, world)
    for viewer in viewers:
        api = client.get(api_path, headers=viewer.headers)
        assert api.status_code == 403, (what, viewer.code, api.text)
        if page_path is not None:
            assert login(client, viewer.username).status_code == 303
            assert client.get(page_path).status_code == 403, (what, viewer.code)
            client.cookies.clear()
    finance = client.get(api_path, headers=world.headers(Role.FINANCE))
    assert finance.status_code == 200, finance.text


SERVICE_CALLS: dict[str, Callable[[Session, Actor, Settings], Any]] = {
    "budget_status": lambda s, a, st: budget.budget_status(s, a, 2025, st),
    "contract_register": lambda s, a, st: budget.contract_register(s, a, st.finance),
    "due_reminders": lambda s, a, st: budget.due_reminders(s, a, st.finance),
    "sla_report": lambda s, a, st: budget.sla_report(s, a, date(2025, 2, 1), tz=st.timezone),
}


@pytest.mark.parametrize("call", sorted(SERVICE_CALLS))
def test_the_budget_services_themselves_refuse_agency_viewers(
        session: Session, viewers: list[Viewer], settings: Settings, call: str) -> None:
    for viewer in viewers:
        with pytest.raises(PermissionDenied):
            SERVICE_CALLS[call](session, viewer.actor, settings)


def test_an_agency_viewer_gets_only_their_own_statement_from_the_api(
        client: TestClient, session: Session, world: World, viewers: list[Viewer]) -> None:
    _plan(session, world)
    for viewer in viewers:
        other = world.other_agency if viewer.agency_id == world.own_agency else world.own_agency
        own = client.get(f"{API}/reports/monthly/agencies/{viewer.agency_id}", params={"month": "2025-02"},
                         headers=viewer.headers)
        assert own.status_code == 200, own.text
        assert {a["agency_id"] for a in own.json()["agencies"]} <= {viewer.agency_id}
        refused = client.get(f"{API}/reports/monthly/agencies/{other}", params={"month": "2025-02"},
                             headers=viewer.headers)
        assert refused.status_code == 404, refused.text


def test_an_agency_viewer_sees_no_other_agencys_plan_lines_in_api_or_pages(
        client: TestClient, session: Session, world: World, viewers: list[Viewer]) -> None:
    plan_id = _plan(session, world)
    plans = client.get(f"{API}/plans", headers=world.headers(Role.ADMIN)).json()
    version_id = next(p for p in plans if p["id"] == plan_id)["versions"][0]["id"]
    for viewer in viewers:
        listed = client.get(f"{API}/plans", headers=viewer.headers)
        assert listed.status_code == 200, listed.text
        lines = [a for p in listed.json() for v in p["versions"] for a in v["allocations"]]
        assert lines and {a["agency_id"] for a in lines} == {viewer.agency_id}, (viewer.code, lines)
        report = client.get(f"{API}/reports/monthly", params={"month": "2025-02"}, headers=viewer.headers).json()
        assert viewer.other_code not in str(report), (viewer.code, report)
        requests = client.get(f"{API}/bandwidth-requests", headers=viewer.headers)
        assert requests.status_code == 200 and viewer.other_code not in requests.text

        assert login(client, viewer.username).status_code == 303
        for page in ("/plans", f"/plans/versions/{version_id}", "/requests", "/reports?month=2025-02"):
            answer = client.get(page)
            assert answer.status_code == 200, (viewer.code, page)
            if page.startswith(("/plans/versions", "/reports")):  # the others show rates, not codes
                assert viewer.code in answer.text, (viewer.code, page)
            assert viewer.other_code not in answer.text, (viewer.code, page)
        client.cookies.clear()
