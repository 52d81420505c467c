"""What operators send and read about hotspots, policies, voucher batches and live sessions (API and CLI).

Shapes only: types and ranges. The rules (unique names, a gateway at the site, ``HH:MM`` hours) live in
``captive_portal.management`` so the admin pages, the API and the CLI get the same answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from netmgr.models.hotspot import NasDialect
from netmgr.schemas.common import UtcInstant

MAX_BATCH = 10_000
"""The most codes one voucher batch holds (a festival's worth); its PDF sheet is 477 A4 pages."""


class BrandingData(BaseModel):
    """The portal's look: title, colours as ``#rrggbb``, who runs it and the welcome line per language."""

    title: str = Field("", max_length=100)
    primary_color: str = Field("", max_length=7)
    background_color: str = Field("", max_length=7)
    text_color: str = Field("", max_length=7)
    operator: str = Field("", max_length=100)
    venue_info_url: str = Field("", max_length=300, description="https page about the place (RFC 8908)")
    welcome: dict[str, str] = Field(default_factory=dict)


class HotspotCreate(BaseModel):
    name: str = Field(max_length=100)
    slug: str = Field(max_length=64, description="the portal's address: /portal/<slug>/")
    site_id: int = Field(ge=1)
    gateway_device_id: int = Field(ge=1)
    nas_dialect: NasDialect = NasDialect.MIKROTIK
    ssid: str = Field("", max_length=64)
    login_methods: list[str] = Field(default_factory=lambda: ["click_through"])
    default_policy_id: int | None = Field(None, ge=1)
    branding: BrandingData = Field(default_factory=BrandingData)
    terms_version: str = Field("1", max_length=32)
    terms_text: str = Field("", max_length=20000)
    privacy_text: str = Field("", max_length=20000, description="the hotspot's privacy notice (empty: standard)")
    coa_port: int | None = Field(None, ge=1, le=65535)
    enabled: bool = True


class HotspotUpdate(BaseModel):
    """Only the fields sent are changed. Changing ``terms_text`` or ``privacy_text`` needs a new ``terms_version``
    (each version is kept: ``GET /api/v1/hotspots/{id}/terms-versions``)."""

    name: str | None = Field(None, max_length=100)
    slug: str | None = Field(None, max_length=64)
    site_id: int | None = Field(None, ge=1)
    gateway_device_id: int | None = Field(None, ge=1)
    nas_dialect: NasDialect | None = None
    ssid: str | None = Field(None, max_length=64)
    login_methods: list[str] | None = None
    default_policy_id: int | None = Field(None, ge=1)
    branding: BrandingData | None = None
    terms_version: str | None = Field(None, max_length=32)
    terms_text: str | None = Field(None, max_length=20000)
    privacy_text: str | None = Field(None, max_length=20000)
    coa_port: int | None = Field(None, ge=1, le=65535)
    enabled: bool | None = None


class HotspotRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    slug: str
    site_id: int
    gateway_device_id: int
    nas_dialect: NasDialect
    ssid: str
    login_methods: list[str]
    default_policy_id: int | None
    branding: dict[str, Any]
    """As stored: ``title``, ``primary_color``, ``operator``, ``welcome`` per language, …"""
    terms_version: str
    terms_text: str
    privacy_text: str
    coa_port: int | None
    enabled: bool
    online: int = 0
    """Devices online now."""


class TermsVersionRead(BaseModel):
    """One kept version of a hotspot's terms and privacy text."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    hotspot_id: int
    version: str
    terms_text: str
    privacy_text: str
    created_at: datetime
    created_by: str


class PolicyFields(BaseModel):
    description: str = Field("", max_length=2000)
    rate_down_kbps: int | None = Field(None, ge=1, le=10_000_000)
    rate_up_kbps: int | None = Field(None, ge=1, le=10_000_000)
    session_timeout_s: int | None = Field(None, ge=60)
    idle_timeout_s: int | None = Field(None, ge=60)
    interim_interval_s: int = Field(300, ge=60, le=3600)
    device_daily_time_s: int | None = Field(None, ge=60)
    device_daily_bytes: int | None = Field(None, ge=1_000_000)
    person_daily_time_s: int | None = Field(None, ge=60)
    person_daily_bytes: int | None = Field(None, ge=1_000_000)
    max_devices: int = Field(1, ge=1, le=20)
    voucher_lifetime_s: int | None = Field(None, ge=60)
    opening_start: str | None = Field(None, description="HH:MM local time when logins open, e.g. 06:00")
    opening_end: str | None = Field(None, description="HH:MM local time when the hotspot closes, e.g. 22:00")


class PolicyCreate(PolicyFields):
    name: str = Field(max_length=100)


class PolicyUpdate(BaseModel):
    """Only the fields sent are changed; ``null`` removes a limit."""

    name: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=2000)
    rate_down_kbps: int | None = Field(None, ge=1, le=10_000_000)
    rate_up_kbps: int | None = Field(None, ge=1, le=10_000_000)
    session_timeout_s: int | None = Field(None, ge=60)
    idle_timeout_s: int | None = Field(None, ge=60)
    interim_interval_s: int | None = Field(None, ge=60, le=3600)
    device_daily_time_s: int | None = Field(None, ge=60)
    device_daily_bytes: int | None = Field(None, ge=1_000_000)
    person_daily_time_s: int | None = Field(None, ge=60)
    person_daily_bytes: int | None = Field(None, ge=1_000_000)
    max_devices: int | None = Field(None, ge=1, le=20)
    voucher_lifetime_s: int | None = Field(None, ge=60)
    opening_start: str | None = None
    opening_end: str | None = None


class PolicyRead(BaseModel):
    """A policy as stored (no input ranges: rows made before a range was tightened must still be readable)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    rate_down_kbps: int | None
    rate_up_kbps: int | None
    session_timeout_s: int | None
    idle_timeout_s: int | None
    interim_interval_s: int
    device_daily_time_s: int | None
    device_daily_bytes: int | None
    person_daily_time_s: int | None
    person_daily_bytes: int | None
    max_devices: int
    voucher_lifetime_s: int | None
    opening_start: str | None
    opening_end: str | None


class PolicyChangeRead(BaseModel):
    """A saved policy and what it did to citizens online under it."""

    policy: PolicyRead
    affected_sessions: int
    """Sessions over the new limits, sent a Disconnect-Request."""
    not_reachable: int
    """Of those, sessions whose gateway has no RADIUS secret, so they run until their old limits."""
    rates_changed: int = 0
    """Sessions within the new limits sent a CoA-Request with the new rates."""


class BatchCreate(BaseModel):
    name: str = Field(max_length=100)
    policy_id: int = Field(ge=1)
    count: int = Field(ge=1, le=MAX_BATCH)
    hotspot_id: int | None = Field(None, ge=1)
    valid_until: UtcInstant | None = Field(None, description="codes not logged in by then are refused")
    price_idr: int | None = Field(None, ge=0, le=100_000_000)
    notes: str = Field("", max_length=2000)


class BatchRead(BaseModel):
    id: int
    name: str
    policy_id: int
    policy_name: str
    hotspot_id: int | None
    count: int
    unused: int
    valid_until: datetime | None
    price_idr: int | None
    created_by: str
    created_at: datetime


class BatchExtend(BaseModel):
    valid_until: UtcInstant = Field(description="the new 'use before' moment; later than the old one")


class BatchRevoke(BaseModel):
    batch_ids: list[int] = Field(min_length=1, max_length=500)


class RevokeRead(BaseModel):
    revoked: int
    """Vouchers revoked (unused and active ones); citizens online with them keep their session until it ends."""


class BatchReportRead(BaseModel):
    """Mikhmon's sales report for one batch: what was sold (logged in at least once), earned and used."""

    batch_id: int
    name: str
    count: int
    unused: int
    active: int
    used: int
    revoked: int
    sold: int
    price_idr: int | None
    revenue_idr: int
    sessions: int
    octets: int
    seconds: int


class LiveSessionRead(BaseModel):
    id: int
    hotspot_id: int | None
    hotspot_name: str
    mac: str
    """Masked: ``46:12:1F:••:••:D7``."""
    since: datetime
    octets: int
    seconds: int
    policy_name: str


class DisconnectRead(BaseModel):
    requested: bool
    detail: str = ""
