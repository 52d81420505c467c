"""Throttling of sign-ins to the API and admin UI: the rule lives here, ``users.authenticate`` applies it.

Attempts → ``admin_login_attempts`` rows → ``check`` (before any password hashing) refuses with
``TooManyAttempts`` when, within ``LoginSettings.window_s``:

* one (user name, source address) pair failed ``max_failures_per_account_source`` times — that pair waits;
* one source address failed ``max_failures_per_source`` times, whatever the names — that address waits;
* one account failed ``max_failures_per_account`` times from everywhere — then each address it never
  signed in from waits ``account_delay_s`` after the account's last failure (a delay, not a lockout).

So a stranger guessing one admin's password locks out only themselves, and the admin still signs in from their
own desk. Unknown user names are counted like real ones, so a refusal tells nothing about who exists.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from netmgr.errors import TooManyAttempts
from netmgr.models import AdminLoginAttempt
from netmgr.models.base import utcnow
from netmgr.settings import LoginSettings

UNKNOWN_SOURCE = "unknown"
_NAME_LENGTH = 64


def _key(username: str, source: str | None) -> tuple[str, str]:
    return username[:_NAME_LENGTH], (source or UNKNOWN_SOURCE)[:_NAME_LENGTH]


def _wait_for_window(session: Session, limits: LoginSettings, now: datetime, *conditions: object,
                     limit: int) -> int | None:
    """Seconds until fewer than ``limit`` failures matching ``conditions`` lie in the window, or None if already."""
    since = now - timedelta(seconds=limits.window_s)
    where = and_(AdminLoginAttempt.succeeded.is_(False), AdminLoginAttempt.at > since, *conditions)  # type: ignore[arg-type]
    count = session.scalar(select(func.count()).select_from(AdminLoginAttempt).where(where)) or 0
    if count < limit:
        return None
    # The limit-th newest failure must leave the window before another attempt is allowed.
    oldest_counted = session.scalar(select(AdminLoginAttempt.at).where(where)
                                    .order_by(AdminLoginAttempt.at.desc()).offset(limit - 1).limit(1))
    if oldest_counted is None:
        return None
    return math.ceil((oldest_counted + timedelta(seconds=limits.window_s) - now).total_seconds())


def check(session: Session, limits: LoginSettings, *, username: str, source: str | None,
          now: datetime | None = None) -> None:
    """Refuse the attempt now, before the password is hashed, if earlier failures say so.

    Raises:
        TooManyAttempts: with the seconds to wait (sent as ``Retry-After``).
    """
    now = now or utcnow()
    name, src = _key(username, source)
    waits = [
        _wait_for_window(session, limits, now, AdminLoginAttempt.username == name, AdminLoginAttempt.source == src,
                         limit=limits.max_failures_per_account_source),
        _wait_for_window(session, limits, now, AdminLoginAttempt.source == src, limit=limits.max_failures_per_source),
    ]
    if _account_under_pressure(session, limits, now, name):
        waits.append(_account_delay(session, limits, now, name, src))
    refused = [w for w in waits if w is not None and w > 0]
    if refused:
        raise TooManyAttempts("too many failed sign-ins; try again later", retry_after_s=max(refused))


def _account_under_pressure(session: Session, limits: LoginSettings, now: datetime, name: str) -> bool:
    since = now - timedelta(seconds=limits.window_s)
    count = session.scalar(select(func.count()).select_from(AdminLoginAttempt).where(
        AdminLoginAttempt.username == name, AdminLoginAttempt.succeeded.is_(False), AdminLoginAttempt.at > since))
    return (count or 0) >= limits.max_failures_per_account


def _account_delay(session: Session, limits: LoginSettings, now: datetime, name: str, src: str) -> int | None:
    known_since = now - timedelta(days=limits.known_source_days)
    known = session.scalar(select(AdminLoginAttempt.id).where(
        AdminLoginAttempt.username == name, AdminLoginAttempt.source == src, AdminLoginAttempt.succeeded.is_(True),
        AdminLoginAttempt.at > known_since).limit(1))
    if known is not None:
        return None
    last = session.scalar(select(func.max(AdminLoginAttempt.at)).where(
        AdminLoginAttempt.username == name, AdminLoginAttempt.succeeded.is_(False)))
    if last is None:
        return None
    return math.ceil((last + timedelta(seconds=limits.account_delay_s) - now).total_seconds())


def record(session: Session, limits: LoginSettings, *, username: str, source: str | None, succeeded: bool,
           now: datetime | None = None) -> None:
    """Remember an attempt; forget rows older than any rule needs, and on success this pair's failures."""
    now = now or utcnow()
    name, src = _key(username, source)
    keep_since = now - timedelta(seconds=max(limits.window_s, limits.known_source_days * 86400))
    session.execute(delete(AdminLoginAttempt).where(AdminLoginAttempt.at < keep_since))
    session.add(AdminLoginAttempt(username=name, source=src, at=now, succeeded=succeeded))
    if succeeded:
        session.execute(delete(AdminLoginAttempt).where(
            AdminLoginAttempt.username == name, AdminLoginAttempt.source == src,
            AdminLoginAttempt.succeeded.is_(False)))
    session.flush()
