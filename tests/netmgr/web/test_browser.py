"""The admin UI in headless Chromium against the real app served by uvicorn (SQLite, migrated).

Signs in, switches language, creates a site through the form, imports devices from CSV (a dry run with a
bad row, then a fixed file), and checks that nothing overflows a 360 px phone screen.
Set UPDATE_SCREENSHOTS=1 to refresh docs/img/devices.png.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from netmgr.entrypoints.capabilities import create_app
from netmgr.models.enums import DeviceStatus, Role
from netmgr.state import AppState
from tests import factories
from tests.conftest import make_settings
from tests.servers.app import CHROMIUM, CHROMIUM_ARGS, migrated_sqlite_url, need_chromium, serve_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "img" / "devices.png"
PHONE_PAGES = ["/", "/devices", "/sites", "/devices/new", "/import", "/uplinks", "/audit"]


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """The real app on a free port, in a background thread, with an admin and a little inventory."""
    settings = make_settings(tmp_path / "data", migrated_sqlite_url(tmp_path),
                             regency_name="Kabupaten Kotawaringin Timur")
    state = AppState.build(settings)
    with state.session_factory() as session:
        factories.user(session, username="admin", role=Role.ADMIN)
        agency = factories.agency(session, code="DISKOMINFO", name="Diskominfo Kotim")
        pop = factories.site(session, agency_id=agency.id, name="Ruang Server Diskominfo")
        core = factories.device(session, site_id=pop.id, name="core-diskominfo", mgmt_address="10.0.0.1")
        core.status = DeviceStatus.UP
        session.commit()
        factories.uplink(session, name="telkom-astinet-500")
    try:
        with serve_app(create_app(settings, state=state)) as base:
            yield base
    finally:
        state.engine.dispose()


def test_admin_signs_in_creates_a_site_and_imports_devices_in_chromium(live_server: str, tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    header = "name,site,role,platform,mgmt_address,snmp_community\n"
    bad = (header + "ap-taman-01,Taman Kota Sampit,access_point,mikrotik_routeros,10.20.0.11,public\n"
           "ap-taman-02,Taman Kota Sampitt,access_point,mikrotik_routeros,10.20.0.12,public\n")
    good = bad.replace("Sampitt", "Sampit")
    (tmp_path / "bad.csv").write_text(bad)
    (tmp_path / "devices.csv").write_text(good)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{live_server}/devices")
            expect(page).to_have_url(f"{live_server}/login?next=%2Fdevices")
            page.fill("#username", "admin")
            page.fill("#password", factories.PASSWORD)
            page.click("#login")
            expect(page.locator("h1")).to_have_text("Perangkat")
            expect(page.locator(".topbar")).to_contain_text("Kabupaten Kotawaringin Timur")

            page.click("#lang-en")
            expect(page.locator("h1")).to_have_text("Devices")
            page.goto(f"{live_server}/")
            expect(page.locator("h1")).to_have_text("Overview")
            page.click("#lang-id")
            expect(page.locator("h1")).to_have_text("Ringkasan")

            page.goto(f"{live_server}/sites/new")
            page.click("#save")  # empty form: the error shows next to the name field
            expect(page.locator(".field.invalid").first).to_contain_text("Kolom ini wajib diisi.")
            page.fill("#f-name", "Taman Kota Sampit")
            page.select_option("#f-kind", "public_hotspot")
            page.select_option("#f-agency_id", label="Diskominfo Kotim (DISKOMINFO)")
            page.click("#save")
            expect(page.locator("h1")).to_have_text("Taman Kota Sampit")
            expect(page.locator(".flash")).to_contain_text("Tersimpan")

            page.goto(f"{live_server}/import")
            page.select_option("#kind", "devices")
            page.set_input_files("#file", str(tmp_path / "bad.csv"))
            page.click("#check")
            errors = page.locator("#import-errors tbody tr")
            expect(errors).to_have_count(1)
            expect(errors.first).to_contain_text("3")
            expect(errors.first).to_contain_text("site")
            page.set_input_files("#file", str(tmp_path / "devices.csv"))
            page.click("#check")
            expect(page.locator("#ready strong")).to_have_text("Siap diimpor: 2 baris")
            expect(page.locator("#ready")).to_contain_text("2 baru, 0 mengubah data yang sudah ada")
            page.click("#apply")
            expect(page).to_have_url(f"{live_server}/devices")
            table = page.locator("#device-table")
            expect(table).to_contain_text("ap-taman-01")
            expect(table).to_contain_text("ap-taman-02")
            expect(table).to_contain_text("core-diskominfo")

            if os.environ.get("UPDATE_SCREENSHOTS") == "1":
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOT), full_page=True)

            phone = browser.new_page(viewport={"width": 360, "height": 640})
            phone.context.add_cookies(page.context.cookies())
            for path in PHONE_PAGES:
                phone.goto(f"{live_server}{path}")
                expect(phone.locator("h1")).to_be_visible()
                width = phone.evaluate("document.documentElement.scrollWidth")
                assert width <= 360, f"{path} is {width}px wide on a 360px screen"
        finally:
            browser.close()
