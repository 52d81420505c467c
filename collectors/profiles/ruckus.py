"""Ruckus Wireless ZoneDirector controllers and APs (sysObjectID .25053)."""

from __future__ import annotations

from collectors.profiles.base import Identity, Probes, SystemInfo
from collectors.profiles.health import (
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
from netmgr.models.enums import Platform

ZD_MODEL = "1.3.6.1.4.1.25053.1.2.1.1.1.1.9.0"
ZD_SERIAL = "1.3.6.1.4.1.25053.1.2.1.1.1.1.15.0"
ZD_VERSION = "1.3.6.1.4.1.25053.1.2.1.1.1.1.18.0"


# RUCKUS-ZD-SYSTEM-MIB / RUCKUS-ZD-WLAN-MIB (ZoneDirector)
ZD_CPU_UTIL = "1.3.6.1.4.1.25053.1.2.1.1.1.5.58"  # %
ZD_MEMORY_UTIL = "1.3.6.1.4.1.25053.1.2.1.1.1.5.59"  # %
ZD_TOTAL_CLIENTS = "1.3.6.1.4.1.25053.1.2.1.1.1.15.2"
ZD_WLAN_SSID = "1.3.6.1.4.1.25053.1.2.2.1.1.1.1.1.1"
ZD_WLAN_NUM_STA = "1.3.6.1.4.1.25053.1.2.2.1.1.1.1.1.12"


def _read_ruckus(columns: Columns, health: Health) -> None:
    cpu, memory = scalar(columns, ZD_CPU_UTIL), scalar(columns, ZD_MEMORY_UTIL)
    if cpu is not None:
        health.processors.append(Processor("0", float(cpu)))
    if memory is not None:
        health.mempools.append(Mempool("System Memory", None, None, float(memory)))
    ssids = rows(columns, ZD_WLAN_SSID)
    for index, value in rows(columns, ZD_WLAN_NUM_STA).items():
        clients = number(value)
        if clients is not None:
            health.wireless.append(WirelessClients(index, name_of(ssids, index, ""), clients))
    health.clients_total = scalar(columns, ZD_TOTAL_CLIENTS)


RUCKUS_HEALTH = HealthPart("RUCKUS-ZD-MIB", (ZD_CPU_UTIL, ZD_MEMORY_UTIL, ZD_TOTAL_CLIENTS, ZD_WLAN_SSID,
                                             ZD_WLAN_NUM_STA), _read_ruckus)
"""ZoneDirector CPU and memory use (%), clients per WLAN (SSID) and the controller's own client total."""


class RuckusProfile:
    slug = "ruckus"
    priority = 10
    probe_gets = (ZD_MODEL, ZD_SERIAL, ZD_VERSION)
    probe_walks: tuple[str, ...] = ()
    health = (RUCKUS_HEALTH,)

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.25053") or system.sys_descr.startswith("Ruckus")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        model = probes.text(ZD_MODEL) or system.sys_descr.removeprefix("Ruckus Wireless").strip()
        return Identity("ruckus", Platform.GENERIC, model=model, os_version=probes.text(ZD_VERSION),
                        serial=probes.text(ZD_SERIAL))
