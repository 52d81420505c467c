"""Lists that scale: sorting, page sizes, filters kept in the URL, bulk actions and CSV exports — and attacks
on each (sort key injection, absurd sizes and pages, bulk actions by readers, another agency's rows in a CSV)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from netmgr.models import Alert, AuditLog, Device
from netmgr.models.alerts import AlertKind, AlertSeverity, AlertState, SubjectType
from netmgr.models.base import utcnow
from netmgr.models.enums import DeviceStatus, Role
from tests import factories
from tests.netmgr.web.helpers import login, signed_in_csrf


def _world(session: Session) -> dict[str, int]:
    own = factories.agency(session, code="DISKOMINFO", name="Dinas Komunikasi dan Informatika")
    other = factories.agency(session, code="DISDIK", name="Dinas Pendidikan")
    taman = factories.site(session, agency_id=own.id, name="Taman Kota Sampit")
    kantor = factories.site(session, agency_id=own.id, name="=HYPERLINK(\"http://x\")")
    sekolah = factories.site(session, agency_id=other.id, name="SMPN 1 Sampit")
    ids = {"own": own.id, "other": other.id}
    for name, site, address, status in (("ap-c", taman.id, "10.9.0.3", DeviceStatus.UP),
                                        ("ap-a", kantor.id, "10.9.0.1", DeviceStatus.DOWN),
                                        ("ap-b", taman.id, "10.9.0.2", DeviceStatus.UP),
                                        ("ap-sekolah", sekolah.id, "10.9.0.9", DeviceStatus.DOWN)):
        device = factories.device(session, site_id=site, name=name, mgmt_address=address, model="-cmd|' /C calc'!A0")
        device.status = status
        ids[name] = device.id
    session.commit()
    return ids


def _names(html: str) -> list[str]:
    return re.findall(r'<a href="/devices/\d+">([^<]+)</a>', html)


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_device_list_sorts_by_each_column_both_ways_with_a_stable_order(client: TestClient, session: Session) -> None:
    _world(session)
    factories.user(session, username="op", role=Role.OPERATOR)
    login(client, "op")
    assert _names(client.get("/devices").text) == ["ap-a", "ap-b", "ap-c", "ap-sekolah"]
    assert _names(client.get("/devices?sort=address&order=desc").text) == ["ap-sekolah", "ap-c", "ap-b", "ap-a"]
    # equal statuses keep their id order, the same on every request and page
    assert _names(client.get("/devices?sort=status").text) == ["ap-a", "ap-sekolah", "ap-c", "ap-b"]
    assert _names(client.get("/devices?sort=site").text)[0] == "ap-a"  # "=HYPERLINK…" sorts before letters
    for key in ("name", "status", "site", "role", "platform", "address", "last_seen"):
        for order in ("asc", "desc"):
            page = client.get(f"/devices?sort={key}&order={order}")
            assert page.status_code == 200 and len(_names(page.text)) == 4, (key, order)


def test_sorting_and_paging_keep_the_filters_in_the_url(client: TestClient, session: Session) -> None:
    _world(session)
    factories.user(session, username="op", role=Role.OPERATOR)
    login(client, "op")
    html = client.get("/devices?status=up&site_id=&q=ap&sort=name&order=asc&size=50").text
    assert _names(html) == ["ap-b", "ap-c"]
    sort_link = re.search(r'data-sort="address" href="([^"]+)"', html)
    assert sort_link and "status=up" in sort_link.group(1) and "q=ap" in sort_link.group(1)
    assert "sort=address" in sort_link.group(1) and "size=50" in sort_link.group(1)
    assert 'name="sort" value="name"' in html and 'name="size" value="50"' in html  # the filter form keeps them
    export = re.search(r'href="([^"]+)" id="export-csv"', html)
    assert export and export.group(1).startswith("/devices.csv?") and "status=up" in export.group(1)
    rows = _csv(client.get(export.group(1).replace("&amp;", "&")).text)
    assert [r[0] for r in rows[1:]] == ["ap-b", "ap-c"]
    other_page = re.search(r'href="([^"]+)" class="size">100<', html)
    assert other_page and "status=up" in other_page.group(1) and "sort=name" in other_page.group(1)


def test_a_sort_key_from_the_query_string_never_reaches_sql(client: TestClient, session: Session) -> None:
    _world(session)
    factories.user(session, username="op", role=Role.OPERATOR)
    login(client, "op")
    for attack in ("name;DROP TABLE devices--", "id desc", "snmp_community_encrypted", "(select 1)", "1"):
        page = client.get("/devices", params={"sort": attack, "order": "desc; --"})
        assert page.status_code == 200
        assert _names(page.text) == ["ap-a", "ap-b", "ap-c", "ap-sekolah"]
    assert session.scalar(select(func.count()).select_from(Device)) == 4


def test_an_absurd_page_size_or_page_number_answers_a_bounded_page(client: TestClient, session: Session) -> None:
    _world(session)
    factories.user(session, username="op", role=Role.OPERATOR)
    login(client, "op")
    huge = client.get("/devices?size=1000000000")
    assert huge.status_code == 200 and len(_names(huge.text)) == 4 and 'class="size-on">25<' in huge.text
    for page in ("-1", "0", "-99999999999999999999"):
        assert _names(client.get(f"/devices?page={page}").text) == ["ap-a", "ap-b", "ap-c", "ap-sekolah"], page
    far = client.get("/devices?page=99999999999999999999999&size=200")
    assert far.status_code == 200 and _names(far.text) == []
    for path in ("/sites", "/alerts", "/portal-admin/vouchers"):
        assert client.get(f"{path}?page=99999999999999999999999&size=1000000000&sort=x").status_code == 200, path


def test_bulk_tag_changes_the_ticked_devices_audits_each_and_returns_to_the_filtered_list(
        client: TestClient, session: Session) -> None:
    ids = _world(session)
    factories.user(session, username="op", role=Role.OPERATOR)
    login(client, "op")
    back = "/devices?status=up&sort=address"
    r = client.post("/devices/bulk", data={"csrf_token": signed_in_csrf(client), "action": "tag", "tag": "taman",
                                           "id": [str(ids["ap-b"]), str(ids["ap-c"]), "x", "-4"], "next": back},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == back
    assert _names(client.get("/devices?tag=taman").text) == ["ap-b", "ap-c"]
    audits = session.scalars(select(AuditLog).where(AuditLog.entity_type == "device", AuditLog.action == "update",
                                                    AuditLog.message == "device.tagged")).all()
    assert sorted(a.entity_id for a in audits) == sorted([str(ids["ap-b"]), str(ids["ap-c"])])
    assert all(a.actor == "op" for a in audits)
    r = client.post("/devices/bulk", data={"csrf_token": signed_in_csrf(client), "action": "untag", "tag": "taman",
                                           "id": [str(ids["ap-b"])], "next": "https://evil.example/devices"},
                    follow_redirects=False)
    assert r.headers["location"] == "/devices"  # never sent off-site
    assert _names(client.get("/devices?tag=taman").text) == ["ap-c"]


def test_bulk_actions_need_the_csrf_token(client: TestClient, session: Session) -> None:
    ids = _world(session)
    factories.user(session, username="op", role=Role.OPERATOR)
    login(client, "op")
    r = client.post("/devices/bulk", data={"action": "tag", "tag": "x", "id": [str(ids["ap-a"])]})
    assert r.status_code == 403
    r = client.post("/alerts/acknowledge", data={"id": ["1"], "csrf_token": "forged"})
    assert r.status_code == 403
    assert _names(client.get("/devices?tag=x").text) == []


@pytest.mark.parametrize("role", [Role.FINANCE, Role.AGENCY_VIEWER, Role.LEADERSHIP])
def test_a_reader_cannot_run_bulk_actions(client: TestClient, session: Session, role: Role) -> None:
    ids = _world(session)
    alert = _alert(session, ids["ap-a"], "ap-a", ids["own"])
    factories.user(session, username="reader", role=role,
                   agency_id=ids["own"] if role == Role.AGENCY_VIEWER else None)
    login(client, "reader")
    csrf = signed_in_csrf(client)
    assert 'action="/devices/bulk"' not in client.get("/devices").text
    r = client.post("/devices/bulk", data={"csrf_token": csrf, "action": "tag", "tag": "x", "id": [str(ids["ap-a"])]})
    assert r.status_code == 403
    r = client.post("/alerts/acknowledge", data={"csrf_token": csrf, "id": [str(alert)]})
    assert r.status_code == 403
    r = client.post("/portal-admin/vouchers/revoke", data={"csrf_token": csrf, "batch_id": ["1"], "confirmed": "1"})
    assert r.status_code == 403
    with session.begin():
        assert session.get(Alert, alert).state == AlertState.OPEN  # type: ignore[union-attr]
        changes = select(func.count()).select_from(AuditLog).where(AuditLog.actor == "reader",
                                                                   AuditLog.action != "login")
        assert session.scalar(changes) == 0


def test_an_agency_viewer_exports_only_its_agencys_devices_sites_and_alerts(client: TestClient,
                                                                           session: Session) -> None:
    ids = _world(session)
    _alert(session, ids["ap-a"], "ap-a", ids["own"])
    _alert(session, ids["ap-sekolah"], "ap-sekolah", ids["other"])
    factories.user(session, username="viewer", role=Role.AGENCY_VIEWER, agency_id=ids["own"])
    login(client, "viewer")
    devices = _csv(client.get("/devices.csv?sort=name").text)
    assert [r[0] for r in devices[1:]] == ["ap-a", "ap-b", "ap-c"]
    # asking for the other agency's site by filter still shows nothing of it
    assert _csv(client.get("/devices.csv?q=sekolah").text)[1:] == []
    sites = _csv(client.get("/sites.csv").text)
    assert "SMPN 1 Sampit" not in {r[0] for r in sites}
    alerts = _csv(client.get("/alerts.csv").text)
    assert [r[2] for r in alerts[1:]] == ["ap-a"]


def test_device_csv_has_indonesian_headers_no_secrets_and_no_formulas(client: TestClient, session: Session) -> None:
    _world(session)
    factories.user(session, username="admin", role=Role.ADMIN)
    login(client, "admin")
    response = client.get("/devices.csv?sort=name")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert "s3cret" not in response.text  # the factories' SNMP community and SSH password
    rows = _csv(response.text)
    assert rows[0][:6] == ["Nama", "Status", "Lokasi", "Peran", "Platform", "Alamat"]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Nama"] == "ap-a" and first["Lokasi"] == "'=HYPERLINK(\"http://x\")"
    assert first["Model"] == "'-cmd|' /C calc'!A0"
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), cell
    english = _csv(client.get("/devices.csv?lang=en").text)
    assert english[0][:3] == ["Name", "Status", "Site"]


def _alert(session: Session, device_id: int, name: str, agency_id: int, *, minutes_ago: int = 0,
           state: AlertState = AlertState.OPEN) -> int:
    alert = Alert(kind=AlertKind.DEVICE_DOWN, severity=AlertSeverity.CRITICAL, state=state,
                  subject_type=SubjectType.DEVICE, subject_id=device_id, subject_name=name, agency_id=agency_id,
                  device_id=device_id, ack_note="", message=f"PERANGKAT MATI: {name}",
                  opened_at=utcnow() - timedelta(minutes=minutes_ago))
    session.add(alert)
    session.commit()
    return alert.id


def test_alerts_sort_and_bulk_acknowledge_only_open_ones_audited(client: TestClient, session: Session) -> None:
    ids = _world(session)
    a = _alert(session, ids["ap-a"], "ap-a", ids["own"], minutes_ago=30)
    b = _alert(session, ids["ap-b"], "ap-b", ids["own"], minutes_ago=10)
    c = _alert(session, ids["ap-c"], "ap-c", ids["own"], minutes_ago=20, state=AlertState.RESOLVED)
    factories.user(session, username="op", role=Role.OPERATOR)
    login(client, "op")
    newest_first = client.get("/alerts?show=all").text
    assert re.findall(r'data-alert-id="(\d+)"', newest_first) == [str(b), str(c), str(a)]
    by_subject = client.get("/alerts?show=all&sort=subject&order=desc").text
    assert re.findall(r'data-alert-id="(\d+)"', by_subject) == [str(c), str(b), str(a)]
    r = client.post("/alerts/acknowledge", data={"csrf_token": signed_in_csrf(client), "note": "tim lapangan",
                                                 "id": [str(a), str(b), str(c)], "next": "/alerts?show=all"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/alerts?show=all"
    with session.begin():
        states = {i: session.get(Alert, i).state for i in (a, b, c)}  # type: ignore[union-attr]
        assert states == {a: AlertState.ACKNOWLEDGED, b: AlertState.ACKNOWLEDGED, c: AlertState.RESOLVED}
        acks = session.scalars(select(AuditLog.entity_id).where(AuditLog.action == "acknowledge")).all()
        assert sorted(acks) == sorted([str(a), str(b)])


def test_sites_sort_by_agency_and_export(client: TestClient, session: Session) -> None:
    _world(session)
    factories.site(session, name="Pos Tanpa Dinas")
    factories.user(session, username="op", role=Role.OPERATOR)
    login(client, "op")
    html = client.get("/sites?sort=agency&order=desc").text
    names = re.findall(r'<a href="/sites/\d+">([^<]+)</a>', html)
    assert names.index("SMPN 1 Sampit") < names.index("Taman Kota Sampit")  # Pendidikan before Komunikasi
    rows = _csv(client.get("/sites.csv?sort=name&kind=office").text)
    assert rows[0][:3] == ["Nama", "Jenis", "Instansi"]
    assert len(rows) == 5 and rows[1][0] == "'=HYPERLINK(\"http://x\")"
