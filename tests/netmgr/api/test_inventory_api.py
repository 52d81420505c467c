"""Inventory over HTTP: create, read, change and delete each area; paging, filters, search; clear errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from netmgr.models.enums import Role
from tests.netmgr.api.conftest import World

API = "/api/v1"


def test_agency_crud_round_trip(client: TestClient, world: World) -> None:
    h = world.headers(Role.OPERATOR)
    created = client.post(f"{API}/agencies", json={"code": "BAPPEDA", "name": "Bappeda Kotim"}, headers=h)
    assert created.status_code == 201, created.text
    agency_id = created.json()["id"]
    assert client.get(f"{API}/agencies/{agency_id}", headers=h).json()["code"] == "BAPPEDA"
    changed = client.patch(f"{API}/agencies/{agency_id}", json={"contact_email": "it@bappeda.go.id"}, headers=h)
    assert changed.status_code == 200 and changed.json()["contact_email"] == "it@bappeda.go.id"
    assert changed.json()["name"] == "Bappeda Kotim"
    assert client.delete(f"{API}/agencies/{agency_id}", headers=h).status_code == 204
    assert client.get(f"{API}/agencies/{agency_id}", headers=h).status_code == 404


def test_site_crud_round_trip_with_device_counts(client: TestClient, world: World) -> None:
    h = world.headers(Role.ADMIN)
    body = {"name": "Taman Kota Sampit", "kind": "public_hotspot", "latitude": -2.53, "longitude": 112.95}
    created = client.post(f"{API}/sites", json=body, headers=h)
    assert created.status_code == 201, created.text
    site = created.json()
    assert site["device_count"] == 0 and site["agency_id"] is None
    own = client.get(f"{API}/sites/{world.own_site}", headers=h).json()
    assert own["device_count"] == 1 and own["devices_down"] == 0
    renamed = client.patch(f"{API}/sites/{site['id']}", json={"name": "Taman Kota"}, headers=h)
    assert renamed.json()["name"] == "Taman Kota" and renamed.json()["kind"] == "public_hotspot"
    assert client.delete(f"{API}/sites/{site['id']}", headers=h).status_code == 204
    refused = client.delete(f"{API}/sites/{world.own_site}", headers=h)
    assert refused.status_code == 409 and "still has devices" in refused.json()["detail"]


def test_device_crud_round_trip_and_interfaces(client: TestClient, world: World) -> None:
    h = world.headers(Role.OPERATOR)
    body = {"name": "gw-taman-kota", "site_id": world.own_site, "role": "hotspot_gateway",
            "platform": "mikrotik_routeros", "mgmt_address": "10.9.0.1", "snmp_community": "komunitas-rahasia",
            "tags": ["hotspot", "lantai-1"]}
    created = client.post(f"{API}/devices", json=body, headers=h)
    assert created.status_code == 201, created.text
    device = created.json()
    assert device["tags"] == ["hotspot", "lantai-1"] and device["has_snmp_community"] is True
    assert device["has_ssh_password"] is False and device["status"] == "unknown"
    changed = client.patch(f"{API}/devices/{device['id']}", json={"tags": ["hotspot"], "model": "hAP ax2"},
                           headers=h)
    assert changed.status_code == 200 and changed.json()["tags"] == ["hotspot"]
    assert client.get(f"{API}/devices/{device['id']}", headers=h).json()["model"] == "hAP ax2"

    ifaces = client.get(f"{API}/devices/{world.own_device}/interfaces", headers=h).json()
    assert ifaces["total"] == 1 and ifaces["items"][0]["name"] == "ether1"
    patched = client.patch(f"{API}/interfaces/{world.own_interface}",
                           json={"alias": "uplink ke Diskominfo", "agency_id": world.own_agency}, headers=h)
    assert patched.status_code == 200
    assert patched.json()["alias"] == "uplink ke Diskominfo" and patched.json()["agency_id"] == world.own_agency

    assert client.delete(f"{API}/devices/{device['id']}", headers=h).status_code == 204
    assert client.get(f"{API}/devices/{device['id']}", headers=h).status_code == 404


def test_uplink_crud_round_trip_prices_include_ppn(client: TestClient, world: World) -> None:
    h = world.headers(Role.ADMIN)
    body = {"name": "icon-plus-1", "isp_name": "Icon+", "capacity_down_mbps": 300, "capacity_up_mbps": 300,
            "monthly_price_idr": 10_000_000, "device_id": world.own_device, "interface_name": "ether1"}
    created = client.post(f"{API}/uplinks", json=body, headers=h)
    assert created.status_code == 201, created.text
    uplink = created.json()
    assert uplink["monthly_price_with_tax_idr"] == 11_100_000
    assert uplink["interface_id"] == world.own_interface
    changed = client.patch(f"{API}/uplinks/{uplink['id']}", json={"monthly_price_idr": 9_000_000}, headers=h)
    assert changed.json()["monthly_price_with_tax_idr"] == 9_990_000
    bad = client.patch(f"{API}/uplinks/{uplink['id']}", json={"billing_model": "per_gb"}, headers=h)
    assert bad.status_code == 422 and "price_per_gb_idr" in bad.json()["detail"]
    assert client.delete(f"{API}/uplinks/{uplink['id']}", headers=h).status_code == 204
    assert client.get(f"{API}/uplinks/{uplink['id']}", headers=h).status_code == 404


def test_naming_a_related_object_that_does_not_exist_is_a_422_that_names_the_field(
        client: TestClient, world: World) -> None:
    h = world.headers(Role.ADMIN)
    body = {"name": "icon-plus-2", "isp_name": "Icon+", "capacity_down_mbps": 100, "capacity_up_mbps": 100,
            "monthly_price_idr": 5_000_000, "device_id": world.own_device, "interface_name": "ether1"}
    uplink = client.post(f"{API}/uplinks", json=body, headers=h).json()
    missing = client.patch(f"{API}/uplinks/{uplink['id']}", json={"device_id": 987654}, headers=h)
    assert missing.status_code == 422, missing.text
    assert "987654" in str(missing.json()["detail"])
    created = client.post(f"{API}/uplinks", json={**body, "name": "icon-plus-3", "device_id": 987654}, headers=h)
    assert created.status_code == 422, created.text
    site = client.patch(f"{API}/devices/{world.own_device}", json={"site_id": 987654}, headers=h)
    assert site.status_code == 422, site.text


def _add_devices(client: TestClient, world: World, n: int) -> None:
    h = world.headers(Role.OPERATOR)
    for i in range(n):
        body = {"name": f"ap-taman-{i:02d}", "site_id": world.own_site if i % 2 else world.other_site,
                "role": "access_point", "platform": "ubiquiti_unifi" if i % 3 == 0 else "mikrotik_routeros",
                "mgmt_address": f"10.50.0.{i + 1}", "snmp_community": "public-x", "tags": ["ganjil"] if i % 2 else []}
        assert client.post(f"{API}/devices", json=body, headers=h).status_code == 201


def test_device_list_pages_filters_and_searches(client: TestClient, world: World) -> None:
    _add_devices(client, world, 12)  # plus the two from the fixture: 14 devices
    h = world.headers(Role.FINANCE)
    first = client.get(f"{API}/devices", params={"limit": 5}, headers=h).json()
    second = client.get(f"{API}/devices", params={"limit": 5, "offset": 5}, headers=h).json()
    assert first["total"] == second["total"] == 14 and len(first["items"]) == len(second["items"]) == 5
    names = [d["name"] for d in first["items"] + second["items"]]
    assert names == sorted(names) and len(set(names)) == 10

    def total(**params: object) -> int:
        response = client.get(f"{API}/devices", params=params, headers=h)
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    assert total(q="taman") == 12
    assert total(q="10.50.0.1") == 4  # .1, .10, .11, .12
    assert total(site_id=world.own_site) == 7
    assert total(agency_id=world.other_agency) == 7
    assert total(platform="ubiquiti_unifi") == 4
    assert total(role="access_point") == 14
    assert total(status="unknown") == 14 and total(status="down") == 0
    assert total(tag="ganjil") == 6
    assert total(tag="ganjil", platform="ubiquiti_unifi") == 2  # i = 3, 9


def test_site_and_agency_lists_filter_and_search(client: TestClient, world: World) -> None:
    h = world.headers(Role.ADMIN)
    client.post(f"{API}/sites", json={"name": "Alun-alun Sampit", "kind": "public_hotspot"}, headers=h)
    client.post(f"{API}/sites", json={"name": "Ruang Server Diskominfo", "kind": "pop"}, headers=h)

    def names(path: str, **params: object) -> list[str]:
        return [row["name"] for row in client.get(f"{API}/{path}", params=params, headers=h).json()["items"]]

    assert names("sites", kind="public_hotspot") == ["Alun-alun Sampit"]
    assert names("sites", agency_id=world.own_agency) == ["SMPN 1 Sampit"]
    assert names("sites", q="sampit") == ["Alun-alun Sampit", "SMPN 1 Sampit"]
    assert names("sites", limit=1, offset=1) == ["Puskesmas Baamang"]
    assert [a["code"] for a in client.get(f"{API}/agencies", params={"q": "dinkes"}, headers=h).json()["items"]] \
        == ["DINKES"]
    assert names("uplinks", q="telkom") == ["telkom-astinet-1"] and names("uplinks", q="biznet") == []


def test_duplicate_device_name_is_409_naming_the_name(client: TestClient, world: World) -> None:
    body = {"name": "ap-smpn1", "site_id": world.own_site, "role": "access_point", "platform": "mikrotik_routeros",
            "mgmt_address": "10.77.0.1", "snmp_community": "x-community"}
    response = client.post(f"{API}/devices", json=body, headers=world.headers(Role.ADMIN))
    assert response.status_code == 409
    assert response.json()["detail"] == "a device with name 'ap-smpn1' already exists"


def test_duplicate_management_address_is_409_naming_the_address(client: TestClient, world: World) -> None:
    body = {"name": "ap-baru", "site_id": world.own_site, "role": "access_point", "platform": "mikrotik_routeros",
            "mgmt_address": "10.1.0.1", "snmp_community": "x-community"}
    h = world.headers(Role.ADMIN)
    response = client.post(f"{API}/devices", json=body, headers=h)
    assert response.status_code == 409
    assert response.json()["detail"] == "a device with mgmt_address '10.1.0.1' already exists"
    moved = client.patch(f"{API}/devices/{world.other_device}", json={"mgmt_address": "10.1.0.1"}, headers=h)
    assert moved.status_code == 409 and "10.1.0.1" in moved.json()["detail"]


def test_invalid_fields_are_422_naming_each_field_and_problem(client: TestClient, world: World) -> None:
    body = {"name": "bad name!", "site_id": world.own_site, "role": "toaster", "platform": "mikrotik_routeros",
            "mgmt_address": "300.1.1.1"}
    response = client.post(f"{API}/devices", json=body, headers=world.headers(Role.ADMIN))
    assert response.status_code == 422
    problems = {p["field"]: p["problem"] for p in response.json()["errors"]}
    assert set(problems) == {"name", "role", "mgmt_address"}
    assert "letters, digits" in problems["name"]
    assert "core_router" in problems["role"]
    assert "'300.1.1.1' is not an IP address or host name" in problems["mgmt_address"]
    assert response.json()["detail"].startswith("invalid request: ")

    missing = client.post(f"{API}/sites", json={"kind": "office"}, headers=world.headers(Role.ADMIN))
    assert missing.json()["errors"] == [{"field": "name", "problem": "Field required"}]

    page = client.get(f"{API}/devices", params={"limit": 0}, headers=world.headers(Role.ADMIN))
    assert page.status_code == 422 and page.json()["errors"][0]["field"] == "limit"


def test_service_rule_violation_is_422_naming_the_field(client: TestClient, world: World) -> None:
    body = {"name": "ap-x", "site_id": 424242, "role": "access_point", "platform": "mikrotik_routeros",
            "mgmt_address": "10.88.0.1", "snmp_community": "x-community"}
    response = client.post(f"{API}/devices", json=body, headers=world.headers(Role.ADMIN))
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "site_id", "problem": "site 424242 does not exist"}]


def test_unknown_ids_are_404_with_a_message(client: TestClient, world: World) -> None:
    h = world.headers(Role.ADMIN)
    for path in ("agencies", "sites", "devices", "uplinks", "users"):
        response = client.get(f"{API}/{path}/424242", headers=h)
        assert response.status_code == 404, path
        assert response.json()["detail"].endswith("424242 does not exist")
    assert client.patch(f"{API}/interfaces/424242", json={}, headers=h).status_code == 404
    assert client.get(f"{API}/devices/424242/interfaces", headers=h).status_code == 404
