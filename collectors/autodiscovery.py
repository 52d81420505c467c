"""Keeps the inventory's interfaces current: discover new devices soon after they are added, all daily.

Data flow: inventory devices → SNMP discovery (concurrently, each under a deadline) → ``apply_discovery``
(interfaces upserted by name, audited as the system). One device that does not answer never blocks others.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from collectors.discovery import apply_discovery, discover
from collectors.snmp.client import has_snmp, target_for_device
from collectors.snmp.types import SnmpClient, SnmpTarget
from netmgr.errors import NetmgrError
from netmgr.models import Device, Interface
from netmgr.security.permissions import SYSTEM
from netmgr.services.devices import device_credentials
from netmgr.settings import SnmpSettings

log = logging.getLogger(__name__)

DISCOVERY_DEADLINE_S = 60.0


@dataclass
class AutoDiscoveryResult:
    discovered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def devices_to_discover(session: Session, *, only_new: bool) -> list[int]:
    """Ids of SNMP devices to discover: those with no interfaces yet, or every one."""
    stmt = select(Device).order_by(Device.id)
    if only_new:
        stmt = stmt.where(~exists().where(Interface.device_id == Device.id))
    return [d.id for d in session.scalars(stmt) if has_snmp(d)]


async def discover_inventory(session_factory: sessionmaker[Session], *, snmp: SnmpClient, settings: SnmpSettings,
                             only_new: bool, deadline_s: float = DISCOVERY_DEADLINE_S) -> AutoDiscoveryResult:
    """Discover devices concurrently and store their interfaces; failures are logged and reported."""
    result = AutoDiscoveryResult()
    targets: dict[int, tuple[str, SnmpTarget]] = {}
    with session_factory() as session:
        for device_id in devices_to_discover(session, only_new=only_new):
            device = session.get(Device, device_id)
            if device is not None:
                targets[device_id] = (device.name, target_for_device(device, device_credentials(session, device),
                                                                      settings))

    async def one(device_id: int, target: SnmpTarget) -> None:
        name = targets[device_id][0]
        try:
            found = await asyncio.wait_for(discover(target, snmp=snmp), deadline_s)
        except (NetmgrError, TimeoutError) as exc:
            reason = exc.message if isinstance(exc, NetmgrError) else f"no complete answer within {deadline_s:.0f}s"
            log.warning("discovery of %s failed: %s", name, reason)
            result.failed[name] = reason
            return
        with session_factory() as session:
            try:
                apply_discovery(session, SYSTEM, device_id, found)
                session.commit()
            except NetmgrError as exc:
                session.rollback()
                result.failed[name] = exc.message
                return
        result.discovered.append(name)

    await asyncio.gather(*(one(device_id, target) for device_id, (_, target) in targets.items()))
    result.discovered.sort()
    return result
