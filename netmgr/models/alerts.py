"""Alerts raised by the collectors' rules, the damped state behind them, and the notifications they sent.

collectors.alerts evaluates rules → AlertCondition (damped state per rule and subject) → Alert rows
(open → acknowledged → resolved) → Notification rows (one per channel and recipient). The captive portal
raises its budget alerts through ``netmgr.services.alerts``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from netmgr.models.base import Base, utcnow


class AlertKind(StrEnum):
    DEVICE_DOWN = "device_down"
    """Unreachable: neither SNMP nor ping (when pinged) answers."""
    SNMP_SILENT = "snmp_silent"
    """The device answers ping but not SNMP: a wrong community, v3 credentials or ACL, not a dead device."""
    SITE_DOWN = "site_down"
    UPLINK_SATURATED = "uplink_saturated"
    INTERFACE_ERRORS = "interface_errors"
    FLAPPING = "flapping"
    SMS_BUDGET = "sms_budget"
    """The portal's OTP SMS budget of a hotspot or of the installation is spent for the current window."""
    SMS_GATEWAY = "sms_gateway"
    """The SMS/WhatsApp gateway failed to take OTP messages (down, timing out, refusing); subject: the installation."""
    VOUCHER_GUESSING = "voucher_guessing"
    EDGE_LINK_DOWN = "edge_link_down"
    """A site's edge collector has not reached the centre for a while: its devices are polled but unseen."""
    """A hotspot reached its ceiling of wrong voucher codes for the current window (someone is guessing)."""
    POLL_LATE = "poll_late"
    """The latest SNMP poll cycle was late or left devices unpolled while poll workers are missing (dead or none
    alive); subject: the installation."""


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertSeverity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"


class SubjectType(StrEnum):
    DEVICE = "device"
    SITE = "site"
    UPLINK = "uplink"
    INTERFACE = "interface"
    HOTSPOT = "hotspot"
    INSTALLATION = "installation"
    """The whole netmgr installation (``subject_id`` 0), e.g. the daily SMS budget of every hotspot together."""


ACTIVE_STATES = (AlertState.OPEN, AlertState.ACKNOWLEDGED)


class Alert(Base):
    """A problem that needs a person, e.g. ``ap-taman-kota-01`` down since 14:05, or uplink Telkom at 96 %.

    ``subject_type``/``subject_id`` name what the alert is about (a device, site, uplink or interface);
    ``agency_id`` is the agency whose viewers may see it (None: Diskominfo staff only, e.g. uplinks).
    At most one alert per (kind, subject) is active (open or acknowledged) at a time.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_subject", "kind", "subject_type", "subject_id", "state"),
        Index("ix_alerts_state_opened_at", "state", "opened_at"),
        Index("ix_alerts_opened_at_id", "opened_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AlertKind] = mapped_column(String(30))
    severity: Mapped[AlertSeverity] = mapped_column(String(10))
    state: Mapped[AlertState] = mapped_column(String(15), default=AlertState.OPEN)
    subject_type: Mapped[SubjectType] = mapped_column(String(15))
    subject_id: Mapped[int] = mapped_column()
    subject_name: Mapped[str] = mapped_column(String(300))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="SET NULL"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    """The Indonesian text sent when the alert opened."""
    reason: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    """The checks that failed and their evidence when the alert opened, e.g. ``[{"check": "ping", "address":
    "10.2.3.4", "sent": 3, "received": 0, "at": "…"}]`` (``netmgr.services.alert_reasons`` words it)."""
    value: Mapped[float | None] = mapped_column(Float)
    """The measurement behind the alert, e.g. 96.5 (% of capacity) or 120 (errors in the window)."""
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When the condition began (the device stopped answering), before the hold-down confirmed it."""
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    ack_note: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None] = mapped_column()

    notifications: Mapped[list[Notification]] = relationship(
        back_populates="alert", cascade="all, delete-orphan", order_by="Notification.id"
    )

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


class AlertCondition(Base):
    """The damped state of one rule for one subject, kept between evaluations.

    For example ``device_down`` for device 12: observed down since 14:05 (``raw``), confirmed after the
    hold-down (``active``), with the recent changes of ``raw`` kept to detect flapping.
    """

    __tablename__ = "alert_conditions"
    __table_args__ = (UniqueConstraint("kind", "subject_type", "subject_id", name="uq_alert_conditions_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AlertKind] = mapped_column(String(30))
    subject_type: Mapped[SubjectType] = mapped_column(String(15))
    subject_id: Mapped[int] = mapped_column()
    raw: Mapped[bool] = mapped_column(Boolean, default=False)
    raw_since: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    flapping: Mapped[bool] = mapped_column(Boolean, default=False)
    changes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """ISO timestamps of the recent changes of ``raw`` (inside the flap window)."""
    evaluated_at: Mapped[datetime | None] = mapped_column()


class Notification(Base):
    """One message sent (or attempted) about an alert on one channel to one recipient.

    For example the Telegram message "🔴 PERANGKAT MATI: …" to chat -100123, ok, at 14:07.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_alert_id", "alert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(20))
    """``opened`` or ``resolved``."""
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str] = mapped_column(Text, default="")

    alert: Mapped[Alert] = relationship(back_populates="notifications")


class TransportKind(StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"
    HTTP = "http"
    """A WhatsApp or SMS gateway service reached with one HTTP request per message (the portal OTP's sender)."""


class AlertTransport(Base):
    """Where alert messages go, set up by an admin in the UI, e.g. the NOC's Telegram group or the
    regency mail relay to ``noc@kotimkab.go.id``.

    ``config`` holds what may be shown (host, port, recipients, chat ids, URL templates); the one secret
    (SMTP password, bot token, HTTP gateway token) is only stored encrypted in ``secret_encrypted``.
    """

    __tablename__ = "alert_transports"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[TransportKind] = mapped_column(String(15))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    routes: Mapped[list[AlertRoute]] = relationship(
        back_populates="transport", cascade="all, delete-orphan", order_by="AlertRoute.id"
    )


class AlertRoute(Base):
    """A rule sending some alerts to a transport, e.g. critical alerts of Dinas Kesehatan's sites to its
    WhatsApp gateway between 07:00 and 16:00 (installation time).

    Empty ``site_id``/``agency_id`` match every site/agency; ``min_severity`` ``warning`` matches all;
    ``start``/``end`` ("HH:MM", local) bound the time of day, an ``end`` before ``start`` crossing midnight.
    """

    __tablename__ = "alert_routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    transport_id: Mapped[int] = mapped_column(ForeignKey("alert_transports.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"))
    min_severity: Mapped[AlertSeverity] = mapped_column(String(10), default=AlertSeverity.WARNING)
    start: Mapped[str | None] = mapped_column(String(5))
    end: Mapped[str | None] = mapped_column(String(5))

    transport: Mapped[AlertTransport] = relationship(back_populates="routes")
