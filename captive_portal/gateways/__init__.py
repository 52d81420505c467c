"""NAS adapters: how each kind of hotspot gateway hands a citizen to the portal and takes them back.

Gateway redirect (query parameters) → ``NasAdapter.parse`` → ``GatewayContext`` kept in the portal
session → login method grants credentials → ``NasAdapter.complete`` → the browser goes back to the
gateway, which authenticates (RADIUS for MikroTik, the FAS token for openNDS). Only gateways registered
for the hotspot are trusted as targets, so the portal is never an open redirect.
"""

from __future__ import annotations

from captive_portal.gateways.base import (
    Completion,
    Credentials,
    GatewayContext,
    GatewayRegistration,
    NasAdapter,
)
from captive_portal.gateways.mikrotik import MikrotikHotspotAdapter
from captive_portal.gateways.opennds import OpenNdsFasAdapter
from netmgr.registry import Registry


def default_adapters() -> Registry[NasAdapter]:
    """Every supported gateway kind, keyed by the name used in URLs and settings."""
    adapters: Registry[NasAdapter] = Registry("gateway kind")
    for adapter in (MikrotikHotspotAdapter(), OpenNdsFasAdapter()):
        adapters.register(adapter.kind, adapter)
    return adapters


__all__ = [
    "Completion",
    "Credentials",
    "GatewayContext",
    "GatewayRegistration",
    "MikrotikHotspotAdapter",
    "NasAdapter",
    "OpenNdsFasAdapter",
    "default_adapters",
]
