"""Cambium Networks (sysObjectID .17713): ePMP/PMP radios and cnPilot access points (.17713.22, ``cnPilot E500``)."""

from __future__ import annotations

import re

from collectors.profiles.base import Identity, Probes, SystemInfo
from collectors.profiles.health import (
    HOST_RESOURCES,
    Columns,
    Health,
    HealthPart,
    Processor,
    WirelessClients,
    scalar,
)
from netmgr.models.enums import Platform

EPMP_SW_VERSION = "1.3.6.1.4.1.17713.21.1.1.17.0"
EPMP_SERIAL = "1.3.6.1.4.1.17713.21.1.1.31.0"
CNPILOT = "1.3.6.1.4.1.17713.22"
_CNPILOT_MODEL = re.compile(r"(cnPilot \S+)")


# CAMBIUM-PMP80211-MIB (ePMP)
EPMP_CPU_UTILIZATION = "1.3.6.1.4.1.17713.21.2.1.64"  # tenths of %
EPMP_FREQUENCY = "1.3.6.1.4.1.17713.21.1.2.1"  # MHz
EPMP_CLIENT_COUNT = "1.3.6.1.4.1.17713.21.1.2.10"
# CAMBIUM-MIB (cnPilot E): the AP's associated clients, as LibreNMS's Cnpilote OS class reads them
CNPILOT_TOTAL_CLIENTS = "1.3.6.1.4.1.17713.22.1.1.1.14"


def _read_cambium(columns: Columns, health: Health) -> None:
    cpu = scalar(columns, EPMP_CPU_UTILIZATION)
    if cpu is not None:
        health.processors = [Processor("0", cpu / 10)]
    clients = scalar(columns, EPMP_CLIENT_COUNT)
    if clients is not None:
        freq = scalar(columns, EPMP_FREQUENCY)
        band = "" if not freq else "2G" if freq < 3000 else "5G"
        health.wireless.append(WirelessClients("0", "", clients, radio=band))
    total = scalar(columns, CNPILOT_TOTAL_CLIENTS)
    if total is not None:
        health.clients_total = total
        health.wireless.append(WirelessClients("0", "", total, radio="AP"))


CAMBIUM_HEALTH = HealthPart("CAMBIUM-PMP80211-MIB/CAMBIUM-MIB",
                            (EPMP_CPU_UTILIZATION, EPMP_FREQUENCY, EPMP_CLIENT_COUNT, CNPILOT_TOTAL_CLIENTS),
                            _read_cambium)
"""ePMP CPU (tenths of a percent) and registered subscriber modules on the radio; cnPilot's associated clients."""


class CambiumProfile:
    slug = "cambium"
    priority = 10
    probe_gets = (EPMP_SW_VERSION, EPMP_SERIAL)
    probe_walks: tuple[str, ...] = ()
    health = (HOST_RESOURCES, CAMBIUM_HEALTH)

    def claims(self, system: SystemInfo) -> bool:
        return (system.under("1.3.6.1.4.1.17713") or system.sys_descr.startswith("Cambium")
                or "cnPilot" in system.sys_descr)

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        cnpilot = _CNPILOT_MODEL.search(system.sys_descr)
        if cnpilot or system.under(CNPILOT):
            # "Cambium cnPilot E500 Access Point": the model is "cnPilot E500"; ePMP's MIB is not there.
            return Identity("cambium", Platform.GENERIC, model=cnpilot.group(1) if cnpilot else "cnPilot")
        return Identity("cambium", Platform.GENERIC, model=system.sys_descr.removeprefix("Cambium").strip(),
                        os_version=probes.text(EPMP_SW_VERSION), serial=probes.text(EPMP_SERIAL))
