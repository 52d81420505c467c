"""Device availability: ask each SNMP device for sysUpTime a few times, then record up/down in the inventory.

Inventory (devices + credentials) → concurrent SNMP probes → Device.status/last_seen_at/latency and a
DeviceEvent for every change of state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collectors.discovery import SYS_UPTIME
from collectors.edge.centre import edge_device_ids
from collectors.snmp.client import has_snmp, target_for_device
from collectors.snmp.types import SnmpClient, SnmpTarget
from netmgr.errors import DeviceError, NetmgrError
from netmgr.models import Device, DeviceEvent
from netmgr.models.base import utcnow
from netmgr.models.enums import DeviceStatus
from netmgr.services.devices import device_credentials
from netmgr.settings import SnmpSettings

log = logging.getLogger(__name__)

DEFAULT_TRIES = 3


@dataclass(frozen=True)
class Availability:
    """The outcome of probing one agent ``tries`` times: up when at least one answer came back."""

    up: bool
    tries: int
    answered: int
    latency_ms: float | None
    uptime_s: int | None
    error: str = ""

    @property
    def loss_percent(self) -> float:
        return 100.0 * (self.tries - self.answered) / self.tries if self.tries else 100.0


async def probe(target: SnmpTarget, *, snmp: SnmpClient, tries: int = DEFAULT_TRIES) -> Availability:
    """GET sysUpTime ``tries`` times (no client-level retries, so loss is measured); never raises DeviceError."""
    single = replace(target, retries=0)
    latencies: list[float] = []
    uptime: int | None = None
    error = ""
    for _ in range(tries):
        started = time.perf_counter()
        try:
            (vb,) = await snmp.get(single, [SYS_UPTIME])
        except DeviceError as exc:
            error = exc.message
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        if isinstance(vb.value, int):
            uptime = vb.value // 100
    latency = sum(latencies) / len(latencies) if latencies else None
    return Availability(up=bool(latencies), tries=tries, answered=len(latencies), latency_ms=latency,
                        uptime_s=uptime, error="" if latencies else error)


@dataclass(frozen=True)
class DeviceCheck:
    """Per-device result of one availability round (``changed`` when the status flipped)."""

    device_id: int
    name: str
    status: DeviceStatus
    changed: bool
    latency_ms: float | None
    loss_percent: float
    error: str = ""


def record_availability(session: Session, device: Device, result: Availability, *, now: datetime) -> bool:
    """Store one probe result on the device; add a DeviceEvent when its status changes. True if it changed."""
    status = DeviceStatus.UP if result.up else DeviceStatus.DOWN
    changed = device.status != status
    if result.up:
        device.last_seen_at = now
        device.last_latency_ms = result.latency_ms
    else:
        device.last_latency_ms = None
    if changed:
        log.info("device %s is %s%s", device.name, status.value, f": {result.error}" if result.error else "")
        device.status = status
        device.status_changed_at = now
        detail = (f"answered {result.answered}/{result.tries} ({result.loss_percent:.0f}% loss)" if result.up
                  else result.error)
        session.add(DeviceEvent(device_id=device.id, at=now, kind=status.value, detail=detail,
                                latency_ms=result.latency_ms))
    return changed


async def check_availability(session_factory: sessionmaker[Session], *, snmp: SnmpClient, settings: SnmpSettings,
                             tries: int = DEFAULT_TRIES, now: datetime | None = None) -> list[DeviceCheck]:
    """Probe every device that has SNMP credentials, concurrently, and record the results.

    A device whose probe or credentials fail is reported in its DeviceCheck; the round goes on.
    """
    targets: dict[int, SnmpTarget] = {}
    skipped: list[DeviceCheck] = []
    with session_factory() as session:
        behind_edges = edge_device_ids(session)  # their edge probes them; the centre may not reach them at all
        for device in session.scalars(select(Device).order_by(Device.id)):
            if not has_snmp(device) or device.id in behind_edges:
                continue
            try:
                targets[device.id] = target_for_device(device, device_credentials(session, device), settings)
            except NetmgrError as exc:
                skipped.append(DeviceCheck(device.id, device.name, device.status, False, None, 100.0, exc.message))
    ids = list(targets)
    probes = await asyncio.gather(*(probe(targets[i], snmp=snmp, tries=tries) for i in ids))
    moment = now or utcnow()
    out: list[DeviceCheck] = []
    with session_factory() as session:
        for device_id, result in zip(ids, probes, strict=True):
            row = session.get(Device, device_id)
            if row is None:  # deleted while we probed
                continue
            changed = record_availability(session, row, result, now=moment)
            out.append(DeviceCheck(row.id, row.name, DeviceStatus(row.status), changed, result.latency_ms,
                                   result.loss_percent, result.error))
        session.commit()
    return out + skipped
