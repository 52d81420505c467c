"""User administration and the audit log over HTTP (admins only)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from netmgr.models.enums import Role
from tests.netmgr.api.conftest import World

API = "/api/v1"


def test_admin_creates_a_user_who_can_then_sign_in(client: TestClient, world: World) -> None:
    h = world.headers(Role.ADMIN)
    body = {"username": "kadis.disdik", "password": "Rahasia-Sekali-2025", "role": "agency_viewer",
            "full_name": "Kepala Dinas Pendidikan", "agency_id": world.own_agency}
    created = client.post(f"{API}/users", json=body, headers=h)
    assert created.status_code == 201, created.text
    assert created.json()["agency_id"] == world.own_agency and "Rahasia" not in created.text
    login = client.post(f"{API}/auth/login", json={"username": "kadis.disdik", "password": "Rahasia-Sekali-2025"})
    assert login.status_code == 200 and login.json()["user"]["role"] == "agency_viewer"
    duplicate = client.post(f"{API}/users", json=body, headers=h)
    assert duplicate.status_code == 409 and "kadis.disdik" in duplicate.json()["detail"]


def test_user_rules_are_422_naming_the_field(client: TestClient, world: World) -> None:
    h = world.headers(Role.ADMIN)
    short = client.post(f"{API}/users", json={"username": "pendek", "password": "abc", "role": "finance"}, headers=h)
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "password"
    no_agency = client.post(f"{API}/users", json={"username": "viewer2", "password": "long-enough-pw",
                                                  "role": "agency_viewer"}, headers=h)
    assert no_agency.status_code == 422 and no_agency.json()["errors"][0]["field"] == "agency_id"


def test_admin_lists_and_searches_users(client: TestClient, world: World) -> None:
    h = world.headers(Role.ADMIN)
    everyone = client.get(f"{API}/users", headers=h).json()
    names = sorted(world.usernames.values())  # one user per role
    assert everyone["total"] == len(names) == len(Role) and [u["username"] for u in everyone["items"]] == names
    assert "password" not in str(everyone)
    assert [u["username"] for u in client.get(f"{API}/users", params={"role": "finance"}, headers=h)
            .json()["items"]] == ["u-finance"]
    assert client.get(f"{API}/users", params={"q": "oper"}, headers=h).json()["total"] == 1
    assert [u["username"] for u in client.get(f"{API}/users", params={"limit": 2, "offset": 3}, headers=h)
            .json()["items"]] == names[3:5]


def test_admin_changes_role_and_the_new_role_applies_at_once(client: TestClient, world: World) -> None:
    h = world.headers(Role.ADMIN)
    finance = world.headers(Role.FINANCE)
    site = {"name": "Pasar Mentaya", "kind": "public_hotspot"}
    assert client.post(f"{API}/sites", json=site, headers=finance).status_code == 403
    changed = client.patch(f"{API}/users/{world.user_ids[Role.FINANCE]}", json={"role": "operator"}, headers=h)
    assert changed.status_code == 200 and changed.json()["role"] == "operator"
    assert client.post(f"{API}/sites", json=site, headers=finance).status_code == 201
    to_viewer = client.patch(f"{API}/users/{world.user_ids[Role.FINANCE]}", json={"role": "agency_viewer"},
                             headers=h)
    assert to_viewer.status_code == 422 and to_viewer.json()["errors"][0]["field"] == "agency_id"


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(client: TestClient, world: World) -> None:
    h = world.headers(Role.ADMIN)
    me = world.user_ids[Role.ADMIN]
    for change in ({"role": "operator"}, {"is_active": False}):
        response = client.patch(f"{API}/users/{me}", json=change, headers=h)
        assert response.status_code == 409 and "last active admin" in response.json()["detail"]
    assert client.get(f"{API}/auth/me", headers=h).json()["user"]["role"] == "admin"
    client.patch(f"{API}/users/{world.user_ids[Role.OPERATOR]}", json={"role": "admin"}, headers=h)
    assert client.patch(f"{API}/users/{me}", json={"role": "operator"}, headers=h).status_code == 200


def test_admin_resets_a_password(client: TestClient, world: World) -> None:
    response = client.post(f"{API}/users/{world.user_ids[Role.OPERATOR]}/password",
                           json={"password": "Kata-Sandi-Baru-99"}, headers=world.headers(Role.ADMIN))
    assert response.status_code == 204
    old = client.post(f"{API}/auth/login", json={"username": "u-operator", "password": "correct-horse-battery"})
    assert old.status_code == 401
    new = client.post(f"{API}/auth/login", json={"username": "u-operator", "password": "Kata-Sandi-Baru-99"})
    assert new.status_code == 200


def test_audit_log_lists_changes_newest_first_with_filters(client: TestClient, world: World) -> None:
    ops, h = world.headers(Role.OPERATOR), world.headers(Role.ADMIN)
    client.post(f"{API}/sites", json={"name": "Taman Kota Sampit", "kind": "public_hotspot"}, headers=ops)
    client.patch(f"{API}/devices/{world.own_device}", json={"notes": "pindah ke lantai 2"}, headers=ops)
    mine = client.get(f"{API}/audit", params={"username": "u-operator"}, headers=h).json()
    assert [(e["action"], e["entity_type"]) for e in mine["items"]] == [
        ("update", "device"), ("create", "site"), ("create", "api_token")]  # the token from the fixture
    assert mine["items"][0]["after"]["notes"] == "pindah ke lantai 2"
    sites_only = client.get(f"{API}/audit", params={"entity_type": "site"}, headers=h).json()
    assert {e["entity_type"] for e in sites_only["items"]} == {"site"} and sites_only["total"] == 3
    found = client.get(f"{API}/audit", params={"q": "Taman Kota"}, headers=h).json()
    assert found["total"] == 1 and found["items"][0]["summary"] == "created site Taman Kota Sampit"
    entry = found["items"][0]
    assert (entry["message"], entry["params"]) == ("site.created", {"name": "Taman Kota Sampit"})
    worded = client.get(f"{API}/audit", params={"q": "Taman Kota"}, headers={**h, "Accept-Language": "id"}).json()
    assert worded["items"][0]["summary"] == "membuat lokasi Taman Kota Sampit"
    paged = client.get(f"{API}/audit", params={"limit": 1, "offset": 1, "username": "u-operator"}, headers=h).json()
    assert paged["total"] == 3 and paged["items"][0]["entity_type"] == "site"
