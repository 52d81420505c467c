"""The five lists in headless Chromium at laptop (1366×768) and phone (390×844) size, in Bahasa Indonesia:
nothing widens the page (wide tables scroll inside their frame), a heading sorts, and the heading box ticks
every row. LIST_SCREENSHOTS=dir saves each page as a picture for a person to look at."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from netmgr.entrypoints.capabilities import create_app
from netmgr.models import Alert, HotspotSession
from netmgr.models.alerts import AlertKind, AlertSeverity, AlertState, SubjectType
from netmgr.models.base import utcnow
from netmgr.models.enums import DeviceStatus, Role
from netmgr.models.hotspot import SessionStatus
from netmgr.state import AppState
from tests import factories
from tests.captive_portal import portal_support as ps
from tests.conftest import make_settings
from tests.servers.app import CHROMIUM, CHROMIUM_ARGS, migrated_sqlite_url, need_chromium, serve_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LISTS = ["/devices", "/sites", "/alerts?show=all", "/portal-admin/sessions", "/portal-admin/vouchers"]
SIZES = {"laptop": (1366, 768), "phone": (390, 844)}


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    settings = make_settings(tmp_path / "data", migrated_sqlite_url(tmp_path))
    state = AppState.build(settings)
    with state.session_factory() as session:
        factories.user(session, username="admin", role=Role.ADMIN)
        agency = factories.agency(session, code="DISKOMINFO", name="Dinas Komunikasi dan Informatika")
        taman = factories.site(session, agency_id=agency.id, name="Taman Kota Sampit")
        for n in range(30):
            device = factories.device(session, site_id=taman.id, name=f"ap-taman-kota-{n:02d}",
                                      tags=["taman", "lantai-2"] if n % 3 == 0 else [])
            device.status = DeviceStatus.DOWN if n % 7 == 0 else DeviceStatus.UP
            device.last_seen_at = utcnow() - timedelta(minutes=n)
            if n % 7 == 0:
                session.add(Alert(kind=AlertKind.DEVICE_DOWN, severity=AlertSeverity.CRITICAL, state=AlertState.OPEN,
                                  subject_type=SubjectType.DEVICE, subject_id=device.id, subject_name=device.name,
                                  agency_id=agency.id, site_id=taman.id, device_id=device.id, ack_note="",
                                  message=f"🔴 PERANGKAT MATI: {device.name} tidak merespons sejak 14:05 WIB"))
        session.commit()
        hotspot = ps.hotspot(session)
        for n in range(4):
            session.add(HotspotSession(hotspot_id=hotspot.id, nas_device_id=hotspot.gateway_device_id,
                                       acct_session_id=f"B{n}", mac=f"46:12:1F:20:79:1{n}", ip=f"10.5.50.{20 + n}",
                                       status=SessionStatus.ACTIVE, output_octets=(n + 1) * 40_000_000))
        session.commit()
    try:
        with serve_app(create_app(settings, state=state)) as base:
            yield base
    finally:
        state.engine.dispose()


def test_lists_fit_laptop_and_phone_sort_and_tick_all_in_chromium(live_server: str) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = os.environ.get("LIST_SCREENSHOTS")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(f"{live_server}/login")
            page.fill("#username", "admin")
            page.fill("#password", factories.PASSWORD)
            page.click("#login")
            page.goto(f"{live_server}/portal-admin/vouchers")
            page.fill("#new-batch [name=name]", "Taman Kota Desember")
            page.click("#new-batch [type=submit]")
            cookies = page.context.cookies()
            for size, (width, height) in SIZES.items():
                view = browser.new_page(viewport={"width": width, "height": height})
                view.context.add_cookies(cookies)
                for path in LISTS:
                    view.goto(f"{live_server}{path}")
                    expect(view.locator("h1")).to_be_visible()
                    wide = view.evaluate("document.documentElement.scrollWidth")
                    assert wide <= width, f"{path} is {wide}px wide on a {width}px screen"
                    expect(view.locator("#export-csv")).to_be_visible()
                    if shots:
                        name = path.strip("/").split("?")[0].replace("/", "-")
                        view.screenshot(path=str(Path(shots) / f"{name}-{size}.png"), full_page=True)
                view.close()

            page.goto(f"{live_server}/devices?status=up")
            page.click('th a[data-sort="last_seen"]')
            expect(page).to_have_url(f"{live_server}/devices?status=up&sort=last_seen&order=asc")
            page.click('th a[data-sort="last_seen"]')
            expect(page).to_have_url(f"{live_server}/devices?status=up&sort=last_seen&order=desc")
            expect(page.locator("#device-table tbody tr").first).to_contain_text("ap-taman-kota-01")
            page.check("input[data-select-all]")
            expect(page.locator('input[name="id"][form="bulk"]:checked')).to_have_count(25)
            page.fill("#bulk [name=tag]", "cek-desember")
            page.click("#bulk [type=submit]")
            expect(page.locator(".flash")).to_contain_text("25 perangkat diubah.")
            expect(page).to_have_url(f"{live_server}/devices?status=up&sort=last_seen&order=desc")
        finally:
            browser.close()
