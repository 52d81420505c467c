"""Sign-in throttling, server-side sessions, the Secure cookie and the hardening headers of the API and admin UI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.entrypoints.capabilities import create_app
from netmgr.models.enums import Role
from netmgr.security import passwords
from netmgr.settings import Environment, Settings
from netmgr.state import AppState
from tests.conftest import make_settings
from tests.factories import PASSWORD
from tests.netmgr.api.conftest import World
from tests.netmgr.web.helpers import csrf_from, login

API = "/api/v1"
ATTACKER = ("203.0.113.66", 40000)
ADMIN_DESK = ("10.10.0.5", 50000)


@pytest.fixture
def app(settings: Settings, app_state: AppState) -> FastAPI:
    return create_app(settings, state=app_state)


@pytest.fixture
def attacker(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, client=ATTACKER) as c:
        yield c


@pytest.fixture
def desk(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, client=ADMIN_DESK) as c:
        yield c


def _wrong(client: TestClient, username: str) -> int:
    return client.post(f"{API}/auth/login", json={"username": username, "password": "tebak-tebak-123"}).status_code


def test_twenty_wrong_passwords_from_one_address_are_throttled_but_the_admin_signs_in_elsewhere(
    world: World, attacker: TestClient, desk: TestClient
) -> None:
    admin = world.usernames[Role.ADMIN]
    codes = [_wrong(attacker, admin) for _ in range(20)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429] * 10, codes
    refused = attacker.post(f"{API}/auth/login", json={"username": admin, "password": PASSWORD})
    assert refused.status_code == 429  # even the right password: this address waits
    assert 0 < int(refused.headers["Retry-After"]) <= 900
    assert "try again" in refused.json()["detail"]

    signed_in = desk.post(f"{API}/auth/login", json={"username": admin, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text


def test_throttled_login_page_answers_429_in_indonesian_with_retry_after(world: World, attacker: TestClient) -> None:
    admin = world.usernames[Role.ADMIN]
    statuses = [login(attacker, admin, password="tebak-tebak-123").status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    page = attacker.get("/login")
    response = attacker.post("/login", data={"username": admin, "password": PASSWORD, "next": "/",
                                             "csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "Terlalu banyak percobaan masuk yang gagal" in response.text


def test_one_address_spraying_many_user_names_is_throttled(world: World, attacker: TestClient,
                                                           desk: TestClient) -> None:
    codes = [_wrong(attacker, f"tamu{i}") for i in range(31)]
    assert codes[:30] == [401] * 30 and codes[30] == 429, codes
    assert _wrong(attacker, world.usernames[Role.OPERATOR]) == 429
    assert desk.post(f"{API}/auth/login", json={"username": world.usernames[Role.OPERATOR],
                                                "password": PASSWORD}).status_code == 200


def test_an_account_under_attack_from_many_addresses_slows_down_but_not_for_its_known_address(
    world: World, app: FastAPI, desk: TestClient
) -> None:
    admin = world.usernames[Role.ADMIN]
    assert desk.post(f"{API}/auth/login", json={"username": admin, "password": PASSWORD}).status_code == 200
    for n in range(2):  # 20 failures from two addresses: the account is under pressure
        with TestClient(app, client=(f"198.51.100.{n + 1}", 40000)) as bot:
            assert [_wrong(bot, admin) for _ in range(10)] == [401] * 10
    with TestClient(app, client=("192.0.2.77", 40000)) as fresh:
        slowed = fresh.post(f"{API}/auth/login", json={"username": admin, "password": PASSWORD})
        assert slowed.status_code == 429 and 0 < int(slowed.headers["Retry-After"]) <= 5
    signed_in = desk.post(f"{API}/auth/login", json={"username": admin, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text  # the desk it signed in from before is never slowed


def test_throttle_refuses_before_hashing_and_unknown_users_cost_one_dummy_hash(
    world: World, attacker: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    verified: list[str] = []
    real_verify = passwords.PasswordHasher.verify

    def counting_verify(self: passwords.PasswordHasher, hash: str, password: str) -> bool:
        verified.append(hash)
        return real_verify(self, hash, password)

    monkeypatch.setattr(passwords.PasswordHasher, "verify", counting_verify)
    for _ in range(10):
        assert _wrong(attacker, "tidak-ada") == 401
    assert len(verified) == 10 and len(set(verified)) == 1  # one constant dummy hash, once per unknown name
    verified.clear()
    for _ in range(5):
        assert _wrong(attacker, "tidak-ada") == 429
    assert _wrong(attacker, world.usernames[Role.ADMIN]) == 401
    assert len(verified) == 1  # refused attempts hash nothing


def test_a_cookie_stops_working_after_logout(client: TestClient, world: World) -> None:
    body = client.post(f"{API}/auth/login", json={"username": world.usernames[Role.ADMIN], "password": PASSWORD})
    csrf = body.json()["csrf_token"]
    stolen = client.cookies["netmgr_session"]
    assert client.post(f"{API}/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.set("netmgr_session", stolen)  # a copy kept from before the sign-out
    assert client.get(f"{API}/auth/me").status_code == 401
    assert client.get("/devices", follow_redirects=False).status_code == 303  # the admin UI too


def test_a_page_cookie_stops_working_after_logout_and_after_a_password_reset(
    client: TestClient, world: World, session: Session
) -> None:
    assert login(client, world.usernames[Role.OPERATOR]).status_code == 303
    stolen = client.cookies["netmgr_session"]
    assert client.get("/devices").status_code == 200
    csrf = csrf_from(client.get("/devices").text)
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    client.cookies.set("netmgr_session", stolen)
    assert client.get("/devices", follow_redirects=False).status_code == 303
    assert client.get(f"{API}/auth/me").status_code == 401

    assert login(client, world.usernames[Role.OPERATOR]).status_code == 303
    assert client.get(f"{API}/auth/me").status_code == 200
    reset = client.post(f"{API}/users/{world.user_ids[Role.OPERATOR]}/password",
                        json={"password": "kata-sandi-baru-2026"}, headers=world.headers(Role.ADMIN))
    assert reset.status_code == 204, reset.text
    assert client.get(f"{API}/auth/me").status_code == 401


def _in(environment: Environment, tmp_path: Path, **overrides: object) -> Settings:
    return make_settings(tmp_path, **overrides).model_copy(update={"environment": environment})


def test_session_cookie_is_secure_by_default_in_production_and_not_in_development(tmp_path: Path) -> None:
    production = _in(Environment.PRODUCTION, tmp_path)
    assert production.cookie_secure
    assert not production.portal_cookie_secure  # citizens reach the portal over plain http
    assert not _in(Environment.DEVELOPMENT, tmp_path).cookie_secure
    assert _in(Environment.DEVELOPMENT, tmp_path, public_url="https://netmgr.kotimkab.go.id").cookie_secure
    assert not _in(Environment.PRODUCTION, tmp_path, session_cookie_secure=False).cookie_secure


def test_sign_in_cookie_carries_secure_when_configured(world: World, settings: Settings, app_state: AppState) -> None:
    app = create_app(settings.model_copy(update={"session_cookie_secure": True}), state=app_state)
    with TestClient(app, base_url="https://testserver") as c:
        response = c.post(f"{API}/auth/login", json={"username": world.usernames[Role.ADMIN], "password": PASSWORD})
        assert response.status_code == 200
        assert "secure" in response.headers["set-cookie"].lower()


@pytest.mark.parametrize("path", ["/login", "/devices", f"{API}/auth/me", "/api/openapi.json", "/static/nope.css"])
def test_admin_answers_forbid_framing_and_sniffing(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_portal_pages_keep_their_own_framing_rules(client: TestClient) -> None:
    response = client.get("/portal/", follow_redirects=False)
    assert "X-Frame-Options" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"
