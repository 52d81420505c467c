"""Public hotspots: where citizens log in, under which policy, with which credentials, and their sessions.

The portal (captive_portal.pages) and the AAA endpoints (captive_portal.aaa) write these; the gateway's
RADIUS accounting keeps ``hotspot_sessions`` current; reports read usage from them and from InfluxDB.
Personal data is kept to the minimum (UU PDP): phone numbers only as keyed hashes, MACs as the NAS sent them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from netmgr.models.base import Base, TimestampMixin, utcnow
from netmgr.models.inventory import Device, Site


class NasDialect(StrEnum):
    """Which vendor attributes a gateway understands for rate and data limits."""

    MIKROTIK = "mikrotik"
    COOVACHILLI = "coovachilli"
    """CoovaChilli and other WISPr gateways (openNDS via FreeRADIUS, UniFi, Ruckus)."""
    PFSENSE = "pfsense"


class LoginMethod(StrEnum):
    CLICK_THROUGH = "click_through"
    VOUCHER = "voucher"
    PHONE_OTP = "phone_otp"


class VoucherStatus(StrEnum):
    UNUSED = "unused"
    ACTIVE = "active"
    """Logged in at least once and still within its lifetime."""
    USED = "used"
    """Used up: its lifetime has passed or it was closed after use."""
    REVOKED = "revoked"


class SessionStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


class HotspotPolicy(TimestampMixin, Base):
    """What a citizen gets: time, data and speed limits, e.g. ``Gratis 1 jam``: 1 h a day, 500 MB, 5/2 Mbps.

    Daily quotas count per device (MAC) and per person (a voucher or a verified phone); ``None`` means no
    limit. Rates are kbit/s from the citizen's point of view (down = what the citizen downloads).
    """

    __tablename__ = "hotspot_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    session_timeout_s: Mapped[int | None] = mapped_column(Integer)
    idle_timeout_s: Mapped[int | None] = mapped_column(Integer)
    interim_interval_s: Mapped[int] = mapped_column(Integer, default=300)
    rate_down_kbps: Mapped[int | None] = mapped_column(Integer)
    rate_up_kbps: Mapped[int | None] = mapped_column(Integer)
    device_daily_time_s: Mapped[int | None] = mapped_column(Integer)
    device_daily_bytes: Mapped[int | None] = mapped_column(BigInteger)
    person_daily_time_s: Mapped[int | None] = mapped_column(Integer)
    person_daily_bytes: Mapped[int | None] = mapped_column(BigInteger)
    max_devices: Mapped[int] = mapped_column(Integer, default=1)
    """Devices one voucher or person may have online at the same time."""
    voucher_lifetime_s: Mapped[int | None] = mapped_column(Integer)
    """A voucher is used up this long after its first login (None: only the quotas end it)."""
    opening_start: Mapped[str | None] = mapped_column(String(5))
    """``HH:MM`` in the installation's time zone when logins open, e.g. ``06:00`` (None: all day)."""
    opening_end: Mapped[str | None] = mapped_column(String(5))
    """``HH:MM`` local when the hotspot closes for this policy, e.g. ``22:00``; before the start means overnight."""


class Hotspot(TimestampMixin, Base):
    """An SSID at a site served by one gateway (the NAS), e.g. ``Sampit Free WiFi`` at Taman Kota Sampit.

    ``login_methods`` lists the ways in (``click_through``, ``voucher``, ``phone_otp``); ``branding`` holds
    the portal's look (title, colours, logo URL, welcome text per language); ``terms_version`` names the
    current terms and privacy text, which a citizen consents to (``consent_records``); every version stays in
    ``hotspot_terms_versions``.
    """

    __tablename__ = "hotspots"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="RESTRICT"), index=True)
    gateway_device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="RESTRICT"), index=True)
    nas_dialect: Mapped[NasDialect] = mapped_column(String(20), default=NasDialect.MIKROTIK)
    ssid: Mapped[str] = mapped_column(String(64), default="")
    login_methods: Mapped[list[str]] = mapped_column(JSON, default=list)
    default_policy_id: Mapped[int | None] = mapped_column(ForeignKey("hotspot_policies.id", ondelete="RESTRICT"))
    branding: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    terms_version: Mapped[str] = mapped_column(String(32), default="1")
    terms_text: Mapped[str] = mapped_column(Text, default="")
    privacy_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    """The hotspot's own privacy notice (empty: the standard text), versioned with the terms."""
    coa_port: Mapped[int | None] = mapped_column(Integer)
    """The gateway's RADIUS Disconnect/CoA port when not the configured default (3799)."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)

    site: Mapped[Site] = relationship()
    gateway: Mapped[Device] = relationship()
    default_policy: Mapped[HotspotPolicy | None] = relationship()


class HotspotTermsVersion(Base):
    """One version of a hotspot's terms of use and privacy text, kept as shown so consent can be proven (UU PDP).

    For example ``2026-02`` of Taman Kota Sampit: the terms and privacy text citizens accepted from 1 February.
    Rows are only added (``captive_portal.terms``); the hotspot's ``terms_version`` names the current one.
    """

    __tablename__ = "hotspot_terms_versions"
    __table_args__ = (UniqueConstraint("hotspot_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hotspot_id: Mapped[int] = mapped_column(ForeignKey("hotspots.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(32))
    terms_text: Mapped[str] = mapped_column(Text, default="")
    privacy_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")


class VoucherBatch(TimestampMixin, Base):
    """A printed sheet of vouchers made together, e.g. 200 codes of ``Voucher 2 jam`` for the alun-alun event.

    ``hotspot_id`` None means the codes work on every hotspot.
    """

    __tablename__ = "voucher_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    hotspot_id: Mapped[int | None] = mapped_column(ForeignKey("hotspots.id", ondelete="CASCADE"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("hotspot_policies.id", ondelete="RESTRICT"))
    count: Mapped[int] = mapped_column(Integer, default=0)
    valid_until: Mapped[datetime | None] = mapped_column()
    """Codes not logged in by then are refused."""
    created_by: Mapped[str] = mapped_column(String(64), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    price_idr: Mapped[int | None] = mapped_column(BigInteger)
    """What one voucher sells for, in rupiah (premium vouchers); None for free ones."""

    policy: Mapped[HotspotPolicy] = relationship()
    hotspot: Mapped[Hotspot | None] = relationship()
    vouchers: Mapped[list[Voucher]] = relationship(back_populates="batch", cascade="all, delete-orphan")


class Voucher(Base):
    """One code from a batch, e.g. ``K7M2QX9P``; it is both the RADIUS User-Name and its password."""

    __tablename__ = "vouchers"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("voucher_batches.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[VoucherStatus] = mapped_column(String(10), default=VoucherStatus.UNUSED)
    first_used_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("hotspot_subscribers.id", ondelete="SET NULL"))

    batch: Mapped[VoucherBatch] = relationship(back_populates="vouchers")


class Subscriber(Base):
    """A person as far as quotas are concerned: a voucher holder or a verified phone, never a name.

    ``identity`` is ``voucher:<code>``, ``phone:<keyed hash>`` or ``device:<mac>`` (click-through).
    """

    __tablename__ = "hotspot_subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[LoginMethod] = mapped_column(String(20))
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(5), default="id")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column()
    erase_after: Mapped[datetime | None] = mapped_column()
    """When the retention period ends; purged then with everything that points at it."""


class SubscriberDevice(Base):
    """A citizen's device by MAC address (``AA:BB:CC:DD:EE:FF``), for per-device quotas and "remember me"."""

    __tablename__ = "hotspot_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    mac: Mapped[str] = mapped_column(String(17), unique=True)
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("hotspot_subscribers.id", ondelete="SET NULL"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccessGrant(Base):
    """A one-time RADIUS login the portal hands the gateway after a login method succeeded.

    For example, after a phone OTP is verified the portal makes a grant ``g-3f9a…`` with a random password,
    bound to the citizen's MAC and valid for a few minutes; the gateway's Access-Request then uses it.
    """

    __tablename__ = "hotspot_grants"
    # The portal counts a device's free sessions of the day by MAC and time.
    __table_args__ = (Index("ix_hotspot_grants_mac_created_at", "mac", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_encrypted: Mapped[str] = mapped_column(Text)
    hotspot_id: Mapped[int] = mapped_column(ForeignKey("hotspots.id", ondelete="CASCADE"), index=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("hotspot_subscribers.id", ondelete="CASCADE"), index=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("hotspot_policies.id", ondelete="RESTRICT"))
    method: Mapped[LoginMethod] = mapped_column(String(20))
    mac: Mapped[str] = mapped_column(String(17))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class HotspotSession(Base):
    """One device's stay on a hotspot, from Accounting-Start to Stop, e.g. 47 minutes and 310 MB.

    Octet counters are the NAS's cumulative totals with gigawords folded in (``input`` = what the citizen
    sent, ``output`` = what the citizen received). ``allowance_*`` is what was left of the quotas when
    the session started; crossing it triggers a Disconnect-Request.
    """

    __tablename__ = "hotspot_sessions"
    __table_args__ = (
        UniqueConstraint("nas_device_id", "acct_session_id", name="uq_hotspot_sessions_nas_device_id"),
        Index("ix_hotspot_sessions_status_last_update_at", "status", "last_update_at"),
        Index("ix_hotspot_sessions_status_started_at_id", "status", "started_at", "id"),
        Index("ix_hotspot_sessions_mac_started_at", "mac", "started_at"),
        Index("ix_hotspot_sessions_subscriber_id_started_at", "subscriber_id", "started_at"),
        Index("ix_hotspot_sessions_hotspot_id_started_at", "hotspot_id", "started_at"),
        # The Captive Portal API and the connectivity probes find a device by the address its gateway reported.
        Index("ix_hotspot_sessions_ip_status", "ip", "status", "hotspot_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hotspot_id: Mapped[int | None] = mapped_column(ForeignKey("hotspots.id", ondelete="SET NULL"))
    nas_device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    acct_session_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(String(64), default="")
    mac: Mapped[str] = mapped_column(String(17), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("hotspot_subscribers.id", ondelete="SET NULL"))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id", ondelete="SET NULL"), index=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("hotspot_policies.id", ondelete="SET NULL"))
    status: Mapped[SessionStatus] = mapped_column(String(10), default=SessionStatus.ACTIVE)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_update_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column()
    input_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    output_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    session_time_s: Mapped[int] = mapped_column(BigInteger, default=0)
    interim_interval_s: Mapped[int] = mapped_column(BigInteger, default=300)
    allowance_bytes: Mapped[int | None] = mapped_column(BigInteger)
    allowance_time_s: Mapped[int | None] = mapped_column(Integer)
    terminate_cause: Mapped[str] = mapped_column(String(40), default="")
    close_reason: Mapped[str] = mapped_column(String(40), default="")
    """Why netmgr closed it: ``stop``, ``nas_reboot``, ``stale``, or the Acct-Terminate-Cause."""
    disconnect_requested_at: Mapped[datetime | None] = mapped_column()
    disconnect_result: Mapped[str] = mapped_column(String(40), default="")

    @property
    def total_octets(self) -> int:
        return self.input_octets + self.output_octets


class ConsentRecord(Base):
    """A citizen's consent to a hotspot's terms (version, purpose, language), kept for the retention period."""

    __tablename__ = "consent_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    hotspot_id: Mapped[int] = mapped_column(ForeignKey("hotspots.id", ondelete="CASCADE"), index=True)
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("hotspot_subscribers.id", ondelete="CASCADE"), index=True)
    mac: Mapped[str] = mapped_column(String(17), default="")
    terms_version: Mapped[str] = mapped_column(String(32))
    terms_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("hotspot_terms_versions.id", ondelete="SET NULL"), index=True)
    """The exact terms and privacy text accepted (None only for consents recorded before versions were kept)."""
    purpose: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(5), default="id")
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
    erase_after: Mapped[datetime | None] = mapped_column(index=True)


class OtpChallenge(Base):
    """A one-time code sent to a phone to verify it; the number and the code are stored only as hashes."""

    __tablename__ = "otp_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    hotspot_id: Mapped[int] = mapped_column(ForeignKey("hotspots.id", ondelete="CASCADE"), index=True)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    code_hash: Mapped[str] = mapped_column(String(128))
    mac: Mapped[str] = mapped_column(String(17), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[datetime | None] = mapped_column()


class LoginAttempt(Base):
    """One login try at a hotspot (RADIUS or portal), kept briefly to limit brute force per MAC and IP."""

    __tablename__ = "hotspot_login_attempts"
    __table_args__ = (
        Index("ix_hotspot_login_attempts_mac_at", "mac", "at"),
        Index("ix_hotspot_login_attempts_ip_at", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    hotspot_id: Mapped[int | None] = mapped_column(ForeignKey("hotspots.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64), default="")
    mac: Mapped[str] = mapped_column(String(17), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(200), default="")


class PortalBudgetCounter(Base):
    """What one budget has spent in one window, e.g. 30 OTP SMS at hotspot 4 in the hour from 14:00 UTC.

    ``budget`` names the limit (``sms_hotspot_hour``), ``key`` what it is counted for (a hotspot id, ``*`` for
    the whole installation, a source address), ``window_start`` the window's first second (Unix time).
    Kept two days, then purged with the portal's other short-lived rows.
    """

    __tablename__ = "portal_budget_counters"
    __table_args__ = (
        UniqueConstraint("budget", "key", "window_start", name="uq_portal_budget_counters_budget_key_window"),
        Index("ix_portal_budget_counters_window_start", "window_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    budget: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[int] = mapped_column(BigInteger)
    spent: Mapped[int] = mapped_column(Integer, default=0)


class RadiusSpoolOffset(Base):
    """How far netmgr has applied one FreeRADIUS accounting detail file (``captive_portal.spool``).

    Example: ``detail-20261207-2341`` read to byte 183_204. The offset moves in the same transaction as the
    records before it are applied, so a reader killed at any moment neither loses nor repeats a record.
    """

    __tablename__ = "radius_spool_offsets"

    file: Mapped[str] = mapped_column(String(255), primary_key=True)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    records: Mapped[int] = mapped_column(BigInteger, default=0)
    """Records applied or skipped from this file so far (for the operator's view of the backlog)."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
