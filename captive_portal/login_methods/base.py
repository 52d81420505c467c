"""What every login method shares: refusals with a plain reason, brute-force limits, consent and grants.

A page handler builds a ``LoginContext`` (hotspot, device, language, clock) and calls one login method;
the method returns ``LoginResult`` (the credentials the gateway will present) or raises ``LoginRefused``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Protocol, cast

from sqlalchemy import Executable, Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from captive_portal import aaa, budgets
from captive_portal import sessions as hotspot_sessions
from captive_portal.gateways import Credentials
from captive_portal.policies import PolicyLimits, Refusal, RefusalCode, Usage, grant_for
from netmgr import localtime
from netmgr.db import secret_box
from netmgr.errors import NetmgrError
from netmgr.models import AccessGrant, ConsentRecord, HotspotPolicy, HotspotSession, Subscriber, SubscriberDevice
from netmgr.models.hotspot import LoginMethod
from netmgr.settings import PortalSettings


class RefusalReason(StrEnum):
    """Why the portal said no; each has a plain-language message in the portal's catalogs."""

    VOUCHER_INVALID = "voucher_invalid"
    """What the citizen is told for every code that does not let them in now (unknown, used, expired, revoked,
    another hotspot's): telling them apart would tell a guesser which codes exist. The attempt row keeps
    the precise reason below for the operator."""
    VOUCHER_UNKNOWN = "voucher_unknown"
    VOUCHER_USED = "voucher_used"
    VOUCHER_EXPIRED = "voucher_expired"
    VOUCHER_REVOKED = "voucher_revoked"
    VOUCHER_WRONG_HOTSPOT = "voucher_wrong_hotspot"
    TOO_MANY_DEVICES = "too_many_devices"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    FREE_SESSION_USED = "free_session_used"
    QUOTA_USED = "quota_used"
    PHONE_INVALID = "phone_invalid"
    OTP_WRONG = "otp_wrong"
    OTP_EXPIRED = "otp_expired"
    OTP_TOO_MANY_SMS = "otp_too_many_sms"
    SMS_UNAVAILABLE = "sms_unavailable"
    """The hotspot's or the installation's SMS budget is spent for now: other methods still work."""
    VOUCHERS_PAUSED = "vouchers_paused"
    """The hotspot took its ceiling of wrong voucher codes this hour: voucher login waits, others work."""
    CONSENT_MISSING = "consent_missing"
    METHOD_DISABLED = "method_disabled"
    NO_GATEWAY = "no_gateway"
    HOTSPOT_CLOSED = "hotspot_closed"


_TOO_MANY = frozenset({RefusalReason.TOO_MANY_ATTEMPTS, RefusalReason.OTP_TOO_MANY_SMS,
                       RefusalReason.SMS_UNAVAILABLE, RefusalReason.VOUCHERS_PAUSED})


class LoginRefused(NetmgrError):
    """A citizen's login was refused for ``reason`` (shown to them in plain language, never a stack trace)."""

    http_status = 403

    def __init__(self, reason: RefusalReason, *, retry_after_s: int | None = None) -> None:
        super().__init__(f"login refused: {reason.value}")
        self.reason = reason
        self.retry_after_s = retry_after_s
        if reason in _TOO_MANY:
            self.http_status = 429


class HotspotFacts(Protocol):
    """What a login method reads about the hotspot: a ``Hotspot`` row or the portal's cached snapshot."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def login_methods(self) -> Sequence[str] | None: ...
    @property
    def terms_version(self) -> str: ...
    @property
    def default_policy_id(self) -> int | None: ...


class PortalFacts(Protocol):
    """What a login method reads about the hotspot's portal configuration (a ``PortalConfig`` or snapshot)."""

    @property
    def free_logins_per_day(self) -> int: ...


@dataclass(frozen=True)
class PolicySnapshot:
    """A ``HotspotPolicy`` as plain values: its id and limits (e.g. 1 hour a day at 5/2 Mbps)."""

    id: int
    limits: PolicyLimits

    @classmethod
    def of(cls, policy: HotspotPolicy) -> PolicySnapshot:
        return cls(id=policy.id, limits=PolicyLimits.of(policy))


@dataclass(frozen=True)
class LoginContext:
    """One citizen device at one hotspot, as the gateway described it and the portal validated it.

    ``policy`` is the hotspot's default policy when the caller already has it (the portal's snapshot);
    None reads it from the database when a login method needs it. ``mac`` and ``ip`` come from the gateway
    redirect (the browser can change them); ``source_ip`` is the HTTP client netmgr saw and ``gateway_hosts``
    the hotspot's registered gateways, for the budgets a client cannot dodge (``captive_portal.budgets``).
    """

    hotspot: HotspotFacts
    config: PortalFacts
    portal: PortalSettings
    mac: str
    ip: str
    language: str
    now: datetime
    timezone: str
    """The installation's zone (``Settings.timezone``): daily allowances reset at its midnight."""
    accepted_terms: bool = True
    policy: PolicySnapshot | None = None
    source_ip: str = ""
    gateway_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoginResult:
    """A successful login: what the gateway presents to RADIUS and whose login it is."""

    method: LoginMethod
    credentials: Credentials
    subscriber_id: int
    policy_id: int
    voucher_id: int | None = None


def require_method(ctx: LoginContext, method: LoginMethod) -> None:
    if not ctx.hotspot.enabled:
        raise LoginRefused(RefusalReason.HOTSPOT_CLOSED)
    if method.value not in (ctx.hotspot.login_methods or ()):
        raise LoginRefused(RefusalReason.METHOD_DISABLED)
    if not ctx.accepted_terms:
        raise LoginRefused(RefusalReason.CONSENT_MISSING)


def check_attempts(session: Session, ctx: LoginContext) -> None:
    """Refuse while this device, this IP or this source address made too many failed attempts lately.

    The device and IP are what the gateway redirect says (a pause for an honest device); the source address
    is what netmgr saw, which rotating the redirect's parameters does not change.
    """
    exhausted = budgets.failure_refusal(session, ctx)
    if exhausted is not None:
        raise LoginRefused(RefusalReason.TOO_MANY_ATTEMPTS, retry_after_s=exhausted.retry_after_s)
    window = timedelta(seconds=ctx.portal.lockout_s)
    by_mac, by_ip = hotspot_sessions.count_failures(session, mac=ctx.mac, ip=ctx.ip, since=ctx.now - window)
    # Many phones share one public IP only behind carrier NAT; at a hotspot every device has its own, so the
    # IP limit is a few times looser than the MAC limit to survive MAC randomisation without locking a crowd out.
    if by_mac >= ctx.portal.max_failed_attempts or by_ip >= ctx.portal.max_failed_attempts * 4:
        raise LoginRefused(RefusalReason.TOO_MANY_ATTEMPTS, retry_after_s=ctx.portal.lockout_s)


_VOUCHER_REASONS = frozenset({RefusalReason.VOUCHER_INVALID, RefusalReason.VOUCHER_UNKNOWN,
                              RefusalReason.VOUCHER_USED, RefusalReason.VOUCHER_EXPIRED,
                              RefusalReason.VOUCHER_REVOKED, RefusalReason.VOUCHER_WRONG_HOTSPOT})


def record_failure(session: Session, ctx: LoginContext, *, username: str, reason: RefusalReason) -> None:
    """Count a failed attempt for the brute-force limits (and a wrong voucher code for the hotspot's ceiling).

    Successes are not written here: the limits count failures only, and the gateway's RADIUS post-auth
    records the login that follows, so a successful portal login costs no extra row.
    """
    hotspot_sessions.record_attempt(session, hotspot_id=ctx.hotspot.id, username=username, mac=ctx.mac,
                                    ip=ctx.ip, success=False, reason=reason.value, now=ctx.now)
    budgets.count_failure(session, ctx, voucher=reason in _VOUCHER_REASONS)


def default_policy(session: Session, ctx: LoginContext) -> PolicySnapshot:
    """The hotspot's free policy (from the context when the portal has it, else from the database).

    Raises:
        LoginRefused: the hotspot has none, so only vouchers get in.
    """
    if ctx.policy is not None:
        return ctx.policy
    policy = session.get(HotspotPolicy, ctx.hotspot.default_policy_id) if ctx.hotspot.default_policy_id else None
    if policy is None:
        raise LoginRefused(RefusalReason.METHOD_DISABLED)
    return PolicySnapshot.of(policy)


def erase_after(ctx: LoginContext) -> datetime:
    return ctx.now + timedelta(days=ctx.portal.retention_days)


# --- the login's writes, as Core statements built once (a login is a handful of cached statements) ----------

_SUBSCRIBERS = cast(Table, Subscriber.__table__)
_DEVICES = cast(Table, SubscriberDevice.__table__)
_CONSENTS = cast(Table, ConsentRecord.__table__)
_GRANTS = cast(Table, AccessGrant.__table__)


@lru_cache(maxsize=4)
def _upserts(dialect: str) -> tuple[Executable, Executable]:
    """``(subscriber, device)`` upserts for ``dialect``: one statement each instead of a read and a write."""
    sub: SqliteInsert | PgInsert
    dev: SqliteInsert | PgInsert
    if dialect == "sqlite":
        sub, dev = sqlite_insert(_SUBSCRIBERS), sqlite_insert(_DEVICES)
    elif dialect == "postgresql":
        sub, dev = pg_insert(_SUBSCRIBERS), pg_insert(_DEVICES)
    else:
        raise RuntimeError(f"the portal supports SQLite and PostgreSQL, not {dialect}")
    subscriber = sub.on_conflict_do_update(
        index_elements=[_SUBSCRIBERS.c.identity],
        set_={"last_seen_at": sub.excluded.last_seen_at, "language": sub.excluded.language,
              "erase_after": sub.excluded.erase_after}).returning(_SUBSCRIBERS.c.id)
    device = dev.on_conflict_do_update(
        index_elements=[_DEVICES.c.mac],
        set_={"subscriber_id": dev.excluded.subscriber_id, "last_seen_at": dev.excluded.last_seen_at})
    return subscriber, device


def subscriber_for(session: Session, ctx: LoginContext, *, identity: str, kind: LoginMethod,
                   phone_hash: str | None = None) -> int:
    """The id of the person behind a login (created on first sight); its retention clock restarts at every login."""
    statement, _ = _upserts(session.get_bind().dialect.name)
    subscriber_id = session.connection().execute(statement, {
        "identity": identity, "kind": kind.value, "phone_hash": phone_hash, "language": ctx.language,
        "created_at": ctx.now, "last_seen_at": ctx.now, "erase_after": erase_after(ctx)}).scalar_one()
    return int(subscriber_id)


def remember_device(session: Session, ctx: LoginContext, subscriber_id: int) -> None:
    _, statement = _upserts(session.get_bind().dialect.name)
    session.connection().execute(statement, {"mac": ctx.mac, "subscriber_id": subscriber_id,
                                             "first_seen_at": ctx.now, "last_seen_at": ctx.now})


def record_consent(session: Session, ctx: LoginContext, subscriber_id: int, *, purpose: str) -> None:
    """UU PDP: who consented (subscriber, device), to which terms version, when, for what, until when."""
    session.connection().execute(_CONSENTS.insert(), {
        "hotspot_id": ctx.hotspot.id, "subscriber_id": subscriber_id, "mac": ctx.mac,
        "terms_version": ctx.hotspot.terms_version, "purpose": purpose, "language": ctx.language,
        "accepted_at": ctx.now, "erase_after": erase_after(ctx)})


_USAGE_COLUMNS = (func.coalesce(func.sum(HotspotSession.session_time_s), 0),
                  func.coalesce(func.sum(HotspotSession.input_octets + HotspotSession.output_octets), 0))
_DEVICE_USAGE = select(*_USAGE_COLUMNS).where(HotspotSession.mac == bindparam("mac"),
                                              HotspotSession.started_at >= bindparam("since"))
_PERSON_USAGE = select(*_USAGE_COLUMNS).where(HotspotSession.subscriber_id == bindparam("subscriber_id"),
                                              HotspotSession.started_at >= bindparam("since"))


def check_quotas(session: Session, ctx: LoginContext, limits: PolicyLimits, subscriber_id: int | None,
                 *, valid_for_s: int | None = None) -> None:
    """Refuse now, with a plain reason, what RADIUS would refuse a moment later (daily time or data used).

    Only the quotas the policy has are summed: a policy without daily limits costs no query.
    """
    since = localtime.local_day_start(ctx.now, ctx.timezone)
    device_today = person_today = Usage()
    connection = session.connection()
    if ctx.mac and (limits.device_daily_time_s is not None or limits.device_daily_bytes is not None):
        row = connection.execute(_DEVICE_USAGE, {"mac": ctx.mac, "since": since}).one()
        device_today = Usage(time_s=int(row[0]), octets=int(row[1]))
    if subscriber_id is not None and (limits.person_daily_time_s is not None
                                      or limits.person_daily_bytes is not None):
        row = connection.execute(_PERSON_USAGE, {"subscriber_id": subscriber_id, "since": since}).one()
        person_today = Usage(time_s=int(row[0]), octets=int(row[1]))
    outcome = grant_for(limits, device_today=device_today, person_today=person_today, valid_for_s=valid_for_s)
    if isinstance(outcome, Refusal):
        if outcome.code == RefusalCode.VOUCHER_EXPIRED:
            raise LoginRefused(RefusalReason.VOUCHER_USED)
        raise LoginRefused(RefusalReason.QUOTA_USED)


def issue_grant(session: Session, ctx: LoginContext, *, subscriber_id: int, policy_id: int,
                method: LoginMethod) -> Credentials:
    """One-time RADIUS credentials bound to this device, valid for ``portal.grant_ttl_s``.

    The same row as ``captive_portal.aaa.issue_grant`` writes (and ``aaa.authorize`` reads), inserted with
    one cached Core statement instead of an ORM flush.
    """
    username = "g-" + secrets.token_hex(12)
    password = secrets.token_urlsafe(12)
    session.connection().execute(_GRANTS.insert(), {
        "username": username, "password_encrypted": secret_box(session).encrypt(password),
        "hotspot_id": ctx.hotspot.id, "subscriber_id": subscriber_id, "policy_id": policy_id,
        "method": method.value, "mac": aaa.normalize_mac(ctx.mac), "created_at": ctx.now,
        "expires_at": ctx.now + timedelta(seconds=ctx.portal.grant_ttl_s)})
    return Credentials(username=username, password=password)


# Reached through the device's click-through subscriber (``device:<MAC>``, unique) so the query uses the grants'
# subscriber index: access_grants has no index on mac, and a busy hotspot holds thousands of grants a day.
_USED_GRANTS = select(func.count()).select_from(AccessGrant).where(
    AccessGrant.subscriber_id == select(Subscriber.id).where(Subscriber.identity == bindparam("identity"))
    .scalar_subquery(),
    AccessGrant.mac == bindparam("mac"), AccessGrant.method == bindparam("method"),
    AccessGrant.hotspot_id == bindparam("hotspot_id"), AccessGrant.created_at >= bindparam("since"),
    AccessGrant.used_at.is_not(None))


def used_grants_today(session: Session, ctx: LoginContext, method: LoginMethod, *, identity: str) -> int:
    """Grants of ``method`` this device used at this hotspot today; ``identity`` is the subscriber every such
    grant was issued to (``device:<MAC>`` for click-through)."""
    since = localtime.local_day_start(ctx.now, ctx.timezone)
    count = session.connection().execute(_USED_GRANTS, {
        "identity": identity, "mac": ctx.mac, "method": method.value, "hotspot_id": ctx.hotspot.id,
        "since": since}).scalar()
    return int(count or 0)


_MARK_USED = update(_GRANTS).where(
    AccessGrant.username == bindparam("grant_username"), AccessGrant.used_at.is_(None)).values(
    used_at=bindparam("used_now"))


def mark_grant_used(session: Session, username: str, now: datetime) -> None:
    """Gateways without RADIUS (openNDS FAS) admit the device at once: the grant counts as used now."""
    session.connection().execute(_MARK_USED, {"grant_username": username, "used_now": now})
