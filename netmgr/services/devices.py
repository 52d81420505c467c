"""Devices: the inventory of routers, switches, access points and hotspot gateways.

Secrets arrive as plaintext on create/update, are encrypted here with the session's secret box,
and leave only through ``device_credentials`` for code that talks to the device.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from netmgr.db import secret_box
from netmgr.errors import NotFound, ValidationFailed
from netmgr.models import Device, Site, Tag
from netmgr.models.enums import DeviceRole, DeviceStatus, Platform, SnmpVersion
from netmgr.schemas.inventory import DeviceCreate, DeviceRead, DeviceSecrets, DeviceUpdate
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit
from netmgr.services.common import ListResult, ensure_unique, flush_or_conflict, paginate, snapshot
from netmgr.services.listing import Sorting
from netmgr.services.reachability import device_reachability

SECRET_FIELDS = {
    "snmp_community": "snmp_community_encrypted",
    "snmp_v3_auth_key": "snmp_v3_auth_key_encrypted",
    "snmp_v3_priv_key": "snmp_v3_priv_key_encrypted",
    "ssh_password": "ssh_password_encrypted",
    "radius_secret": "radius_secret_encrypted",
}


@dataclass(frozen=True)
class DeviceCredentials:
    """Decrypted secrets for one device, for the code that connects to it. Never log or return."""

    snmp_community: str | None
    snmp_v3_auth_key: str | None
    snmp_v3_priv_key: str | None
    ssh_password: str | None
    radius_secret: str | None

    def __repr__(self) -> str:
        return "DeviceCredentials(<redacted>)"

    def secrets(self) -> tuple[str, ...]:
        """The values that are set, for masking them wherever a config or log repeats them."""
        values = (self.snmp_community, self.snmp_v3_auth_key, self.snmp_v3_priv_key, self.ssh_password,
                  self.radius_secret)
        return tuple(v for v in values if v)


SORTING = Sorting(
    keys={"name": (Device.name,), "status": (Device.status,), "site": (Site.name,), "role": (Device.role,),
          "platform": (Device.platform,), "address": (Device.mgmt_address,), "last_seen": (Device.last_seen_at,)},
    default="name",
    tie_breaker=Device.id,
    unique=frozenset({"name", "address"}),
)
"""The device list's sort keys; each has an index (migration 0025_i14l) so a page of 20,000 devices is quick."""

MAX_BULK = 1000
"""Devices one bulk action may change (a page holds at most 200; scripts use the API)."""


def _base_query(actor: Actor) -> Select[Device]:
    stmt = (select(Device).join(Site, Device.site_id == Site.id)
            .options(selectinload(Device.tags), contains_eager(Device.site)))
    if actor.agency_scope is not None:
        stmt = stmt.where(Site.agency_id == actor.agency_scope)
    return stmt


def _filtered(
    actor: Actor,
    *,
    q: str | None = None,
    site_id: int | None = None,
    agency_id: int | None = None,
    role: DeviceRole | None = None,
    platform: Platform | None = None,
    status: DeviceStatus | None = None,
    tag: str | None = None,
) -> Select[Device]:
    stmt = _base_query(actor)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(Device.name.ilike(like), Device.mgmt_address.ilike(like), Device.model.ilike(like),
                              Site.name.ilike(like)))
    if site_id is not None:
        stmt = stmt.where(Device.site_id == site_id)
    if agency_id is not None:
        stmt = stmt.where(Site.agency_id == agency_id)
    if role:
        stmt = stmt.where(Device.role == role)
    if platform:
        stmt = stmt.where(Device.platform == platform)
    if status:
        stmt = stmt.where(Device.status == status)
    if tag:
        stmt = stmt.where(Device.tags.any(Tag.name == tag))
    return stmt


def list_devices(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    site_id: int | None = None,
    agency_id: int | None = None,
    role: DeviceRole | None = None,
    platform: Platform | None = None,
    status: DeviceStatus | None = None,
    tag: str | None = None,
    sort: str | None = None,
    descending: bool | None = None,
    offset: int = 0,
    limit: int = 50,
) -> ListResult[Device]:
    """One page of the devices the actor may see, filtered and sorted by one of ``SORTING``'s keys."""
    actor.require(Permission.INVENTORY_READ)
    stmt = _filtered(actor, q=q, site_id=site_id, agency_id=agency_id, role=role, platform=platform, status=status,
                     tag=tag).order_by(*SORTING.order_by(sort, descending))
    return paginate(session, stmt, offset=offset, limit=limit)


def iter_devices(session: Session, actor: Actor, *, sort: str | None = None, descending: bool | None = None,
                 **filters: Any) -> Iterator[Device]:
    """Every device ``list_devices`` would page through with the same filters, read in chunks (for exports)."""
    actor.require(Permission.INVENTORY_READ)
    stmt = _filtered(actor, **filters).order_by(*SORTING.order_by(sort, descending))
    yield from session.scalars(stmt.execution_options(yield_per=500))


def tag_devices(session: Session, actor: Actor, device_ids: list[int], tag: str, *, remove: bool = False) -> int:
    """Add ``tag`` to (or remove it from) the devices the actor may see among ``device_ids``; audited per device.

    Returns how many devices changed. Ids the actor may not see are skipped, as if they did not exist.

    Raises:
        ValidationFailed: the tag is empty or too long, or too many devices were chosen.
    """
    actor.require(Permission.INVENTORY_WRITE)
    name = tag.strip()
    if not name or len(name) > 64:
        raise ValidationFailed("a tag is 1 to 64 characters", field="tag")
    if len(device_ids) > MAX_BULK:
        raise ValidationFailed(f"choose at most {MAX_BULK} devices at once", field="device_id")
    label = session.scalar(select(Tag).where(Tag.name == name)) if remove else _tags(session, [name])[0]
    if label is None:
        return 0
    changed = 0
    for device in session.scalars(_base_query(actor).where(Device.id.in_(device_ids))).unique():
        before = [t.name for t in device.tags]
        if remove and label in device.tags:
            device.tags.remove(label)
        elif not remove and label not in device.tags:
            device.tags.append(label)
        else:
            continue
        changed += 1
        audit.record(session, actor, action="update", entity_type="device", entity_id=device.id,
                     message="device.untagged" if remove else "device.tagged",
                     params={"name": device.name, "tag": name}, before={"tags": before},
                     after={"tags": [t.name for t in device.tags]})
    session.flush()
    return changed


def get_device(session: Session, actor: Actor, device_id: int) -> Device:
    actor.require(Permission.INVENTORY_READ)
    device = session.scalar(_base_query(actor).where(Device.id == device_id))
    if device is None:
        raise NotFound(f"device {device_id} does not exist")
    return device


def get_device_by_name(session: Session, actor: Actor, name: str) -> Device:
    actor.require(Permission.INVENTORY_READ)
    device = session.scalar(_base_query(actor).where(Device.name == name))
    if device is None:
        raise NotFound(f"device {name!r} does not exist")
    return device


def to_read(device: Device) -> DeviceRead:
    return DeviceRead.model_validate(
        {
            **snapshot(device),
            "tags": [t.name for t in device.tags],
            "reachability": device_reachability(device).value,
            "has_snmp_community": device.snmp_community_encrypted is not None,
            "has_snmp_v3_keys": device.snmp_v3_auth_key_encrypted is not None
            and device.snmp_v3_priv_key_encrypted is not None,
            "has_ssh_password": device.ssh_password_encrypted is not None,
            "has_radius_secret": device.radius_secret_encrypted is not None,
        }
    )


def device_credentials(session: Session, device: Device) -> DeviceCredentials:
    box = secret_box(session)
    return DeviceCredentials(
        snmp_community=box.decrypt_optional(device.snmp_community_encrypted),
        snmp_v3_auth_key=box.decrypt_optional(device.snmp_v3_auth_key_encrypted),
        snmp_v3_priv_key=box.decrypt_optional(device.snmp_v3_priv_key_encrypted),
        ssh_password=box.decrypt_optional(device.ssh_password_encrypted),
        radius_secret=box.decrypt_optional(device.radius_secret_encrypted),
    )


def _tags(session: Session, names: list[str]) -> list[Tag]:
    clean = sorted({n.strip() for n in names if n.strip()})
    existing = {t.name: t for t in session.scalars(select(Tag).where(Tag.name.in_(clean)))}
    out = []
    for name in clean:
        tag = existing.get(name)
        if tag is None:
            tag = Tag(name=name)
            session.add(tag)
        out.append(tag)
    return out


def _apply_secrets(session: Session, actor: Actor, device: Device, data: DeviceSecrets, *, creating: bool) -> None:
    box = secret_box(session)
    for field, column in SECRET_FIELDS.items():
        value: SecretStr | None = getattr(data, field)
        if value is None:
            continue
        actor.require(Permission.SECRETS_WRITE)
        plain = value.get_secret_value()
        setattr(device, column, box.encrypt(plain) if plain else None)
    if creating and device.snmp_version == SnmpVersion.V2C and device.snmp_community_encrypted is None:
        raise ValidationFailed("snmp_community is required for SNMP v2c", field="snmp_community")


def _check_site(session: Session, actor: Actor, site_id: int) -> None:
    site = session.get(Site, site_id)
    if site is None or (actor.agency_scope is not None and site.agency_id != actor.agency_scope):
        raise ValidationFailed(f"site {site_id} does not exist", field="site_id")


def create_device(session: Session, actor: Actor, data: DeviceCreate) -> Device:
    actor.require(Permission.INVENTORY_WRITE)
    ensure_unique(session, Device, "name", data.name, label="device")
    ensure_unique(session, Device, "mgmt_address", data.mgmt_address, label="device")
    _check_site(session, actor, data.site_id)
    fields = data.model_dump(exclude=set(SECRET_FIELDS) | {"tags"})
    device = Device(**fields, status=DeviceStatus.UNKNOWN)
    device.tags = _tags(session, data.tags)
    _apply_secrets(session, actor, device, data, creating=True)
    session.add(device)
    flush_or_conflict(session, "device")
    audit.record(session, actor, action="create", entity_type="device", entity_id=device.id,
                 message="device.created", params={"name": device.name}, after={**snapshot(device), "tags": data.tags})
    return device


def update_device(session: Session, actor: Actor, device_id: int, data: DeviceUpdate) -> Device:
    actor.require(Permission.INVENTORY_WRITE)
    device = get_device(session, actor, device_id)
    before = {**snapshot(device), "tags": [t.name for t in device.tags]}
    changes = data.model_dump(exclude_unset=True, exclude=set(SECRET_FIELDS) | {"tags"})
    if "name" in changes:
        ensure_unique(session, Device, "name", changes["name"], exclude_id=device.id, label="device")
    if "mgmt_address" in changes:
        ensure_unique(session, Device, "mgmt_address", changes["mgmt_address"], exclude_id=device.id, label="device")
    if "site_id" in changes:
        _check_site(session, actor, changes["site_id"])
    for key, value in changes.items():
        setattr(device, key, value)
    if data.tags is not None:
        device.tags = _tags(session, data.tags)
    _apply_secrets(session, actor, device, data, creating=False)
    if device.snmp_version == SnmpVersion.V3 and not (
        device.snmp_v3_user and device.snmp_v3_auth_key_encrypted and device.snmp_v3_priv_key_encrypted
    ):
        raise ValidationFailed("SNMP v3 needs snmp_v3_user, snmp_v3_auth_key and snmp_v3_priv_key",
                               field="snmp_version")
    flush_or_conflict(session, "device")
    audit.record(session, actor, action="update", entity_type="device", entity_id=device.id,
                 message="device.changed", params={"name": device.name}, before=before,
                 after={**snapshot(device), "tags": [t.name for t in device.tags]})
    return device


def delete_device(session: Session, actor: Actor, device_id: int) -> None:
    actor.require(Permission.INVENTORY_WRITE)
    device = get_device(session, actor, device_id)
    audit.record(session, actor, action="delete", entity_type="device", entity_id=device.id,
                 message="device.deleted", params={"name": device.name}, before=snapshot(device))
    session.delete(device)
    session.flush()
