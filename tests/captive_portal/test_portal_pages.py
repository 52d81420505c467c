"""The citizens' portal pages through the app: each login method, plain refusals, limits, CSRF, languages."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from captive_portal import vouchers
from captive_portal.login_methods import ConsoleSmsSender
from netmgr.models import AccessGrant, ConsentRecord, HotspotSession, OtpChallenge, Subscriber, Voucher
from netmgr.models.hotspot import SessionStatus, VoucherStatus
from netmgr.models.portal import GatewayKind
from netmgr.security.permissions import SYSTEM
from tests.captive_portal import portal_support as ps

PHONE = "0812-3456-7890"


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form has no CSRF field"
    return match.group(1)


def _arrive(client: TestClient, slug: str, query: str | None = None, lang: str = "") -> str:
    """Follow the gateway redirect like a phone would; returns the welcome page's CSRF token."""
    r = client.get(f"/portal/{slug}/?{query or ps.mikrotik_query()}", follow_redirects=False)
    assert r.status_code == 303, r.text
    r = client.get(f"/portal/{slug}/" + (f"?lang={lang}" if lang else ""))
    assert r.status_code == 200
    return _csrf(r.text)


def _error(html: str) -> str:
    match = re.search(r'id="error">([^<]+)<', html)
    return match.group(1) if match else ""


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_click_through_sends_browser_back_to_router_with_a_one_time_grant(client: TestClient,
                                                                          session: Session) -> None:
    h = ps.hotspot(session)
    csrf = _arrive(client, h.slug)
    r = client.post(f"/portal/{h.slug}/terms", data={"csrf_token": csrf, "accept": "yes"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("http://10.5.50.1/login?")
    q = _query(r.headers["location"])
    grant = session.scalar(select(AccessGrant).where(AccessGrant.username == q["username"]))
    assert grant is not None and grant.mac == ps.CLIENT_MAC and grant.hotspot_id == h.id
    assert re.fullmatch(r"[0-9a-f]{32}", q["password"])  # CHAP hash, never the password itself
    consent = session.scalar(select(ConsentRecord).where(ConsentRecord.hotspot_id == h.id))
    assert consent is not None and consent.terms_version == "2026-01" and consent.erase_after is not None


def test_click_through_without_ticking_consent_is_refused(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    csrf = _arrive(client, h.slug)
    r = client.post(f"/portal/{h.slug}/terms", data={"csrf_token": csrf})
    assert r.status_code == 403
    assert _error(r.text) == "Centang kotak persetujuan terlebih dahulu."


def test_second_free_session_on_the_same_day_is_refused(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    csrf = _arrive(client, h.slug)
    first = client.post(f"/portal/{h.slug}/terms", data={"csrf_token": csrf, "accept": "yes"},
                        follow_redirects=False)
    username = _query(first.headers["location"])["username"]
    grant = session.scalar(select(AccessGrant).where(AccessGrant.username == username))
    assert grant is not None
    grant.used_at = ps.now()  # the router logged in with it
    session.commit()
    r = client.post(f"/portal/{h.slug}/terms", data={"csrf_token": csrf, "accept": "yes"})
    assert r.status_code == 403
    assert "Sesi gratis hari ini" in _error(r.text)


def test_post_without_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    _arrive(client, h.slug)
    r = client.post(f"/portal/{h.slug}/terms", data={"accept": "yes"})
    assert r.status_code == 403
    assert session.scalar(select(func.count()).select_from(AccessGrant)) == 0


def test_login_without_a_gateway_redirect_explains_how_to_reconnect(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    page = client.get(f"/portal/{h.slug}/")
    assert 'id="no-gateway"' in page.text
    r = client.post(f"/portal/{h.slug}/terms", data={"csrf_token": _csrf(page.text), "accept": "yes"})
    assert r.status_code == 403
    assert "Putuskan WiFi" in _error(r.text)


def test_redirect_to_an_unregistered_router_is_refused(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    r = client.get(f"/portal/{h.slug}/?{ps.mikrotik_query(host='evil.example')}", follow_redirects=False)
    assert r.status_code == 400
    assert "evil.example" not in r.text


def _batch(session: Session, hotspot_id: int, policy_id: int, count: int = 3, **kw: object) -> list[str]:
    batch = vouchers.create_batch(session, SYSTEM, name="Acara alun-alun", policy_id=policy_id, count=count,
                                  hotspot_id=hotspot_id, **kw)  # type: ignore[arg-type]
    session.commit()
    return [v.code for v in batch.vouchers]


def test_voucher_login_hands_the_code_to_the_router_and_starts_its_lifetime(client: TestClient,
                                                                            session: Session) -> None:
    pol = ps.policy(session, voucher_lifetime_s=7200)
    h = ps.hotspot(session, policy_row=pol)
    code = _batch(session, h.id, pol.id)[0]
    csrf = _arrive(client, h.slug, ps.mikrotik_query(chap=False))
    typed = f"{code[:4].lower()}-{code[4:].lower()}"
    r = client.post(f"/portal/{h.slug}/voucher", data={"csrf_token": csrf, "code": typed, "accept": "yes"},
                    follow_redirects=False)
    assert r.status_code == 303, _error(r.text)
    assert _query(r.headers["location"])["username"] == code
    session.expire_all()
    voucher = session.scalar(select(Voucher).where(Voucher.code == code))
    assert voucher is not None and voucher.status == VoucherStatus.ACTIVE and voucher.expires_at is not None


def test_voucher_for_one_device_is_refused_on_a_second_device_while_in_use(client: TestClient,
                                                                          session: Session) -> None:
    pol = ps.policy(session, max_devices=1)
    h = ps.hotspot(session, policy_row=pol)
    code = _batch(session, h.id, pol.id, count=1)[0]
    voucher = session.scalar(select(Voucher).where(Voucher.code == code))
    assert voucher is not None
    session.add(HotspotSession(hotspot_id=h.id, nas_device_id=h.gateway_device_id, acct_session_id="a1",
                               username=code, mac="02:00:00:00:00:01", voucher_id=voucher.id,
                               status=SessionStatus.ACTIVE))
    session.commit()
    csrf = _arrive(client, h.slug)
    r = client.post(f"/portal/{h.slug}/voucher", data={"csrf_token": csrf, "code": code, "accept": "yes"})
    assert r.status_code == 403
    assert _error(r.text) == "Voucher ini sedang dipakai di perangkat lain"


def test_guessing_vouchers_is_stopped_after_five_failures(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    csrf = _arrive(client, h.slug)
    for i in range(5):
        r = client.post(f"/portal/{h.slug}/voucher", data={"csrf_token": csrf, "code": f"WRONG{i}", "accept": "yes"})
        assert _error(r.text).startswith("Kode voucher ini tidak dapat dipakai.")
    r = client.post(f"/portal/{h.slug}/voucher", data={"csrf_token": csrf, "code": "WRONG9", "accept": "yes"})
    assert r.status_code == 429
    assert r.headers["retry-after"] == "300"
    assert _error(r.text) == "Terlalu banyak percobaan, coba lagi dalam 5 menit"


def _sender(client: TestClient) -> ConsoleSmsSender:
    sender = ConsoleSmsSender()
    client.app.state.captive_portal_sms = sender  # type: ignore[attr-defined]
    return sender


def test_phone_otp_login_stores_only_a_hash_of_the_number(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    sender = _sender(client)
    csrf = _arrive(client, h.slug)
    r = client.post(f"/portal/{h.slug}/otp", data={"csrf_token": csrf, "phone": PHONE, "accept": "yes"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{h.slug}/otp/verify"
    page = client.get(r.headers["location"])
    assert "+62 812 •••• 7890" in page.text
    code = sender.last_code("+6281234567890")
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    bad = client.post(f"/portal/{h.slug}/otp/verify", data={"csrf_token": csrf, "code": wrong})
    assert bad.status_code == 403 and _error(bad.text) == "Kode salah. Periksa SMS lalu coba lagi."
    r = client.post(f"/portal/{h.slug}/otp/verify", data={"csrf_token": csrf, "code": code}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("http://10.5.50.1/login?")
    subscriber = session.scalar(select(Subscriber).where(Subscriber.kind == "phone_otp"))
    assert subscriber is not None and subscriber.phone_hash and len(subscriber.phone_hash) == 64
    stored = " ".join([*(f"{s.identity} {s.phone_hash}" for s in session.scalars(select(Subscriber))),
                       *session.scalars(select(OtpChallenge.code_hash))])
    assert "81234567890" not in stored and code not in stored


def test_otp_codes_per_phone_are_rate_limited(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    _sender(client)
    csrf = _arrive(client, h.slug)
    for _ in range(3):
        r = client.post(f"/portal/{h.slug}/otp", data={"csrf_token": csrf, "phone": PHONE, "accept": "yes"},
                        follow_redirects=False)
        assert r.status_code == 303
    r = client.post(f"/portal/{h.slug}/otp", data={"csrf_token": csrf, "phone": PHONE, "accept": "yes"})
    assert r.status_code == 429
    assert "Terlalu banyak kode" in _error(r.text)


def test_invalid_phone_number_is_explained(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    _sender(client)
    csrf = _arrive(client, h.slug)
    r = client.post(f"/portal/{h.slug}/otp", data={"csrf_token": csrf, "phone": "12345", "accept": "yes"})
    assert r.status_code == 403 and "Contoh: 0812" in _error(r.text)


def test_english_is_offered_and_remembered(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    _arrive(client, h.slug)
    r = client.get(f"/portal/{h.slug}/?lang=en")
    assert '<html lang="en">' in r.text and "I have a voucher" in r.text
    again = client.get(f"/portal/{h.slug}/voucher")
    assert '<html lang="en">' in again.text and "Enter your voucher" in again.text
    r = client.get(f"/portal/{h.slug}/?lang=id")
    assert '<html lang="id">' in r.text and "Saya punya voucher" in r.text


def test_opennds_terms_login_redirects_to_opennds_auth_with_token(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session, kind=GatewayKind.OPENNDS)
    csrf = _arrive(client, h.slug, f"fas={ps.fas_param()}")
    r = client.post(f"/portal/{h.slug}/terms", data={"csrf_token": csrf, "accept": "yes"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("http://192.168.201.1:2050/opennds_auth/?tok=")
    grant = session.scalar(select(AccessGrant))
    assert grant is not None and grant.used_at is not None  # openNDS lets the device in without RADIUS


def test_status_shows_time_and_data_left_of_the_running_session(client: TestClient, session: Session) -> None:
    pol = ps.policy(session, device_daily_bytes=500_000_000)
    h = ps.hotspot(session, policy_row=pol)
    _arrive(client, h.slug)
    # The gateway reported the address netmgr sees this browser at ("testclient" under TestClient).
    session.add(HotspotSession(hotspot_id=h.id, nas_device_id=h.gateway_device_id, acct_session_id="s1",
                               mac=ps.CLIENT_MAC, ip="testclient", status=SessionStatus.ACTIVE,
                               session_time_s=600, allowance_time_s=3600, input_octets=50_000_000,
                               output_octets=150_000_000, allowance_bytes=500_000_000))
    session.commit()
    r = client.get(f"/portal/{h.slug}/status")
    assert "Anda sudah tersambung" in r.text
    assert re.search(r'id="time-left">0 jam 50 menit<', r.text)
    assert re.search(r'id="data-left">300 MB<', r.text)


def test_status_ignores_a_forged_mac_in_the_redirect(client: TestClient, session: Session) -> None:
    """Another citizen's MAC in the gateway parameters must not show that citizen's session on this browser."""
    pol = ps.policy(session, device_daily_bytes=500_000_000)
    h = ps.hotspot(session, policy_row=pol)
    session.add(HotspotSession(hotspot_id=h.id, nas_device_id=h.gateway_device_id, acct_session_id="other",
                               mac=ps.CLIENT_MAC, ip="10.5.50.77", status=SessionStatus.ACTIVE,
                               session_time_s=600, allowance_time_s=3600, input_octets=50_000_000,
                               output_octets=150_000_000, allowance_bytes=500_000_000))
    session.commit()
    _arrive(client, h.slug)  # the redirect carries ps.CLIENT_MAC, the MAC of the session above
    r = client.get(f"/portal/{h.slug}/status")
    assert r.status_code == 200
    assert "Anda sudah tersambung" not in r.text
    # What a fresh login here would get (the policy's full day), not what the other device has left.
    assert re.search(r'id="time-left">1 jam 0 menit<', r.text), r.text
    assert re.search(r'id="data-left">500 MB<', r.text)


def test_captive_api_finds_the_client_by_the_address_its_gateway_reported(client: TestClient,
                                                                          session: Session) -> None:
    h = ps.hotspot(session, branding={"venue_info_url": "https://kotimkab.go.id/taman-kota"})
    session.add(HotspotSession(hotspot_id=h.id, nas_device_id=h.gateway_device_id, acct_session_id="s1",
                               mac=ps.CLIENT_MAC, ip="testclient", status=SessionStatus.ACTIVE,
                               session_time_s=600, allowance_time_s=3600, input_octets=50_000_000,
                               output_octets=150_000_000, allowance_bytes=500_000_000))
    session.commit()
    api = client.get(f"/portal/api/captive/{h.slug}")
    assert api.headers["content-type"] == "application/captive+json"
    assert api.headers["cache-control"] == "private, no-store"
    assert api.json() == {"captive": False, "user-portal-url": f"http://127.0.0.1:8000/portal/{h.slug}/",
                          "venue-info-url": "https://kotimkab.go.id/taman-kota",
                          "seconds-remaining": 3000, "bytes-remaining": 300_000_000, "can-extend-session": False}


def test_captive_api_ignores_the_mac_a_browser_brings_in_the_redirect(client: TestClient, session: Session) -> None:
    """Another device's MAC in the gateway parameters must not reveal that device's session (or free this one)."""
    h = ps.hotspot(session)
    session.add(HotspotSession(hotspot_id=h.id, nas_device_id=h.gateway_device_id, acct_session_id="other",
                               mac=ps.CLIENT_MAC, ip="10.5.50.77", status=SessionStatus.ACTIVE,
                               session_time_s=60, allowance_time_s=3600))
    session.commit()
    _arrive(client, h.slug)  # the redirect carries ps.CLIENT_MAC, the MAC of the session above
    api = client.get(f"/portal/api/captive/{h.slug}")
    assert api.json() == {"captive": True, "user-portal-url": f"http://127.0.0.1:8000/portal/{h.slug}/"}
    assert client.get("/portal/api/captive/nowhere").status_code == 404


def test_captive_api_and_probes_say_captive_before_login(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    assert client.get(f"/portal/api/captive/{h.slug}").json()["captive"] is True
    r = client.get("/generate_204", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == "/portal/"
    assert client.get("/portal/", follow_redirects=False).headers["location"] == f"/portal/{h.slug}/"


def test_probe_answers_success_for_a_device_with_an_open_session(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    session.add(HotspotSession(hotspot_id=h.id, nas_device_id=h.gateway_device_id, acct_session_id="p1",
                               mac=ps.CLIENT_MAC, ip="testclient", status=SessionStatus.ACTIVE))
    session.commit()
    assert client.get("/generate_204").status_code == 204
    assert "Success" in client.get("/hotspot-detect.html").text


def test_unknown_hotspot_is_a_friendly_404(client: TestClient, session: Session) -> None:
    r = client.get("/portal/nowhere/")
    assert r.status_code == 404 and "Hotspot tidak ditemukan" in r.text


@pytest.mark.parametrize("path", ["", "voucher", "otp", "terms", "privacy"])
def test_pages_are_small_accessible_and_self_contained(client: TestClient, session: Session, path: str) -> None:
    h = ps.hotspot(session, branding={"primary_color": "#ffff00", "title": "Sampit Free WiFi"})
    _arrive(client, h.slug)
    r = client.get(f"/portal/{h.slug}/{path}")
    css = client.get("/portal/static/portal.css")
    assert len(r.content) + len(css.content) < 100_000
    assert '<html lang="id">' in r.text
    assert "<script" not in r.text
    assert not re.search(r'(?:src|href)="(?:https?:)?//', r.text), "every asset must come from the portal host"
    for field_id in re.findall(r'<input[^>]+id="([^"]+)"', r.text):
        if 'type="hidden"' not in field_id:
            assert f'for="{field_id}"' in r.text, f"input {field_id} has no label"
    assert "--on-brand:#1a1a1a" in r.text  # yellow brand colour gets dark text, not white
    assert "min-height:48px" in css.text


def test_retention_purges_old_consent_records(client: TestClient, session: Session) -> None:
    from captive_portal import privacy
    from netmgr.settings import Settings

    h = ps.hotspot(session)
    csrf = _arrive(client, h.slug)
    client.post(f"/portal/{h.slug}/terms", data={"csrf_token": csrf, "accept": "yes"}, follow_redirects=False)
    settings: Settings = client.app.state.netmgr.settings  # type: ignore[attr-defined]
    later = ps.now() + timedelta(days=settings.portal.retention_days + 2)
    counts = privacy.purge_expired(session, settings, now=later)
    session.commit()
    assert counts["consent_records"] == 1 and counts["subscribers"] == 1
    assert session.scalar(select(func.count()).select_from(ConsentRecord)) == 0


def test_a_cards_qr_link_fills_in_the_code_and_still_needs_connect(client: TestClient, session: Session) -> None:
    pol = ps.policy(session, voucher_lifetime_s=7200)
    h = ps.hotspot(session, policy_row=pol)
    code = _batch(session, h.id, pol.id, count=1)[0]
    csrf = _arrive(client, h.slug, ps.mikrotik_query(chap=False))
    page = client.get(f"/portal/{h.slug}/voucher?code={code.lower()}")
    assert page.status_code == 200
    assert f'value="{vouchers.display_code(code)}"' in page.text
    # Opening the link tries nothing: the voucher is still unused until the citizen presses Connect.
    session.expire_all()
    assert session.scalar(select(Voucher.status).where(Voucher.code == code)) == VoucherStatus.UNUSED
    r = client.post(f"/portal/{h.slug}/voucher", data={"csrf_token": csrf, "code": vouchers.display_code(code),
                                                       "accept": "yes"}, follow_redirects=False)
    assert r.status_code == 303 and _query(r.headers["location"])["username"] == code


@pytest.mark.parametrize("junk", ['"><script>alert(1)</script>', "0OIL1xyz", "K" * 40, ""])
def test_a_link_with_something_else_than_a_code_leaves_the_field_empty(client: TestClient, session: Session,
                                                                      junk: str) -> None:
    h = ps.hotspot(session)
    session.commit()
    page = client.get(f"/portal/{h.slug}/voucher", params={"code": junk})
    assert page.status_code == 200 and 'name="code" value=""' in page.text and "<script>alert" not in page.text


def test_a_card_valid_on_every_hotspot_opens_the_only_hotspots_voucher_page(client: TestClient,
                                                                           session: Session) -> None:
    h = ps.hotspot(session)
    session.commit()
    r = client.get("/portal/?code=k7m2-qx9p", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == f"/portal/{h.slug}/voucher?code=K7M2-QX9P"


def test_captive_api_and_probes_find_the_client_through_an_index(session: Session) -> None:
    """Phones ask the API and the probes often; the session table keeps months of history per hotspot."""
    from captive_portal import portal as portal_service

    h = ps.hotspot(session)
    if session.get_bind().dialect.name != "sqlite":
        assert portal_service.captive_state(session, hotspot_id=h.id, client_ip="10.5.50.9").captive
        return
    from sqlalchemy import event

    plans: list[str] = []

    def explain(conn: object, cursor: object, statement: str, parameters: object, context: object,
                executemany: bool) -> None:
        if "FROM hotspot_sessions" in statement and statement.lstrip().upper().startswith("SELECT"):
            rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            plans.append(" ".join(str(r[-1]) for r in rows))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", explain)
    try:
        portal_service.captive_state(session, hotspot_id=h.id, client_ip="10.5.50.9")
        portal_service.online_by_ip(session, "10.5.50.9")
    finally:
        event.remove(engine, "before_cursor_execute", explain)
    assert len(plans) == 2 and all("ix_hotspot_sessions_ip_status" in plan for plan in plans), plans
