"""Admin UI pages: role enforcement, forms with field errors, secrets, language, import, audit and users."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.models import Device, Site, User
from netmgr.models.enums import DeviceStatus, Role
from tests import factories
from tests.netmgr.web.helpers import login, signed_in_csrf

READ_PAGES = ["/", "/agencies", "/sites", "/devices", "/uplinks", "/devices?status=down&page=2", "/sites?kind=office"]
WRITE_PAGES = ["/import", "/devices/new", "/sites/new", "/agencies/new", "/uplinks/new"]
ADMIN_PAGES = ["/audit", "/users", "/users/new"]


def _inventory(session: Session) -> dict[str, int]:
    agency = factories.agency(session, code="DISKOMINFO", name="Dinas Komunikasi dan Informatika")
    other = factories.agency(session, code="DISDIK", name="Dinas Pendidikan")
    site = factories.site(session, agency_id=agency.id, name="Kantor Diskominfo")
    other_site = factories.site(session, agency_id=other.id, name="SMPN 1 Sampit")
    device = factories.device(session, site_id=site.id, name="core-diskominfo")
    other_device = factories.device(session, site_id=other_site.id, name="ap-smpn1")
    uplink = factories.uplink(session, name="telkom-astinet")
    return {"agency": agency.id, "other_agency": other.id, "site": site.id, "other_site": other_site.id,
            "device": device.id, "other_device": other_device.id, "uplink": uplink.id}


def _detail_pages(ids: dict[str, int]) -> list[str]:
    return [f"/agencies/{ids['agency']}", f"/sites/{ids['site']}", f"/devices/{ids['device']}"]


@pytest.mark.parametrize(("role", "can_write", "is_admin"), [
    (Role.ADMIN, True, True), (Role.OPERATOR, True, False), (Role.FINANCE, False, False),
])
def test_pages_render_or_refuse_by_role(client: TestClient, session: Session, role: Role, can_write: bool,
                                        is_admin: bool) -> None:
    ids = _inventory(session)
    factories.user(session, username="someone", role=role)
    login(client, "someone")
    for path in [*READ_PAGES, *_detail_pages(ids), f"/uplinks/{ids['uplink']}"]:
        assert client.get(path).status_code == 200, path
    for path in [*WRITE_PAGES, f"/devices/{ids['device']}/edit", f"/sites/{ids['site']}/delete"]:
        assert client.get(path).status_code == (200 if can_write else 403), path
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == (200 if is_admin else 403), path
    nav = client.get("/").text
    assert ('href="/users"' in nav) == is_admin
    assert ('href="/import"' in nav) == can_write


def test_agency_viewer_sees_only_its_agency_and_gets_404_for_others(client: TestClient, session: Session) -> None:
    ids = _inventory(session)
    factories.user(session, username="viewer", role=Role.AGENCY_VIEWER, agency_id=ids["agency"])
    login(client, "viewer")
    for path in [*READ_PAGES, *_detail_pages(ids)]:
        assert client.get(path).status_code == 200, path
    devices_page = client.get("/devices").text
    assert "core-diskominfo" in devices_page and "ap-smpn1" not in devices_page
    for path in (f"/devices/{ids['other_device']}", f"/sites/{ids['other_site']}", f"/agencies/{ids['other_agency']}",
                 f"/uplinks/{ids['uplink']}"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "Tidak ditemukan" in r.text
    r = client.get("/import")
    assert r.status_code == 403 and "Tidak diizinkan" in r.text


def test_write_buttons_are_hidden_from_read_only_roles(client: TestClient, session: Session) -> None:
    ids = _inventory(session)
    factories.user(session, username="fin", role=Role.FINANCE)
    login(client, "fin")
    detail = client.get(f"/devices/{ids['device']}").text
    assert f"/devices/{ids['device']}/edit" not in detail and f"/devices/{ids['device']}/delete" not in detail
    assert 'href="/devices/new"' not in client.get("/devices").text


def test_forbidden_page_is_shown_in_english_after_switching(client: TestClient, session: Session) -> None:
    factories.user(session, username="fin", role=Role.FINANCE)
    login(client, "fin")
    r = client.get("/audit?lang=en")
    assert r.status_code == 403 and "Not allowed" in r.text


def test_language_switch_sticks_in_a_cookie_and_defaults_to_indonesian(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    login(client, "admin")
    page = client.get("/devices")
    assert '<html lang="id">' in page.text and "Perangkat" in page.text
    switched = client.get("/devices?lang=en")
    assert '<html lang="en">' in switched.text and "<h1>Devices</h1>" in switched.text
    assert client.cookies.get("netmgr_lang") == "en"
    assert "<h1>Sites</h1>" in client.get("/sites").text
    assert "<h1>Lokasi</h1>" in client.get("/sites?lang=id").text
    assert "<h1>Lokasi</h1>" in client.get("/sites").text


def test_users_language_is_used_when_no_choice_was_made(client: TestClient, session: Session) -> None:
    user = factories.user(session, username="engineer")
    user.language = "en"
    session.commit()
    login(client, "engineer")
    assert "<h1>Overview</h1>" in client.get("/").text


def test_site_form_shows_errors_next_to_fields_in_the_users_language(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    login(client, "admin")
    token = signed_in_csrf(client)
    r = client.post("/sites/new", data={"name": "", "kind": "office", "latitude": "utara", "csrf_token": token})
    assert r.status_code == 422
    name_field = re.search(r'<div class="field invalid">\s*<label for="f-name">.*?</div>', r.text, re.S)
    assert name_field and "Kolom ini wajib diisi." in name_field.group(0)
    lat_field = re.search(r'<label for="f-latitude">.*?</div>', r.text, re.S)
    assert lat_field and "Isi angka." in lat_field.group(0)
    r = client.post("/sites/new?lang=en", data={"name": "", "kind": "office", "csrf_token": token})
    assert "This field is required." in r.text
    assert session.scalar(select(Site)) is None


def test_duplicate_name_is_shown_at_the_name_field(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    factories.site(session, name="Taman Kota")
    login(client, "admin")
    r = client.post("/sites/new", data={"name": "Taman Kota", "kind": "public_hotspot",
                                        "csrf_token": signed_in_csrf(client)})
    assert r.status_code == 422
    field = re.search(r'<label for="f-name">.*?</div>', r.text, re.S)
    assert field and "Sudah dipakai oleh data lain." in field.group(0)


def test_create_edit_and_delete_a_site_through_the_forms(client: TestClient, session: Session) -> None:
    factories.user(session, username="ops", role=Role.OPERATOR)
    agency = factories.agency(session)
    login(client, "ops")
    token = signed_in_csrf(client)
    r = client.post("/sites/new", data={"name": "Taman Kota Sampit", "kind": "public_hotspot",
                                        "agency_id": str(agency.id), "latitude": "-2.5406", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    site = session.scalar(select(Site).where(Site.name == "Taman Kota Sampit"))
    assert site is not None and site.latitude == pytest.approx(-2.5406) and site.agency_id == agency.id
    assert "Tersimpan: Taman Kota Sampit" in client.get(r.headers["location"]).text
    r = client.post(f"/sites/{site.id}/edit", data={"name": "Taman Kota", "kind": "public_hotspot", "agency_id": "",
                                                     "latitude": "", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    session.expire_all()
    site = session.get(Site, site.id)
    assert site is not None and site.name == "Taman Kota" and site.agency_id is None and site.latitude is None
    site_id = site.id
    r = client.post(f"/sites/{site_id}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sites"
    session.expire_all()
    assert session.get(Site, site_id) is None


def test_deleting_a_site_with_devices_explains_why_not(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    site = factories.site(session)
    factories.device(session, site_id=site.id)
    login(client, "admin")
    r = client.post(f"/sites/{site.id}/delete", data={"csrf_token": signed_in_csrf(client)})
    assert r.status_code == 409 and "masih memiliki perangkat" in r.text


def test_device_secrets_are_never_prefilled_and_kept_when_left_empty(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    site = factories.site(session)
    device = factories.device(session, site_id=site.id, name="ap-taman-01")
    login(client, "admin")
    form = client.get(f"/devices/{device.id}/edit").text
    assert "s3cret" not in form and "gAAAA" not in form
    community = re.search(r'<input id="f-snmp_community"[^>]*>\s*<span class="stored">tersimpan</span>', form)
    assert community and 'value=""' in community.group(0)
    radius = re.search(r'<label for="f-radius_secret">.*?</div>', form, re.S)
    assert radius and 'class="stored"' not in radius.group(0)
    data = {"name": "ap-taman-01", "site_id": str(site.id), "role": "access_point", "platform": "mikrotik_routeros",
            "mgmt_address": device.mgmt_address, "snmp_version": "v2c", "snmp_community": "", "ssh_password": "",
            "notes": "moved to the fountain", "tags": "taman, outdoor", "csrf_token": signed_in_csrf(client)}
    r = client.post(f"/devices/{device.id}/edit", data=data, follow_redirects=False)
    assert r.status_code == 303
    session.expire_all()
    from netmgr.services import devices as devices_service

    stored = session.get(Device, device.id)
    assert stored is not None and stored.notes == "moved to the fountain"
    assert sorted(t.name for t in stored.tags) == ["outdoor", "taman"]
    assert devices_service.device_credentials(session, stored).snmp_community == "s3cret-community"
    assert "tersimpan" in client.get(f"/devices/{device.id}").text


def test_device_detail_lists_its_interfaces(client: TestClient, session: Session) -> None:
    from netmgr.models import Interface

    factories.user(session, username="admin")
    device = factories.device(session, site_id=factories.site(session).id)
    session.add(Interface(device_id=device.id, if_index=1, name="ether1", alias="ISP Telkom", speed_mbps=1000))
    session.commit()
    login(client, "admin")
    page = client.get(f"/devices/{device.id}").text
    assert "ether1" in page and "ISP Telkom" in page and "1.000" in page


def test_overview_counts_devices_by_status_and_lists_those_down(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    site = factories.site(session, name="Taman Kota")
    down = factories.device(session, site_id=site.id, name="ap-down")
    up = factories.device(session, site_id=site.id, name="ap-up")
    factories.device(session, site_id=site.id, name="ap-new")
    down.status, up.status = DeviceStatus.DOWN, DeviceStatus.UP
    session.commit()
    login(client, "admin")
    page = client.get("/").text
    assert re.search(r'id="count-up">1<', page) and re.search(r'id="count-down">1<', page)
    assert re.search(r'id="count-unknown">1<', page)
    table = page.split('id="devices-down"')[1].split("</table>")[0]
    assert "ap-down" in table and "ap-up" not in table


def test_uplink_prices_are_shown_in_rupiah(client: TestClient, session: Session) -> None:
    factories.user(session, username="fin", role=Role.FINANCE)
    factories.uplink(session, name="telkom-astinet", monthly_price_idr=27_500_000)
    login(client, "fin")
    page = client.get("/uplinks").text
    assert "Rp 27.500.000" in page and "Rp 30.525.000" in page
    assert "Rp 27,500,000" in client.get("/uplinks?lang=en").text


def test_search_and_pagination_of_devices(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    site = factories.site(session)
    for n in range(30):
        factories.device(session, site_id=site.id, name=f"ap-{n:02d}")
    factories.device(session, site_id=site.id, name="core-router")
    login(client, "admin")
    first = client.get("/devices").text
    assert "ap-00" in first and "ap-24" in first and "ap-25" not in first and "Halaman 1 dari 2" in first
    second = client.get("/devices?page=2").text
    assert "ap-25" in second and "ap-00" not in second
    found = client.get("/devices?q=core").text
    assert "core-router" in found and "ap-01" not in found


def test_import_dry_run_lists_bad_rows_then_applies_the_checked_file(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    factories.site(session, name="Taman Kota")
    login(client, "admin")
    token = signed_in_csrf(client)
    header = "name,site,role,platform,mgmt_address,snmp_community\n"
    bad = (header + "ap-1,Taman Kota,access_point,mikrotik_routeros,10.9.0.1,public\n"
           "ap-2,Nowhere,access_point,mikrotik_routeros,10.9.0.2,public\n")
    r = client.post("/import", data={"kind": "devices", "action": "check", "csrf_token": token},
                    files={"file": ("devices.csv", bad.encode(), "text/csv")})
    assert r.status_code == 422
    errors = r.text.split('id="import-errors"')[1].split("</table>")[0]
    assert re.search(r'<td class="num">3</td><td>site</td>', errors)
    good = bad.replace("Nowhere", "Taman Kota")
    r = client.post("/import", data={"kind": "devices", "action": "check", "csrf_token": token},
                    files={"file": ("devices.csv", good.encode(), "text/csv")})
    assert r.status_code == 200 and "Siap diimpor: 2 baris" in r.text
    assert session.scalar(select(Device).where(Device.name == "ap-1")) is None
    payload = re.search(r'name="payload" value="([^"]+)"', r.text)
    assert payload
    r = client.post("/import", data={"kind": "devices", "action": "apply", "filename": "devices.csv",
                                     "payload": payload.group(1), "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/devices"
    assert "ap-1" in client.get("/devices").text
    assert session.scalar(select(Device).where(Device.name == "ap-2")) is not None


def test_import_refuses_unknown_file_type(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    login(client, "admin")
    r = client.post("/import", data={"kind": "devices", "csrf_token": signed_in_csrf(client)},
                    files={"file": ("devices.xlsx", b"PK", "application/octet-stream")})
    assert r.status_code == 422 and ".csv, .yaml" in r.text


def test_audit_log_shows_changes_as_a_diff_newest_first(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    site = factories.site(session, name="Kantor Lama")
    login(client, "admin")
    client.post(f"/sites/{site.id}/edit", data={"name": "Kantor Baru", "kind": "office",
                                                "csrf_token": signed_in_csrf(client)})
    page = client.get("/audit?entity_type=site").text
    rows = page.split('id="audit"')[1]
    assert rows.index("mengubah lokasi Kantor Baru") < rows.index("membuat lokasi Kantor Lama")  # in Indonesian
    assert re.search(r"<td>name</td><td class=\"changed\">Kantor Lama</td><td class=\"changed\">Kantor Baru</td>", rows)
    assert "admin" in rows


def test_admin_creates_a_user_and_sees_field_errors(client: TestClient, session: Session) -> None:
    factories.user(session, username="admin")
    login(client, "admin")
    token = signed_in_csrf(client)
    r = client.post("/users/new", data={"username": "keuangan", "role": "finance", "password": "short",
                                        "language": "id", "csrf_token": token})
    assert r.status_code == 422 and "password" in r.text.lower()
    r = client.post("/users/new", data={"username": "keuangan", "full_name": "Staf Keuangan", "role": "finance",
                                        "password": "long-enough-password", "language": "id", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "Staf Keuangan" in client.get("/users").text
    assert session.scalar(select(User).where(User.username == "keuangan")) is not None


def test_a_nul_character_in_a_form_gets_a_page_that_says_so_not_a_server_error(client: TestClient,
                                                                                session: Session) -> None:
    """PostgreSQL cannot store a NUL character (pasted from another program); the form's answer says what to do.
    SQLite stores it, as the API does there."""
    factories.user(session, username="ops", role=Role.OPERATOR)
    login(client, "ops")
    token = signed_in_csrf(client)
    r = client.post("/sites/new", data={"name": "Taman\x00Kota", "kind": "public_hotspot", "csrf_token": token},
                    follow_redirects=False)
    if session.get_bind().dialect.name == "sqlite":
        assert r.status_code == 303
        return
    assert r.status_code == 422
    assert "karakter" in r.text and "Traceback" not in r.text
