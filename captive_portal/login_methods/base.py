"""What every login method shares: refusals, the attempt limits, consent and grants, as the portal applies them.

The rules themselves (limits, validity, quotas, refusal reasons and their messages) are
``captive_portal.decisions``'s, shared with RADIUS; this module adapts them to a ``LoginContext``.

A page handler builds a ``LoginContext`` (hotspot, device, language, clock) and calls one login method;
the method returns ``LoginResult`` (the credentials the gateway will present) or raises ``LoginRefused``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Protocol, cast

from sqlalchemy import Executable, Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from captive_portal import budgets, decisions
from captive_portal.decisions import THROTTLES, Refusal, RefusalReason
from captive_portal.gateways import Credentials
from captive_portal.policies import PolicyLimits
from netmgr import localtime
from netmgr.errors import NetmgrError
from netmgr.models import (
    AccessGrant,
    ConsentRecord,
    HotspotPolicy,
    HotspotTermsVersion,
    Subscriber,
    SubscriberDevice,
)
from netmgr.models.hotspot import LoginMethod
from netmgr.settings import PortalSettings


class LoginRefused(NetmgrError):
    """A citizen's login was refused for ``reason`` (shown to them in plain language, never a stack trace)."""

    http_status = 403

    def __init__(self, reason: RefusalReason, *, retry_after_s: int | None = None) -> None:
        super().__init__(f"login refused: {decisions.public_name(reason)}")
        self.reason = reason
        self.retry_after_s = retry_after_s
        if reason in THROTTLES:
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


def check_source(session: Session, ctx: LoginContext) -> None:
    """Refuse while this source address made too many failed logins this hour: what netmgr saw, which
    rotating the redirect's MAC and IP does not change (``captive_portal.budgets``)."""
    exhausted = budgets.failure_refusal(session, ctx)
    if exhausted is not None:
        raise LoginRefused(RefusalReason.TOO_MANY_ATTEMPTS, retry_after_s=exhausted.retry_after_s)


def check_attempts(session: Session, ctx: LoginContext) -> None:
    """Refuse while this source address, or this device or IP (``decisions.attempts_refusal``, the limits RADIUS
    keeps too), made too many failed attempts lately."""
    check_source(session, ctx)
    refusal = decisions.attempts_refusal(session, attempt_limits(ctx), mac=ctx.mac, ip=ctx.ip, now=ctx.now)
    if refusal is not None:
        raise LoginRefused(refusal.reason, retry_after_s=refusal.retry_after_s)


def attempt_limits(ctx: LoginContext) -> decisions.AttemptLimits:
    return decisions.AttemptLimits.of(ctx.portal)


def attempt_of(ctx: LoginContext, *, username: str) -> decisions.Attempt:
    """This login try as the decisions see it (the same a gateway's Access-Request becomes)."""
    return decisions.Attempt(hotspot_id=ctx.hotspot.id, hotspot_name=ctx.hotspot.name, username=username,
                             mac=ctx.mac, ip=ctx.ip, now=ctx.now)


def count_source_failure(session: Session, ctx: LoginContext, reason: RefusalReason) -> None:
    """A guess (``decisions.GUESSES``) also counts against the source address's hourly budget."""
    if reason in decisions.GUESSES:
        budgets.count_source_failure(session, ctx)


def record_failure(session: Session, ctx: LoginContext, *, username: str, reason: RefusalReason) -> None:
    """Record a refused login: its attempt row, the hotspot's ceiling for a wrong code, the source's budget.

    Successes are not written here: the gateway's RADIUS post-auth records the login that follows, so a
    successful portal login costs no extra row.
    """
    decisions.record_refusal(session, attempt_limits(ctx), attempt_of(ctx, username=username), reason)
    count_source_failure(session, ctx, reason)


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
_VERSIONS = cast(Table, HotspotTermsVersion.__table__)
_CONSENT_INSERT = _CONSENTS.insert().values(terms_version_id=select(_VERSIONS.c.id).where(
    _VERSIONS.c.hotspot_id == bindparam("tv_hotspot_id"), _VERSIONS.c.version == bindparam("tv_version"))
    .scalar_subquery())
"""A consent names the kept version of the terms in the same statement (no extra round trip per login)."""
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
    """UU PDP: who consented (subscriber, device), to which terms version (the kept text), when, for what, until
    when."""
    session.connection().execute(_CONSENT_INSERT, {
        "hotspot_id": ctx.hotspot.id, "subscriber_id": subscriber_id, "mac": ctx.mac,
        "terms_version": ctx.hotspot.terms_version, "purpose": purpose, "language": ctx.language,
        "accepted_at": ctx.now, "erase_after": erase_after(ctx), "tv_hotspot_id": ctx.hotspot.id,
        "tv_version": ctx.hotspot.terms_version})


def check_quotas(session: Session, ctx: LoginContext, limits: PolicyLimits, subscriber_id: int | None) -> None:
    """Refuse now, with its plain reason, what RADIUS would refuse a moment later (daily time or data used)."""
    outcome = decisions.allowance_today(session, limits, mac=ctx.mac, subscriber_id=subscriber_id, now=ctx.now,
                                        timezone=ctx.timezone)
    if isinstance(outcome, Refusal):
        raise LoginRefused(outcome.reason)


def grant_credentials(session: Session, ctx: LoginContext, *, subscriber_id: int, policy_id: int,
                      method: LoginMethod) -> Credentials:
    """One-time RADIUS credentials bound to this device, for ``portal.grant_ttl_s`` (``decisions.issue_grant``)."""
    username, password = decisions.issue_grant(session, hotspot_id=ctx.hotspot.id, subscriber_id=subscriber_id,
                                               policy_id=policy_id, method=method, mac=ctx.mac, now=ctx.now,
                                               ttl_s=ctx.portal.grant_ttl_s)
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
