"""Users, API tokens and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from netmgr.models.base import Base, TimestampMixin, utcnow
from netmgr.models.enums import Role
from netmgr.models.inventory import Agency


class User(TimestampMixin, Base):
    """A person who signs in to netmgr, with one role (e.g. ``keuangan`` with role finance).

    An agency viewer is bound to one agency and sees only that agency's sites and figures.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"))
    is_active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(5), default="id")
    last_login_at: Mapped[datetime | None] = mapped_column()

    agency: Mapped[Agency | None] = relationship()
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")


class ApiToken(Base):
    """A bearer token for scripts; only its SHA-256 is stored, its prefix is shown for recognition."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(back_populates="tokens")


class AuditLog(Base):
    """One change made by someone: who, when, what, and the before/after with secrets masked."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40), index=True)
    entity_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    """The sentence in English, for search (and the only text of entries written before ``message``)."""
    message: Mapped[str | None] = mapped_column(String(60))
    """Which sentence (a key of ``netmgr.services.audit_messages.MESSAGES``); pages render it in their language."""
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The sentence's values: names, numbers, dates, words (see ``audit_messages``)."""
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source_ip: Mapped[str | None] = mapped_column(String(64))


class WebSession(Base):
    """One signed-in browser: the cookie carries a random id, only its SHA-256 is stored here.

    Signing out deletes the row, so a copied cookie stops working at once (the cookie's signature alone
    cannot be revoked). E.g. ``admin`` signed in from the NOC PC and from a laptop has two rows.
    """

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class AdminLoginAttempt(Base):
    """One sign-in attempt on the API or admin UI, kept for throttling: who was tried, from where, and whether
    it succeeded. E.g. ``("admin", "203.0.113.9", failed)``. Unknown user names are recorded too."""

    __tablename__ = "admin_login_attempts"
    __table_args__ = (
        Index("ix_admin_login_attempts_username_at", "username", "at"),
        Index("ix_admin_login_attempts_source_at", "source", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    succeeded: Mapped[bool] = mapped_column(default=False)
