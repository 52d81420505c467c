"""Discovery: read a device's system group and IF-MIB over SNMP, identify it, and store its interfaces.

``discover`` only reads (SNMP → DiscoveryResult, pure data); ``apply_discovery`` writes the result into
the inventory (interfaces matched by name, so ids and agency attribution survive ifIndex renumbering).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.profiles import PROFILES, Identity, Probes, Profile, SystemInfo, ordered
from collectors.snmp import codecs
from collectors.snmp.types import SnmpClient, SnmpTarget, Value, VarBind
from netmgr.errors import DeviceRejected
from netmgr.models import Interface
from netmgr.models.enums import Platform
from netmgr.registry import Registry
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit
from netmgr.services.devices import get_device

log = logging.getLogger(__name__)

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"

IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_TYPE = "1.3.6.1.2.1.2.2.1.3"
IF_SPEED = "1.3.6.1.2.1.2.2.1.5"
IF_PHYS_ADDRESS = "1.3.6.1.2.1.2.2.1.6"
IF_ADMIN_STATUS = "1.3.6.1.2.1.2.2.1.7"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"
IF_ALIAS = "1.3.6.1.2.1.31.1.1.1.18"
INTERFACE_COLUMNS = (IF_DESCR, IF_TYPE, IF_SPEED, IF_PHYS_ADDRESS, IF_ADMIN_STATUS, IF_OPER_STATUS,
                     IF_NAME, IF_HIGH_SPEED, IF_ALIAS)

VANISHED_STATUS = "notPresent"  # IF-MIB's own word for an interface that is configured but not there


@dataclass(frozen=True)
class DiscoveredInterface:
    """One IF-MIB row, e.g. ``ether1`` (ifIndex 3, ethernetCsmacd, 1000 Mbit/s, up/up)."""

    if_index: int
    name: str
    descr: str
    alias: str
    type: int | None
    speed_mbps: int | None
    mac: str
    admin_status: str
    oper_status: str


@dataclass(frozen=True)
class DiscoveryResult:
    """What discovery learned about one device; touches no inventory until ``apply_discovery``."""

    vendor: str
    platform: str
    model: str
    sys_name: str
    sys_descr: str
    sys_object_id: str
    uptime_s: int | None
    interfaces: list[DiscoveredInterface]
    os_version: str = ""
    serial: str = ""

    def to_json(self) -> dict[str, Any]:
        """The ``netmgr discover --json`` document (stable keys, documented in docs/collectors.md)."""
        return {
            "vendor": self.vendor, "platform": self.platform, "model": self.model, "sys_name": self.sys_name,
            "sys_descr": self.sys_descr, "sys_object_id": self.sys_object_id, "uptime_s": self.uptime_s,
            "interfaces": [asdict(i) for i in self.interfaces],
        }


async def read_system(target: SnmpTarget, *, snmp: SnmpClient) -> SystemInfo:
    """The system group (sysDescr, sysObjectID, sysName, sysUpTime).

    Raises:
        DeviceRejected: the agent answers but has neither sysDescr nor sysObjectID.
    """
    descr, object_id, uptime, name = await snmp.get(target, [SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME])
    if descr.missing and object_id.missing:
        raise DeviceRejected(f"{target.address} answers SNMP but has no sysDescr or sysObjectID")
    return SystemInfo(
        sys_descr=codecs.text(descr.value).strip(),
        sys_object_id=codecs.text(object_id.value) if not object_id.missing else "",
        sys_name=codecs.text(name.value).strip() if not name.missing else "",
        uptime_s=uptime.value // 100 if isinstance(uptime.value, int) else None,
    )


async def _probes(target: SnmpTarget, profile: Profile, *, snmp: SnmpClient) -> Probes:
    values: dict[str, Value] = {}
    if profile.probe_gets:
        for vb in await snmp.get(target, list(profile.probe_gets)):
            if not vb.missing:
                values[vb.oid] = vb.value
    walks = await asyncio.gather(*(snmp.bulk_walk(target, root, 20) for root in profile.probe_walks))
    for rows in walks:
        values.update((vb.oid, vb.value) for vb in rows)
    return Probes(values)


async def identify(target: SnmpTarget, system: SystemInfo, *, snmp: SnmpClient,
                   registry: Registry[Profile] = PROFILES) -> Identity:
    """Ask each profile that claims the device, most specific first; the generic profile always answers."""
    for profile in ordered(registry):
        if not profile.claims(system):
            continue
        identity = profile.identify(system, await _probes(target, profile, snmp=snmp))
        if identity is not None:
            return identity
    return Identity("unknown", Platform.GENERIC)


async def read_interfaces(target: SnmpTarget, *, snmp: SnmpClient) -> list[DiscoveredInterface]:
    """ifTable + ifXTable, one row per ifIndex, in ifIndex order; names made unique with ``#ifIndex``."""
    walks: list[list[VarBind]] = await asyncio.gather(
        *(snmp.bulk_walk(target, column, 50) for column in INTERFACE_COLUMNS))
    col = {column: codecs.by_index(rows, column) for column, rows in zip(INTERFACE_COLUMNS, walks, strict=True)}
    indexes = sorted(set(col[IF_DESCR]) | set(col[IF_NAME]) | set(col[IF_TYPE]))
    seen: set[str] = set()
    out: list[DiscoveredInterface] = []
    for index in indexes:
        descr = codecs.text(col[IF_DESCR].get(index)).strip()
        name = codecs.text(col[IF_NAME].get(index)).strip() or descr or f"if{index}"
        if name in seen:
            name = f"{name}#{index}"
        seen.add(name)
        if_type = col[IF_TYPE].get(index)
        out.append(DiscoveredInterface(
            if_index=index,
            name=name,
            descr=descr,
            alias=codecs.text(col[IF_ALIAS].get(index)).strip(),
            type=if_type if isinstance(if_type, int) else None,
            speed_mbps=codecs.speed_mbps(col[IF_HIGH_SPEED].get(index), col[IF_SPEED].get(index)),
            mac=codecs.mac(col[IF_PHYS_ADDRESS].get(index)),
            admin_status=codecs.status(col[IF_ADMIN_STATUS].get(index)),
            oper_status=codecs.status(col[IF_OPER_STATUS].get(index)),
        ))
    return out


async def discover(target: SnmpTarget, *, snmp: SnmpClient, registry: Registry[Profile] = PROFILES) -> DiscoveryResult:
    """Identify a device and read its interfaces over SNMP.

    Raises:
        DeviceUnreachable, DeviceAuthFailed, DeviceRejected: from the SNMP client, with the reason.
    """
    system = await read_system(target, snmp=snmp)
    identity, interfaces = await asyncio.gather(identify(target, system, snmp=snmp, registry=registry),
                                                read_interfaces(target, snmp=snmp))
    log.info("discovered %s: %s %s %s, %d interfaces", target.address, identity.vendor, identity.platform.value,
             identity.model, len(interfaces))
    return DiscoveryResult(
        vendor=identity.vendor, platform=identity.platform.value, model=identity.model,
        sys_name=system.sys_name, sys_descr=system.sys_descr, sys_object_id=system.sys_object_id,
        uptime_s=system.uptime_s, interfaces=interfaces, os_version=identity.os_version, serial=identity.serial,
    )


@dataclass
class ApplyResult:
    """What ``apply_discovery`` changed, by interface name."""

    device_id: int
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


_DEVICE_FIELDS = ("vendor", "model", "os_version", "serial", "sys_object_id")


def apply_discovery(session: Session, actor: Actor, device_id: int, result: DiscoveryResult) -> ApplyResult:
    """Upsert the discovered interfaces of a device, matched by name, and record it in the audit log.

    A matched row keeps its id, agency, monitoring flag and an alias an admin set; its ifIndex follows the
    device (renumbering after a reboot is normal). Rows the device no longer has are kept (uplinks and
    history point at them) but marked vanished: ifIndex cleared, oper status ``notPresent``.
    Device vendor, model, OS version, serial and sysObjectID are refreshed when discovery found them.
    """
    actor.require(Permission.INVENTORY_WRITE)
    device = get_device(session, actor, device_id)
    existing = {row.name: row for row in session.scalars(select(Interface).where(Interface.device_id == device.id))}
    outcome = ApplyResult(device_id=device.id)
    for found in result.interfaces:
        row = existing.pop(found.name, None)
        values = {"if_index": found.if_index, "descr": found.descr[:300], "if_type": found.type,
                  "speed_mbps": found.speed_mbps, "mac": found.mac, "admin_status": found.admin_status,
                  "oper_status": found.oper_status}
        if row is None:
            session.add(Interface(device_id=device.id, name=found.name[:200], alias=found.alias[:300], **values))
            outcome.created.append(found.name)
            continue
        if not row.alias and found.alias:
            values["alias"] = found.alias[:300]
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        for key, value in changed.items():
            setattr(row, key, value)
        (outcome.updated if changed else outcome.unchanged).append(found.name)
    for name, row in existing.items():
        if row.if_index is not None or row.oper_status != VANISHED_STATUS:
            row.if_index = None
            row.oper_status = VANISHED_STATUS
            outcome.vanished.append(name)
    device_before = {k: getattr(device, k) for k in _DEVICE_FIELDS}
    found_values = {"vendor": result.vendor, "model": result.model, "os_version": result.os_version,
                    "serial": result.serial, "sys_object_id": result.sys_object_id}
    for key, value in found_values.items():
        if value and value != "unknown":
            setattr(device, key, value[:200] if key == "sys_object_id" else value[:100])
    device_after = {k: getattr(device, k) for k in _DEVICE_FIELDS}
    session.flush()
    audit.record(
        session, actor, action="discover", entity_type="device", entity_id=device.id,
        message="device.discovered",
        params={"count": len(result.interfaces), "name": device.name, "created": len(outcome.created),
                "updated": len(outcome.updated), "vanished": len(outcome.vanished)},
        before=device_before,
        after={**device_after, "created": outcome.created, "updated": outcome.updated, "vanished": outcome.vanished},
    )
    return outcome


IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_IN_ERRORS = "1.3.6.1.2.1.2.2.1.14"
IF_OUT_OCTETS = "1.3.6.1.2.1.2.2.1.16"
IF_OUT_ERRORS = "1.3.6.1.2.1.2.2.1.20"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"
COUNTER_COLUMNS = (IF_NAME, IF_DESCR, IF_OPER_STATUS, IF_HC_IN_OCTETS, IF_HC_OUT_OCTETS, IF_IN_OCTETS,
                   IF_OUT_OCTETS, IF_IN_ERRORS, IF_OUT_ERRORS)


@dataclass(frozen=True)
class InterfaceCounters:
    """Raw counters of one interface at one moment; ``hc`` says whether the octets are 64-bit."""

    if_index: int
    name: str
    oper_status: str
    in_octets: int | None
    out_octets: int | None
    hc: bool
    in_errors: int | None
    out_errors: int | None


async def read_counters(target: SnmpTarget, *, snmp: SnmpClient) -> tuple[int | None, list[InterfaceCounters]]:
    """sysUpTime (seconds) and the octet/error counters of every interface, read now (64-bit where offered)."""
    uptime_vb, *_ = await snmp.get(target, [SYS_UPTIME])
    walks = await asyncio.gather(*(snmp.bulk_walk(target, column, 50) for column in COUNTER_COLUMNS))
    col = {column: codecs.by_index(rows, column) for column, rows in zip(COUNTER_COLUMNS, walks, strict=True)}
    out: list[InterfaceCounters] = []
    for index in sorted(set(col[IF_DESCR]) | set(col[IF_NAME])):
        hc = index in col[IF_HC_IN_OCTETS]
        name = codecs.text(col[IF_NAME].get(index)).strip() or codecs.text(col[IF_DESCR].get(index)).strip()
        out.append(InterfaceCounters(
            if_index=index, name=name, oper_status=codecs.status(col[IF_OPER_STATUS].get(index)),
            in_octets=codecs.integer(col[IF_HC_IN_OCTETS if hc else IF_IN_OCTETS].get(index)),
            out_octets=codecs.integer(col[IF_HC_OUT_OCTETS if hc else IF_OUT_OCTETS].get(index)),
            hc=hc,
            in_errors=codecs.integer(col[IF_IN_ERRORS].get(index)),
            out_errors=codecs.integer(col[IF_OUT_ERRORS].get(index)),
        ))
    uptime = uptime_vb.value // 100 if isinstance(uptime_vb.value, int) else None
    return uptime, out
