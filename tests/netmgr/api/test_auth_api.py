"""Sign-in with the session cookie, CSRF on cookie-authenticated changes, and API tokens for scripts."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.models import AuditLog
from netmgr.models.enums import Role
from tests.factories import PASSWORD
from tests.netmgr.api.conftest import World

API = "/api/v1"
NEW_SITE = {"name": "Kantor Camat Baamang", "kind": "office"}


def _login(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, object]:
    response = client.post(f"{API}/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_login_sets_a_session_cookie_and_returns_the_user_and_csrf_token(client: TestClient, world: World) -> None:
    body = _login(client, world.usernames[Role.OPERATOR])
    assert "netmgr_session" in client.cookies
    user = body["user"]
    assert isinstance(user, dict) and user["username"] == "u-operator" and user["role"] == "operator"
    assert "password_hash" not in user and "password" not in str(body)
    assert isinstance(body["csrf_token"], str) and len(body["csrf_token"]) >= 40
    assert "inventory.write" in body["permissions"] and "users.manage" not in body["permissions"]  # type: ignore[operator]
    me = client.get(f"{API}/auth/me").json()
    assert me["user"]["id"] == world.user_ids[Role.OPERATOR] and me["csrf_token"] == body["csrf_token"]
    assert me["user"]["last_login_at"] is not None


def test_api_timestamps_are_iso_8601_with_their_offset_on_every_database(client: TestClient, world: World) -> None:
    _login(client, world.usernames[Role.OPERATOR])
    user = client.get(f"{API}/auth/me").json()["user"]
    for key in ("last_login_at", "created_at"):
        moment = datetime.fromisoformat(user[key])
        assert moment.utcoffset() == timedelta(0), f"{key}={user[key]!r} has no UTC offset"


def test_wrong_password_is_401_and_the_attempt_is_audited(client: TestClient, world: World,
                                                          session: Session) -> None:
    response = client.post(f"{API}/auth/login", json={"username": "u-admin", "password": "not-the-password"})
    assert response.status_code == 401 and response.json()["detail"] == "wrong username or password"
    unknown = client.post(f"{API}/auth/login", json={"username": "nobody", "password": "not-the-password"})
    assert unknown.status_code == 401 and unknown.json()["detail"] == response.json()["detail"]
    assert "netmgr_session" not in client.cookies
    assert client.get(f"{API}/auth/me").status_code == 401
    failed = session.scalars(sa.select(AuditLog).where(AuditLog.action == "login_failed")).all()
    assert [(e.actor, e.entity_id) for e in failed] == [("u-admin", str(world.user_ids[Role.ADMIN]))]


def test_cookie_session_changes_need_the_csrf_header(client: TestClient, world: World) -> None:
    csrf = _login(client, world.usernames[Role.ADMIN])["csrf_token"]
    assert isinstance(csrf, str)
    # Reads need no token.
    assert client.get(f"{API}/sites").status_code == 200
    missing = client.post(f"{API}/sites", json=NEW_SITE)
    assert missing.status_code == 403 and "X-CSRF-Token" in missing.json()["detail"]
    wrong = client.post(f"{API}/sites", json=NEW_SITE, headers={"X-CSRF-Token": "wrong-" + csrf})
    assert wrong.status_code == 403
    assert client.delete(f"{API}/devices/{world.own_device}").status_code == 403
    assert client.get(f"{API}/sites", params={"q": "Camat"}).json()["total"] == 0
    ok = client.post(f"{API}/sites", json=NEW_SITE, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    assert client.patch(f"{API}/sites/{ok.json()['id']}", json={"notes": "x"},
                        headers={"X-CSRF-Token": csrf}).status_code == 200


def test_bearer_token_requests_need_no_csrf_token(client: TestClient, world: World) -> None:
    response = client.post(f"{API}/sites", json=NEW_SITE, headers=world.headers(Role.OPERATOR))
    assert response.status_code == 201


def test_logout_ends_the_session(client: TestClient, world: World) -> None:
    csrf = _login(client, world.usernames[Role.FINANCE])["csrf_token"]
    assert client.post(f"{API}/auth/logout").status_code == 403  # logout is a change too
    assert client.post(f"{API}/auth/logout", headers={"X-CSRF-Token": str(csrf)}).status_code == 204
    assert client.get(f"{API}/auth/me").status_code == 401


def test_deactivated_user_loses_cookie_session_and_tokens(client: TestClient, world: World) -> None:
    other = TestClient(client.app)
    _login(other, world.usernames[Role.OPERATOR])
    assert other.get(f"{API}/auth/me").status_code == 200
    response = client.patch(f"{API}/users/{world.user_ids[Role.OPERATOR]}", json={"is_active": False},
                            headers=world.headers(Role.ADMIN))
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert other.get(f"{API}/auth/me").status_code == 401
    assert client.get(f"{API}/auth/me", headers=world.headers(Role.OPERATOR)).status_code == 401
    refused = other.post(f"{API}/auth/login", json={"username": "u-operator", "password": PASSWORD})
    assert refused.status_code == 401


def test_api_token_is_shown_once_works_and_stops_working_when_revoked(client: TestClient, world: World) -> None:
    h = world.headers(Role.FINANCE)
    created = client.post(f"{API}/auth/tokens", json={"name": "laporan-bulanan"}, headers=h)
    assert created.status_code == 201, created.text
    token = created.json()
    plain = token["token"]
    assert plain.startswith("nm_") and token["prefix"] == plain[:10]
    listed = client.get(f"{API}/auth/tokens", headers=h)
    assert plain not in listed.text and "token_hash" not in listed.text
    assert [t["name"] for t in listed.json()["items"]] == ["laporan-bulanan", "tests"]
    mine = {"Authorization": f"Bearer {plain}"}
    assert client.get(f"{API}/auth/me", headers=mine).json()["user"]["username"] == "u-finance"
    assert client.delete(f"{API}/auth/tokens/{token['id']}", headers=h).status_code == 204
    rejected = client.get(f"{API}/devices", headers=mine)
    assert rejected.status_code == 401 and rejected.json()["detail"] == "invalid or revoked API token"
    assert rejected.headers["www-authenticate"] == "Bearer"


def test_someone_elses_api_token_cannot_be_revoked(client: TestClient, world: World) -> None:
    created = client.post(f"{API}/auth/tokens", json={"name": "ops-script"}, headers=world.headers(Role.OPERATOR))
    token_id = created.json()["id"]
    assert client.delete(f"{API}/auth/tokens/{token_id}", headers=world.headers(Role.FINANCE)).status_code == 404
    assert client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {created.json()['token']}"}) \
        .status_code == 200


def test_expired_api_token_is_refused(client: TestClient, world: World) -> None:
    created = client.post(f"{API}/auth/tokens", json={"name": "old", "expires_at": "2020-01-01T00:00:00Z"},
                          headers=world.headers(Role.OPERATOR)).json()
    response = client.get(f"{API}/devices", headers={"Authorization": f"Bearer {created['token']}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_requests_without_credentials_are_401_with_a_hint(client: TestClient, world: World) -> None:
    response = client.get(f"{API}/devices")
    assert response.status_code == 401
    assert "Authorization: Bearer" in response.json()["detail"]
