"""Cisco IOS / IOS XE (sysObjectID .9): model and version from the multi-line sysDescr."""

from __future__ import annotations

import re

from collectors.profiles.base import Identity, Probes, SystemInfo
from collectors.profiles.health import (
    HOST_RESOURCES,
    Columns,
    Health,
    HealthPart,
    Mempool,
    Processor,
    SensorKind,
    add_sensor,
    name_of,
    number,
    rows,
)
from netmgr.models.enums import Platform

_MODEL = re.compile(r"IOS(?: \(tm\))? (\S+) Software|Cisco IOS Software(?: \[\w+\])?, (\S+) Software")
_VERSION = re.compile(r"Version ([^,\s]+)")


CPM_CPU_TOTAL_5MIN_REV = "1.3.6.1.4.1.9.9.109.1.1.1.1.8"  # CISCO-PROCESS-MIB, % per CPU
CISCO_MEMORY_POOL_NAME = "1.3.6.1.4.1.9.9.48.1.1.1.2"  # CISCO-MEMORY-POOL-MIB
CISCO_MEMORY_POOL_USED = "1.3.6.1.4.1.9.9.48.1.1.1.5"  # bytes
CISCO_MEMORY_POOL_FREE = "1.3.6.1.4.1.9.9.48.1.1.1.6"  # bytes
ENVMON_VOLTAGE_DESCR = "1.3.6.1.4.1.9.9.13.1.2.1.2"  # CISCO-ENVMON-MIB
ENVMON_VOLTAGE_VALUE = "1.3.6.1.4.1.9.9.13.1.2.1.3"  # mV
ENVMON_TEMPERATURE_DESCR = "1.3.6.1.4.1.9.9.13.1.3.1.2"
ENVMON_TEMPERATURE_VALUE = "1.3.6.1.4.1.9.9.13.1.3.1.3"  # °C


def _read_cisco(columns: Columns, health: Health) -> None:
    cpus = [Processor(index, float(v)) for index, v in rows(columns, CPM_CPU_TOTAL_5MIN_REV).items()
            if isinstance(v, int)]
    if cpus:
        health.processors = cpus  # the IOS figure, not HOST-RESOURCES' (IOS has none anyway)
    names, free = rows(columns, CISCO_MEMORY_POOL_NAME), rows(columns, CISCO_MEMORY_POOL_FREE)
    for index, value in rows(columns, CISCO_MEMORY_POOL_USED).items():
        used, spare = number(value), number(free.get(index))
        if used is not None and spare is not None:
            health.mempools.append(Mempool(name_of(names, index, f"pool{index}"), used, used + spare))
    names = rows(columns, ENVMON_TEMPERATURE_DESCR)
    for index, value in rows(columns, ENVMON_TEMPERATURE_VALUE).items():
        add_sensor(health, SensorKind.TEMPERATURE, name_of(names, index, f"temp{index}"), number(value), 1)
    names = rows(columns, ENVMON_VOLTAGE_DESCR)
    for index, value in rows(columns, ENVMON_VOLTAGE_VALUE).items():
        add_sensor(health, SensorKind.VOLTAGE, name_of(names, index, f"voltage{index}"), number(value), 1000)


CISCO_HEALTH = HealthPart(
    "CISCO-PROCESS/MEMORY-POOL/ENVMON-MIB",
    (CPM_CPU_TOTAL_5MIN_REV, CISCO_MEMORY_POOL_NAME, CISCO_MEMORY_POOL_USED, CISCO_MEMORY_POOL_FREE,
     ENVMON_VOLTAGE_DESCR, ENVMON_VOLTAGE_VALUE, ENVMON_TEMPERATURE_DESCR, ENVMON_TEMPERATURE_VALUE),
    _read_cisco,
)
"""cpmCPUTotal5minRev per CPU, memory pools (used + free), ENVMON temperatures (°C) and voltages (mV)."""


class CiscoProfile:
    slug = "cisco"
    priority = 10
    probe_gets: tuple[str, ...] = ()
    probe_walks: tuple[str, ...] = ()
    health = (HOST_RESOURCES, CISCO_HEALTH)

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.9")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        model_match = _MODEL.search(system.sys_descr)
        version_match = _VERSION.search(system.sys_descr)
        model = next((g for g in model_match.groups() if g), "") if model_match else ""
        return Identity("cisco", Platform.CISCO_IOS, model=model,
                        os_version=version_match.group(1) if version_match else "")
