"""The monitoring map and the NOC wall screen in headless Chromium, on the demo regency's sites.

The tile URL points at a refused loopback port: left alone, the tiles fail and the page falls back to the labelled
coordinate canvas; with the browser answering that URL (Playwright routes it to a plain tile), Leaflet draws the
sites on the base map. Two demo sites are put at one place, one down and one up, so the down one must be on top.
Uplink rates come from a real influxd. Screenshots at 1366x768, 390x844 and 1920x1080 go to the test's temporary
folder (set MAP_SCREENSHOTS=dir to keep them).
"""

from __future__ import annotations

import os
import re
import struct
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from netmgr.demo import catalog
from netmgr.demo.seed import seed_demo
from netmgr.entrypoints.capabilities import create_app
from netmgr.metrics import Point, make_metrics_store
from netmgr.models import Alert, Device, Site
from netmgr.models.alerts import AlertKind, AlertSeverity, AlertState, SubjectType
from netmgr.models.base import utcnow
from netmgr.models.enums import DeviceStatus, Role
from netmgr.state import AppState
from tests.conftest import make_settings
from tests.netmgr.web.test_finance_browser import WIDER_THAN_SCREEN
from tests.servers.app import CHROMIUM, CHROMIUM_ARGS, migrated_sqlite_url, need_chromium, serve_app
from tests.servers.influx import InfluxServer, influx_server
from tests.servers.process import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OPERATOR = next(u for u in catalog.USERS if u.role == Role.OPERATOR)
DOWN_SITE = "Taman Kota Sampit"
TWIN_SITE = "Kantor Dinas Pendidikan"
SIZES = {"laptop": (1366, 768), "phone": (390, 844), "wall": (1920, 1080)}
GREEN, RED = "rgb(46, 157, 77)", "rgb(208, 52, 44)"


def _tile_png() -> bytes:
    """A 1x1 light-grey PNG: the browser stretches it to a 256-px tile."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xe4\xe8\xec"))
            + chunk(b"IEND", b""))


@dataclass
class Demo:
    base: str
    tile_url: str
    down_site: int
    twin_site: str
    """An up site moved to the down site's coordinates."""
    placed: int
    """Sites with coordinates (every one is on the map)."""


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer]:
    with influx_server() as server:
        yield server


@pytest.fixture
def demo(tmp_path: Path, influx: InfluxServer) -> Iterator[Demo]:
    tile_url = f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png"  # nothing listens: refused
    database = f"t_{uuid.uuid4().hex[:10]}"
    influx.create_database(database)
    settings = make_settings(tmp_path / "data", migrated_sqlite_url(tmp_path),
                             regency_name="Kabupaten Kotawaringin Timur", map={"tile_url": tile_url},
                             influx={"url": influx.url, "api": "v1", "database": database,
                                     "spool_dir": tmp_path / "spool"})
    state = AppState.build(settings)
    with state.session_factory() as session:
        seed_demo(session, snmp_port=16161, usage_months=None, timezone=settings.timezone)
        sites = {s.name: s for s in session.scalars(select(Site))}
        down = sites[DOWN_SITE]
        twin = sites[TWIN_SITE]
        twin.latitude, twin.longitude = down.latitude, down.longitude
        for device in session.scalars(select(Device)):
            device.status = DeviceStatus.DOWN if device.site_id == down.id else DeviceStatus.UP
        partly = next(d for d in session.scalars(select(Device).where(Device.site_id == sites["RSUD dr. Murjani"].id)))
        partly.status = DeviceStatus.DOWN
        placed = sum(1 for s in sites.values() if s.latitude is not None and s.longitude is not None)
        gateway = session.scalars(select(Device).where(Device.site_id == down.id).order_by(Device.name)).first()
        assert gateway is not None
        session.add(Alert(kind=AlertKind.SITE_DOWN, severity=AlertSeverity.CRITICAL, state=AlertState.OPEN,
                          subject_type=SubjectType.SITE, subject_id=down.id, subject_name=down.name,
                          site_id=down.id, ack_note="", message=f"🔴 LOKASI MATI: {down.name}",
                          reason=[{"check": "ping", "address": gateway.mgmt_address, "sent": 3, "received": 0,
                                   "at": "2026-03-02T07:02:00+00:00"}]))
        session.commit()
        down_id = down.id
    now = utcnow()
    store = make_metrics_store(settings)
    store.write([
        Point("interface_traffic", {"device": "core-diskominfo", "interface": port}, {"in_bps": down, "out_bps": up},
              int((now - timedelta(minutes=1)).timestamp()) * 10**9)
        for port, down, up in (("sfp-sfpplus1", 455e6, 120e6), ("sfp-sfpplus2", 88e6, 30e6))])
    store.flush()
    store.close()
    try:
        with serve_app(create_app(settings, state=state)) as base:
            yield Demo(base, tile_url, down_id, TWIN_SITE, placed)
    finally:
        state.engine.dispose()


# Pairs of visible labels whose boxes cover one another (none may).
LABELS_OVERLAP = """(() => { const boxes = [...document.querySelectorAll('SELECTOR')]
  .filter(e => getComputedStyle(e).visibility !== 'hidden' && getComputedStyle(e).display !== 'none')
  .map(e => [e.textContent, e.getBoundingClientRect()]);
  const out = [];
  boxes.forEach(([a, r], i) => boxes.slice(i + 1).forEach(([b, s]) => {
    const cover = r.left < s.right - 1 && r.right > s.left + 1 && r.top < s.bottom - 1 && r.bottom > s.top + 1;
    if (cover) out.push(a + ' / ' + b);
  }));
  return out; })()"""


def _top_at_centre(page: Any, selector: str) -> str:
    """The classes of the marker-ish element on top at the centre of the first element matching ``selector``."""
    return str(page.evaluate("""sel => { const r = document.querySelector(sel).getBoundingClientRect();
        const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        const hit = top && top.closest('.leaflet-marker-icon, a.site-point');
        return hit ? hit.getAttribute('class') : (top ? 'other:' + top.tagName : 'none'); }""", selector))


def test_the_map_shows_the_demo_sites_with_tiles_and_falls_back_to_the_canvas_without(
        demo: Demo, tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("MAP_SCREENSHOTS") or tmp_path)
    tile = _tile_png()
    tile_pattern = re.compile(re.escape(demo.tile_url.split("{z}")[0]) + r"\d+/\d+/\d+\.png")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{demo.base}/monitoring")
            page.fill("#username", OPERATOR.username)
            page.fill("#password", OPERATOR.password)
            page.click("#login")
            expect(page.locator("h1")).to_have_text("Pemantauan")

            # 1. tiles refused: the labelled coordinate canvas, down on top of the up site at the same place
            expect(page.locator("#site-map")).to_have_attribute("data-mode", "canvas-offline")
            expect(page.locator("#site-map-offline")).to_be_visible()
            expect(page.locator("#site-map-canvas text.site-label.down")).to_have_text(DOWN_SITE)
            expect(page.locator("#site-map-canvas text.site-label.partial")).to_have_text("RSUD dr. Murjani")
            labels = page.locator("#site-map-canvas text.site-label").count()
            assert demo.placed // 2 < labels <= demo.placed, "crowded names give way, but most sites are named"
            assert not page.evaluate(LABELS_OVERLAP.replace("SELECTOR", "#site-map-canvas text.site-label"))
            assert page.locator("circle.site-dot.down").evaluate("e => getComputedStyle(e).fill") == RED
            assert "down" in _top_at_centre(page, f'a.site-point[data-site-id="{demo.down_site}"] circle')
            page.screenshot(path=str(shots / "map-offline-laptop.png"), full_page=True)

            # 2. tiles answered: Leaflet with labels, status colours, clusters, down on top, a click opens the site
            page.route(tile_pattern, lambda route: route.fulfill(status=200, content_type="image/png", body=tile))
            page.reload()
            expect(page.locator("#site-map")).to_have_attribute("data-mode", "tiles")
            expect(page.locator("#site-map-canvas")).to_be_hidden()
            expect(page.locator(".leaflet-tile-loaded").first).to_be_attached()
            expect(page.locator(".leaflet-control-attribution")).to_contain_text("OpenStreetMap")
            expect(page.locator(".site-marker-label").first).to_be_visible()
            expect(page.locator(".site-cluster.down .site-marker-label")).to_contain_text(DOWN_SITE)
            assert not page.evaluate(LABELS_OVERLAP.replace("SELECTOR", ".site-marker-label"))
            up_marker = page.locator(".site-marker.up i").first
            assert up_marker.evaluate("e => getComputedStyle(e).backgroundColor") == GREEN
            # the down site and its up twin share one place: their cluster is red and drawn above the rest
            together = page.locator(".site-cluster.down")
            expect(together.first).to_be_visible()
            assert "down" in _top_at_centre(page, ".site-cluster.down")
            page.screenshot(path=str(shots / "map-tiles-laptop.png"), full_page=True)
            label = page.locator(".site-marker.up").first
            name = label.locator(".site-marker-label").inner_text()
            label.click()
            expect(page.locator("h1")).to_contain_text(name)
            assert re.search(r"/sites/\d+$", page.url)

            phone = context.new_page()
            phone.set_viewport_size({"width": SIZES["phone"][0], "height": SIZES["phone"][1]})
            phone.route(tile_pattern, lambda route: route.fulfill(status=200, content_type="image/png", body=tile))
            phone.goto(f"{demo.base}/monitoring")
            expect(phone.locator("#site-map")).to_have_attribute("data-mode", "tiles")
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= SIZES["phone"][0], phone.evaluate(WIDER_THAN_SCREEN)
            phone.screenshot(path=str(shots / "map-tiles-phone.png"), full_page=True)

            # 3. no JavaScript: the canvas and the list of sites with their status
            bare = browser.new_context(viewport={"width": 1366, "height": 768}, java_script_enabled=False,
                                       storage_state=context.storage_state())
            plain = bare.new_page()
            plain.goto(f"{demo.base}/monitoring")
            expect(plain.locator("#site-map-canvas")).to_be_visible()
            expect(plain.locator("#site-states tbody tr").first).to_have_attribute("data-health", "down")
            expect(plain.locator("#site-states")).to_contain_text(DOWN_SITE)
        finally:
            browser.close()


def test_the_noc_wall_screen_reads_from_across_the_room(demo: Demo, tmp_path: Path) -> None:
    need_chromium()
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("MAP_SCREENSHOTS") or tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(f"{demo.base}/monitoring/noc")
            page.fill("#username", OPERATOR.username)
            page.fill("#password", OPERATOR.password)
            page.click("#login")
            expect(page.locator("#noc-board h1")).to_contain_text("Pusat operasi jaringan")
            expect(page.locator("#noc-trouble li").first).to_contain_text(DOWN_SITE)  # down first
            expect(page.locator("#noc-down")).to_have_text("1")
            expect(page.locator("#noc-alert-list .reason")).to_have_text(
                re.compile(r"ping 0/3 balasan dari 127\.0\.\d+\.\d+ pukul 14:02 WIB"))
            expect(page.locator('#noc-uplinks [role="meter"][aria-valuenow="91.0"]')).to_have_count(1)  # 455/500
            heading = float(page.locator("#noc-down").evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))
            assert heading >= 60, f"the count of sites down is {heading}px: too small for a wall screen"
            assert page.evaluate("document.documentElement.scrollWidth") <= 1920
            page.screenshot(path=str(shots / "noc-wall.png"))
            # htmx refreshes the board in place: the element is replaced, the page is not reloaded
            page.evaluate("window.__same_page = true")
            stamp = page.locator("#noc-board").get_attribute("data-at")
            page.evaluate("htmx.ajax('GET', '/monitoring/noc', {target: '#noc-board', swap: 'outerHTML'})")
            expect(page.locator("#noc-board")).not_to_have_attribute("data-at", stamp or "")
            assert page.evaluate("window.__same_page") is True
            # netmgr out of reach: the screen says its figures are old, and stops saying so once it answers
            expect(page.locator("#noc-stale")).to_be_hidden()
            page.route("**/monitoring/noc", lambda route: route.abort())
            page.evaluate("htmx.ajax('GET', '/monitoring/noc', {target: '#noc-board', swap: 'outerHTML'})"
                          ".catch(() => null)")  # the request fails: that is the point
            expect(page.locator("#noc-stale")).to_be_visible()
            expect(page.locator("#noc-stale")).to_contain_text("netmgr tidak menjawab")
            page.unroute("**/monitoring/noc")
            page.evaluate("htmx.ajax('GET', '/monitoring/noc', {target: '#noc-board', swap: 'outerHTML'})")
            expect(page.locator("#noc-stale")).to_be_hidden()
            for name in ("laptop", "phone"):
                page.set_viewport_size({"width": SIZES[name][0], "height": SIZES[name][1]})
                assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[name][0], \
                    page.evaluate(WIDER_THAN_SCREEN.replace("main *", "#noc-board *"))
                page.screenshot(path=str(shots / f"noc-{name}.png"), full_page=True)
        finally:
            browser.close()
