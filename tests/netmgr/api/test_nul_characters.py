"""A NUL character (\\u0000) in a request's text is the client's fault, never a server error: PostgreSQL cannot
store it and netmgr answers 422 saying so; SQLite stores it like any other character."""

from __future__ import annotations

from fastapi.testclient import TestClient

from netmgr.models.enums import Role
from netmgr.settings import Settings
from tests.netmgr.api.conftest import World


def test_a_nul_character_in_a_name_is_refused_with_422_where_the_database_cannot_store_it(
        client: TestClient, world: World, settings: Settings) -> None:
    answer = client.post("/api/v1/agencies", json={"code": "DISKOMINFO", "name": "Dinas\x00 Kominfo"},
                         headers=world.headers(Role.ADMIN))
    if settings.resolved_database_url.startswith("postgresql"):
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"] == "ValidationFailed" and "NUL" in answer.json()["detail"]
    else:
        assert answer.status_code == 201, answer.text


def test_a_nul_character_in_a_search_is_never_a_server_error(client: TestClient, world: World) -> None:
    answer = client.get("/api/v1/devices", params={"q": "ap\x00"}, headers=world.headers(Role.ADMIN))
    assert answer.status_code in (200, 422), answer.text
