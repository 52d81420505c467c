"""The citizens' portal in headless Chromium on a 360×640 phone screen, in Bahasa Indonesia and English.

A real uvicorn serves the app; a tiny HTTP server plays the MikroTik router's login page. Each login method
(terms, voucher, phone OTP with the console sender's code) must end at the router with CHAP credentials, and
every request a portal page makes must go to the portal host only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy import select

from captive_portal import vouchers
from captive_portal.gateways.mikrotik import chap_password
from captive_portal.login_methods import ConsoleSmsSender
from netmgr.db import secret_box
from netmgr.entrypoints.capabilities import create_app
from netmgr.models import AccessGrant
from netmgr.security.permissions import SYSTEM
from netmgr.state import AppState
from tests.captive_portal import portal_support as ps
from tests.conftest import make_settings
from tests.servers.app import CHROMIUM, CHROMIUM_ARGS, migrated_sqlite_url, need_chromium, serve_app
from tests.servers.process import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHAP_ID = "\\357"
CHAP_CHALLENGE = "\\042\\221\\013\\376\\123\\002\\377\\200\\001\\002\\003\\004\\005\\006\\007\\010"


class FakeRouter(BaseHTTPRequestHandler):
    """MikroTik's hotspot login endpoint: records what the portal sent and says "logged in"."""

    logins: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        if parts.path == "/login":
            FakeRouter.logins.append({k: v[0] for k, v in parse_qs(parts.query).items()})
        body = b"<!doctype html><title>router</title><p id=ok>You are logged in</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        return


@dataclass
class Bed:
    portal: str
    router: str
    state: AppState
    sender: ConsoleSmsSender
    slug: str
    codes: list[str]


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[Bed]:
    need_chromium()
    router_port = free_port()
    router = ThreadingHTTPServer(("127.0.0.1", router_port), FakeRouter)
    threading.Thread(target=router.serve_forever, daemon=True).start()
    port = free_port()
    settings = make_settings(tmp_path / "data", migrated_sqlite_url(tmp_path))
    settings.portal.base_url = f"http://127.0.0.1:{port}/portal"
    state = AppState.build(settings)
    with state.session_factory() as session:
        h = ps.hotspot(session, slug="taman-kota-sampit", hosts=[f"127.0.0.1:{router_port}"], free_logins_per_day=5,
                       branding={"title": "Sampit Free WiFi", "primary_color": "#0b6e4f"})
        batch = vouchers.create_batch(session, SYSTEM, name="uji", policy_id=h.default_policy_id or 0, count=4,
                                      hotspot_id=h.id)
        session.commit()
        codes = [v.code for v in batch.vouchers]
    app = create_app(settings, state=state)
    sender = ConsoleSmsSender()
    app.state.captive_portal_sms = sender
    try:
        with serve_app(app, port) as base:
            yield Bed(base, f"127.0.0.1:{router_port}", state, sender, "taman-kota-sampit", codes)
    finally:
        router.shutdown()
        state.engine.dispose()


def _redirect_url(bed: Bed, mac: str) -> str:
    query = urlencode({"mac": mac, "ip": "10.5.50.77", "link-login-only": f"http://{bed.router}/login",
                       "link-orig": "http://example.com/", "chap-id": CHAP_ID, "chap-challenge": CHAP_CHALLENGE})
    return f"{bed.portal}/portal/{bed.slug}/?{query}"


def _check_phone_layout(page: object) -> None:
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "page overflows a 360 px screen"
    for el in page.locator("button, .button, input:not([type=hidden]), .lang a").all():
        box = el.bounding_box()
        if box and el.is_visible():
            assert box["height"] >= 44 or el.get_attribute("type") == "checkbox", (
                f"touch target too small: {el.evaluate('e => e.outerHTML')[:80]} {box}")


TEXT = {
    "id": {"connect": "Sambungkan", "voucher": "Saya punya voucher", "phone": "Masuk dengan nomor HP saya",
           "verify": "Masukkan kode"},
    "en": {"connect": "Connect", "voucher": "I have a voucher", "phone": "Log in with my phone number",
           "verify": "Enter the code"},
}


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_login_method_works_on_a_phone_screen(bed: Bed, lang: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    portal_host = urlsplit(bed.portal).netloc
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for n, method in enumerate(("terms", "voucher", "otp")):
                mac = f"02:00:00:00:{ord(lang[0]):02X}:{n:02X}"
                context = browser.new_context(viewport={"width": 360, "height": 640}, java_script_enabled=False)
                page = context.new_page()
                hosts: list[str] = []
                page.on("request", lambda req, hosts=hosts: hosts.append(urlsplit(req.url).netloc))
                page.goto(_redirect_url(bed, mac))
                if lang == "en":
                    page.click("#lang-en")
                expect(page.locator("html")).to_have_attribute("lang", lang)
                expect(page.locator("#connect")).to_have_text(TEXT[lang]["connect"])
                _check_phone_layout(page)
                if method == "terms":
                    page.check("#accept-terms")
                    page.click("#connect")
                elif method == "voucher":
                    expect(page.locator("#use-voucher")).to_have_text(TEXT[lang]["voucher"])
                    page.click("#use-voucher")
                    _check_phone_layout(page)
                    page.fill("#code", "zzzz-zzzz")
                    page.check("#accept-voucher")
                    page.click("#submit-voucher")
                    expect(page.locator("#error")).to_contain_text(
                        "Kode voucher ini tidak dapat dipakai" if lang == "id" else "This voucher code cannot be used")
                    page.fill("#code", bed.codes[n + (0 if lang == "id" else 1)].lower())
                    page.check("#accept-voucher")
                    page.click("#submit-voucher")
                else:
                    page.click("#use-phone")
                    page.fill("#phone", "0812 3456 78" + f"{n}{ord(lang[0]) % 10}")
                    page.check("#accept-otp")
                    page.click("#send-code")
                    expect(page.locator("h1")).to_have_text(TEXT[lang]["verify"])
                    _check_phone_layout(page)
                    phone = "+62812345678" + f"{n}{ord(lang[0]) % 10}"
                    code = bed.sender.last_code(phone)
                    assert code, bed.sender.outbox
                    page.fill("#otp", code)
                    page.click("#verify")
                expect(page.locator("#ok")).to_have_text("You are logged in")
                first_router = hosts.index(bed.router)  # from here on the browser is at the router
                assert set(hosts[:first_router]) == {portal_host}, hosts
                login = FakeRouter.logins[-1]
                with bed.state.session_factory() as session:
                    if method == "voucher":
                        password = login["username"]
                    else:
                        grant = session.scalar(select(AccessGrant).where(AccessGrant.username == login["username"]))
                        assert grant is not None and grant.mac == mac
                        password = secret_box(session).decrypt(grant.password_encrypted)
                assert login["password"] == chap_password(CHAP_ID, password, CHAP_CHALLENGE)
                assert login["dst"] == "http://example.com/"
                context.close()
        finally:
            browser.close()
