"""MikroTik: RouterOS (sysObjectID .14988.1) and SwOS switches (.14988.2)."""

from __future__ import annotations

import re

from collectors.profiles.base import ENT_PHYSICAL_DESCR, Identity, Probes, SystemInfo
from collectors.profiles.health import (
    HOST_RESOURCES,
    Columns,
    Health,
    HealthPart,
    SensorKind,
    WirelessClients,
    add_sensor,
    name_of,
    number,
    rows,
    scalar,
)
from netmgr.models.enums import Platform

MTXR_LIC_VERSION = "1.3.6.1.4.1.14988.1.1.4.4.0"
MTXR_SERIAL = "1.3.6.1.4.1.14988.1.1.7.3.0"
MTXR_BOARD_NAME = "1.3.6.1.4.1.14988.1.1.7.8.0"
ENT_SYSTEM_DESCR = f"{ENT_PHYSICAL_DESCR}.65536"  # RouterOS: "RouterOS 6.40.5 (stable) on RB952Ui-5ac2nD"

# MIKROTIK-MIB health (mtxrHealth scalars, RouterOS 6; the gauge table, RouterOS 7), PoE and SFP optics
MTXR_HL_VOLTAGE = "1.3.6.1.4.1.14988.1.1.3.8"  # dV
MTXR_HL_TEMPERATURE = "1.3.6.1.4.1.14988.1.1.3.10"  # d°C, the board
MTXR_HL_PROCESSOR_TEMPERATURE = "1.3.6.1.4.1.14988.1.1.3.11"  # d°C
MTXR_GAUGE_NAME = "1.3.6.1.4.1.14988.1.1.3.100.1.2"
MTXR_GAUGE_VALUE = "1.3.6.1.4.1.14988.1.1.3.100.1.3"
MTXR_GAUGE_UNIT = "1.3.6.1.4.1.14988.1.1.3.100.1.4"  # 1 celsius, 3 dV (2 rpm, 4 dA, 5 dW, 6 status)
MTXR_POE_NAME = "1.3.6.1.4.1.14988.1.1.15.1.1.2"
MTXR_POE_VOLTAGE = "1.3.6.1.4.1.14988.1.1.15.1.1.4"  # dV
MTXR_OPTICAL_NAME = "1.3.6.1.4.1.14988.1.1.19.1.1.2"
MTXR_OPTICAL_TEMPERATURE = "1.3.6.1.4.1.14988.1.1.19.1.1.6"  # °C
MTXR_OPTICAL_VOLTAGE = "1.3.6.1.4.1.14988.1.1.19.1.1.7"  # mV
# mtxrWlApTable: one row per wireless interface in AP mode (virtual APs too), indexed by ifIndex
MTXR_WL_AP_SSID = "1.3.6.1.4.1.14988.1.1.1.3.1.4"
MTXR_WL_AP_CLIENT_COUNT = "1.3.6.1.4.1.14988.1.1.1.3.1.6"
MTXR_WL_AP_FREQ = "1.3.6.1.4.1.14988.1.1.1.3.1.7"


def _band(freq_mhz: int | None) -> str:
    """``2G`` or ``5G`` from a frequency in MHz; empty for a virtual AP (frequency 0)."""
    if not freq_mhz:
        return ""
    return "2G" if freq_mhz < 3000 else "5G" if freq_mhz < 7200 else "60G"


def _read_mikrotik(columns: Columns, health: Health) -> None:
    add_sensor(health, SensorKind.TEMPERATURE, "board", scalar(columns, MTXR_HL_TEMPERATURE), 10)
    add_sensor(health, SensorKind.TEMPERATURE, "processor", scalar(columns, MTXR_HL_PROCESSOR_TEMPERATURE), 10)
    add_sensor(health, SensorKind.VOLTAGE, "board", scalar(columns, MTXR_HL_VOLTAGE), 10)
    names, units = rows(columns, MTXR_GAUGE_NAME), rows(columns, MTXR_GAUGE_UNIT)
    for index, value in rows(columns, MTXR_GAUGE_VALUE).items():
        unit, name = units.get(index), name_of(names, index, f"gauge{index}")
        if unit == 1:
            add_sensor(health, SensorKind.TEMPERATURE, name, number(value), 1)
        elif unit == 3:
            add_sensor(health, SensorKind.VOLTAGE, name, number(value), 10)
    names = rows(columns, MTXR_POE_NAME)
    for index, value in rows(columns, MTXR_POE_VOLTAGE).items():
        add_sensor(health, SensorKind.VOLTAGE, f"{name_of(names, index, index)} PoE", number(value), 10)
    names = rows(columns, MTXR_OPTICAL_NAME)
    for index, value in rows(columns, MTXR_OPTICAL_TEMPERATURE).items():
        add_sensor(health, SensorKind.TEMPERATURE, name_of(names, index, f"sfp{index}"), number(value), 1)
    for index, value in rows(columns, MTXR_OPTICAL_VOLTAGE).items():
        add_sensor(health, SensorKind.VOLTAGE, name_of(names, index, f"sfp{index}"), number(value), 1000)
    ssids, freqs = rows(columns, MTXR_WL_AP_SSID), rows(columns, MTXR_WL_AP_FREQ)
    for index, value in rows(columns, MTXR_WL_AP_CLIENT_COUNT).items():
        clients = number(value)
        if clients is not None:
            health.wireless.append(WirelessClients(
                index, name_of(ssids, index, ""), clients, radio=_band(number(freqs.get(index))),
                if_index=int(index) if index.isdigit() else None))


MIKROTIK_HEALTH = HealthPart(
    "MIKROTIK-MIB",
    (MTXR_HL_VOLTAGE, MTXR_HL_TEMPERATURE, MTXR_HL_PROCESSOR_TEMPERATURE, MTXR_GAUGE_NAME, MTXR_GAUGE_VALUE,
     MTXR_GAUGE_UNIT, MTXR_POE_NAME, MTXR_POE_VOLTAGE, MTXR_OPTICAL_NAME, MTXR_OPTICAL_TEMPERATURE,
     MTXR_OPTICAL_VOLTAGE, MTXR_WL_AP_SSID, MTXR_WL_AP_CLIENT_COUNT, MTXR_WL_AP_FREQ),
    _read_mikrotik,
)
"""Board/processor temperature and voltage, RouterOS 7 gauges, PoE-out and SFP voltages/temperatures, and
associated clients per AP interface (mtxrWlApClientCount; SSID, band from frequency)."""


class MikrotikProfile:
    slug = "mikrotik"
    priority = 10
    probe_gets = (MTXR_LIC_VERSION, MTXR_SERIAL, MTXR_BOARD_NAME, ENT_SYSTEM_DESCR)
    probe_walks: tuple[str, ...] = ()
    health = (HOST_RESOURCES, MIKROTIK_HEALTH)

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.14988") or system.sys_descr.startswith("RouterOS")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        if system.under("1.3.6.1.4.1.14988.2"):
            # SwOS (CSS/RB260 switches) has no CLI netmiko can drive.
            return Identity("mikrotik", Platform.GENERIC, model=system.sys_descr.strip(),
                            serial=probes.text(MTXR_SERIAL))
        ent = probes.text(ENT_SYSTEM_DESCR)
        model = probes.text(MTXR_BOARD_NAME)
        if not model and system.sys_descr.startswith("RouterOS "):
            model = system.sys_descr.removeprefix("RouterOS ").strip()
        if not model and " on " in ent:
            model = ent.rsplit(" on ", 1)[1].strip()
        version = probes.text(MTXR_LIC_VERSION)
        if not version:
            match = re.match(r"RouterOS (\S+)", ent)
            version = match.group(1) if match else ""
        return Identity("mikrotik", Platform.MIKROTIK_ROUTEROS, model=model, os_version=version,
                        serial=probes.text(MTXR_SERIAL))
