"""The portal's reads: a hotspot with its portal configuration and branding, and what a device has left.

Page handlers (captive_portal.pages) call these; login methods (captive_portal.login_methods) do the writes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, defer

from captive_portal import sessions as hotspot_sessions
from captive_portal import terms
from captive_portal.decisions import allowance_today
from captive_portal.gateways import GatewayRegistration, validation
from captive_portal.login_methods.base import PolicySnapshot
from captive_portal.policies import Allowance, PolicyLimits
from netmgr import localtime
from netmgr.db import secret_box
from netmgr.errors import NotFound, ValidationFailed
from netmgr.models import Device, Hotspot, HotspotPolicy, HotspotSession, PortalConfig, Site, VoucherBatch
from netmgr.models.hotspot import LoginMethod, SessionStatus
from netmgr.models.portal import GatewayKind
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
DEFAULT_PRIMARY = "#0b5394"


@dataclass(frozen=True)
class Branding:
    """A hotspot's look, with colours checked (``#rrggbb`` only) and text on the brand colour readable."""

    title: str
    primary: str
    on_primary: str
    background: str
    text: str
    has_logo: bool
    welcome: dict[str, str]
    operator: str
    venue_info_url: str = ""
    """An https page about the place, for the Captive Portal API (RFC 8908 ``venue-info-url``); may be empty."""


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _colour(value: object, default: str) -> str:
    return value if isinstance(value, str) and _COLOUR.match(value) else default


def branding_of(hotspot: Hotspot, *, has_logo: bool) -> Branding:
    raw = hotspot.branding or {}
    primary = _colour(raw.get("primary_color"), DEFAULT_PRIMARY)
    background = _colour(raw.get("background_color"), "#ffffff")
    text = _colour(raw.get("text_color"), "#1a1a1a")
    if contrast(text, background) < 4.5:  # keep body text readable whatever was configured (WCAG AA)
        text = "#1a1a1a" if contrast("#1a1a1a", background) >= contrast("#ffffff", background) else "#ffffff"
    on_primary = "#ffffff" if contrast("#ffffff", primary) >= contrast("#1a1a1a", primary) else "#1a1a1a"
    welcome_raw = raw.get("welcome") if isinstance(raw.get("welcome"), dict) else {}
    welcome = {str(k): str(v) for k, v in (welcome_raw or {}).items()}
    title = str(raw.get("title") or hotspot.name)
    return Branding(title=title, primary=primary, on_primary=on_primary, background=background, text=text,
                    has_logo=has_logo, welcome=welcome,
                    operator=str(raw.get("operator") or ""),
                    venue_info_url=venue if (venue := str(raw.get("venue_info_url") or "")).startswith("https://")
                    else "")


@dataclass(frozen=True)
class HotspotSnapshot:
    """A hotspot as the portal needs it, read in one query and detached from any session.

    Plain values only, so one snapshot may serve many requests (see ``SnapshotCache``); e.g. Taman Kota
    Sampit with its MikroTik gateway hosts, branding, login methods and free policy.
    """

    id: int
    slug: str
    name: str
    enabled: bool
    login_methods: tuple[str, ...]
    terms_version: str
    terms_text: str
    privacy_text: str
    default_policy_id: int | None
    gateway_kind: str
    gateway_hosts: tuple[str, ...]
    faskey: str = field(repr=False)
    free_logins_per_day: int
    default_language: str
    has_logo: bool
    branding: Branding
    policy: PolicySnapshot | None
    free_notes: dict[str, str]
    """Per language: the welcome page's line about the free allowance (empty without a default policy)."""

    @property
    def registration(self) -> GatewayRegistration:
        return GatewayRegistration(kind=self.gateway_kind, hosts=self.gateway_hosts, faskey=self.faskey)


def default_config(hotspot: Hotspot) -> PortalConfig:
    """A MikroTik hotspot without portal settings: its gateway's management address is the login host."""
    return PortalConfig(hotspot_id=hotspot.id, gateway_kind=GatewayKind.MIKROTIK,
                        gateway_hosts=[hotspot.gateway.mgmt_address] if hotspot.gateway else [],
                        faskey_encrypted="", free_logins_per_day=1, default_language="id", logo=None, logo_type="")


def _free_notes(policy: HotspotPolicy | None) -> dict[str, str]:
    if policy is None:
        return {}
    from captive_portal.vouchers import describe_policy  # reportlab only once a snapshot is built

    return {lang: describe_policy(policy, lang) for lang in ("id", "en")}


def load_snapshot(session: Session, slug: str) -> HotspotSnapshot | None:
    """The hotspot called ``slug`` with its portal configuration and free policy (one query), or None."""
    row = session.execute(
        select(Hotspot, PortalConfig, HotspotPolicy, Device.mgmt_address,
               func.coalesce(func.length(PortalConfig.logo), 0))
        .outerjoin(PortalConfig, PortalConfig.hotspot_id == Hotspot.id)
        .outerjoin(HotspotPolicy, HotspotPolicy.id == Hotspot.default_policy_id)
        .outerjoin(Device, Device.id == Hotspot.gateway_device_id)
        .where(Hotspot.slug == slug)
        .options(defer(PortalConfig.logo))).first()
    if row is None:
        return None
    hotspot, config, policy, gateway_address, has_logo = row
    if config is None:
        config = PortalConfig(gateway_kind=GatewayKind.MIKROTIK,
                              gateway_hosts=[gateway_address] if gateway_address else [], faskey_encrypted="",
                              free_logins_per_day=1, default_language="id", logo_type="")
        has_logo = False
    faskey = secret_box(session).decrypt(config.faskey_encrypted) if config.faskey_encrypted else ""
    return HotspotSnapshot(
        id=hotspot.id, slug=hotspot.slug, name=hotspot.name, enabled=hotspot.enabled,
        login_methods=tuple(hotspot.login_methods or ()), terms_version=hotspot.terms_version,
        terms_text=hotspot.terms_text or "", privacy_text=hotspot.privacy_text or "",
        default_policy_id=hotspot.default_policy_id,
        gateway_kind=str(config.gateway_kind), gateway_hosts=tuple(config.gateway_hosts or ()), faskey=faskey,
        free_logins_per_day=config.free_logins_per_day, default_language=config.default_language or "id",
        has_logo=bool(has_logo), branding=branding_of(hotspot, has_logo=bool(has_logo)),
        policy=PolicySnapshot.of(policy) if policy is not None else None, free_notes=_free_notes(policy))


def load_hotspot(session: Session, slug: str) -> HotspotSnapshot:
    """The enabled hotspot called ``slug``, read now (pages go through ``SnapshotCache``).

    Raises:
        NotFound: no such hotspot, or it is switched off.
    """
    snapshot = load_snapshot(session, slug)
    if snapshot is None or not snapshot.enabled:
        raise NotFound(f"no open hotspot {slug!r}")
    return snapshot


_generation = 0
"""Bumped by every change to a hotspot's portal settings in this process; caches drop older snapshots."""


def settings_changed() -> None:
    """Tell this process's snapshot caches that a hotspot's portal settings changed (others: after the TTL)."""
    global _generation
    _generation += 1


class SnapshotCache:
    """Hotspot snapshots by slug for ``ttl_s`` seconds, so a login's three requests read the hotspot at most once.

    Two of a login's three requests need nothing else from the database. A change made in this process is
    seen at once (``settings_changed``); one made by another process within ``ttl_s``. Unknown slugs are
    cached too (as None), and the cache is emptied when junk slugs grow it past ``max_entries``.
    """

    def __init__(self, ttl_s: float = 5.0, max_entries: int = 1000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, int, HotspotSnapshot | None]] = {}

    def get(self, session_factory: Callable[[], Session], slug: str) -> HotspotSnapshot:
        """The enabled hotspot ``slug``, from the cache while fresh.

        Raises:
            NotFound: no such hotspot, or it is switched off.
        """
        now = time.monotonic()
        entry = self._entries.get(slug)
        if entry is not None and entry[0] > now and entry[1] == _generation:
            snapshot = entry[2]
        else:
            generation = _generation
            with session_factory() as session:
                snapshot = load_snapshot(session, slug)
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[slug] = (now + self.ttl_s, generation, snapshot)
        if snapshot is None or not snapshot.enabled:
            raise NotFound(f"no open hotspot {slug!r}")
        return snapshot

    def clear(self) -> None:
        self._entries.clear()


def open_hotspots(session: Session) -> Sequence[Hotspot]:
    return list(session.scalars(select(Hotspot).where(Hotspot.enabled.is_(True)).order_by(Hotspot.name)))


@dataclass(frozen=True)
class Remaining:
    """What a device has left right now; None means unlimited."""

    connected: bool
    seconds: int | None
    octets: int | None
    rate_down_kbps: int | None
    rate_up_kbps: int | None


def client_session(session: Session, *, hotspot_id: int, client_ip: str) -> HotspotSession | None:
    """The open session at the hotspot of the client at ``client_ip``, the address netmgr sees.

    The client is found in the session table by the address its gateway reported in accounting
    (``Framed-IP-Address``). A MAC from the gateway's redirect is never used: the browser carries it and can
    change it, and it would let one device read another's remaining time and data.
    """
    if not client_ip:
        return None
    # No ORDER BY: so the planner takes the (ip, status, hotspot_id) index rather than walking the hotspot's
    # history by start time; an address has one open session, rarely a stale second one.
    rows = session.scalars(select(HotspotSession).where(
        HotspotSession.ip == client_ip, HotspotSession.status == SessionStatus.ACTIVE,
        HotspotSession.hotspot_id == hotspot_id)).all()
    return max(rows, key=lambda row: (row.started_at, row.id), default=None)


def _client_mac_today(session: Session, *, hotspot_id: int, client_ip: str, since: datetime) -> str:
    """The MAC the gateway last reported for ``client_ip`` at the hotspot since ``since`` ("" when none)."""
    if not client_ip:
        return ""
    mac = session.scalar(select(HotspotSession.mac).where(
        HotspotSession.ip == client_ip, HotspotSession.hotspot_id == hotspot_id, HotspotSession.started_at >= since)
        .order_by(HotspotSession.started_at.desc(), HotspotSession.id.desc()).limit(1))
    return mac or ""


@dataclass(frozen=True)
class CaptiveState:
    """What the RFC 8908 Captive Portal API tells one client: captive or not, and what its session has left.

    For example a phone at Taman Kota Sampit that logged in with a 2-hour voucher 30 minutes ago:
    ``captive=False, seconds_remaining=5400``. None means no limit (the key is left out of the answer).
    """

    captive: bool
    seconds_remaining: int | None = None
    bytes_remaining: int | None = None
    can_extend_session: bool = False


def captive_state(session: Session, *, hotspot_id: int, client_ip: str) -> CaptiveState:
    """The API answer for the client at ``client_ip`` (the address netmgr sees, never a parameter it sent;
    see ``client_session``)."""
    running = client_session(session, hotspot_id=hotspot_id, client_ip=client_ip)
    if running is None:
        return CaptiveState(captive=True)
    seconds = None if running.allowance_time_s is None else max(0, running.allowance_time_s
                                                                 - running.session_time_s)
    octets = None if running.allowance_bytes is None else max(0, running.allowance_bytes - running.total_octets)
    return CaptiveState(captive=False, seconds_remaining=seconds, bytes_remaining=octets)


def online_by_ip(session: Session, ip: str) -> bool:
    """Whether any hotspot has an open session for this client address (for the OS connectivity probes)."""
    if not ip:
        return False
    return session.scalar(select(HotspotSession.id).where(
        HotspotSession.ip == ip, HotspotSession.status == SessionStatus.ACTIVE).limit(1)) is not None


def remaining_for(session: Session, *, hotspot: HotspotSnapshot, client_ip: str, subscriber_id: int | None,
                  policy_id: int | None, now: datetime, timezone: str) -> Remaining:
    """Time and data left for the client at ``client_ip`` (the address netmgr sees): from its running session's
    allowance, else what a login would get now after today's use of the device the gateway last reported at
    that address. Never by a MAC from the redirect (see ``client_session``)."""
    running = client_session(session, hotspot_id=hotspot.id, client_ip=client_ip)
    policy_ref = running.policy_id if running is not None and running.policy_id else policy_id
    policy = session.get(HotspotPolicy, policy_ref) if policy_ref else None
    limits = PolicyLimits.of(policy) if policy is not None else hotspot.policy.limits if hotspot.policy else None
    rates = (limits.rate_down_kbps, limits.rate_up_kbps) if limits else (None, None)
    if running is not None:
        seconds = None if running.allowance_time_s is None else max(0, running.allowance_time_s
                                                                     - running.session_time_s)
        octets = None if running.allowance_bytes is None else max(0, running.allowance_bytes
                                                                  - running.total_octets)
        return Remaining(True, seconds, octets, *rates)
    if limits is None:
        return Remaining(False, None, None, None, None)
    mac = _client_mac_today(session, hotspot_id=hotspot.id, client_ip=client_ip,
                            since=localtime.local_day_start(now, timezone))
    outcome = allowance_today(session, limits, mac=mac, subscriber_id=subscriber_id, now=now, timezone=timezone)
    if isinstance(outcome, Allowance):
        return Remaining(False, outcome.session_timeout_s, outcome.data_bytes, *rates)
    return Remaining(False, 0, 0, *rates)


def logo_of(session: Session, hotspot_id: int) -> tuple[bytes, str] | None:
    """A hotspot's uploaded logo and its media type, or None."""
    row = session.execute(select(PortalConfig.logo, PortalConfig.logo_type)
                          .where(PortalConfig.hotspot_id == hotspot_id)).first()
    if row is None or not row[0]:
        return None
    return bytes(row[0]), row[1] or "image/png"


# --- administration (admin pages and CLI) --------------------------------------------------------------------


@dataclass(frozen=True)
class HotspotOverview:
    hotspot: Hotspot
    config: PortalConfig
    active_sessions: int


def list_hotspots(session: Session, actor: Actor) -> list[HotspotOverview]:
    """Every hotspot with its portal configuration and how many devices are online now."""
    actor.require(Permission.PORTAL_MANAGE)
    active = dict(session.execute(select(HotspotSession.hotspot_id, func.count()).where(
        HotspotSession.status == SessionStatus.ACTIVE).group_by(HotspotSession.hotspot_id)).all())
    rows = session.execute(select(Hotspot, PortalConfig).outerjoin(PortalConfig, PortalConfig.hotspot_id == Hotspot.id)
                           .order_by(Hotspot.name)).all()
    return [HotspotOverview(h, c or default_config(h), int(active.get(h.id, 0))) for h, c in rows]


def get_hotspot(session: Session, actor: Actor, hotspot_id: int) -> HotspotOverview:
    actor.require(Permission.PORTAL_MANAGE)
    for item in list_hotspots(session, actor):
        if item.hotspot.id == hotspot_id:
            return item
    raise NotFound(f"hotspot {hotspot_id} does not exist")


@dataclass(frozen=True)
class PortalSettingsUpdate:
    """What the admin form may change about a hotspot's portal; ``faskey`` None keeps the stored key."""

    gateway_kind: GatewayKind
    gateway_hosts: list[str]
    free_logins_per_day: int
    default_language: str
    login_methods: list[str]
    terms_version: str
    terms_text: str
    privacy_text: str | None = None
    """None keeps the hotspot's privacy notice."""
    title: str = ""
    primary_color: str = ""
    faskey: str | None = None
    logo: bytes | None = None
    logo_type: str = ""


MAX_LOGO_BYTES = 32 * 1024
LOGO_TYPES = ("image/png", "image/svg+xml", "image/jpeg", "image/webp")


def update_portal_settings(session: Session, actor: Actor, hotspot_id: int, data: PortalSettingsUpdate) -> PortalConfig:
    """Validate and store a hotspot's portal settings (audited; the FAS key is encrypted and masked).

    Raises:
        ValidationFailed: a bad host, method, colour, count, language or logo.
    """
    actor.require(Permission.PORTAL_MANAGE)
    item = get_hotspot(session, actor, hotspot_id)
    hosts = [validation.host(h, field="gateway_hosts") for h in data.gateway_hosts if h.strip()]
    if not hosts:
        raise ValidationFailed("give at least one gateway host the portal may send citizens back to",
                               field="gateway_hosts")
    methods = [m for m in data.login_methods if m in {x.value for x in LoginMethod}]
    if not 0 <= data.free_logins_per_day <= 100:
        raise ValidationFailed("free logins per day must be 0-100", field="free_logins_per_day")
    if data.default_language not in ("id", "en"):
        raise ValidationFailed("language must be id or en", field="default_language")
    if data.primary_color and not _COLOUR.match(data.primary_color):
        raise ValidationFailed("colour must look like #0b5394", field="primary_color")
    if data.logo is not None and (len(data.logo) > MAX_LOGO_BYTES or data.logo_type not in LOGO_TYPES):
        raise ValidationFailed("logo must be a PNG, SVG, JPEG or WebP of at most 32 KB", field="logo")
    config = session.scalar(select(PortalConfig).where(PortalConfig.hotspot_id == hotspot_id))
    if config is None:
        config = item.config
        session.add(config)
    hotspot = item.hotspot
    before = {"gateway_kind": config.gateway_kind, "gateway_hosts": list(config.gateway_hosts or []),
              "free_logins_per_day": config.free_logins_per_day, "login_methods": list(hotspot.login_methods or []),
              "terms_version": hotspot.terms_version, "faskey_encrypted": config.faskey_encrypted}
    config.gateway_kind = data.gateway_kind
    config.gateway_hosts = hosts
    config.free_logins_per_day = data.free_logins_per_day
    config.default_language = data.default_language
    if data.faskey is not None:
        config.faskey_encrypted = secret_box(session).encrypt(data.faskey) if data.faskey else ""
    if data.logo is not None:
        config.logo, config.logo_type = data.logo, data.logo_type
    hotspot.login_methods = methods
    terms.change_terms(session, hotspot, version=data.terms_version.strip()[:32] or hotspot.terms_version,
                       terms_text=data.terms_text, privacy_text=data.privacy_text, created_by=actor.username)
    branding = dict(hotspot.branding or {})
    if data.title:
        branding["title"] = data.title.strip()[:100]
    if data.primary_color:
        branding["primary_color"] = data.primary_color
    hotspot.branding = branding
    session.flush()
    settings_changed()
    event.listen(session, "after_commit", lambda _session: settings_changed(), once=True)  # and again once stored
    audit.record(session, actor, action="update", entity_type="hotspot_portal", entity_id=hotspot.id,
                 message="hotspot_portal.changed", params={"name": hotspot.name}, before=before,
                 after={"gateway_kind": config.gateway_kind, "gateway_hosts": hosts,
                        "free_logins_per_day": config.free_logins_per_day, "login_methods": methods,
                        "terms_version": hotspot.terms_version, "faskey_encrypted": config.faskey_encrypted})
    return config


def list_policies(session: Session, actor: Actor) -> Sequence[HotspotPolicy]:
    actor.require(Permission.PORTAL_MANAGE)
    return list(session.scalars(select(HotspotPolicy).order_by(HotspotPolicy.name)))


@dataclass(frozen=True)
class HotspotUsage:
    """A hotspot's figures over a period: sessions, distinct devices, gigabytes."""

    hotspot_id: int | None
    name: str
    sessions: int
    devices: int
    octets: int


def usage_per_hotspot(session: Session, actor: Actor, *, since: datetime) -> list[HotspotUsage]:
    actor.require(Permission.PORTAL_MANAGE)
    rows = session.execute(
        select(Hotspot.id, Hotspot.name, func.count(HotspotSession.id), func.count(func.distinct(HotspotSession.mac)),
               func.coalesce(func.sum(HotspotSession.input_octets + HotspotSession.output_octets), 0))
        .select_from(Hotspot)
        .outerjoin(HotspotSession, (HotspotSession.hotspot_id == Hotspot.id) & (HotspotSession.started_at >= since))
        .group_by(Hotspot.id, Hotspot.name).order_by(Hotspot.name)).all()
    return [HotspotUsage(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows]


def live_sessions(session: Session, actor: Actor, *, hotspot_id: int | None = None) -> Sequence[HotspotSession]:
    actor.require(Permission.PORTAL_MANAGE)
    return hotspot_sessions.open_sessions(session, hotspot_id=hotspot_id)


DEMO_SLUG = "taman-kota-sampit"


def seed_demo_hotspot(session: Session, actor: Actor) -> Hotspot | None:
    """The demo's citizens' portal: Taman Kota Sampit with click-through, vouchers and phone OTP, and a
    printable batch of 24 two-hour vouchers. Idempotent; None when the demo inventory lacks the site."""
    from captive_portal.vouchers import create_batch  # reportlab is imported only when seeding

    hotspot = session.scalar(select(Hotspot).where(Hotspot.slug == DEMO_SLUG))
    if hotspot is None:
        site = session.scalar(select(Site).where(Site.name == "Taman Kota Sampit"))
        gateway = session.scalar(select(Device).where(Device.name == "gw-taman-kota"))
        if site is None or gateway is None:
            return None
        free = session.scalar(select(HotspotPolicy).where(HotspotPolicy.name == "Gratis 1 jam")) or HotspotPolicy(
            name="Gratis 1 jam", description="Click-through: 1 jam per perangkat per hari, 5/2 Mbps",
            session_timeout_s=3600, device_daily_time_s=3600, device_daily_bytes=1_000_000_000,
            rate_down_kbps=5000, rate_up_kbps=2000)
        session.add(free)
        session.flush()
        hotspot = Hotspot(name="Sampit Free WiFi – Taman Kota", slug=DEMO_SLUG, site_id=site.id,
                          gateway_device_id=gateway.id, ssid="Sampit Free WiFi",
                          login_methods=[m.value for m in LoginMethod], default_policy_id=free.id,
                          branding={"title": "Sampit Free WiFi", "primary_color": "#0b6e4f",
                                    "operator": "Diskominfo Kotawaringin Timur",
                                    "welcome": {"id": "Internet gratis dari Pemkab Kotawaringin Timur.",
                                                "en": "Free internet from the Kotawaringin Timur regency."}},
                          terms_version="2026-01")
        session.add(hotspot)
        session.flush()
        terms.record_version(session, hotspot, created_by=actor.username)
    if session.scalar(select(PortalConfig).where(PortalConfig.hotspot_id == hotspot.id)) is None:
        session.add(PortalConfig(hotspot_id=hotspot.id, gateway_kind=GatewayKind.MIKROTIK,
                                 gateway_hosts=[hotspot.gateway.mgmt_address, "hotspot.sampit.go.id"],
                                 faskey_encrypted="", free_logins_per_day=1, default_language="id", logo=None,
                                 logo_type=""))
    if session.scalar(select(VoucherBatch.id).where(VoucherBatch.hotspot_id == hotspot.id).limit(1)) is None:
        paid = session.scalar(select(HotspotPolicy).where(HotspotPolicy.name == "Voucher 2 jam")) or HotspotPolicy(
            name="Voucher 2 jam", description="2 jam sejak login pertama, 1 GB, 10/5 Mbps", session_timeout_s=7200,
            voucher_lifetime_s=7200, person_daily_bytes=1_000_000_000, rate_down_kbps=10000, rate_up_kbps=5000)
        session.add(paid)
        session.flush()
        create_batch(session, actor, name="Demo Taman Kota", policy_id=paid.id, count=24, hotspot_id=hotspot.id)
    session.flush()
    return hotspot
