"""The device page's health, client and availability charts in headless Chromium, drawn from a real influxd.

Set UPDATE_SCREENSHOTS=1 to refresh docs/img/device-health.png.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from netmgr.entrypoints.capabilities import create_app
from netmgr.metrics import Point, make_metrics_store
from netmgr.models import Interface
from netmgr.models.base import utcnow
from netmgr.models.enums import DeviceRole, DeviceStatus, Role
from netmgr.state import AppState
from tests import factories
from tests.conftest import make_settings
from tests.servers.app import CHROMIUM, CHROMIUM_ARGS, migrated_sqlite_url, need_chromium, serve_app
from tests.servers.influx import influx_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "img" / "device-health.png"


def _points(name: str) -> list[Point]:
    now = utcnow()
    out = []
    for m in range(2, 24 * 60, 10):
        at = int((now - timedelta(minutes=m)).timestamp()) * 10**9
        hour = (now - timedelta(minutes=m)).hour
        busy = 1.0 if 8 <= (hour + 7) % 24 <= 17 else 0.3  # office hours in WIB
        tags = {"device": name}
        out += [
            Point("device_health", tags, {"cpu_load_pct": 15 + 50 * busy, "memory_used_pct": 48.0 + 10 * busy,
                                          "uptime_s": 86400 * 12 - m * 60}, at),
            Point("device_sensor", {**tags, "kind": "temperature", "sensor": "board"}, {"value": 41 + 6 * busy}, at),
            Point("device_sensor", {**tags, "kind": "voltage", "sensor": "board"}, {"value": 24.1}, at),
            Point("wireless_clients", {**tags, "ssid": "TamanKota-Gratis", "radio": "wlan1", "index": "1"},
                  {"clients": round(40 * busy)}, at),
            Point("wireless_clients", {**tags, "ssid": "Pemkab-Staf", "radio": "wlan2", "index": "2"},
                  {"clients": round(8 * busy)}, at),
            Point("ping", {"kind": "device", "device": name}, {"up": 1}, at),
            Point("interface_traffic", {**tags, "interface": "sfp1"},
                  {"in_bps": 80e6 * busy, "out_bps": 12e6 * busy, "in_errors": 3 if m % 70 == 2 else 0,
                   "out_errors": 0, "in_discards": 0, "out_discards": 1}, at),
        ]
    return out


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    with influx_server() as influx:
        database = f"t_{uuid.uuid4().hex[:10]}"
        influx.create_database(database)
        settings = make_settings(tmp_path / "data", migrated_sqlite_url(tmp_path),
                                 influx={"url": influx.url, "api": "v1", "database": database,
                                         "spool_dir": tmp_path / "spool"})
        store = make_metrics_store(settings)
        store.write(_points("ap-taman-kota-01"))
        store.flush()
        store.close()
        state = AppState.build(settings)
        with state.session_factory() as session:
            factories.user(session, username="admin", role=Role.ADMIN)
            agency = factories.agency(session, code="DISKOMINFO", name="Diskominfo Kotim")
            site = factories.site(session, agency_id=agency.id, name="Taman Kota Sampit")
            ap = factories.device(session, site_id=site.id, name="ap-taman-kota-01", mgmt_address="10.20.0.11")
            ap.status, ap.role = DeviceStatus.UP, DeviceRole.ACCESS_POINT
            session.add_all([Interface(device_id=ap.id, if_index=1, name="ether1"),
                             Interface(device_id=ap.id, if_index=5, name="sfp1")])
            session.commit()
            factories.uplink(session, name="telkom-taman-kota", device_id=ap.id, interface_name="sfp1")
            device_id = ap.id
        try:
            with serve_app(create_app(settings, state=state)) as base:
                yield base, device_id
        finally:
            state.engine.dispose()


def test_device_page_shows_health_clients_and_availability_in_chromium(live_server: tuple[str, int],
                                                                       tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    base, device_id = live_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for width, height in ((1366, 768), (390, 844)):
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(f"{base}/login")
                page.fill("#username", "admin")
                page.fill("#password", factories.PASSWORD)
                page.click("#login")
                page.goto(f"{base}/devices/{device_id}")
                expect(page.locator("#health-cpu svg")).to_be_visible()
                expect(page.locator("#health-clients")).to_contain_text("TamanKota-Gratis")
                expect(page.locator("#availability")).to_contain_text("Tersedia (ping)")
                expect(page.locator("#traffic-charts")).to_contain_text("Galat dan paket dibuang")
                assert page.locator("#interfaces tbody tr").first.inner_text().find("sfp1") >= 0
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                page.screenshot(path=str(tmp_path / f"device-{width}.png"), full_page=True)
                if width == 1366 and os.environ.get("UPDATE_SCREENSHOTS") == "1":
                    page.locator("#device-health").screenshot(path=str(SCREENSHOT))
                page.close()
        finally:
            browser.close()
