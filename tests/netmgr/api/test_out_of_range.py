"""Ids and paging values beyond what the database stores are the request's fault: 422 (API) / 404 (pages)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.models.enums import Role
from tests import factories
from tests.netmgr.api.conftest import World
from tests.netmgr.web.helpers import login

API = "/api/v1"
TOO_LARGE = [2**31, 2**63, 2**64]
API_PATHS = ["/devices/{n}", "/sites/{n}", "/uplinks/{n}", "/agencies/{n}", "/devices?offset={n}",
             "/devices?site_id={n}", "/audit?offset={n}", "/users/{n}"]


@pytest.mark.parametrize("n", TOO_LARGE)
def test_api_answers_422_for_numbers_beyond_the_database(client: TestClient, world: World, n: int) -> None:
    for path in API_PATHS:
        answer = client.get(API + path.format(n=n), headers=world.headers(Role.ADMIN))
        allowed = (404, 422) if "?" not in path else (200, 404, 422)  # an offset past the end is an empty page
        assert answer.status_code in allowed, (path, answer.status_code, answer.text[:300])
        if answer.status_code == 422:
            assert "larger than netmgr stores" in answer.json()["detail"] or "errors" in answer.json(), path


@pytest.mark.parametrize("n", TOO_LARGE)
def test_pages_answer_not_found_for_ids_beyond_the_database(client: TestClient, session: Session, n: int) -> None:
    factories.user(session, username="admin", role=Role.ADMIN)
    login(client, "admin")
    for path in (f"/devices/{n}", f"/sites/{n}", f"/uplinks/{n}", f"/agencies/{n}"):
        page = client.get(path)
        assert page.status_code == 404, (path, page.status_code)
        assert "Tidak ditemukan" in page.text
