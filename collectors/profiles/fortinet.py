"""Fortinet FortiGate firewalls (sysObjectID .12356.101.1 or .12356.15): an empty sysDescr, so the MIBs decide.

Model from ENTITY-MIB's chassis row (``FGT_1500D``), FortiOS version from fgSysVersion, serial from fnSysSerial.
"""

from __future__ import annotations

import re

from collectors.profiles.base import CHASSIS_MODEL, CHASSIS_NAME, CHASSIS_SERIAL, Identity, Probes, SystemInfo
from collectors.profiles.health import HOST_RESOURCES, Columns, Health, HealthPart, Mempool, Processor, scalar
from netmgr.models.enums import Platform

FG_SYS_VERSION = "1.3.6.1.4.1.12356.101.4.1.1.0"  # "v6.0.4,build0231,190107 (GA)"
FN_SYS_SERIAL = "1.3.6.1.4.1.12356.100.1.1.1.0"
_VERSION = re.compile(r"^v?(\d+(?:\.\d+)+)")
FG_SYS_CPU_USAGE = "1.3.6.1.4.1.12356.101.4.1.3"  # FORTINET-FORTIGATE-MIB, %
FG_SYS_MEM_USAGE = "1.3.6.1.4.1.12356.101.4.1.4"  # %
FG_SYS_MEM_CAPACITY = "1.3.6.1.4.1.12356.101.4.1.5"  # kB


def _read_fortigate(columns: Columns, health: Health) -> None:
    cpu, used_pct = scalar(columns, FG_SYS_CPU_USAGE), scalar(columns, FG_SYS_MEM_USAGE)
    capacity = scalar(columns, FG_SYS_MEM_CAPACITY)
    if cpu is not None:
        health.processors = [Processor("0", float(cpu))]
    if used_pct is not None:
        total = capacity * 1024 if capacity else None
        used = total * used_pct // 100 if total else None
        health.mempools = [Mempool("memory", used, total, float(used_pct))]


FORTIGATE_HEALTH = HealthPart("FORTINET-FORTIGATE-MIB", (FG_SYS_CPU_USAGE, FG_SYS_MEM_USAGE, FG_SYS_MEM_CAPACITY),
                              _read_fortigate)
"""fgSysCpuUsage and fgSysMemUsage (%) with fgSysMemCapacity (kB); FortiOS answers HOST-RESOURCES poorly."""


class FortinetProfile:
    slug = "fortinet"
    priority = 10
    probe_gets = (FG_SYS_VERSION, FN_SYS_SERIAL, CHASSIS_MODEL, CHASSIS_NAME, CHASSIS_SERIAL)
    probe_walks: tuple[str, ...] = ()
    health = (HOST_RESOURCES, FORTIGATE_HEALTH)

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.12356.101.1") or system.under("1.3.6.1.4.1.12356.15")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        version = _VERSION.match(probes.text(FG_SYS_VERSION))
        return Identity("fortinet", Platform.FORTINET,
                        model=probes.text(CHASSIS_MODEL) or probes.text(CHASSIS_NAME),
                        os_version=version.group(1) if version else "",
                        serial=probes.text(FN_SYS_SERIAL) or probes.text(CHASSIS_SERIAL))
