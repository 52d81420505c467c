"""Sophos Firewall (SFOS, XG/XGS; sysObjectID .2604.5): a Linux sysDescr, so SFOS-FIREWALL-MIB decides."""

from __future__ import annotations

from collectors.profiles.base import Identity, Probes, SystemInfo
from collectors.profiles.health import STANDARD
from netmgr.models.enums import Platform

SFOS_DEVICE_TYPE = "1.3.6.1.4.1.2604.5.1.1.2.0"
SFOS_FW_VERSION = "1.3.6.1.4.1.2604.5.1.1.3.0"
SFOS_APP_KEY = "1.3.6.1.4.1.2604.5.1.1.4.0"  # the appliance key, Sophos's serial number


class SophosProfile:
    slug = "sophos"
    priority = 10
    probe_gets = (SFOS_DEVICE_TYPE, SFOS_FW_VERSION, SFOS_APP_KEY)
    probe_walks: tuple[str, ...] = ()
    health = STANDARD

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.2604.5")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        return Identity("sophos", Platform.SOPHOS_SFOS, model=probes.text(SFOS_DEVICE_TYPE),
                        os_version=probes.text(SFOS_FW_VERSION), serial=probes.text(SFOS_APP_KEY))
