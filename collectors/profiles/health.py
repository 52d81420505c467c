"""What a device's health is (processors, memory pools, sensors, wireless clients) and how profiles declare it.

A profile lists ``HealthPart``s: the table columns (or scalar parents) one MIB needs and a pure function that
reads the walked columns into a ``Health``. The poller walks the columns of all of a profile's parts in one
multi-column GETBULK walk on the normal cycle, so a sensor costs no round trip of its own. The standard MIBs
(HOST-RESOURCES-MIB, UCD-SNMP-MIB, LM-SENSORS-MIB) are here; makers' MIBs live in their profile modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from collectors.snmp import codecs
from collectors.snmp.types import SnmpType, Value, VarBind

Columns = Mapping[str, list[VarBind]]
"""Walked columns by column OID; a column the device lacks maps to an empty list."""


@dataclass(frozen=True, slots=True)
class Processor:
    """One processor's load, e.g. ``Processor("1", 21.0)`` for hrProcessorLoad.1."""

    index: str
    load_pct: float


@dataclass(frozen=True, slots=True)
class Mempool:
    """One memory pool, e.g. ``main memory`` 27196 KiB used of 65536 KiB. Some makers give only a percentage."""

    name: str
    used_bytes: int | None
    total_bytes: int | None
    used_pct_reported: float | None = None

    @property
    def used_pct(self) -> float | None:
        """The maker's own percentage where it gives one (bytes were derived from it), else used / total."""
        if self.used_pct_reported is not None:
            return self.used_pct_reported
        if self.used_bytes is not None and self.total_bytes:
            return 100.0 * self.used_bytes / self.total_bytes
        return None


class SensorKind:
    """Sensor kinds netmgr stores, with their unit: ``temperature`` (°C), ``voltage`` (V)."""

    TEMPERATURE = "temperature"
    VOLTAGE = "voltage"


@dataclass(frozen=True, slots=True)
class Sensor:
    """One sensor reading in its kind's unit, e.g. ``Sensor("temperature", "sfp1", 40.0)``."""

    kind: str
    name: str
    value: float


@dataclass(frozen=True, slots=True)
class WirelessClients:
    """Clients associated with one radio or SSID of an access point, e.g. 7 on ``WARKOP-KOPIBOSS-B``.

    ``if_index`` names the radio's interface where the MIB indexes by ifIndex (the poller adds its name).
    """

    index: str
    ssid: str
    clients: int
    radio: str = ""
    if_index: int | None = None


@dataclass
class Health:
    """Everything the health parts of one poll found; empty lists where the device has none."""

    processors: list[Processor] = field(default_factory=list)
    mempools: list[Mempool] = field(default_factory=list)
    sensors: list[Sensor] = field(default_factory=list)
    wireless: list[WirelessClients] = field(default_factory=list)
    clients_total: int | None = None
    """The device's own total of associated clients where it reports one (a WLAN controller's)."""
    system_uptime_cs: int | None = None
    """hrSystemUptime: the operating system's uptime (sysUpTime is only the agent's)."""

    @property
    def empty(self) -> bool:
        return not (self.processors or self.mempools or self.sensors or self.wireless
                    or self.clients_total is not None or self.system_uptime_cs is not None)

    @property
    def cpu_load_pct(self) -> float | None:
        """The mean load of all processors."""
        if not self.processors:
            return None
        return sum(p.load_pct for p in self.processors) / len(self.processors)

    @property
    def wireless_clients(self) -> int | None:
        if self.clients_total is not None:
            return self.clients_total
        return sum(w.clients for w in self.wireless) if self.wireless else None


@dataclass(frozen=True)
class HealthPart:
    """The columns one MIB's health needs and how to read them (pure; no I/O)."""

    name: str
    columns: tuple[str, ...]
    read: Callable[[Columns, Health], None]


def rows(columns: Columns, column: str) -> dict[str, Value]:
    """A column's values by index suffix (``"65536"``, ``"0"``, ``"0.39.16.50.237.96.9"``), exceptions left out."""
    prefix = column + "."
    start = len(prefix)
    return {vb.oid[start:]: vb.value for vb in columns.get(column, ()) if vb.type < SnmpType.NO_SUCH_OBJECT
            and vb.oid.startswith(prefix)}


def number(value: Value) -> int | None:
    """An integer value; also a number sent as text (some agents send Opaque or strings)."""
    if isinstance(value, int):
        return value
    if isinstance(value, bytes):
        try:
            return int(float(value.decode("ascii").strip()))
        except (UnicodeDecodeError, ValueError):
            return None
    return None


def scalar(columns: Columns, column: str) -> int | None:
    """The ``.0`` instance of a scalar walked as its parent (``…3.8`` → ``…3.8.0``)."""
    return number(rows(columns, column).get("0"))


def name_of(names: Mapping[str, Value], index: str, default: str) -> str:
    return codecs.text(names.get(index)).strip() or default


def add_sensor(health: Health, kind: str, name: str, raw: int | None, divisor: float) -> None:
    if raw is not None:
        health.sensors.append(Sensor(kind, name, raw / divisor))


# --- HOST-RESOURCES-MIB -----------------------------------------------------------------------------------

HR_SYSTEM_UPTIME = "1.3.6.1.2.1.25.1.1"
HR_STORAGE_TYPE = "1.3.6.1.2.1.25.2.3.1.2"
HR_STORAGE_DESCR = "1.3.6.1.2.1.25.2.3.1.3"
HR_STORAGE_UNITS = "1.3.6.1.2.1.25.2.3.1.4"
HR_STORAGE_SIZE = "1.3.6.1.2.1.25.2.3.1.5"
HR_STORAGE_USED = "1.3.6.1.2.1.25.2.3.1.6"
HR_STORAGE_RAM = "1.3.6.1.2.1.25.2.1.2"
HR_PROCESSOR_LOAD = "1.3.6.1.2.1.25.3.3.1.2"


def _read_host_resources(columns: Columns, health: Health) -> None:
    uptime = scalar(columns, HR_SYSTEM_UPTIME)
    if uptime is not None:
        health.system_uptime_cs = uptime
    for index, value in rows(columns, HR_PROCESSOR_LOAD).items():
        if isinstance(value, int):
            health.processors.append(Processor(index, float(value)))
    types, descr = rows(columns, HR_STORAGE_TYPE), rows(columns, HR_STORAGE_DESCR)
    units, size, used = (rows(columns, c) for c in (HR_STORAGE_UNITS, HR_STORAGE_SIZE, HR_STORAGE_USED))
    for index, kind in types.items():
        u, s, n = number(units.get(index)), number(size.get(index)), number(used.get(index))
        if kind == HR_STORAGE_RAM and u and s and n is not None:
            health.mempools.append(Mempool(name_of(descr, index, "memory"), u * n, u * s))


HOST_RESOURCES = HealthPart(
    "HOST-RESOURCES-MIB",
    (HR_SYSTEM_UPTIME, HR_PROCESSOR_LOAD, HR_STORAGE_TYPE, HR_STORAGE_DESCR, HR_STORAGE_UNITS, HR_STORAGE_SIZE,
     HR_STORAGE_USED),
    _read_host_resources,
)
"""hrProcessorLoad per processor, hrStorageRam pools (bytes = units × size/used), hrSystemUptime."""

# --- UCD-SNMP-MIB and LM-SENSORS-MIB (net-snmp) ---------------------------------------------------------

UCD_SS_CPU_IDLE = "1.3.6.1.4.1.2021.11.11"
UCD_MEM_TOTAL_REAL = "1.3.6.1.4.1.2021.4.5"
UCD_MEM_AVAIL_REAL = "1.3.6.1.4.1.2021.4.6"
UCD_MEM_BUFFER = "1.3.6.1.4.1.2021.4.14"
UCD_MEM_CACHED = "1.3.6.1.4.1.2021.4.15"
LM_TEMP_DEVICE = "1.3.6.1.4.1.2021.13.16.2.1.2"
LM_TEMP_VALUE = "1.3.6.1.4.1.2021.13.16.2.1.3"
LM_VOLT_DEVICE = "1.3.6.1.4.1.2021.13.16.4.1.2"
LM_VOLT_VALUE = "1.3.6.1.4.1.2021.13.16.4.1.3"


def _read_ucd(columns: Columns, health: Health) -> None:
    idle = scalar(columns, UCD_SS_CPU_IDLE)
    if not health.processors and idle is not None:
        health.processors.append(Processor("0", float(100 - idle)))
    total = scalar(columns, UCD_MEM_TOTAL_REAL)
    avail = scalar(columns, UCD_MEM_AVAIL_REAL)
    if total and avail is not None:
        # What Linux calls used: not free, not buffers, not page cache (hrStorage's "Physical memory" counts them).
        free = avail + (scalar(columns, UCD_MEM_BUFFER) or 0) + (scalar(columns, UCD_MEM_CACHED) or 0)
        pool = Mempool("Physical memory", max(0, total - free) * 1024, total * 1024)
        health.mempools = [pool] + [m for m in health.mempools if m.name != "Physical memory"]
    names = rows(columns, LM_TEMP_DEVICE)
    for index, value in rows(columns, LM_TEMP_VALUE).items():
        add_sensor(health, SensorKind.TEMPERATURE, name_of(names, index, f"temp{index}"), number(value), 1000)
    names = rows(columns, LM_VOLT_DEVICE)
    for index, value in rows(columns, LM_VOLT_VALUE).items():
        add_sensor(health, SensorKind.VOLTAGE, name_of(names, index, f"in{index}"), number(value), 1000)


UCD_SNMP = HealthPart(
    "UCD-SNMP-MIB",
    (UCD_SS_CPU_IDLE, UCD_MEM_TOTAL_REAL, UCD_MEM_AVAIL_REAL, UCD_MEM_BUFFER, UCD_MEM_CACHED, LM_TEMP_DEVICE,
     LM_TEMP_VALUE, LM_VOLT_DEVICE, LM_VOLT_VALUE),
    _read_ucd,
)
"""ssCpuIdle (when HOST-RESOURCES has no processors), memTotalReal/memAvailReal less buffers and cache (kB),
lmTempSensorsValue (m°C) and lmVoltSensorsValue (mV)."""

STANDARD = (HOST_RESOURCES,)
"""What any agent may have: the health of profiles that know nothing better."""


def columns_of(parts: tuple[HealthPart, ...]) -> tuple[str, ...]:
    """Every column of ``parts`` once, in order: what one multi-column walk asks for."""
    seen: dict[str, None] = {}
    for part in parts:
        for column in part.columns:
            seen.setdefault(column, None)
    return tuple(seen)


def read_health(parts: tuple[HealthPart, ...], columns: Columns) -> Health:
    """Read the walked ``columns`` through each part in order (later parts may refine earlier ones)."""
    health = Health()
    for part in parts:
        part.read(columns, health)
    return health
