"""Monitoring API: alert list scoping and the acknowledge lifecycle, device events, uplink SLA minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.metrics import make_metrics_store
from netmgr.models import Alert, AuditLog, Device, DeviceEvent, Uplink
from netmgr.models.alerts import AlertState
from netmgr.models.base import utcnow
from netmgr.models.enums import Role
from tests.conftest import make_settings
from tests.netmgr.api.conftest import World
from tests.servers.process import free_port

API = "/api/v1"
T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)


def test_alert_list_is_scoped_and_acknowledge_moves_open_to_acknowledged(client: TestClient, world: World,
                                                                         session: Session) -> None:
    admin, viewer, operator = (world.headers(r) for r in (Role.ADMIN, Role.AGENCY_VIEWER, Role.OPERATOR))
    assert client.get(f"{API}/alerts", params={"active": True}, headers=admin).json()["total"] == 2
    seen = client.get(f"{API}/alerts", headers=viewer).json()
    assert [a["id"] for a in seen["items"]] == [world.own_alert]
    assert client.get(f"{API}/alerts", params={"device_id": world.other_device}, headers=viewer).json()["total"] == 0

    acked = client.post(f"{API}/alerts/{world.own_alert}/acknowledge", json={"note": "teknisi berangkat"},
                        headers=operator).json()
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == "u-operator"
    assert acked["ack_note"] == "teknisi berangkat" and acked["acknowledged_at"]
    again = client.post(f"{API}/alerts/{world.own_alert}/acknowledge", json={}, headers=world.headers(Role.ADMIN))
    assert again.json()["acknowledged_by"] == "u-operator", "acknowledging twice keeps the first"
    assert client.get(f"{API}/alerts", params={"state": "open"}, headers=admin).json()["total"] == 1
    entry = session.scalars(select(AuditLog).where(AuditLog.entity_type == "alert")).one()
    assert entry.actor == "u-operator" and entry.action == "acknowledge"

    resolved = session.get(Alert, world.other_alert)
    assert resolved is not None
    resolved.state = AlertState.RESOLVED
    session.commit()
    refused = client.post(f"{API}/alerts/{world.other_alert}/acknowledge", json={}, headers=operator)
    assert refused.status_code == 422 and "already resolved" in refused.json()["detail"]
    denied = client.post(f"{API}/alerts/{world.own_alert}/acknowledge", json={}, headers=world.headers(Role.FINANCE))
    assert denied.status_code == 403 and "alerts.ack" in denied.json()["detail"]


def test_uplink_availability_counts_up_and_down_minutes_from_device_events(client: TestClient, world: World,
                                                                           session: Session) -> None:
    uplink = session.get(Uplink, world.uplink)
    assert uplink is not None
    uplink.device_id = world.own_device
    for at, kind in ((T0 - timedelta(hours=1), "up"), (T0 + timedelta(minutes=10), "down"),
                     (T0 + timedelta(minutes=40), "up")):
        session.add(DeviceEvent(device_id=world.own_device, at=at, kind=kind, detail=""))
    session.commit()
    body = client.get(f"{API}/uplinks/{world.uplink}/availability",
                      params={"start": T0.isoformat(), "end": (T0 + timedelta(hours=1)).isoformat()},
                      headers=world.headers(Role.FINANCE)).json()
    assert (body["minutes_up"], body["minutes_down"], body["minutes_unknown"], body["percent"]) == (30, 30, 0, 50)
    events = client.get(f"{API}/devices/{world.own_device}/events", headers=world.headers(Role.AGENCY_VIEWER)).json()
    assert [e["kind"] for e in events["items"]] == ["up", "down", "up"]


def test_site_status_and_traffic_without_influxdb_answer_with_the_reason(client: TestClient, world: World,
                                                                        session: Session, tmp_path: Path) -> None:
    away = make_settings(tmp_path, influx={"url": f"http://127.0.0.1:{free_port()}", "api": "v1", "timeout_ms": 500})
    client.app.state.netmgr_metrics = make_metrics_store(away)  # type: ignore[attr-defined]
    device = session.get(Device, world.own_device)
    assert device is not None
    device.status = "down"
    session.commit()
    sites = client.get(f"{API}/monitoring/sites", headers=world.headers(Role.AGENCY_VIEWER)).json()
    assert [(s["name"], s["health"], s["down"], s["alerts"]) for s in sites] == [("SMPN 1 Sampit", "down", 1, 1)]
    traffic = client.get(f"{API}/devices/{world.own_device}/traffic", params={"range": "6h"},
                         headers=world.headers(Role.ADMIN))
    assert traffic.status_code == 200
    assert traffic.json()["interfaces"] == [] and "InfluxDB" in traffic.json()["error"]
    assert client.get(f"{API}/devices/{world.own_device}/traffic", params={"range": "1y"},
                      headers=world.headers(Role.ADMIN)).status_code == 422


def test_device_health_without_influxdb_answers_with_the_reason_and_snmp_availability(
        client: TestClient, world: World, session: Session, tmp_path: Path) -> None:
    away = make_settings(tmp_path, influx={"url": f"http://127.0.0.1:{free_port()}", "api": "v1", "timeout_ms": 500})
    client.app.state.netmgr_metrics = make_metrics_store(away)  # type: ignore[attr-defined]
    now = utcnow()
    session.add_all([DeviceEvent(device_id=world.own_device, at=now - timedelta(days=3), kind="up"),
                     DeviceEvent(device_id=world.own_device, at=now - timedelta(hours=3), kind="down")])
    session.commit()
    health = client.get(f"{API}/devices/{world.own_device}/health", params={"range": "6h"},
                        headers=world.headers(Role.AGENCY_VIEWER))
    assert health.status_code == 200
    body = health.json()
    assert body["cpu_load_pct"] == [] and body["wireless_clients"] == {} and "InfluxDB" in body["error"]
    assert 49 < body["snmp_availability_percent"] < 51  # down for the last 3 of 6 hours
    assert client.get(f"{API}/devices/{world.own_device}/health", params={"range": "1y"},
                      headers=world.headers(Role.ADMIN)).status_code == 422
