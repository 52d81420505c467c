"""Ubiquiti: airOS (UBNT-AirMAX-MIB present), airFiber (UBNT-AirFIBER-MIB), UniFi APs (802.11 product name
``U…``), EdgeOS, and EdgeSwitch/UniFi switches.

airOS, airFiber and UniFi share sysObjectID .10002.1 (Frogfoot) and a plain Linux sysDescr, so the MIBs
decide. Switches say who they are in sysDescr (``EdgeSwitch 24-Port Lite, 1.7.4.5075842, Linux 3.6.5``) but
some report Broadcom's sysObjectID .4413, and UniFi switch firmware on net-snmp says ``Linux UBNT …``.
"""

from __future__ import annotations

import re

from collectors.profiles.base import (
    CHASSIS_MODEL,
    DOT11_PRODUCT_NAME,
    DOT11_PRODUCT_VERSION,
    ENT_PHYSICAL_DESCR,
    Identity,
    Probes,
    SystemInfo,
)
from netmgr.models.enums import Platform

AIRMAX_RADIO = "1.3.6.1.4.1.41112.1.4.1"
AIRFIBER_FW_VERSION = "1.3.6.1.4.1.41112.1.3.2.1.40.1"  # UBNT-AirFIBER-MIB::fwVersion.1, "v4.0.3"
BROADCOM = "1.3.6.1.4.1.4413"
NET_SNMP_LINUX = "1.3.6.1.4.1.8072.3.2.10"
_SWITCH_DESCR = re.compile(r"^(EdgeSwitch|EdgePoint|USW-|UBNT US)")


def _switch(system: SystemInfo) -> bool:
    if system.under(BROADCOM) or system.under("1.3.6.1.4.1.41112"):
        return bool(_SWITCH_DESCR.match(system.sys_descr))
    return system.under(NET_SNMP_LINUX) and system.sys_descr.startswith("Linux UBNT")


class UbiquitiProfile:
    slug = "ubiquiti"
    priority = 10
    probe_gets = (AIRFIBER_FW_VERSION, CHASSIS_MODEL, f"{ENT_PHYSICAL_DESCR}.1")
    probe_walks = (DOT11_PRODUCT_NAME, DOT11_PRODUCT_VERSION, AIRMAX_RADIO)

    def claims(self, system: SystemInfo) -> bool:
        return (system.under("1.3.6.1.4.1.10002.1") or system.under("1.3.6.1.4.1.41112") or _switch(system)
                or system.sys_descr.startswith(("EdgeOS", "EdgeRouter", "UniFi")))

    def identify(self, system: SystemInfo, probes: Probes) -> Identity | None:
        if _switch(system):
            return self._switch_identity(system, probes)
        names = [v for v in (probes.text(oid) for oid in probes.under(DOT11_PRODUCT_NAME)) if v]
        versions = [v for v in (probes.text(oid) for oid in probes.under(DOT11_PRODUCT_VERSION)) if v]
        model = names[0] if names else ""
        version = versions[0] if versions else ""
        if system.sys_descr.startswith(("EdgeOS", "EdgeRouter")):
            return Identity("ubiquiti", Platform.UBIQUITI_EDGEROUTER, model=model, os_version=version)
        if probes.text(AIRFIBER_FW_VERSION):
            # airFiber runs its own OS (no airOS CLI, no netmiko driver); the MIB names no model.
            return Identity("ubiquiti", Platform.GENERIC, model="airFiber",
                            os_version=probes.text(AIRFIBER_FW_VERSION).removeprefix("v"))
        if probes.under(AIRMAX_RADIO):
            return Identity("ubiquiti", Platform.UBIQUITI_AIROS, model=model, os_version=version)
        if model.startswith("U") or system.sys_descr.startswith("UniFi"):
            return Identity("ubiquiti", Platform.UBIQUITI_UNIFI, model=model, os_version=version)
        return None  # a Frogfoot-OID Linux box that is not Ubiquiti

    @staticmethod
    def _switch_identity(system: SystemInfo, probes: Probes) -> Identity:
        if system.sys_descr.startswith("Linux UBNT"):
            # UniFi switch firmware on net-snmp: the product is only in ENTITY-MIB.
            model = probes.text(CHASSIS_MODEL) or probes.text(f"{ENT_PHYSICAL_DESCR}.1")
            return Identity("ubiquiti", Platform.UBIQUITI_UNIFISWITCH, model=model)
        # "EdgeSwitch 24-Port 250W, 1.0.1.4720839, Linux 3.6.5-f4a26ed5": product, firmware, kernel.
        parts = [p.strip() for p in system.sys_descr.split(",")]
        platform = (Platform.UBIQUITI_EDGESWITCH if system.sys_descr.startswith(("EdgeSwitch", "EdgePoint"))
                    else Platform.UBIQUITI_UNIFISWITCH)
        return Identity("ubiquiti", platform, model=parts[0], os_version=parts[1] if len(parts) > 1 else "")
