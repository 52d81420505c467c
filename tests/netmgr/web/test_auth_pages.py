"""Sign-in, sign-out, CSRF and redirects of the admin UI."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.models import AuditLog, Site
from netmgr.web.context import safe_next
from tests import factories
from tests.netmgr.web.helpers import csrf_from, login, signed_in_csrf


def test_signed_out_page_redirects_to_login_and_back_after_sign_in(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    r = client.get("/devices?status=down", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fdevices%3Fstatus%3Ddown"
    r = login(client, "admin", next_path="/devices?status=down")
    assert r.status_code == 303 and r.headers["location"] == "/devices?status=down"
    assert client.get("/devices").status_code == 200


@pytest.mark.parametrize("evil", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
                                  "http:/evil.example", "\\\\evil.example"])
def test_login_never_redirects_off_site(client: TestClient, session: Session, evil: str) -> None:
    factories.user(session, username="admin")
    r = login(client, "admin", next_path=evil)
    assert r.status_code == 303
    assert r.headers["location"] == "/"


def test_safe_next_keeps_only_same_site_paths() -> None:
    assert safe_next("/sites/3?tab=devices") == "/sites/3?tab=devices"
    for evil in ("//evil.example", "https://evil.example", "/\\evil", "evil", "", None, "/a\nb"):
        assert safe_next(evil) == "/"


def test_wrong_password_shows_error_in_indonesian_and_is_audited(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    r = login(client, "admin", password="wrong-password-123")
    assert r.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in r.text
    assert session.scalar(select(AuditLog).where(AuditLog.action == "login_failed")) is not None
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_post_without_csrf_token_is_rejected(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    client.get("/login")
    r = client.post("/login", data={"username": "admin", "password": factories.PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    assert "Formulir kedaluwarsa" in r.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_form_post_with_wrong_csrf_token_changes_nothing(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    login(client, "admin")
    r = client.post("/sites/new", data={"name": "Taman Kota", "kind": "public_hotspot", "csrf_token": "forged"})
    assert r.status_code == 403
    assert session.scalar(select(Site).where(Site.name == "Taman Kota")) is None


def test_htmx_request_may_send_csrf_token_as_header(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    login(client, "admin")
    token = signed_in_csrf(client)
    r = client.post("/sites/new", data={"name": "Taman Kota", "kind": "public_hotspot"},
                    headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/sites/")
    assert session.scalar(select(Site).where(Site.name == "Taman Kota")) is not None


def test_logout_needs_csrf_and_ends_the_session(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    login(client, "admin")
    assert client.post("/logout", data={}, follow_redirects=False).status_code == 403
    r = client.post("/logout", data={"csrf_token": signed_in_csrf(client)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_signed_in_user_visiting_login_goes_to_next(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    login(client, "admin")
    r = client.get("/login?next=/sites", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sites"
    assert csrf_from(client.get("/sites").text)
