"""Device profiles: identify vendor, platform and model from the system group and a few vendor MIB probes.

``PROFILES`` is a Registry keyed by vendor slug; ``ordered()`` gives them in the order discovery tries them.
"""

from __future__ import annotations

from collectors.profiles.aruba import ArubaProfile
from collectors.profiles.base import Identity, Probes, Profile, SystemInfo
from collectors.profiles.cambium import CambiumProfile
from collectors.profiles.cdata import CdataProfile
from collectors.profiles.cisco import CiscoProfile
from collectors.profiles.fiberhome import FiberhomeProfile
from collectors.profiles.fortinet import FortinetProfile
from collectors.profiles.generic import GenericProfile
from collectors.profiles.huawei import HuaweiProfile
from collectors.profiles.huawei_smartax import HuaweiSmartaxProfile
from collectors.profiles.mikrotik import MikrotikProfile
from collectors.profiles.netsnmp import NetSnmpProfile
from collectors.profiles.opnsense import OpnsenseProfile
from collectors.profiles.paloalto import PaloaltoProfile
from collectors.profiles.pfsense import PfsenseProfile
from collectors.profiles.ruckus import RuckusProfile
from collectors.profiles.ruijie import RuijieProfile
from collectors.profiles.sophos import SophosProfile
from collectors.profiles.tplink import TplinkProfile
from collectors.profiles.ubiquiti import UbiquitiProfile
from collectors.profiles.zte import ZteProfile
from netmgr.registry import Registry


def build_registry() -> Registry[Profile]:
    """A fresh registry holding every built-in profile."""
    registry: Registry[Profile] = Registry("device profile")
    profiles: tuple[Profile, ...] = (
        MikrotikProfile(), UbiquitiProfile(), CiscoProfile(), RuijieProfile(), HuaweiSmartaxProfile(),
        HuaweiProfile(), TplinkProfile(), CambiumProfile(), RuckusProfile(), FortinetProfile(), PfsenseProfile(),
        OpnsenseProfile(), ZteProfile(), CdataProfile(), FiberhomeProfile(), ArubaProfile(), PaloaltoProfile(),
        SophosProfile(), NetSnmpProfile(), GenericProfile())
    for profile in profiles:
        registry.register(profile.slug, profile)
    return registry


PROFILES = build_registry()


def ordered(registry: Registry[Profile] = PROFILES) -> list[Profile]:
    """Profiles in the order to try them: vendor-specific first, net-snmp, then generic."""
    return sorted((registry.get(name) for name in registry), key=lambda p: (p.priority, p.slug))


__all__ = ["PROFILES", "Identity", "Probes", "Profile", "SystemInfo", "build_registry", "ordered"]
