"""Uplinks: ISP contracts on router interfaces, with capacity, price and billing model."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from netmgr.errors import NotFound, ValidationFailed
from netmgr.models import Device, Interface, Uplink
from netmgr.schemas.inventory import UplinkCreate, UplinkRead, UplinkUpdate
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit, contracts, reports
from netmgr.services.common import ListResult, ensure_unique, flush_or_conflict, paginate, snapshot


def uplink_port(uplink: Uplink) -> tuple[Device, str] | None:
    """The router and interface name carrying ``uplink``'s traffic (the discovered interface, else the name typed
    in with the device), or None when the uplink is not tied to a port."""
    if uplink.interface is not None:
        return uplink.interface.device, uplink.interface.name
    if uplink.device is not None and uplink.interface_name:
        return uplink.device, uplink.interface_name
    return None


def price_with_tax(uplink: Uplink) -> int:
    """A whole month of the current contract's base price with PPN, rounded as the monthly report rounds it."""
    return sum(reports.prorated_cost(contracts.current_terms(uplink), None, 1, 1))


def to_read(uplink: Uplink) -> UplinkRead:
    return UplinkRead.model_validate({**snapshot(uplink), "monthly_price_with_tax_idr": price_with_tax(uplink)})


def list_uplinks(session: Session, actor: Actor, *, q: str | None = None, offset: int = 0,
                 limit: int = 50) -> ListResult[Uplink]:
    actor.require(Permission.INVENTORY_READ)
    stmt = select(Uplink).order_by(Uplink.name)
    if actor.agency_scope is not None:
        stmt = stmt.where(Uplink.id == -1)  # uplinks are Diskominfo's contracts, not an agency's
    if q:
        stmt = stmt.where(or_(Uplink.name.ilike(f"%{q}%"), Uplink.isp_name.ilike(f"%{q}%")))
    return paginate(session, stmt, offset=offset, limit=limit)


def get_uplink(session: Session, actor: Actor, uplink_id: int) -> Uplink:
    actor.require(Permission.INVENTORY_READ)
    uplink = session.get(Uplink, uplink_id)
    if uplink is None or actor.agency_scope is not None:
        raise NotFound(f"uplink {uplink_id} does not exist")
    return uplink


def _check_device(session: Session, device_id: int | None) -> None:
    """Refuse a reference to a device that does not exist (checked before the row changes: no autoflush of it)."""
    if device_id is not None and session.get(Device, device_id) is None:
        raise ValidationFailed(f"device {device_id} does not exist", field="device_id")


def _link_interface(session: Session, uplink: Uplink) -> None:
    """Point the uplink at the discovered interface row when it exists (else keep the name only)."""
    if uplink.device_id is None:
        uplink.interface_id = None
        return
    uplink.interface_id = session.scalar(
        select(Interface.id).where(Interface.device_id == uplink.device_id, Interface.name == uplink.interface_name)
    )


def create_uplink(session: Session, actor: Actor, data: UplinkCreate) -> Uplink:
    actor.require(Permission.INVENTORY_WRITE)
    ensure_unique(session, Uplink, "name", data.name, label="uplink")
    _check_device(session, data.device_id)
    uplink = Uplink(**data.model_dump())
    _link_interface(session, uplink)
    session.add(uplink)
    flush_or_conflict(session, "uplink")
    audit.record(session, actor, action="create", entity_type="uplink", entity_id=uplink.id,
                 message="uplink.created", params={"name": uplink.name}, after=snapshot(uplink))
    return uplink


def update_uplink(session: Session, actor: Actor, uplink_id: int, data: UplinkUpdate) -> Uplink:
    actor.require(Permission.INVENTORY_WRITE)
    uplink = get_uplink(session, actor, uplink_id)
    before = snapshot(uplink)
    terms_before = contracts.current_terms(uplink)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes:
        ensure_unique(session, Uplink, "name", changes["name"], exclude_id=uplink.id, label="uplink")
    if "device_id" in changes:
        _check_device(session, changes["device_id"])
    for key, value in changes.items():
        setattr(uplink, key, value)
    try:
        UplinkCreate.model_validate({**snapshot(uplink)})
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from exc
    _link_interface(session, uplink)
    archived = contracts.archive_replaced_terms(session, uplink, terms_before)
    flush_or_conflict(session, "uplink")
    params: dict[str, object] = {"name": uplink.name}
    if archived is not None:
        params["until_date"] = archived.contract_end.isoformat()
    audit.record(session, actor, action="update", entity_type="uplink", entity_id=uplink.id,
                 message="uplink.changed" if archived is None else "uplink.changed_terms_kept", params=params,
                 before=before, after=snapshot(uplink))
    return uplink


def delete_uplink(session: Session, actor: Actor, uplink_id: int) -> None:
    actor.require(Permission.INVENTORY_WRITE)
    uplink = get_uplink(session, actor, uplink_id)
    audit.record(session, actor, action="delete", entity_type="uplink", entity_id=uplink.id,
                 message="uplink.deleted", params={"name": uplink.name}, before=snapshot(uplink))
    session.delete(uplink)
    session.flush()
