"""The finance report in headless Chromium against the real app served by uvicorn, on demo-seeded data.

The demo regency (catalog + plan + pagu) and last month's backfilled usage go into a migrated SQLite file; the
finance user opens last month's report, checks that the offices' shares add up to the uplink invoices, sees a
recommendation with its rupiah saving, and downloads the XLSX and PDF files.
Set UPDATE_SCREENSHOTS=1 to refresh docs/img/report.png.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from netmgr import formats
from netmgr.demo import catalog
from netmgr.demo import finance as demo_finance
from netmgr.demo.seed import seed_demo
from netmgr.entrypoints.capabilities import create_app
from netmgr.localtime import zone
from netmgr.models.enums import Role
from netmgr.services import reports
from netmgr.state import AppState
from tests.conftest import make_settings
from tests.servers.app import CHROMIUM, CHROMIUM_ARGS, migrated_sqlite_url, need_chromium, serve_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOT = Path(__file__).resolve().parents[3] / "docs" / "img" / "report.png"
FINANCE = next(u for u in catalog.USERS if u.role == Role.FINANCE)
# Elements sticking out to the right of a phone screen (outside scrollable table wrappers), to name the culprit.
WIDER_THAN_SCREEN = """[...document.querySelectorAll('main *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.table-wrap, pre'))
  .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def _rupiah(text: str) -> int:
    return int(text.replace("Rp", "").replace(".", "").strip())


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[str]:
    """The app on a free port with the demo regency and a full month of usage before this one."""
    settings = make_settings(tmp_path / "data", migrated_sqlite_url(tmp_path),
                             regency_name="Kabupaten Kotawaringin Timur")
    state = AppState.build(settings)
    # Only last month's usage (not the demo's three months) keeps the seeding to a few seconds.
    this_month = datetime.now(zone(settings.timezone)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with state.session_factory() as session:
        seed_demo(session, snmp_port=16161, usage_months=None, timezone=settings.timezone)
        assert demo_finance.backfill_usage(session, now=(this_month + timedelta(minutes=30)).astimezone(UTC),
                                           months=1, timezone=settings.timezone) > 0
        session.commit()
    try:
        with serve_app(create_app(settings, state=state)) as base:
            yield base
    finally:
        state.engine.dispose()


def test_finance_user_reads_last_months_report_and_downloads_it_in_chromium(demo_server: str) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    last_month = reports.month_key(reports.parse_month(None))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{demo_server}/reports")
            page.fill("#username", FINANCE.username)
            page.fill("#password", FINANCE.password)
            page.click("#login")
            expect(page.locator("h1")).to_have_text(
                f"Laporan bandwidth {formats.month_name(last_month, 'id')}")
            expect(page.locator("nav.main")).to_contain_text("Laporan")
            expect(page.locator("nav.main")).to_contain_text("Rencana Bandwidth")

            # every office's share by allocation and by use adds up to the uplink invoices
            invoices = _rupiah(page.locator("#invoice-total").inner_text())
            cells = page.locator("#uplink-table td.invoice").all_inner_texts()
            per_uplink = [_rupiah(t.splitlines()[0]) for t in cells]
            assert len(per_uplink) == len(catalog.UPLINKS) and sum(per_uplink) == invoices > 0
            offices = page.locator("#agency-table tbody tr")
            expect(offices).to_have_count(len(catalog.AGENCIES) + 1)
            by_allocation = [_rupiah(t) for t in page.locator("#agency-table td.share-alloc").all_inner_texts()]
            by_use = [_rupiah(t) for t in page.locator("#agency-table td.share-use").all_inner_texts()]
            assert sum(by_allocation) == sum(by_use) == invoices
            expect(page.locator("#reconciliation")).to_contain_text("Cocok.")

            # DUKCAPIL at its ceiling while INSPEKTORAT idles: move guaranteed rate, worth rupiah
            recommendation = page.locator(".recommendation.move_cir")
            expect(recommendation).to_contain_text("DUKCAPIL")
            saving = recommendation.locator(".saving").inner_text()
            assert "Rp" in saving and _rupiah(saving.split("Rp", 1)[1].split()[0]) > 0
            expect(page.locator("svg.chart.bars").first).to_be_visible()

            with page.expect_download() as xlsx_download:
                page.click("#download-xlsx")
            xlsx = Path(xlsx_download.value.path()).read_bytes()
            assert xlsx_download.value.suggested_filename == f"laporan-bandwidth-{last_month}.xlsx"
            book = load_workbook(io.BytesIO(xlsx))
            values = {str(c.value) for sheet in book.worksheets for row in sheet.iter_rows() for c in row}
            assert "DUKCAPIL" in values and "INSPEKTORAT" in values

            with page.expect_download() as pdf_download:
                page.click("#download-pdf")
            assert pdf_download.value.suggested_filename == f"laporan-bandwidth-{last_month}.pdf"
            assert Path(pdf_download.value.path()).read_bytes().startswith(b"%PDF")

            if os.environ.get("UPDATE_SCREENSHOTS") == "1":
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                # the top of the report: headline figures, recommendations, uplinks and their chart
                page.screenshot(path=str(SCREENSHOT), full_page=True,
                                clip={"x": 0, "y": 0, "width": 1280, "height": 1500})

            phone = context.new_page()
            phone.set_viewport_size({"width": 360, "height": 640})
            phone.goto(f"{demo_server}/reports")
            expect(phone.locator("h1")).to_be_visible()
            width = phone.evaluate("document.documentElement.scrollWidth")
            wide = phone.evaluate(WIDER_THAN_SCREEN)
            assert width <= 360, f"/reports is {width}px wide on a 360px screen: {wide}"
        finally:
            browser.close()
