"""Palo Alto Networks PAN-OS firewalls (sysObjectID .25461): model, version and serial from PAN-COMMON-MIB."""

from __future__ import annotations

from collectors.profiles.base import Identity, Probes, SystemInfo
from collectors.profiles.health import STANDARD
from netmgr.models.enums import Platform

PAN_SYS_SW_VERSION = "1.3.6.1.4.1.25461.2.1.2.1.1.0"
PAN_SYS_SERIAL = "1.3.6.1.4.1.25461.2.1.2.1.3.0"
PAN_CHASSIS_TYPE = "1.3.6.1.4.1.25461.2.1.2.2.1.0"  # "PA-220", "PA-VM"


class PaloaltoProfile:
    slug = "paloalto"
    priority = 10
    probe_gets = (PAN_SYS_SW_VERSION, PAN_SYS_SERIAL, PAN_CHASSIS_TYPE)
    probe_walks: tuple[str, ...] = ()
    health = STANDARD

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.25461") or system.sys_descr.startswith("Palo Alto Networks")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        return Identity("paloalto", Platform.PALOALTO_PANOS, model=probes.text(PAN_CHASSIS_TYPE),
                        os_version=probes.text(PAN_SYS_SW_VERSION), serial=probes.text(PAN_SYS_SERIAL))
