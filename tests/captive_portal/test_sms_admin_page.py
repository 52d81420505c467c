"""The hotspot admin's SMS gateway page: credential shown only as set/not set, a test SMS through Kannel, audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.models import AuditLog
from netmgr.models.enums import Role
from netmgr.security.secrets import SecretBox
from netmgr.settings import PortalSettings, Settings, SmsSettings
from tests import factories
from tests.conftest import TEST_ENCRYPTION_KEY, make_settings
from tests.netmgr.web.helpers import login, signed_in_csrf
from tests.servers.kannel import PASSWORD, USERNAME, Kannel, fresh_phone


@pytest.fixture
def settings(tmp_path: Path, database_url: str, kannel: Kannel) -> Settings:
    sms = SmsSettings(kannel_url=kannel.sendsms_url, kannel_username=USERNAME, sender_id="DISKOMINFO",
                      secret_encrypted=SecretBox([TEST_ENCRYPTION_KEY]).encrypt(PASSWORD))
    return make_settings(tmp_path / "data", database_url, portal=PortalSettings(sms_sender="kannel"), sms=sms)


def _admin(client: TestClient, session: Session, role: Role = Role.OPERATOR) -> str:
    user = factories.user(session, role=role)
    assert login(client, user.username).status_code == 303
    return signed_in_csrf(client)


def test_page_says_the_credential_is_set_and_never_shows_it(client: TestClient, session: Session,
                                                          settings: Settings) -> None:
    _admin(client, session)
    page = client.get("/portal-admin/sms")
    assert page.status_code == 200
    assert "Gateway SMS" in page.text and 'id="credential">sudah diisi<' in page.text
    assert USERNAME in page.text and "DISKOMINFO" in page.text
    token = settings.sms.secret_encrypted.get_secret_value()
    assert PASSWORD not in page.text and token not in page.text


def test_test_sms_reaches_the_smsc_and_is_audited_with_the_number_masked(client: TestClient, session: Session,
                                                                        kannel: Kannel) -> None:
    csrf = _admin(client, session)
    typed, msisdn = fresh_phone()
    r = client.post("/portal-admin/sms/test", data={"csrf_token": csrf, "phone": typed})
    assert r.status_code == 200, r.text
    assert f"Gateway menerima SMS uji ke +62 812 •••• {typed[-4:]}." in r.text
    [(sender, _, text)] = kannel.received(msisdn)
    assert sender == "DISKOMINFO" and text.startswith("netmgr: SMS uji melalui gateway kannel.")
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "sms_test"))
    assert entry is not None and entry.summary == f"test SMS to +62 812 •••• {typed[-4:]} through kannel: taken"


def test_failed_test_sms_says_why_in_indonesian(client: TestClient, session: Session, kannel: Kannel) -> None:
    csrf = _admin(client, session)
    kannel.stop_smsc()
    try:
        r = client.post("/portal-admin/sms/test", data={"csrf_token": csrf, "phone": "0812-7100-0002"})
    finally:
        kannel.start_smsc()
    assert r.status_code == 502
    assert "Gateway tidak menerima SMS uji: Kannel at" in r.text and "queued the message" in r.text
    bad = client.post("/portal-admin/sms/test", data={"csrf_token": csrf, "phone": "12345"})
    assert bad.status_code == 422 and "Contoh: 0812" in bad.text


def test_finance_may_not_send_test_sms(client: TestClient, session: Session, kannel: Kannel) -> None:
    csrf = _admin(client, session, Role.FINANCE)
    typed, msisdn = fresh_phone()
    assert client.get("/portal-admin/sms").status_code == 403
    r = client.post("/portal-admin/sms/test", data={"csrf_token": csrf, "phone": typed})
    assert r.status_code == 403
    assert kannel.received(msisdn, wait_s=0.5) == []


def test_page_shows_that_the_gateway_is_failing(client: TestClient, session: Session) -> None:
    from datetime import UTC, datetime

    from netmgr.errors import SmsGatewayUnavailable
    from netmgr.services import sms_gateways

    sms_gateways.record_failure(session, error=SmsGatewayUnavailable("Kannel at 127.0.0.1:1 did not answer",
                                                                      gateway="kannel"), now=datetime.now(UTC))
    session.commit()
    _admin(client, session)
    page = client.get("/portal-admin/sms")
    assert 'id="sms-alert">Gateway sedang gagal: 🔴 GATEWAY SMS GAGAL: kannel tidak dapat dipakai (1 kali' in page.text
