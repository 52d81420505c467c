"""Huawei VRP (sysObjectID .2011): ``Huawei AR1220 … Version 5.120 (AR1220 V200R003C01SPC900)``."""

from __future__ import annotations

import re

from collectors.profiles.base import ENT_PHYSICAL_NAME, Identity, Probes, SystemInfo
from collectors.profiles.health import (
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

_MODEL = re.compile(r"^Huawei (\S+)")
_VERSION = re.compile(r"Version (\S+) \((\S+) (\S+)\)")


# HUAWEI-ENTITY-EXTENT-MIB hwEntityStateTable, indexed by entPhysicalIndex
HW_ENTITY_CPU_USAGE = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1.5"  # %
HW_ENTITY_MEM_USAGE = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1.7"  # %
HW_ENTITY_MEM_SIZE = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1.9"  # bytes; 0 on entities without memory
HW_ENTITY_TEMPERATURE = "1.3.6.1.4.1.2011.5.25.31.1.1.1.1.11"  # °C; 0 where there is no sensor


def _read_huawei(columns: Columns, health: Health) -> None:
    names = rows(columns, ENT_PHYSICAL_NAME)
    sizes = rows(columns, HW_ENTITY_MEM_SIZE)
    cpu = rows(columns, HW_ENTITY_CPU_USAGE)
    # Every entity (chassis, slot, port) has a row; the boards are the ones with memory.
    boards = [i for i, v in sizes.items() if (number(v) or 0) > 0] or [i for i, v in cpu.items() if number(v)]
    mem = rows(columns, HW_ENTITY_MEM_USAGE)
    for index in boards:
        name = name_of(names, index, f"board {index}")
        load = number(cpu.get(index))
        if load is not None:
            health.processors.append(Processor(index, float(load)))
        used_pct, size = number(mem.get(index)), number(sizes.get(index))
        if used_pct is not None:
            used = size * used_pct // 100 if size else None
            health.mempools.append(Mempool(name, used, size or None, float(used_pct)))
    for index, value in rows(columns, HW_ENTITY_TEMPERATURE).items():
        if number(value):
            add_sensor(health, SensorKind.TEMPERATURE, name_of(names, index, f"entity {index}"), number(value), 1)


HUAWEI_HEALTH = HealthPart(
    "HUAWEI-ENTITY-EXTENT-MIB",
    (ENT_PHYSICAL_NAME, HW_ENTITY_CPU_USAGE, HW_ENTITY_MEM_USAGE, HW_ENTITY_MEM_SIZE, HW_ENTITY_TEMPERATURE),
    _read_huawei,
)
"""CPU and memory use per board (the entities with memory), temperature per entity that has a sensor."""


class HuaweiProfile:
    slug = "huawei"
    priority = 10
    probe_gets: tuple[str, ...] = ()
    probe_walks: tuple[str, ...] = ()
    health = (HUAWEI_HEALTH,)

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.2011")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        descr = " ".join(system.sys_descr.split())
        version = _VERSION.search(descr)
        model = _MODEL.search(descr)
        name = version.group(2) if version else model.group(1) if model else ""
        # "5.120 (V200R003C01SPC900)": the VRP version and the release, written the way LibreNMS does.
        os_version = f"{version.group(1)} ({version.group(3)})" if version else ""
        return Identity("huawei", Platform.HUAWEI, model=name, os_version=os_version)
