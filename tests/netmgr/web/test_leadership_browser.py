"""The leaders' page in headless Chromium at phone and laptop size, against the real app served by uvicorn.

Sessions are seeded into a migrated SQLite file; the Bupati's office signs in, lands on its page, reads the
figures (small counts shown as <5), the heat map, and downloads the open-data CSV. Screenshots go to the test's
temporary folder (Set LEADERSHIP_SCREENSHOTS=dir to keep them).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from netmgr.entrypoints.capabilities import create_app
from netmgr.models.enums import Role
from netmgr.state import AppState
from tests import factories
from tests.conftest import make_settings
from tests.netmgr.test_leadership import assert_k_anonymous, seed
from tests.netmgr.web.test_finance_browser import WIDER_THAN_SCREEN
from tests.servers.app import CHROMIUM, CHROMIUM_ARGS, migrated_sqlite_url, need_chromium, serve_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def leaders_server(tmp_path: Path) -> Iterator[str]:
    settings = make_settings(tmp_path / "data", migrated_sqlite_url(tmp_path), regency_name="Kabupaten Kotim")
    state = AppState.build(settings)
    with state.session_factory() as session:
        seed(session)
        factories.user(session, role=Role.LEADERSHIP, username="bupati")
    try:
        with serve_app(create_app(settings, state=state)) as base:
            yield base
    finally:
        state.engine.dispose()


def test_the_bupatis_office_reads_its_dashboard_on_a_laptop_and_a_phone(leaders_server: str,
                                                                         tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("LEADERSHIP_SCREENSHOTS") or tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{leaders_server}/leadership?month=2026-11")
            page.fill("#username", "bupati")
            page.fill("#password", factories.PASSWORD)
            page.click("#login")
            expect(page.locator("h1")).to_have_text("Wi-Fi publik untuk warga 2026-11")
            expect(page.locator("nav.main")).to_contain_text("Wi-Fi publik")
            expect(page.locator("nav.main")).not_to_contain_text("Perangkat")
            expect(page.locator("#parks tbody tr")).to_have_count(3)
            expect(page.locator("#parks")).to_contain_text("<5")
            expect(page.locator("#heat-map rect.h5")).to_have_count(1)  # Taman Pantai, Tuesday 08:00 WIB
            expect(page.locator("svg.chart.bars")).to_be_visible()
            page.screenshot(path=str(shots / "leadership-laptop.png"), full_page=True)

            with page.expect_download() as download:
                page.click("#download-1")
            assert download.value.suggested_filename == "wifi-publik-2026-11.csv"
            text = Path(download.value.path()).read_text(encoding="utf-8")
            assert_k_anonymous(list(csv.DictReader(io.StringIO(text))), 5)

            phone = context.new_page()
            phone.set_viewport_size({"width": 360, "height": 640})
            phone.goto(f"{leaders_server}/leadership?month=2026-11")
            expect(phone.locator("#heat-map")).to_be_visible()
            width = phone.evaluate("document.documentElement.scrollWidth")
            wide = phone.evaluate(WIDER_THAN_SCREEN)
            assert width <= 360, f"/leadership is {width}px wide on a 360px screen: {wide}"
            phone.screenshot(path=str(shots / "leadership-phone.png"), full_page=True)
        finally:
            browser.close()
