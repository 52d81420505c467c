"""Issue 13's first "done when", in headless Chromium against a real FreeRADIUS and a pyrad NAS.

A new operator signs in, creates a hotspot, a policy and a voucher batch in the admin UI, prints the sheet;
a citizen's voucher login and accounting go gateway (``radclient``) → FreeRADIUS → netmgr; the operator sees
the session live, tightens the policy and watches the session get disconnected (the NAS receives the
Disconnect-Request, then reports the Stop as a real gateway does). Screenshots at phone and laptop size go to
the test's temporary directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from captive_portal.radius_config import inventory_clients
from netmgr.entrypoints.capabilities import create_app
from netmgr.models import Hotspot, HotspotPolicy, Voucher, VoucherBatch
from netmgr.models.enums import DeviceRole, Platform, Role, SiteKind
from netmgr.state import AppState
from tests import factories
from tests.captive_portal.hotspot_data import NAS_SECRET
from tests.captive_portal.test_radius_e2e import AAA_TOKEN, Radclient
from tests.conftest import make_settings
from tests.servers.app import CHROMIUM, CHROMIUM_ARGS, migrated_sqlite_url, need_chromium
from tests.servers.freeradius import FakeNas, fake_nas, freeradius, serve_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1366, "height": 768}


@dataclass
class Bed:
    url: str
    state: AppState
    radclient: Radclient
    nas: FakeNas
    username: str
    shots: Path


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[Bed]:
    need_chromium()
    settings = make_settings(tmp_path / "data", migrated_sqlite_url(tmp_path))
    settings = settings.model_copy(update={
        "radius": settings.radius.model_copy(update={"aaa_token": SecretStr(AAA_TOKEN)})})
    state = AppState.build(settings)
    with fake_nas(NAS_SECRET) as nas:
        with state.session_factory() as s:
            site = factories.site(s, name="Taman Kota Sampit", kind=SiteKind.PUBLIC_HOTSPOT)
            factories.device(s, site_id=site.id, name="gw-taman-kota", mgmt_address="127.0.0.1",
                             role=DeviceRole.HOTSPOT_GATEWAY, platform=Platform.MIKROTIK_ROUTEROS,
                             radius_secret=NAS_SECRET)
            user = factories.user(s, role=Role.OPERATOR, username="operator-baru")
            s.commit()
            clients = inventory_clients(s)
            username = user.username
        app = create_app(settings, state=state)
        with serve_app(app) as url, freeradius(tmp_path / "radius", settings=settings, api_url=url,
                                               clients=clients) as radius:
            yield Bed(url, state, Radclient(radius, NAS_SECRET), nas, username, tmp_path / "shots")
    state.engine.dispose()


def test_an_operator_runs_a_hotspot_from_creation_to_disconnecting_a_citizen(bed: Bed) -> None:
    from playwright.sync_api import Page, expect, sync_playwright

    def shoot(page: Page, name: str) -> None:
        for label, size in (("phone", PHONE), ("laptop", LAPTOP)):
            page.set_viewport_size(size)
            page.screenshot(path=str(bed.shots / f"{name}-{label}.png"), full_page=True)
        page.set_viewport_size(LAPTOP)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=LAPTOP).new_page()
            page.goto(f"{bed.url}/login")
            page.fill("#username", bed.username)
            page.fill("#password", factories.PASSWORD)
            page.click("#login")

            # A policy first: what a voucher gives (1 hour, 5/2 Mbps).
            page.goto(f"{bed.url}/portal-admin")
            page.click("#new-policy")
            expect(page.locator("h1")).to_have_text("Kebijakan baru")
            page.fill("#f-name", "Voucher 1 jam")
            page.fill("#f-rate_down_mbps", "5")
            page.fill("#f-rate_up_mbps", "2")
            page.fill("#f-session_minutes", "60")
            shoot(page, "policy-form")
            page.click("#save")
            expect(page.locator(".flash")).to_contain_text("Voucher 1 jam")

            # The hotspot at the park, on the inventory's gateway, answering Disconnect on the NAS's port.
            page.click("#new-hotspot")
            page.fill("#f-name", "Sampit Free WiFi – Taman Kota")
            page.fill("#f-slug", "taman-kota-sampit")
            page.select_option("#f-site", label="Taman Kota Sampit")
            page.select_option("#f-gateway", label="gw-taman-kota")
            page.fill("#f-ssid", "Sampit Free WiFi")
            page.select_option("#f-policy", label="Voucher 1 jam")
            page.fill("#f-coa", str(bed.nas.port))
            page.check("#m-voucher")
            page.fill("#f-title", "Sampit Free WiFi")
            shoot(page, "hotspot-form")
            page.click("#save")
            expect(page.locator(".flash")).to_contain_text("Sampit Free WiFi – Taman Kota")

            # A batch of five premium vouchers, printed.
            page.goto(f"{bed.url}/portal-admin/vouchers")
            page.fill("#f-name", "HUT Kota")
            page.select_option("#f-policy", label="Voucher 1 jam")
            page.select_option("#f-hotspot", label="Sampit Free WiFi – Taman Kota")
            page.fill("#f-count", "5")
            page.fill("#f-price", "5000")
            page.click("#generate")
            expect(page.locator(".flash")).to_contain_text("5")
            shoot(page, "vouchers")
            page.click("#batches a:has-text('HUT Kota')")
            sheet = page.request.get(bed.url + str(page.locator("#print").get_attribute("href")))
            assert sheet.ok and sheet.headers["content-type"] == "application/pdf"
            assert sheet.body().startswith(b"%PDF")

            with bed.state.session_factory() as s:
                hotspot = s.scalar(select(Hotspot).where(Hotspot.slug == "taman-kota-sampit"))
                policy = s.scalar(select(HotspotPolicy).where(HotspotPolicy.name == "Voucher 1 jam"))
                batch = s.scalar(select(VoucherBatch).where(VoucherBatch.name == "HUT Kota"))
                assert hotspot is not None and policy is not None and batch is not None
                assert batch.price_idr == 5000 and policy.session_timeout_s == 3600
                code = s.scalars(select(Voucher.code).where(Voucher.batch_id == batch.id)).first()
                assert code is not None

            # A citizen logs in with one of the printed codes; the gateway starts accounting.
            kind, reply = bed.radclient.login(code, code)
            assert kind == "Access-Accept", reply
            assert reply["Session-Timeout"] == ["3600"]
            assert bed.radclient.acct("Start", "sess-ui-1", code) == "Accounting-Response"
            assert bed.radclient.acct("Interim-Update", "sess-ui-1", code, in_octets=2_000_000,
                                      out_octets=40_000_000, seconds=600) == "Accounting-Response"

            page.goto(f"{bed.url}/portal-admin/hotspots/{hotspot.id}")
            page.click("#hotspot-sessions")
            row = page.locator("#sessions tbody tr")
            expect(row).to_have_count(1)
            expect(row).to_contain_text("46:12:1F:••:••:D7")
            expect(row).to_contain_text("Voucher 1 jam")
            expect(row).to_contain_text("42")  # MB used
            shoot(page, "sessions")

            # Ten minutes in, the policy is cut to five: the session is over it and gets disconnected.
            page.goto(f"{bed.url}/portal-admin/policies/{policy.id}")
            page.fill("#f-session_minutes", "5")
            page.click("#save")
            expect(page.locator(".flash")).to_contain_text("1 sesi")
            shoot(page, "policy-saved")
            received = bed.nas.wait_for(1)
            assert [r["kind"] for r in received] == ["disconnect"]
            assert received[0]["attributes"]["Acct-Session-Id"] == ["sess-ui-1"]
            assert received[0]["attributes"]["User-Name"] == [code]
            assert bed.radclient.acct("Stop", "sess-ui-1", code, in_octets=2_000_000, out_octets=40_000_000,
                                      seconds=605) == "Accounting-Response"

            page.goto(f"{bed.url}/portal-admin/sessions?hotspot={hotspot.id}")
            expect(page.locator("#nobody")).to_be_visible()
        finally:
            browser.close()
