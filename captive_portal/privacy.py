"""UU PDP for the citizens' data: find one person's data, export it, erase it, and purge what is past retention.

Admin page or CLI → ``export_person`` / ``erase_person`` (by device MAC or phone number, which is hashed
before it is looked up) → the database; ``purge_expired`` is the body of the nightly retention task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from captive_portal import sessions as hotspot_sessions
from captive_portal.gateways import validation
from captive_portal.login_methods.base import LoginRefused
from captive_portal.login_methods.otp import normalise_phone, phone_hash
from netmgr.errors import ValidationFailed
from netmgr.models import (
    AccessGrant,
    ConsentRecord,
    HotspotSession,
    LoginAttempt,
    OtpChallenge,
    Subscriber,
    SubscriberDevice,
)
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit
from netmgr.settings import Settings

LOGIN_ATTEMPT_RETENTION_DAYS = 7
"""Failed-login records exist only for the brute-force limits; a week is plenty."""


@dataclass
class Person:
    """What identifies one person's data: their devices' MACs and their subscriber rows."""

    macs: set[str] = field(default_factory=set)
    subscriber_ids: set[int] = field(default_factory=set)
    phone_hash: str | None = None

    @property
    def empty(self) -> bool:
        return not self.macs and not self.subscriber_ids


def find_person(session: Session, *, mac: str | None = None, phone: str | None = None,
                secret_key: str) -> Person:
    """Everything linked to a device address or a phone number (through subscribers and their devices).

    Raises:
        ValidationFailed: neither given, or not a MAC / Indonesian mobile number.
    """
    person = Person()
    if mac:
        person.macs.add(validation.mac_address(mac, field="mac"))
    if phone:
        try:
            person.phone_hash = phone_hash(normalise_phone(phone), secret_key)
        except LoginRefused as exc:
            raise ValidationFailed("not an Indonesian mobile number", field="phone") from exc
    if not person.macs and person.phone_hash is None:
        raise ValidationFailed("give a device MAC address or a phone number", field="mac")
    if person.phone_hash:
        person.subscriber_ids |= set(session.scalars(select(Subscriber.id).where(
            Subscriber.phone_hash == person.phone_hash)))
    if person.macs:
        person.subscriber_ids |= set(session.scalars(select(Subscriber.id).where(
            Subscriber.identity.in_([f"device:{m}" for m in person.macs]))))
        person.subscriber_ids |= {i for i in session.scalars(select(SubscriberDevice.subscriber_id).where(
            SubscriberDevice.mac.in_(person.macs))) if i is not None}
    if person.subscriber_ids:
        person.macs |= set(session.scalars(select(SubscriberDevice.mac).where(
            SubscriberDevice.subscriber_id.in_(person.subscriber_ids))))
    return person


def _session_filter(person: Person) -> Any:
    return or_(HotspotSession.mac.in_(person.macs), HotspotSession.subscriber_id.in_(person.subscriber_ids))


def export_person(session: Session, actor: Actor, *, mac: str | None = None, phone: str | None = None,
                  secret_key: str) -> dict[str, Any]:
    """Everything netmgr holds about one person, as plain JSON-ready data (their right of access)."""
    actor.require(Permission.PORTAL_MANAGE)
    person = find_person(session, mac=mac, phone=phone, secret_key=secret_key)
    subscribers = list(session.scalars(select(Subscriber).where(Subscriber.id.in_(person.subscriber_ids))))
    consents = list(session.scalars(select(ConsentRecord).where(or_(
        ConsentRecord.mac.in_(person.macs), ConsentRecord.subscriber_id.in_(person.subscriber_ids)))
        .order_by(ConsentRecord.accepted_at)))
    rows = list(session.scalars(select(HotspotSession).where(_session_filter(person))
                                .order_by(HotspotSession.started_at)))
    audit.record(session, actor, action="export", entity_type="portal_person",
                 message="portal_person.exported",
                 params={"devices": len(person.macs), "subscribers": len(subscribers)})
    return {
        "devices": sorted(person.macs),
        "subscribers": [{"id": s.id, "kind": s.kind, "identity": s.identity, "language": s.language,
                         "created_at": s.created_at.isoformat(), "erase_after": _iso(s.erase_after)}
                        for s in subscribers],
        "consents": [{"hotspot_id": c.hotspot_id, "mac": c.mac, "terms_version": c.terms_version,
                      "terms_version_id": c.terms_version_id,
                      "purpose": c.purpose, "language": c.language, "accepted_at": c.accepted_at.isoformat(),
                      "erase_after": _iso(c.erase_after)} for c in consents],
        "sessions": [{"hotspot_id": r.hotspot_id, "mac": r.mac, "ip": r.ip, "started_at": r.started_at.isoformat(),
                      "stopped_at": _iso(r.stopped_at), "input_octets": r.input_octets,
                      "output_octets": r.output_octets, "session_time_s": r.session_time_s} for r in rows],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def erase_person(session: Session, actor: Actor, *, mac: str | None = None, phone: str | None = None,
                 secret_key: str) -> dict[str, int]:
    """Delete one person's data everywhere (their right to erasure); returns how many rows went per kind."""
    actor.require(Permission.PORTAL_MANAGE)
    person = find_person(session, mac=mac, phone=phone, secret_key=secret_key)
    counts: dict[str, int] = {}

    def _delete(name: str, stmt: Any) -> None:
        counts[name] = int(session.execute(stmt).rowcount)  # type: ignore[attr-defined]

    macs, subs = person.macs, person.subscriber_ids
    _delete("sessions", delete(HotspotSession).where(_session_filter(person)))
    _delete("consent_records", delete(ConsentRecord).where(or_(ConsentRecord.mac.in_(macs),
                                                                ConsentRecord.subscriber_id.in_(subs))))
    _delete("grants", delete(AccessGrant).where(or_(AccessGrant.mac.in_(macs), AccessGrant.subscriber_id.in_(subs))))
    otp_where: list[Any] = [OtpChallenge.mac.in_(macs)]
    if person.phone_hash:
        otp_where.append(OtpChallenge.phone_hash == person.phone_hash)
    _delete("otp_challenges", delete(OtpChallenge).where(or_(*otp_where)))
    _delete("login_attempts", delete(LoginAttempt).where(LoginAttempt.mac.in_(macs)))
    _delete("devices", delete(SubscriberDevice).where(or_(SubscriberDevice.mac.in_(macs),
                                                           SubscriberDevice.subscriber_id.in_(subs))))
    _delete("subscribers", delete(Subscriber).where(Subscriber.id.in_(subs)))
    # The audit entry must not re-create what was erased: it names counts, never the MAC or the number.
    audit.record(session, actor, action="erase", entity_type="portal_person",
                 message="portal_person.erased", params={
                     "sessions": counts["sessions"], "consents": counts["consent_records"], "grants": counts["grants"],
                     "otps": counts["otp_challenges"], "attempts": counts["login_attempts"],
                     "devices": counts["devices"], "subscribers": counts["subscribers"]})
    return counts


def purge_expired(session: Session, settings: Settings, *, now: datetime) -> dict[str, int]:
    """The retention task's body: delete personal data older than ``portal.retention_days``."""
    return hotspot_sessions.purge_expired_data(session, now=now, session_retention_days=settings.portal.retention_days,
                                               attempt_retention_days=LOGIN_ATTEMPT_RETENTION_DAYS)
