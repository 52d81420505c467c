"""Poll one device: sysUpTime, interface counters, health and vendor extras over SNMP, into a ``DeviceSample``.

SNMP (a GET of sysUpTime + one multi-column GETBULK walk per table, in flight at once) → decoded raw counters.
Pure reading: no rates, no database; ``collectors.pipeline`` turns samples into rates and points.
Health (CPU, memory, sensors, wireless clients) is what the device's profile declares (``Profile.health``),
read in one multi-column walk; vendor extras (MikroTik queues and registration table) are keyed by vendor slug
in ``EXTRAS``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import cast

from collectors.profiles import PROFILES
from collectors.profiles.health import STANDARD, Health, HealthPart, columns_of, read_health
from collectors.snmp import codecs
from collectors.snmp.types import SnmpClient, SnmpTarget, SnmpType, Value, VarBind
from netmgr.models.enums import Platform
from netmgr.registry import Registry

log = logging.getLogger(__name__)

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"

IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_IN_UCAST_PKTS = "1.3.6.1.2.1.2.2.1.11"
IF_IN_DISCARDS = "1.3.6.1.2.1.2.2.1.13"
IF_IN_ERRORS = "1.3.6.1.2.1.2.2.1.14"
IF_OUT_OCTETS = "1.3.6.1.2.1.2.2.1.16"
IF_OUT_UCAST_PKTS = "1.3.6.1.2.1.2.2.1.17"
IF_OUT_DISCARDS = "1.3.6.1.2.1.2.2.1.19"
IF_OUT_ERRORS = "1.3.6.1.2.1.2.2.1.20"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_IN_UCAST_PKTS = "1.3.6.1.2.1.31.1.1.1.7"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"
IF_HC_OUT_UCAST_PKTS = "1.3.6.1.2.1.31.1.1.1.11"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"

# Read on every poll: names, status, speed, 64-bit octets and packets, errors and discards.
INTERFACE_COLUMNS = (IF_NAME, IF_OPER_STATUS, IF_HIGH_SPEED, IF_HC_IN_OCTETS, IF_HC_OUT_OCTETS, IF_HC_IN_UCAST_PKTS,
                     IF_HC_OUT_UCAST_PKTS, IF_IN_ERRORS, IF_OUT_ERRORS, IF_IN_DISCARDS, IF_OUT_DISCARDS)
# Read only for devices whose interfaces lack the 64-bit counters (or ifName).
FALLBACK_COLUMNS = (IF_IN_OCTETS, IF_OUT_OCTETS, IF_IN_UCAST_PKTS, IF_OUT_UCAST_PKTS)

# MIKROTIK-MIB
MTXR_WL_RTAB_STRENGTH = "1.3.6.1.4.1.14988.1.1.1.2.1.3"
"""mtxrWlRtabStrength: one row per registered wireless client (index MAC.ifIndex), signal in dBm."""
MTXR_QUEUE_SIMPLE_NAME = "1.3.6.1.4.1.14988.1.1.2.1.1.2"
MTXR_QUEUE_SIMPLE_BYTES_IN = "1.3.6.1.4.1.14988.1.1.2.1.1.8"
MTXR_QUEUE_SIMPLE_BYTES_OUT = "1.3.6.1.4.1.14988.1.1.2.1.1.9"
QUEUE_COLUMNS = (MTXR_QUEUE_SIMPLE_NAME, MTXR_QUEUE_SIMPLE_BYTES_IN, MTXR_QUEUE_SIMPLE_BYTES_OUT)

MAX_REPETITIONS = 50
HEALTH_REPETITIONS = 16
"""Rows per column per GETBULK of the health walk: health tables are short (a few CPUs, pools, sensors)."""
REPROBE_EVERY = 60
"""Polls between re-checks of optional tables a device did not have (HOST-RESOURCES, vendor MIBs)."""


@dataclass(frozen=True, slots=True)
class InterfaceSample:
    """Raw counters of one interface at one poll. ``width`` is 64 for ifHC* octets, 32 for ifIn/OutOctets."""

    if_index: int
    name: str
    oper_status: str
    speed_bps: float | None
    in_octets: int | None
    out_octets: int | None
    width: int = 64
    in_ucast_pkts: int | None = None
    out_ucast_pkts: int | None = None
    pkt_width: int = 64
    in_errors: int | None = None
    out_errors: int | None = None
    in_discards: int | None = None
    out_discards: int | None = None


@dataclass(frozen=True, slots=True)
class QueueSample:
    """Byte counters of one router queue, e.g. the MikroTik simple queue ``DISDIK``."""

    index: int
    name: str
    in_octets: int | None
    out_octets: int | None
    width: int = 64


@dataclass
class Extras:
    """Health and vendor values of one poll; None where the device has no such table.

    ``health`` holds the details (per processor, pool, sensor and SSID); the first fields sum it up.
    """

    cpu_load_pct: float | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    wireless_clients: int | None = None
    wireless_signal_dbm: float | None = None
    queues: list[QueueSample] = field(default_factory=list)
    health: Health = field(default_factory=Health)


@dataclass(frozen=True)
class DeviceSample:
    """Everything one poll of a device read, at ``wall_time`` (poller clock, seconds since the epoch)."""

    wall_time: float
    uptime_cs: int | None
    interfaces: list[InterfaceSample]
    queues: list[QueueSample]
    extras: Extras
    duration_s: float = 0.0


@dataclass
class PollHints:
    """What earlier polls learned about a device, so later polls ask for less (kept in the poll state).

    ``rows`` sizes GETBULK max-repetitions; ``has_*`` skip tables the device does not have (``has_hr``: any
    of its profile's health tables; re-checked
    every ``REPROBE_EVERY`` polls); ``polls`` counts polls since the last re-check.
    """

    rows: int = 0
    fallback: bool = False
    has_hr: bool = True
    has_vendor: bool = True
    polls: int = 0

    def to_json(self) -> dict[str, int | bool]:
        return {"rows": self.rows, "fallback": self.fallback, "has_hr": self.has_hr, "has_vendor": self.has_vendor,
                "polls": self.polls}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> PollHints:
        def flag(key: str, default: bool) -> bool:
            value = data.get(key, default)
            return value if isinstance(value, bool) else default

        rows, polls = data.get("rows", 0), data.get("polls", 0)
        return cls(rows=rows if isinstance(rows, int) else 0, fallback=flag("fallback", False),
                    has_hr=flag("has_hr", True), has_vendor=flag("has_vendor", True),
                    polls=polls if isinstance(polls, int) else 0)


ExtrasReader = Callable[[SnmpTarget, SnmpClient, int], Awaitable[Extras]]
"""Reads a vendor's extra tables: (target, snmp, max_repetitions) → Extras (only the vendor fields set)."""


def _counter(value: Value) -> int | None:
    return value if isinstance(value, int) else None


def _width(rows: list[VarBind]) -> int:
    return 32 if rows and rows[0].type == SnmpType.COUNTER32 else 64


async def _mikrotik_extras(target: SnmpTarget, snmp: SnmpClient, reps: int) -> Extras:
    rtab, (names, bytes_in, bytes_out) = await asyncio.gather(
        snmp.bulk_walk(target, MTXR_WL_RTAB_STRENGTH, MAX_REPETITIONS),
        snmp.bulk_walk_columns(target, QUEUE_COLUMNS, MAX_REPETITIONS),
    )
    extras = Extras()
    signals = [vb.value for vb in rtab if isinstance(vb.value, int) and not vb.missing]
    if signals:
        # The registration table has a row per client: the count the AP table gives, plus the mean signal.
        extras.wireless_clients = len(signals)
        extras.wireless_signal_dbm = sum(signals) / len(signals)
    name_by = codecs.by_index(names, MTXR_QUEUE_SIMPLE_NAME)
    in_by = codecs.by_index(bytes_in, MTXR_QUEUE_SIMPLE_BYTES_IN)
    out_by = codecs.by_index(bytes_out, MTXR_QUEUE_SIMPLE_BYTES_OUT)
    width = _width(bytes_in)
    seen: set[str] = set()
    for index in sorted(name_by):
        name = codecs.text(name_by[index]).strip() or f"queue{index}"
        if name in seen:
            name = f"{name}#{index}"
        seen.add(name)
        extras.queues.append(QueueSample(index, name, _counter(in_by.get(index)), _counter(out_by.get(index)), width))
    return extras


def build_extras_registry() -> Registry[ExtrasReader]:
    registry: Registry[ExtrasReader] = Registry("poll extras")
    registry.register("mikrotik", _mikrotik_extras)
    return registry


EXTRAS = build_extras_registry()

_PLATFORM_VENDOR = {
    Platform.MIKROTIK_ROUTEROS: "mikrotik",
    Platform.UBIQUITI_UNIFI: "ubiquiti",
    Platform.UBIQUITI_AIROS: "ubiquiti",
    Platform.UBIQUITI_EDGEROUTER: "ubiquiti",
}


def vendor_slug(platform: str, vendor: str = "") -> str:
    """The profile slug whose extras apply: from the platform, else discovery's vendor (``MikroTik`` → mikrotik)."""
    slug = _PLATFORM_VENDOR.get(Platform(platform)) if platform in Platform._value2member_map_ else None
    return slug or vendor.strip().lower().replace(" ", "-")


@lru_cache(maxsize=64)
def health_parts(vendor: str) -> tuple[tuple[HealthPart, ...], tuple[str, ...]]:
    """The health parts of the vendor's profile (HOST-RESOURCES for an unknown one) and their columns."""
    parts = PROFILES.get(vendor).health if vendor in PROFILES else STANDARD
    return parts, columns_of(parts)


async def _health(target: SnmpTarget, snmp: SnmpClient, vendor: str) -> Health:
    parts, columns = health_parts(vendor)
    walks = await snmp.bulk_walk_columns(target, columns, HEALTH_REPETITIONS)
    return read_health(parts, dict(zip(columns, walks, strict=True)))


def _named_radios(health: Health, interfaces: list[InterfaceSample]) -> None:
    """Give radios indexed by ifIndex their interface name (``wlan1``) where the MIB names no band."""
    if not any(w.if_index is not None for w in health.wireless):
        return
    names = {i.if_index: i.name for i in interfaces}
    health.wireless = [replace(w, radio=names.get(w.if_index, w.radio) if w.if_index is not None else w.radio)
                       for w in health.wireless]


@lru_cache(maxsize=262144)
def _row_index(oid: str, column: str) -> int | None:
    """The table index of one row of ``column`` (``….31.1.1.1.6.12`` → 12); None for multi-arc indexes.

    Cached: the same rows come back on every poll, and the OID strings are the decoder's cached ones.
    """
    start = len(column) + 1
    if not oid.startswith(column) or oid[start - 1:start] != ".":
        return None
    suffix = oid[start:]
    return int(suffix) if suffix.isdigit() else None


def _by_index(rows: list[VarBind], column: str) -> dict[int, Value]:
    """``codecs.by_index`` for the poll's hot path (same result, index parsing cached)."""
    out: dict[int, Value] = {}
    for oid, tag, value in rows:
        if tag < SnmpType.NO_SUCH_OBJECT:
            index = _row_index(oid, column)
            if index is not None:
                out[index] = value
    return out


async def _interfaces(target: SnmpTarget, snmp: SnmpClient, hints: PollHints, reps: int) -> list[InterfaceSample]:
    columns = INTERFACE_COLUMNS + (FALLBACK_COLUMNS + (IF_DESCR,) if hints.fallback else ())
    walks = await snmp.bulk_walk_columns(target, columns, reps)
    raw = dict(zip(columns, walks, strict=True))
    indexes = set(_by_index(raw[IF_OPER_STATUS], IF_OPER_STATUS))
    hc_in = _by_index(raw[IF_HC_IN_OCTETS], IF_HC_IN_OCTETS)
    names = _by_index(raw[IF_NAME], IF_NAME)
    if not hints.fallback and indexes and (set(hc_in) < indexes or set(names) < indexes):
        # Some interfaces lack ifName or the 64-bit counters: read the older columns too, now and from now on.
        hints.fallback = True
        extra = FALLBACK_COLUMNS + (IF_DESCR,)
        for column, rows in zip(extra, await snmp.bulk_walk_columns(target, extra, reps), strict=True):
            raw[column] = rows
    col = {column: _by_index(rows, column) for column, rows in raw.items()}
    descr = col.get(IF_DESCR, {})
    seen: set[str] = set()
    out: list[InterfaceSample] = []
    for index in sorted(indexes):
        name = codecs.text(names.get(index)).strip() or codecs.text(descr.get(index)).strip() or f"if{index}"
        if name in seen:
            name = f"{name}#{index}"
        seen.add(name)
        hc = index in hc_in
        hc_pkts = index in col[IF_HC_IN_UCAST_PKTS]
        in_col, out_col = (IF_HC_IN_OCTETS, IF_HC_OUT_OCTETS) if hc else (IF_IN_OCTETS, IF_OUT_OCTETS)
        pin_col, pout_col = ((IF_HC_IN_UCAST_PKTS, IF_HC_OUT_UCAST_PKTS) if hc_pkts
                             else (IF_IN_UCAST_PKTS, IF_OUT_UCAST_PKTS))
        mbps = codecs.speed_mbps(col[IF_HIGH_SPEED].get(index), None)
        out.append(InterfaceSample(
            if_index=index, name=name, oper_status=codecs.status(col[IF_OPER_STATUS].get(index)),
            speed_bps=mbps * 1e6 if mbps else None,
            in_octets=_counter(col.get(in_col, {}).get(index)), out_octets=_counter(col.get(out_col, {}).get(index)),
            width=64 if hc else 32,
            in_ucast_pkts=_counter(col.get(pin_col, {}).get(index)),
            out_ucast_pkts=_counter(col.get(pout_col, {}).get(index)),
            pkt_width=64 if hc_pkts else 32,
            in_errors=_counter(col[IF_IN_ERRORS].get(index)), out_errors=_counter(col[IF_OUT_ERRORS].get(index)),
            in_discards=_counter(col[IF_IN_DISCARDS].get(index)),
            out_discards=_counter(col[IF_OUT_DISCARDS].get(index)),
        ))
    return out


async def poll_device(target: SnmpTarget, *, snmp: SnmpClient, vendor: str = "", hints: PollHints | None = None,
                      clock: Callable[[], float] = time.time) -> DeviceSample:
    """Read one device's counters now.

    Args:
        target: where and how to reach the agent.
        snmp: the SNMP client (all requests of the poll are in flight at once).
        vendor: profile slug (``mikrotik``, ``ubiquiti``) whose extra tables to read; see ``vendor_slug``.
        hints: what earlier polls learned (updated in place); None polls everything.

    Raises:
        DeviceUnreachable, DeviceAuthFailed, DeviceRejected: from the SNMP client.
    """
    hints = hints if hints is not None else PollHints()
    started = time.perf_counter()
    reprobe = hints.polls >= REPROBE_EVERY
    if reprobe:
        hints.has_hr = hints.has_vendor = True
        hints.polls = 0
    reps = min(MAX_REPETITIONS, hints.rows + 1) if hints.rows else MAX_REPETITIONS
    vendor_reader = EXTRAS.get(vendor) if vendor in EXTRAS and hints.has_vendor else None

    optional: list[Awaitable[Health | Extras]] = []
    if hints.has_hr:
        optional.append(_health(target, snmp, vendor))
    if vendor_reader is not None:
        optional.append(vendor_reader(target, snmp, reps))
    # Only what this device has becomes a task: most polls are the sysUpTime GET and one interface walk.
    found = await asyncio.gather(snmp.get(target, [SYS_UPTIME]), _interfaces(target, snmp, hints, reps), *optional)
    uptime_vbs = cast(list[VarBind], found[0])
    interfaces = cast(list[InterfaceSample], found[1])
    more = list(found[2:])
    health = cast(Health, more.pop(0)) if hints.has_hr else Health()
    vendor_extras = cast(Extras, more.pop(0)) if vendor_reader is not None else Extras()
    wall = clock()
    hints.rows = len(interfaces)
    hints.polls += 1
    if hints.has_hr and health.empty:
        hints.has_hr = False
    if vendor_reader is not None and vendor_extras == Extras():
        hints.has_vendor = False
    uptime = uptime_vbs[0].value if isinstance(uptime_vbs[0].value, int) else None
    _named_radios(health, interfaces)
    memory = health.mempools[0] if health.mempools else None
    clients = vendor_extras.wireless_clients
    extras = Extras(cpu_load_pct=health.cpu_load_pct, memory_used_bytes=memory.used_bytes if memory else None,
                    memory_total_bytes=memory.total_bytes if memory else None,
                    wireless_clients=clients if clients is not None else health.wireless_clients,
                    wireless_signal_dbm=vendor_extras.wireless_signal_dbm, queues=vendor_extras.queues, health=health)
    return DeviceSample(wall_time=wall, uptime_cs=uptime, interfaces=interfaces, queues=extras.queues, extras=extras,
                        duration_s=time.perf_counter() - started)
