"""Interfaces of a device (discovered by the collectors); admins set alias, monitoring and agency."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.errors import NotFound, ValidationFailed
from netmgr.models import Agency, Interface, Uplink
from netmgr.schemas.inventory import InterfaceUpdate
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit
from netmgr.services.common import snapshot
from netmgr.services.devices import get_device


def uplink_interface_names(session: Session, device_id: int) -> set[str]:
    """Names of the device's interfaces that carry an uplink (by the uplink's interface or its interface name)."""
    rows = session.execute(select(Uplink.interface_name, Interface.name)
                           .outerjoin(Interface, Uplink.interface_id == Interface.id)
                           .where((Uplink.device_id == device_id) | (Interface.device_id == device_id))).all()
    return {name for pair in rows for name in pair if name}


def uplinks_first(names: list[str], uplinks: set[str]) -> list[str]:
    """``names`` with the uplinks' first, each group keeping its order: where people look first on a device page."""
    return [n for n in names if n in uplinks] + [n for n in names if n not in uplinks]


def list_interfaces(session: Session, actor: Actor, device_id: int) -> list[Interface]:
    """The device's interfaces, uplinks first, then by ifIndex."""
    device = get_device(session, actor, device_id)
    found = list(session.scalars(select(Interface).where(Interface.device_id == device.id)
                                 .order_by(Interface.if_index, Interface.name)))
    uplinks = uplink_interface_names(session, device.id)
    return sorted(found, key=lambda i: i.name not in uplinks)


def update_interface(session: Session, actor: Actor, interface_id: int, data: InterfaceUpdate) -> Interface:
    actor.require(Permission.INVENTORY_WRITE)
    iface = session.get(Interface, interface_id)
    if iface is None:
        raise NotFound(f"interface {interface_id} does not exist")
    get_device(session, actor, iface.device_id)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("agency_id") is not None and session.get(Agency, changes["agency_id"]) is None:
        raise ValidationFailed(f"agency {changes['agency_id']} does not exist", field="agency_id")
    before = snapshot(iface)
    for key, value in changes.items():
        setattr(iface, key, value)
    session.flush()
    audit.record(session, actor, action="update", entity_type="interface", entity_id=iface.id,
                 message="interface.changed", params={"name": iface.name}, before=before, after=snapshot(iface))
    return iface
