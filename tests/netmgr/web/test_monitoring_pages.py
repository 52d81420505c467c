"""Monitoring pages: status map, alerts with acknowledge, and SVG traffic charts drawn from a real influxd."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.metrics import MetricsStore, Point, make_metrics_store
from netmgr.models import Alert, DeviceEvent, Interface, Site
from netmgr.models.alerts import AlertKind, AlertSeverity, AlertState, SubjectType
from netmgr.models.base import utcnow
from netmgr.models.enums import Role
from tests import factories
from tests.conftest import make_settings
from tests.netmgr.web.helpers import login, signed_in_csrf
from tests.servers.influx import InfluxServer, influx_server


def _world(session: Session) -> dict[str, int]:
    own = factories.agency(session, code="DISKOMINFO", name="Dinas Komunikasi dan Informatika")
    other = factories.agency(session, code="DISDIK", name="Dinas Pendidikan")
    site = factories.site(session, agency_id=own.id, name="Taman Kota Sampit")
    other_site = factories.site(session, agency_id=other.id, name="SMPN 1 Sampit")
    site_row = session.get(Site, site.id)
    assert site_row is not None
    site_row.latitude, site_row.longitude = -2.5384, 112.9497
    ap = factories.device(session, site_id=site.id, name="ap-taman-kota-01")
    other_ap = factories.device(session, site_id=other_site.id, name="ap-smpn1")
    ap.status = "down"
    ids = {"own_agency": own.id, "site": site.id, "device": ap.id, "other_device": other_ap.id}
    for name, device, s, agency in (("ap-taman-kota-01", ap, site, own), ("ap-smpn1", other_ap, other_site, other)):
        alert = Alert(kind=AlertKind.DEVICE_DOWN, severity=AlertSeverity.CRITICAL, state=AlertState.OPEN,
                      subject_type=SubjectType.DEVICE, subject_id=device.id, subject_name=name, agency_id=agency.id,
                      site_id=s.id, device_id=device.id, ack_note="",
                      message=f"🔴 PERANGKAT MATI: {name} tidak merespons sejak 14:05 WIB")
        session.add(alert)
        session.flush()
        ids[f"alert_{name}"] = alert.id
    session.commit()
    return ids


@pytest.mark.parametrize(("role", "can_ack"), [(Role.ADMIN, True), (Role.OPERATOR, True), (Role.FINANCE, False)])
def test_monitoring_pages_render_for_staff_and_only_writers_may_acknowledge(
        client: TestClient, session: Session, role: Role, can_ack: bool) -> None:
    ids = _world(session)
    factories.user(session, username="someone", role=role)
    login(client, "someone")
    home = client.get("/").text
    assert 'href="/monitoring"' in home and 'href="/alerts"' in home
    status = client.get("/monitoring")
    assert status.status_code == 200
    assert 'data-health="down"' in status.text and "-2.53840, 112.94970" in status.text
    assert 'class="site-dot down"' in status.text  # the site is on the map
    alerts = client.get("/alerts").text
    assert "ap-taman-kota-01" in alerts and "ap-smpn1" in alerts
    assert ("Acknowledge" in alerts or "Tandai ditangani" in alerts) == can_ack
    assert client.get(f"/devices/{ids['device']}/traffic").status_code == 200
    response = client.post(f"/alerts/{ids['alert_ap-smpn1']}/acknowledge",
                           data={"csrf_token": signed_in_csrf(client), "note": "dicek"}, follow_redirects=False)
    assert response.status_code == (303 if can_ack else 403)
    with session.begin():
        alert = session.get(Alert, ids["alert_ap-smpn1"])
        assert alert is not None
        session.refresh(alert)
        assert (alert.state == AlertState.ACKNOWLEDGED) == can_ack


def test_agency_viewer_sees_only_its_agencys_sites_alerts_and_charts(client: TestClient, session: Session) -> None:
    ids = _world(session)
    factories.user(session, username="viewer", role=Role.AGENCY_VIEWER, agency_id=ids["own_agency"])
    login(client, "viewer")
    status = client.get("/monitoring").text
    assert "Taman Kota Sampit" in status and "SMPN 1 Sampit" not in status
    alerts = client.get("/alerts").text
    assert "ap-taman-kota-01" in alerts and "ap-smpn1" not in alerts
    assert "<form method=\"post\" action=\"/alerts/" not in alerts
    assert client.get(f"/devices/{ids['device']}/traffic").status_code == 200
    assert client.get(f"/devices/{ids['other_device']}/traffic").status_code == 404
    refused = client.post(f"/alerts/{ids['alert_ap-taman-kota-01']}/acknowledge",
                          data={"csrf_token": signed_in_csrf(client)}, follow_redirects=False)
    assert refused.status_code == 403


def test_acknowledge_without_the_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    ids = _world(session)
    factories.user(session, username="ops", role=Role.OPERATOR)
    login(client, "ops")
    assert client.post(f"/alerts/{ids['alert_ap-smpn1']}/acknowledge", data={}).status_code == 403


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer]:
    with influx_server() as server:
        yield server


def test_device_page_charts_real_traffic_from_influxdb_as_inline_svg(
        client: TestClient, session: Session, influx: InfluxServer, tmp_path: Path) -> None:
    ids = _world(session)
    database = f"t_{uuid.uuid4().hex[:10]}"
    influx.create_database(database)
    store = make_metrics_store(make_settings(tmp_path, influx={"url": influx.url, "api": "v1", "database": database,
                                                               "spool_dir": tmp_path / "spool"}))
    now = utcnow()
    store.write([Point("interface_traffic", {"device": "ap-taman-kota-01", "interface": "wlan1"},
                       {"in_bps": 80e6, "out_bps": 20e6}, int((now - timedelta(minutes=m)).timestamp()) * 10**9)
                 for m in range(1, 120)])
    store.flush()
    client.app.state.netmgr_metrics = store  # type: ignore[attr-defined]
    factories.user(session, username="fin", role=Role.FINANCE)
    login(client, "fin")

    detail = client.get(f"/devices/{ids['device']}").text
    assert f'hx-get="/devices/{ids["device"]}/traffic?range=24h"' in detail
    try:
        fragment = client.get(f"/devices/{ids['device']}/traffic?range=6h", headers={"HX-Request": "true"}).text
        week = client.get(f"/devices/{ids['device']}/traffic?range=7d").text
    finally:
        store.close()
    assert "<html" not in fragment and "wlan1" in fragment
    assert fragment.count("<svg") == 1 and "100 Mbps" in fragment  # axis top above the 80 Mbps peak
    (inbound,) = re.findall(r'class="series in" points="([^"]+)"', fragment)
    (outbound,) = re.findall(r'class="series out" points="([^"]+)"', fragment)
    # 80 of 100 Mbps sits 80 % up the 180-px plot (y 192 → 12): y = 48; 20 Mbps: y = 156
    assert {p.split(",")[1] for p in inbound.split()} == {"48.0"}
    assert {p.split(",")[1] for p in outbound.split()} == {"156.0"}
    assert len(inbound.split()) >= 55  # 2-minute buckets over the last ~2 hours
    assert "<html" in week and "series in" in week


def _store(influx: InfluxServer, tmp_path: Path) -> MetricsStore:
    database = f"t_{uuid.uuid4().hex[:10]}"
    influx.create_database(database)
    return make_metrics_store(make_settings(tmp_path, influx={"url": influx.url, "api": "v1", "database": database,
                                                              "spool_dir": tmp_path / "spool"}))


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 10**9


def test_device_health_fragment_charts_cpu_memory_sensors_clients_uptime_and_availability(
        client: TestClient, session: Session, influx: InfluxServer, tmp_path: Path) -> None:
    ids = _world(session)
    name = "ap-taman-kota-01"
    store = _store(influx, tmp_path)
    now = utcnow()
    points = []
    for m in range(1, 180):
        at = _ns(now - timedelta(minutes=m))
        tags = {"device": name}
        fields: dict[str, float | int] = {"cpu_load_pct": 40.0, "memory_used_pct": 60.0, "uptime_s": 86400 * 3}
        if m == 100:
            fields["reboot"] = 1
        points += [Point("device_health", tags, fields, at),
                   Point("device_sensor", {**tags, "kind": "temperature", "sensor": "board"}, {"value": 45.0}, at),
                   Point("wireless_clients", {**tags, "ssid": "TamanKota-Free", "radio": "wlan1", "index": "1"},
                         {"clients": 12}, at),
                   Point("wireless_clients", {**tags, "ssid": "Pemkot-Staff", "radio": "wlan2", "index": "2"},
                         {"clients": 3}, at),
                   Point("ping", {"kind": "device", "device": name}, {"up": 0 if m % 4 == 0 else 1}, at)]
    store.write(points)
    store.flush()
    # SNMP: up until 6 h ago, down for the last 6 h of the 24 h → 75 % available.
    session.add_all([DeviceEvent(device_id=ids["device"], at=now - timedelta(days=2), kind="up"),
                     DeviceEvent(device_id=ids["device"], at=now - timedelta(hours=6), kind="down")])
    session.commit()
    client.app.state.netmgr_metrics = store  # type: ignore[attr-defined]
    factories.user(session, username="noc", role=Role.ADMIN)
    login(client, "noc")
    detail = client.get(f"/devices/{ids['device']}").text
    assert f'hx-get="/devices/{ids["device"]}/health?range=24h"' in detail
    try:
        fragment = client.get(f"/devices/{ids['device']}/health?range=24h", headers={"HX-Request": "true"}).text
        page = client.get(f"/devices/{ids['device']}/health?range=6h").text
    finally:
        store.close()
    assert "<html" not in fragment and "<html" in page
    for key in ("cpu", "memory", "temperature", "clients", "uptime"):
        assert f'id="health-{key}"' in fragment, key
    assert 'id="health-voltage"' not in fragment  # no voltage sensor recorded: no empty chart
    assert "TamanKota-Free · wlan1" in fragment and "Pemkot-Staff · wlan2" in fragment
    availability = re.sub(r"\s+", " ", fragment.split('id="availability"')[1].split("</div>")[0])
    assert "75" in availability.split("SNMP")[1].split("</strong>")[0]
    ping_part = availability.split("(ping)")[1].split("</strong>")[0]  # 1 in 4 rounds unanswered
    assert re.search(r"7[45][.,]\d+", ping_part), ping_part
    assert re.search(r"<strong>1</strong>", availability)  # the one reboot


def test_interface_list_and_traffic_put_uplinks_first_with_error_charts(
        client: TestClient, session: Session, influx: InfluxServer, tmp_path: Path) -> None:
    ids = _world(session)
    session.add_all([Interface(device_id=ids["device"], if_index=1, name="ether1"),
                     Interface(device_id=ids["device"], if_index=9, name="sfp1")])
    session.commit()
    factories.uplink(session, name="Telkom Taman Kota", device_id=ids["device"], interface_name="sfp1")
    store = _store(influx, tmp_path)
    now = utcnow()
    store.write([Point("interface_traffic", {"device": "ap-taman-kota-01", "interface": iface},
                       {"in_bps": 5e6, "out_bps": 1e6, "in_errors": 2, "out_errors": 0, "in_discards": 1,
                        "out_discards": 0}, _ns(now - timedelta(minutes=m)))
                 for m in range(1, 60) for iface in ("ether1", "sfp1")])
    store.flush()
    client.app.state.netmgr_metrics = store  # type: ignore[attr-defined]
    factories.user(session, username="noc2", role=Role.ADMIN)
    login(client, "noc2")
    detail = client.get(f"/devices/{ids['device']}").text
    table = detail.split('id="interfaces"')[1]
    assert table.index("sfp1") < table.index("ether1") and "uplink" in table
    try:
        fragment = client.get(f"/devices/{ids['device']}/traffic?range=6h", headers={"HX-Request": "true"}).text
    finally:
        store.close()
    assert fragment.index("sfp1") < fragment.index("ether1")
    assert fragment.count("<svg") == 4  # traffic and errors/discards for each interface
    assert "series c2" in fragment and "series c4" in fragment


def test_an_alerts_reason_is_shown_in_the_readers_language_and_the_zones_clock(
        client: TestClient, session: Session) -> None:
    ids = _world(session)
    alert = session.get(Alert, ids["alert_ap-taman-kota-01"])
    assert alert is not None
    alert.reason = [{"check": "ping", "address": "10.2.3.4", "sent": 3, "received": 0,
                     "at": "2026-03-02T07:02:00+00:00"},
                    {"check": "snmp", "error": "no answer from 10.2.3.4:161 after 3 tries",
                     "at": "2026-03-02T07:02:30+00:00"}]
    session.commit()
    factories.user(session, username="ops", role=Role.OPERATOR)
    login(client, "ops")
    english = client.get("/alerts?lang=en").text
    assert ("ping 0/3 replies from 10.2.3.4 at 14:02 WIB; SNMP: no answer from 10.2.3.4:161 after 3 tries at "
            "14:02 WIB") in english
    indonesian = client.get("/alerts?lang=id").text
    assert "ping 0/3 balasan dari 10.2.3.4 pukul 14:02 WIB" in indonesian
    assert indonesian.count('class="alert-reason"') == 1  # the other alert has no stored reason
    api = client.get(f"/api/v1/alerts/{ids['alert_ap-taman-kota-01']}")
    assert api.status_code == 200 and api.json()["reason"][0]["address"] == "10.2.3.4"


def test_noc_wall_screen_puts_down_sites_first_with_uplink_bars_from_influxdb(
        client: TestClient, session: Session, influx: InfluxServer, tmp_path: Path) -> None:
    ids = _world(session)
    for name in ("Alun-alun Sampit", "Kantor Bupati"):
        factories.site(session, name=name)
    factories.device(session, site_id=factories.site(session, name="Kantor Camat").id, name="sw-camat").status = "up"
    factories.uplink(session, name="Telkom Astinet 1", device_id=ids["device"], interface_name="ether1",
                     capacity_down_mbps=100, capacity_up_mbps=50)
    factories.uplink(session, name="Icon+ cadangan", capacity_down_mbps=200, capacity_up_mbps=200)
    session.commit()
    database = f"t_{uuid.uuid4().hex[:10]}"
    influx.create_database(database)
    store = make_metrics_store(make_settings(tmp_path, influx={"url": influx.url, "api": "v1", "database": database,
                                                               "spool_dir": tmp_path / "spool"}))
    now = utcnow()
    store.write([Point("interface_traffic", {"device": "ap-taman-kota-01", "interface": "ether1"},
                       {"in_bps": in_bps, "out_bps": 10e6}, int((now - timedelta(minutes=m)).timestamp()) * 10**9)
                 for m, in_bps in ((30, 99e6), (3, 60e6), (1, 92e6))])
    store.flush()
    client.app.state.netmgr_metrics = store  # type: ignore[attr-defined]
    assert client.get("/monitoring/noc", follow_redirects=False).status_code in (302, 303)  # signed in only
    factories.user(session, username="ops", role=Role.OPERATOR)
    login(client, "ops")
    try:
        page = client.get("/monitoring/noc?lang=id")
        fragment = client.get("/monitoring/noc", headers={"HX-Request": "true"}).text
    finally:
        store.close()
    assert page.status_code == 200 and "Pusat operasi jaringan" in page.text
    html = page.text
    assert 'hx-trigger="every 30s"' in html and '<meta http-equiv="refresh" content="30">' in html
    assert '<nav class="main"' not in html  # the wall screen is the whole screen
    trouble = html[html.index('id="noc-trouble"'):html.index('id="noc-rest"')]
    assert "Taman Kota Sampit" in trouble and "Kantor Camat" not in trouble  # down first, on its own
    rest = html[html.index('id="noc-rest"'):]
    assert rest.index("Kantor Camat") > 0 and 'class="noc-chip up"' in rest
    # the latest point of the last 10 minutes: 92 of 100 Mbps down, 10 of 50 Mbps up
    assert 'aria-valuenow="92.0"' in html and 'aria-valuenow="20.0"' in html and 'class="fill hot"' in html
    backup = html[html.index("Icon+ cadangan"):]
    assert "aria-valuenow" not in backup.split("</li>")[0]  # no port: no bar value, a dash
    assert "<html" not in fragment and fragment.lstrip().startswith("{#") is False and 'id="noc-board"' in fragment


def test_agency_viewer_noc_screen_shows_its_own_sites_and_no_uplink(client: TestClient, session: Session) -> None:
    ids = _world(session)
    factories.uplink(session, name="Telkom Astinet 1", device_id=ids["device"], interface_name="ether1")
    factories.user(session, username="viewer", role=Role.AGENCY_VIEWER, agency_id=ids["own_agency"])
    login(client, "viewer")
    html = client.get("/monitoring/noc").text
    assert "Taman Kota Sampit" in html and "SMPN 1 Sampit" not in html
    assert "Telkom Astinet 1" not in html and 'id="noc-uplinks"' not in html
