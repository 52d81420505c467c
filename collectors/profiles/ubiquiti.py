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
from collectors.profiles.health import (
    HOST_RESOURCES,
    Columns,
    Health,
    HealthPart,
    Mempool,
    Processor,
    WirelessClients,
    name_of,
    number,
    rows,
    scalar,
)
from collectors.snmp import codecs
from netmgr.models.enums import Platform

AIRMAX_RADIO = "1.3.6.1.4.1.41112.1.4.1"
AIRFIBER_FW_VERSION = "1.3.6.1.4.1.41112.1.3.2.1.40.1"  # UBNT-AirFIBER-MIB::fwVersion.1, "v4.0.3"
BROADCOM = "1.3.6.1.4.1.4413"
NET_SNMP_LINUX = "1.3.6.1.4.1.8072.3.2.10"
_SWITCH_DESCR = re.compile(r"^(EdgeSwitch|EdgePoint|USW-|UBNT US)")

# FROGFOOT-RESOURCES-MIB (UniFi and airOS firmware): load averages ×100 and memory in kB
FROGFOOT_LOAD_VALUE = "1.3.6.1.4.1.10002.1.1.1.4.2.1.3"  # index 1, 2, 3: 1-, 5-, 15-minute
FROGFOOT_MEM_TOTAL = "1.3.6.1.4.1.10002.1.1.1.1.1"
FROGFOOT_MEM_FREE = "1.3.6.1.4.1.10002.1.1.1.1.2"
FROGFOOT_MEM_BUFFER = "1.3.6.1.4.1.10002.1.1.1.1.3"
FROGFOOT_MEM_CACHE = "1.3.6.1.4.1.10002.1.1.1.1.4"
# UBNT-UniFi-MIB unifiVapTable: one row per virtual AP (SSID on a radio)
UNIFI_VAP_ESSID = "1.3.6.1.4.1.41112.1.6.1.2.1.6"
UNIFI_VAP_NUM_STATIONS = "1.3.6.1.4.1.41112.1.6.1.2.1.8"
UNIFI_VAP_RADIO = "1.3.6.1.4.1.41112.1.6.1.2.1.9"  # "ng" (2.4 GHz), "na" (5 GHz)
# UBNT-AirMAX-MIB: ubntWlStatTable (SSID, station count) and the radio's frequency
AIRMAX_SSID = "1.3.6.1.4.1.41112.1.4.5.1.2"
AIRMAX_STA_COUNT = "1.3.6.1.4.1.41112.1.4.5.1.15"
AIRMAX_FREQ = "1.3.6.1.4.1.41112.1.4.1.1.4"
_UNIFI_RADIO = {"ng": "2G", "na": "5G", "6e": "6G"}


def _read_ubiquiti(columns: Columns, health: Health) -> None:
    loads = rows(columns, FROGFOOT_LOAD_VALUE)
    five_minutes = number(loads.get("2"))
    if not health.processors and five_minutes is not None:
        # LibreNMS reads the 5-minute load average ×100 as the processor's percentage; so do we.
        health.processors.append(Processor("0", float(five_minutes)))
    total, free = scalar(columns, FROGFOOT_MEM_TOTAL), scalar(columns, FROGFOOT_MEM_FREE)
    if not health.mempools and total and free is not None:
        spare = free + (scalar(columns, FROGFOOT_MEM_BUFFER) or 0) + (scalar(columns, FROGFOOT_MEM_CACHE) or 0)
        health.mempools.append(Mempool("memory", max(0, total - spare) * 1024, total * 1024))
    ssids, radios = rows(columns, UNIFI_VAP_ESSID), rows(columns, UNIFI_VAP_RADIO)
    for index, value in rows(columns, UNIFI_VAP_NUM_STATIONS).items():
        clients = number(value)
        if clients is not None:
            radio = codecs.text(radios.get(index)).strip()
            health.wireless.append(WirelessClients(index, name_of(ssids, index, ""), clients,
                                                   radio=_UNIFI_RADIO.get(radio, radio)))
    ssids, freq = rows(columns, AIRMAX_SSID), number(next(iter(rows(columns, AIRMAX_FREQ).values()), None))
    for index, value in rows(columns, AIRMAX_STA_COUNT).items():
        clients = number(value)
        if clients is not None:
            band = "" if not freq else "2G" if freq < 3000 else "5G"
            health.wireless.append(WirelessClients(index, name_of(ssids, index, ""), clients, radio=band))


UBIQUITI_HEALTH = HealthPart(
    "UBNT/FROGFOOT",
    (FROGFOOT_LOAD_VALUE, FROGFOOT_MEM_TOTAL, FROGFOOT_MEM_FREE, FROGFOOT_MEM_BUFFER, FROGFOOT_MEM_CACHE,
     UNIFI_VAP_ESSID, UNIFI_VAP_NUM_STATIONS, UNIFI_VAP_RADIO, AIRMAX_SSID, AIRMAX_STA_COUNT, AIRMAX_FREQ),
    _read_ubiquiti,
)
"""CPU (5-minute load) and memory from FROGFOOT where HOST-RESOURCES has none; clients per UniFi VAP (SSID,
radio) and per airMAX radio."""


def _switch(system: SystemInfo) -> bool:
    if system.under(BROADCOM) or system.under("1.3.6.1.4.1.41112"):
        return bool(_SWITCH_DESCR.match(system.sys_descr))
    return system.under(NET_SNMP_LINUX) and system.sys_descr.startswith("Linux UBNT")


class UbiquitiProfile:
    slug = "ubiquiti"
    priority = 10
    probe_gets = (AIRFIBER_FW_VERSION, CHASSIS_MODEL, f"{ENT_PHYSICAL_DESCR}.1")
    probe_walks = (DOT11_PRODUCT_NAME, DOT11_PRODUCT_VERSION, AIRMAX_RADIO)
    health = (HOST_RESOURCES, UBIQUITI_HEALTH)

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
