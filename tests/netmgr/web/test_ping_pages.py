"""Ping charts on the device and uplink pages, from real fping rounds written to a real influxd; the probe
address is edited in the uplink form and the API."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from collectors.ping import Fping, ping_round
from netmgr.metrics import make_metrics_store
from netmgr.models import Uplink
from netmgr.models.base import utcnow
from netmgr.models.enums import Role
from netmgr.settings import PingSettings
from tests import factories
from tests.conftest import make_settings
from tests.netmgr.web.helpers import login, signed_in_csrf
from tests.servers.influx import InfluxServer, influx_server

PING = PingSettings(count=3, period_ms=20, timeout_ms=200)


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer]:
    with influx_server() as server:
        yield server


def test_device_and_uplink_pages_chart_ping_rtt_and_loss_from_influxdb(
        client: TestClient, session: Session, session_factory: sessionmaker[Session], influx: InfluxServer,
        tmp_path: Path) -> None:
    site = factories.site(session)
    device = factories.device(session, site_id=site.id, name="core-loop", mgmt_address="127.0.0.1")
    uplink = factories.uplink(session, name="Telkom Astinet", probe_address="127.0.0.2")
    database = f"ping_{uuid.uuid4().hex[:8]}"
    store = make_metrics_store(make_settings(tmp_path, influx={"url": influx.url, "api": "v1", "database": database,
                                                               "spool_dir": tmp_path / "spool"}))
    now = utcnow()
    for minutes in range(30, 0, -1):  # half an hour of real rounds, one a minute
        ping_round(session_factory, pinger=Fping(PING), store=store, settings=PING,
                   now=now - timedelta(minutes=minutes))
    client.app.state.netmgr_metrics = store  # type: ignore[attr-defined]
    factories.user(session, username="noc", role=Role.ADMIN)
    login(client, "noc")
    try:
        detail = client.get(f"/devices/{device.id}").text
        fragment = client.get(f"/devices/{device.id}/ping?range=6h", headers={"HX-Request": "true"}).text
        uplink_page = client.get(f"/uplinks/{uplink.id}").text
        uplink_fragment = client.get(f"/uplinks/{uplink.id}/ping?range=6h", headers={"HX-Request": "true"}).text
    finally:
        store.close()
    assert f'hx-get="/devices/{device.id}/ping?range=24h"' in detail and 'id="ping-status">hidup' in detail
    assert "<html" not in fragment and fragment.count("<svg") == 2
    assert "Menjawab ping dalam periode ini: 100,00 %" in fragment
    assert "Waktu pulang-pergi (ping)" in fragment and "Paket hilang" in fragment
    (average,) = re.findall(r'class="series in" points="([^"]+)"', fragment)
    assert len(average.split()) >= 14  # 2-minute buckets over the half hour
    assert " ms</text>" in fragment and " %</text>" in fragment
    assert 'id="probe-address">127.0.0.2<' in uplink_page and 'hx-get="/uplinks/' in uplink_page
    assert uplink_fragment.count("<svg") == 2 and "100,00 %" in uplink_fragment


def test_probe_address_and_sla_terms_are_edited_in_the_uplink_form(client: TestClient, session: Session) -> None:
    uplink = factories.uplink(session, name="Icon+")
    factories.user(session, username="admin1", role=Role.ADMIN)
    login(client, "admin1")
    form = client.get(f"/uplinks/{uplink.id}/edit").text
    assert 'name="probe_address"' in form and 'name="sla_restitution_cap_percent"' in form
    data = {"csrf_token": signed_in_csrf(client), "name": "Icon+", "isp_name": "Icon+", "device_id": "",
            "interface_name": "", "capacity_down_mbps": "500", "capacity_up_mbps": "500",
            "monthly_price_idr": "27500000", "tax_percent": "11", "billing_model": "flat", "committed_mbps": "",
            "price_per_gb_idr": "", "contract_start": "", "contract_end": "", "sla_availability_percent": "99.5",
            "sla_max_latency_ms": "20", "sla_max_loss_percent": "1", "sla_restitution_cap_percent": "100",
            "probe_address": " 203.0.113.1 ", "notes": ""}
    saved = client.post(f"/uplinks/{uplink.id}/edit", data=data, follow_redirects=False)
    assert saved.status_code == 303
    session.expire_all()
    row = session.get(Uplink, uplink.id)
    assert row is not None and (row.probe_address, row.sla_max_latency_ms, row.sla_restitution_cap_percent) == (
        "203.0.113.1", 20.0, 100.0)
    refused = client.post(f"/uplinks/{uplink.id}/edit", data={**data, "probe_address": "10.0.0.300"})
    assert refused.status_code == 422 and "10.0.0.300" in refused.text
