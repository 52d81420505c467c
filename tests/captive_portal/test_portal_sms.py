"""OTP codes to real phones: the portal → Kannel (bearerbox + smsbox) → fakesmsc, and what a citizen sees when
the gateway fails (the other ways in, in their language) and what the operator sees (a counted alert)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from netmgr.models import OtpChallenge, PortalBudgetCounter
from netmgr.models.alerts import Alert, AlertKind, AlertState
from netmgr.security.secrets import SecretBox
from netmgr.settings import Environment, PortalSettings, Settings, SmsSettings
from tests.captive_portal import portal_support as ps
from tests.captive_portal.test_portal_pages import _arrive, _error
from tests.conftest import TEST_ENCRYPTION_KEY, make_settings
from tests.servers.kannel import GLOBAL_SENDER, PASSWORD, REFUSED_PREFIX, USERNAME, Kannel, fresh_phone, hung_gateway


@pytest.fixture
def settings(tmp_path: Path, database_url: str, kannel: Kannel) -> Settings:
    """The app sends OTP codes through the test Kannel, with its password stored encrypted."""
    sms = SmsSettings(kannel_url=kannel.sendsms_url, kannel_username=USERNAME, timeout_s=3.0,
                      secret_encrypted=SecretBox([TEST_ENCRYPTION_KEY]).encrypt(PASSWORD))
    return make_settings(tmp_path / "data", database_url, portal=PortalSettings(sms_sender="kannel"), sms=sms)


def test_otp_requested_in_the_portal_arrives_at_the_smsc_in_indonesian(client: TestClient, session: Session,
                                                                      kannel: Kannel) -> None:
    h = ps.hotspot(session)
    typed, msisdn = fresh_phone()
    csrf = _arrive(client, h.slug)
    r = client.post(f"/portal/{h.slug}/otp", data={"csrf_token": csrf, "phone": typed, "accept": "yes"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/portal/{h.slug}/otp/verify"
    [(sender, receiver, text)] = kannel.received(msisdn)
    assert (sender, receiver) == (GLOBAL_SENDER, msisdn)
    match = re.fullmatch(rf"{re.escape(h.name)}: kode WiFi Anda (\d{{6}})\. Berlaku 5 menit\. "
                         r"Jangan berikan ke orang lain\.", text)
    assert match, text
    r = client.post(f"/portal/{h.slug}/otp/verify", data={"csrf_token": csrf, "code": match.group(1)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("http://10.5.50.1/login?")


def test_dead_gateway_offers_the_other_methods_and_alerts_until_it_works_again(
        client: TestClient, session: Session, kannel: Kannel) -> None:
    h = ps.hotspot(session)
    typed, msisdn = fresh_phone()
    csrf = _arrive(client, h.slug)
    kannel.stop_smsc()
    try:
        r = client.post(f"/portal/{h.slug}/otp", data={"csrf_token": csrf, "phone": typed, "accept": "yes"})
        assert r.status_code == 503 and r.headers["retry-after"] == "60"
        assert _error(r.text) == ("SMS belum dapat dikirim saat ini. Silakan pakai cara login lain di bawah, atau "
                                  "coba lagi beberapa menit lagi.")
        assert 'id="other-methods"' in r.text and f'href="/portal/{h.slug}/voucher"' in r.text
        assert 'id="use-phone"' not in r.text
        # Nothing of the failed request stays: no challenge, no SMS counted against the budgets.
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(OtpChallenge)) == 0
        assert session.scalar(select(func.count()).select_from(PortalBudgetCounter)) == 0
        client.post(f"/portal/{h.slug}/otp", data={"csrf_token": csrf, "phone": typed, "accept": "yes"})
        alert = session.scalar(select(Alert).where(Alert.kind == AlertKind.SMS_GATEWAY))
        assert alert is not None and alert.state == AlertState.OPEN and alert.value == 2
        assert alert.message.startswith("🔴 GATEWAY SMS GAGAL: kannel tidak dapat dipakai (2 kali dalam jam ini)")
        assert PASSWORD not in alert.message
    finally:
        kannel.start_smsc()
    r = client.post(f"/portal/{h.slug}/otp", data={"csrf_token": csrf, "phone": typed, "accept": "yes"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert kannel.received(msisdn)
    session.expire_all()
    alert = session.scalar(select(Alert).where(Alert.kind == AlertKind.SMS_GATEWAY))
    assert alert is not None and alert.state == AlertState.RESOLVED


def test_number_the_gateway_refuses_is_explained_and_counts_against_the_source(client: TestClient, session: Session,
                                                                               kannel: Kannel) -> None:
    h = ps.hotspot(session)
    csrf = _arrive(client, h.slug)
    refused = "0" + REFUSED_PREFIX[2:] + "12345678"
    r = client.post(f"/portal/{h.slug}/otp", data={"csrf_token": csrf, "phone": refused, "accept": "yes"})
    assert r.status_code == 422 and "retry-after" not in r.headers
    assert _error(r.text) == ("Layanan SMS tidak menerima nomor ini. Periksa nomornya, atau pakai cara login lain di "
                              "bawah.")
    assert 'id="other-methods"' in r.text
    session.expire_all()
    counters = {c.budget: c.spent for c in session.scalars(select(PortalBudgetCounter))}
    assert counters == {"failures_source_hour": 1}
    alert = session.scalar(select(Alert).where(Alert.kind == AlertKind.SMS_GATEWAY))
    assert alert is not None and "kannel menolak nomor atau pesan (1 kali dalam jam ini)" in alert.message
    assert "12345678" not in alert.message


def test_english_page_explains_the_failure_in_english(client: TestClient, session: Session,
                                                      kannel: Kannel) -> None:
    h = ps.hotspot(session)
    typed, _ = fresh_phone()
    csrf = _arrive(client, h.slug, lang="en")
    kannel.stop_smsc()
    try:
        r = client.post(f"/portal/{h.slug}/otp", data={"csrf_token": csrf, "phone": typed, "accept": "yes"})
    finally:
        kannel.start_smsc()
    assert r.status_code == 503
    assert _error(r.text).startswith("We could not send the SMS right now.")
    assert "I have a voucher" in r.text


def test_console_sender_in_production_sends_nothing_and_offers_the_other_methods(tmp_path: Path,
                                                                                 database_url: str) -> None:
    from netmgr.entrypoints.capabilities import create_app
    from netmgr.state import AppState

    production = make_settings(tmp_path / "prod", database_url, portal=PortalSettings(sms_sender="console"))
    production = production.model_copy(update={"environment": Environment.PRODUCTION})
    state = AppState.build(production)
    try:
        with state.session_factory() as session:
            h = ps.hotspot(session)
            slug = h.slug
        with TestClient(create_app(production, state=state)) as client:
            csrf = _arrive(client, slug)
            typed, _ = fresh_phone()
            r = client.post(f"/portal/{slug}/otp", data={"csrf_token": csrf, "phone": typed, "accept": "yes"})
        assert r.status_code == 503 and 'id="other-methods"' in r.text
    finally:
        state.engine.dispose()


@pytest.mark.parametrize("sms_sender,secret", [("kannel", "not-a-fernet-token"), ("nexmo", "")])
def test_unusable_gateway_settings_give_the_citizen_the_other_methods_not_an_error(
        tmp_path: Path, database_url: str, sms_sender: str, secret: str) -> None:
    from netmgr.entrypoints.capabilities import create_app
    from netmgr.state import AppState

    broken = make_settings(tmp_path / "broken", database_url, portal=PortalSettings(sms_sender=sms_sender),
                           sms=SmsSettings(secret_encrypted=secret))
    state = AppState.build(broken)
    try:
        with state.session_factory() as session:
            slug = ps.hotspot(session).slug
        with TestClient(create_app(broken, state=state)) as client:
            csrf = _arrive(client, slug)
            r = client.post(f"/portal/{slug}/otp", data={"csrf_token": csrf, "phone": fresh_phone()[0],
                                                         "accept": "yes"})
        assert r.status_code == 503 and 'id="other-methods"' in r.text
        with state.session_factory() as session:
            alert = session.scalar(select(Alert).where(Alert.kind == AlertKind.SMS_GATEWAY))
            assert alert is not None and "settings cannot be used" in alert.message
    finally:
        state.engine.dispose()


def test_hung_gateway_never_hangs_the_portal_and_is_paused_after_failures_in_a_row(tmp_path: Path,
                                                                                   database_url: str) -> None:
    from netmgr.entrypoints.capabilities import create_app
    from netmgr.state import AppState

    with hung_gateway() as port:
        hung = make_settings(tmp_path / "hung", database_url, portal=PortalSettings(sms_sender="kannel"),
                             sms=SmsSettings(kannel_url=f"http://127.0.0.1:{port}/cgi-bin/sendsms", timeout_s=0.5,
                                             failures_before_pause=2, pause_s=60))
        state = AppState.build(hung)
        try:
            with state.session_factory() as session:
                slug = ps.hotspot(session).slug
            with TestClient(create_app(hung, state=state)) as client:
                csrf = _arrive(client, slug)
                took = []
                for _ in range(3):
                    started = time.monotonic()
                    r = client.post(f"/portal/{slug}/otp", data={"csrf_token": csrf, "phone": fresh_phone()[0],
                                                                 "accept": "yes"})
                    took.append(time.monotonic() - started)
                    assert r.status_code == 503 and 'id="other-methods"' in r.text
        finally:
            state.engine.dispose()
    assert all(0.4 < t < 2 for t in took[:2]), took  # bounded by the timeout
    assert took[2] < 0.3, took  # paused: no wait at all
