"""Device profiles: identify vendor, platform and model from the system group and a few vendor MIB probes.

``PROFILES`` is a Registry keyed by vendor slug; ``ordered()`` gives them in the order discovery tries them.
"""

from __future__ import annotations

from collectors.profiles.base import Identity, Probes, Profile, SystemInfo
from collectors.profiles.cambium import CambiumProfile
from collectors.profiles.cisco import CiscoProfile
from collectors.profiles.generic import GenericProfile
from collectors.profiles.huawei import HuaweiProfile
from collectors.profiles.mikrotik import MikrotikProfile
from collectors.profiles.netsnmp import NetSnmpProfile
from collectors.profiles.ruckus import RuckusProfile
from collectors.profiles.ruijie import RuijieProfile
from collectors.profiles.tplink import TplinkProfile
from collectors.profiles.ubiquiti import UbiquitiProfile
from netmgr.registry import Registry


def build_registry() -> Registry[Profile]:
    """A fresh registry holding every built-in profile."""
    registry: Registry[Profile] = Registry("device profile")
    for profile in (MikrotikProfile(), UbiquitiProfile(), CiscoProfile(), RuijieProfile(), HuaweiProfile(),
                    TplinkProfile(), CambiumProfile(), RuckusProfile(), NetSnmpProfile(), GenericProfile()):
        registry.register(profile.slug, profile)
    return registry


PROFILES = build_registry()


def ordered(registry: Registry[Profile] = PROFILES) -> list[Profile]:
    """Profiles in the order to try them: vendor-specific first, net-snmp, then generic."""
    return sorted((registry.get(name) for name in registry), key=lambda p: (p.priority, p.slug))


__all__ = ["PROFILES", "Identity", "Probes", "Profile", "SystemInfo", "build_registry", "ordered"]
