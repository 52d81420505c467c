"""UU PDP: one person's data can be exported and erased, by device address or by phone number."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from captive_portal import privacy
from captive_portal.login_methods import LoginContext, login_with_terms, request_otp, verify_otp
from captive_portal.login_methods.otp import ConsoleSmsSender
from netmgr.models import AccessGrant, AuditLog, ConsentRecord, HotspotSession, PortalConfig, Subscriber
from netmgr.models.hotspot import SessionStatus
from netmgr.security.permissions import SYSTEM
from netmgr.settings import PortalSettings
from tests.captive_portal import portal_support as ps

KEY = "test-secret"
OTHER_MAC = "02:AA:BB:CC:DD:EE"


def _ctx(session: Session, hotspot_id: int, mac: str) -> LoginContext:
    from netmgr.models import Hotspot

    hotspot = session.get(Hotspot, hotspot_id)
    config = session.scalar(select(PortalConfig).where(PortalConfig.hotspot_id == hotspot_id))
    assert hotspot is not None and config is not None
    return LoginContext(hotspot=hotspot, config=config, portal=PortalSettings(), mac=mac, ip="10.5.50.9",
                        language="id", now=ps.now(), timezone="Asia/Jakarta")


def test_erasing_by_phone_removes_that_person_and_keeps_others(session: Session) -> None:
    h = ps.hotspot(session)
    sender = ConsoleSmsSender()
    sent = request_otp(session, _ctx(session, h.id, ps.CLIENT_MAC), "081234567890", sender=sender, secret_key=KEY)
    code = sender.last_code("+6281234567890")
    assert code
    verify_otp(session, _ctx(session, h.id, ps.CLIENT_MAC), sent.challenge_id, code, secret_key=KEY)
    login_with_terms(session, _ctx(session, h.id, OTHER_MAC))
    session.add(HotspotSession(hotspot_id=h.id, nas_device_id=h.gateway_device_id, acct_session_id="x1",
                               mac=ps.CLIENT_MAC, status=SessionStatus.CLOSED, output_octets=1234))
    session.commit()

    exported = privacy.export_person(session, SYSTEM, phone="+62 812-3456-7890", secret_key=KEY)
    assert exported["devices"] == [ps.CLIENT_MAC]
    assert [c["terms_version"] for c in exported["consents"]] == ["2026-01"]
    assert exported["sessions"][0]["output_octets"] == 1234
    assert "81234567890" not in str(exported)

    counts = privacy.erase_person(session, SYSTEM, phone="081234567890", secret_key=KEY)
    session.commit()
    assert counts["subscribers"] == 1 and counts["sessions"] == 1 and counts["consent_records"] == 1
    remaining_macs = set(session.scalars(select(ConsentRecord.mac)))
    assert remaining_macs == {OTHER_MAC}
    assert session.scalar(select(func.count()).select_from(AccessGrant).where(AccessGrant.mac == ps.CLIENT_MAC)) == 0
    assert session.scalar(select(func.count()).select_from(Subscriber)) == 1
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "erase"))
    assert entry is not None and ps.CLIENT_MAC not in entry.summary


def test_erasing_by_mac_finds_the_click_through_subscriber(session: Session) -> None:
    h = ps.hotspot(session)
    login_with_terms(session, _ctx(session, h.id, ps.CLIENT_MAC))
    session.commit()
    counts = privacy.erase_person(session, SYSTEM, mac=ps.CLIENT_MAC.lower(), secret_key=KEY)
    session.commit()
    assert counts["subscribers"] == 1 and counts["consent_records"] == 1 and counts["grants"] == 1
