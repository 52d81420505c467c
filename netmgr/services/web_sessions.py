"""Server-side sessions of the admin UI and API cookie: sign-in creates a row, sign-out deletes it.

The signed cookie carries only a random session id; each request looks its SHA-256 up here, so a cookie copied
before sign-out (or before a password change or deactivation) no longer works.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from netmgr.models import User, WebSession
from netmgr.models.base import utcnow
from netmgr.security.passwords import hash_token


def start_session(session: Session, user: User, *, max_age_s: int) -> str:
    """A new session for ``user``; returns the id to put in the cookie (only its hash is stored)."""
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at < now))
    plain = secrets.token_urlsafe(32)
    session.add(WebSession(user_id=user.id, token_hash=hash_token(plain), created_at=now,
                           expires_at=now + timedelta(seconds=max_age_s)))
    session.flush()
    return plain


def user_for_session(session: Session, session_id: object) -> User | None:
    """The active user of a live session, or None (unknown, signed out, expired, or the user deactivated)."""
    if not isinstance(session_id, str) or not session_id:
        return None
    row = session.scalar(select(WebSession).where(WebSession.token_hash == hash_token(session_id)))
    if row is None:
        return None
    now = utcnow()
    if row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.is_active else None


def end_session(session: Session, session_id: object) -> None:
    """Sign out this one session (other browsers of the same user stay signed in)."""
    if isinstance(session_id, str) and session_id:
        session.execute(delete(WebSession).where(WebSession.token_hash == hash_token(session_id)))


def end_all_sessions(session: Session, user_id: int) -> None:
    """Sign the user out everywhere: after a password change or deactivation."""
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
