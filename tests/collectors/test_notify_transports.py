"""'Kirim pesan uji' through transports stored in the database: a real SMTP server (aiosmtpd), a local Bot API
server and a local WhatsApp-style HTTP gateway, with secrets decrypted only on the way to the sender."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collectors.alerts import evaluate_alerts
from collectors.availability import Availability, record_availability
from collectors.notify.telegram import TelegramNotifier
from collectors.notify.transports import send_through
from netmgr.models import Alert, AuditLog, Device
from netmgr.models.alerts import AlertSeverity, TransportKind
from netmgr.schemas.alert_transports import AlertRouteCreate, AlertTransportCreate
from netmgr.security.permissions import SYSTEM
from netmgr.services import alert_transports as svc
from tests import factories
from tests.conftest import make_settings
from tests.netmgr.sms.test_http_gateway import TOKEN as GATEWAY_TOKEN
from tests.netmgr.sms.test_http_gateway import Gateway, gateway  # noqa: F401 - the local gateway fixture
from tests.servers.smtp import smtp_server
from tests.servers.telegram import bot_api_server

NOW = datetime(2026, 3, 2, 7, 5, tzinfo=UTC)  # 14:05 WIB
BOT_TOKEN = "123456:ABC-test-token"  # noqa: S105 - a fake token for the local Bot API
# Login without STARTTLS keeps the test server simple; aiosmtpd warns about that server setup, not about netmgr.
PLAIN_LOGIN = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


@PLAIN_LOGIN
def test_a_test_message_arrives_at_a_real_smtp_server_logged_in_with_the_stored_password(session: Session) -> None:
    with smtp_server(login=("netmgr", "sandi-smtp")) as box:
        transport = svc.create_transport(session, SYSTEM, AlertTransportCreate(
            name="Relay surel Diskominfo", kind=TransportKind.EMAIL, secret="sandi-smtp",
            config={"host": box.host, "port": box.port, "user": "netmgr", "sender": "netmgr@kotimkab.go.id",
                    "recipients": ["noc@kotimkab.go.id"]}))
        session.commit()
        results = svc.send_test(session, SYSTEM, transport.id, send=send_through, now=NOW, tz="Asia/Jakarta")
    assert [(r.recipient, r.ok, r.error) for r in results] == [("noc@kotimkab.go.id", True, "")]
    ((rcpts, mail),) = box.messages
    assert rcpts == ["noc@kotimkab.go.id"] and mail["Subject"] == "[netmgr] Pesan uji"
    body = mail.get_body()
    assert body is not None and "PESAN UJI" in body.get_content() and "14:05 WIB" in body.get_content()
    audit = session.query(AuditLog).filter(AuditLog.action == "test").one()
    assert "1 of 1 delivered" in audit.summary and "sandi-smtp" not in str(audit.after)


@PLAIN_LOGIN
def test_a_wrong_smtp_password_fails_the_test_with_the_reason_and_without_the_password(session: Session) -> None:
    with smtp_server(login=("netmgr", "sandi-smtp")) as box:
        transport = svc.create_transport(session, SYSTEM, AlertTransportCreate(
            name="Relay", kind=TransportKind.EMAIL, secret="salah-sandi",
            config={"host": box.host, "port": box.port, "user": "netmgr", "sender": "netmgr@kotimkab.go.id",
                    "recipients": ["noc@kotimkab.go.id"]}))
        (result,) = svc.send_test(session, SYSTEM, transport.id, send=send_through, now=NOW, tz="Asia/Jakarta")
    assert not result.ok and "SMTP" in result.error and "salah-sandi" not in result.error
    assert box.messages == []


def test_a_test_message_reaches_a_telegram_chat_through_the_configured_api_url(session: Session) -> None:
    with bot_api_server(BOT_TOKEN, {"-100123"}) as api:
        transport = svc.create_transport(session, SYSTEM, AlertTransportCreate(
            name="Grup NOC", kind=TransportKind.TELEGRAM, secret=BOT_TOKEN,
            config={"chat_ids": ["-100123"], "api_url": api.url}))
        (result,) = svc.send_test(session, SYSTEM, transport.id, send=send_through, now=NOW, tz="Asia/Jakarta")
        assert result.ok and "PESAN UJI" in api.texts("-100123")[0]


def test_a_test_message_goes_through_the_whatsapp_http_gateway_with_the_stored_token(
        session: Session, gateway: Gateway) -> None:  # noqa: F811 - the imported fixture
    transport = svc.create_transport(session, SYSTEM, AlertTransportCreate(
        name="WhatsApp NOC", kind=TransportKind.HTTP, secret=GATEWAY_TOKEN,
        config={"url": f"{gateway.url}/send", "recipients": ["081234567890", "0000"],
                "headers": {"Authorization": "{secret}", "Content-Type": "application/json"},
                "body": '{"target": "{msisdn}", "message": "{text}"}', "success_contains": '"status": true'}))
    results = svc.send_test(session, SYSTEM, transport.id, send=send_through, now=NOW, tz="Asia/Jakarta")
    assert [(r.recipient, r.ok) for r in results] == [("081234567890", True), ("0000", False)]
    assert GATEWAY_TOKEN not in results[1].error
    assert '"target": "081234567890"' in gateway.requests[0]["body"]
    assert "PESAN UJI" in gateway.requests[0]["body"]


def _set(session: Session, device: Device, up: bool, at: datetime) -> None:
    record_availability(session, device, Availability(up=up, tries=3, answered=3 if up else 0,
                                                      latency_ms=2.0 if up else None, uptime_s=100 if up else None,
                                                      error="" if up else "no SNMP answer"), now=at)
    session.commit()


def test_an_alert_goes_only_to_the_transports_its_routes_choose_and_not_to_the_environment_ones(
        session_factory: sessionmaker[Session], session: Session, tmp_path: Path) -> None:
    rules = make_settings(tmp_path / "rules", influx={"enabled": False})
    health, school = factories.agency(session, name="Dinas Kesehatan"), factories.agency(session, name="Disdik")
    site = factories.site(session, agency_id=health.id, name="Puskesmas Baamang")
    ap = factories.device(session, site_id=site.id, name="ap-puskesmas-01")
    _set(session, factories.device(session, site_id=site.id, name="router-puskesmas"), True, NOW)  # site stays up
    _set(session, ap, True, NOW - timedelta(hours=1))
    _set(session, ap, False, NOW)
    with bot_api_server(BOT_TOKEN, {"-100", "-200", "-999"}) as api, smtp_server() as box:
        def telegram(name: str, chat: str, route: AlertRouteCreate) -> None:
            t = svc.create_transport(session, SYSTEM, AlertTransportCreate(
                name=name, kind=TransportKind.TELEGRAM, secret=BOT_TOKEN,
                config={"chat_ids": [chat], "api_url": api.url}))
            svc.add_route(session, SYSTEM, t.id, route)

        telegram("Dinkes jam kerja", "-100", AlertRouteCreate(agency_id=health.id, min_severity=AlertSeverity.CRITICAL,
                                                             start="07:00", end="16:00"))
        telegram("Piket malam", "-200", AlertRouteCreate(start="16:00", end="07:00"))
        mail = svc.create_transport(session, SYSTEM, AlertTransportCreate(
            name="Surel Disdik", kind=TransportKind.EMAIL,
            config={"host": box.host, "port": box.port, "sender": "netmgr@kotimkab.go.id",
                    "recipients": ["it@disdik.kotimkab.go.id"]}))
        svc.add_route(session, SYSTEM, mail.id, AlertRouteCreate(agency_id=school.id))
        session.commit()
        environment = TelegramNotifier(token=BOT_TOKEN, chat_ids=["-999"], api_url=api.url)
        evaluate_alerts(session_factory, store=None, notifiers=[environment], settings=rules,
                        now=NOW + timedelta(seconds=120))  # past the hold-down, 14:07 WIB
        assert api.texts("-100") == ["🔴 PERANGKAT MATI: ap-puskesmas-01 (Puskesmas Baamang) tidak merespons "
                                     "sejak 14:05 WIB\nAlasan: SNMP: no SNMP answer pukul 14:05 WIB"]
        assert api.texts("-200") == [] and api.texts("-999") == []
    assert box.messages == []
    with session_factory() as s:
        alert = s.scalars(select(Alert)).one()
        assert [(n.channel, n.recipient, n.ok) for n in alert.notifications] == [("telegram", "-100", True)]
