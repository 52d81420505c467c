"""How the citizens' portal meets each hotspot's gateway: gateway kind and hosts, FAS key, logo, rationing.

Written by the admin pages (captive_portal.admin_pages); read by the portal pages on every gateway redirect.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from netmgr.models.base import Base, TimestampMixin
from netmgr.models.hotspot import Hotspot


class GatewayKind(StrEnum):
    """How a gateway hands citizens to the portal (see ``captive_portal.gateways``)."""

    MIKROTIK = "mikrotik"
    """RouterOS Hotspot with an external login page; the router then asks RADIUS."""
    OPENNDS = "opennds"
    """openNDS with the portal as its FAS (``fas_secure_enabled 1``)."""


class PortalConfig(TimestampMixin, Base):
    """The portal side of one hotspot.

    For example, Taman Kota Sampit: a MikroTik hotspot whose login page lives at ``10.5.50.1``, one free
    click-through session per device per day, the regency's logo. ``gateway_hosts`` are the only
    ``host[:port]`` values the portal will send a browser back to (no open redirect).
    """

    __tablename__ = "hotspot_portal_configs"

    id: Mapped[int] = mapped_column(primary_key=True)
    hotspot_id: Mapped[int] = mapped_column(ForeignKey("hotspots.id", ondelete="CASCADE"), unique=True)
    gateway_kind: Mapped[GatewayKind] = mapped_column(String(20), default=GatewayKind.MIKROTIK)
    gateway_hosts: Mapped[list[str]] = mapped_column(JSON, default=list)
    faskey_encrypted: Mapped[str] = mapped_column(Text, default="")
    free_logins_per_day: Mapped[int] = mapped_column(Integer, default=1)
    """Click-through logins one device may make per day (local time, WIB)."""
    default_language: Mapped[str] = mapped_column(String(5), default="id")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    """A small PNG or SVG (at most 32 KB) served by the portal itself, never from elsewhere."""
    logo_type: Mapped[str] = mapped_column(String(40), default="")

    hotspot: Mapped[Hotspot] = relationship()
