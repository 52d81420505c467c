"""Sites: offices, public hotspot areas and POPs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session, contains_eager

from netmgr.errors import Conflict, NotFound, ValidationFailed
from netmgr.models import Agency, Device, Site
from netmgr.models.enums import DeviceStatus, SiteKind
from netmgr.schemas.inventory import SiteCreate, SiteRead, SiteUpdate
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit
from netmgr.services.common import ListResult, ensure_unique, flush_or_conflict, paginate, snapshot
from netmgr.services.listing import Sorting


def _scoped(stmt: Select[Site], actor: Actor) -> Select[Site]:
    if actor.agency_scope is not None:
        stmt = stmt.where(Site.agency_id == actor.agency_scope)
    return stmt


SORTING = Sorting(keys={"name": (Site.name,), "kind": (Site.kind,), "agency": (Agency.name,)}, default="name",
                  tie_breaker=Site.id, unique=frozenset({"name"}))
"""The site list's sort keys (the agency sorts by its name; sites without one come together)."""


def _filtered(actor: Actor, *, q: str | None = None, kind: SiteKind | None = None,
              agency_id: int | None = None) -> Select[Site]:
    stmt = _scoped(select(Site).outerjoin(Agency, Site.agency_id == Agency.id), actor)
    if q:
        stmt = stmt.where(or_(Site.name.ilike(f"%{q}%"), Site.address.ilike(f"%{q}%"), Agency.name.ilike(f"%{q}%")))
    if kind:
        stmt = stmt.where(Site.kind == kind)
    if agency_id is not None:
        stmt = stmt.where(Site.agency_id == agency_id)
    return stmt


def list_sites(session: Session, actor: Actor, *, q: str | None = None, kind: SiteKind | None = None,
               agency_id: int | None = None, sort: str | None = None, descending: bool | None = None,
               offset: int = 0, limit: int = 50) -> ListResult[Site]:
    """One page of the sites the actor may see, filtered and sorted by one of ``SORTING``'s keys."""
    actor.require(Permission.INVENTORY_READ)
    stmt = _filtered(actor, q=q, kind=kind, agency_id=agency_id).options(contains_eager(Site.agency))
    return paginate(session, stmt.order_by(*SORTING.order_by(sort, descending)), offset=offset, limit=limit)


def iter_sites(session: Session, actor: Actor, *, sort: str | None = None, descending: bool | None = None,
               **filters: Any) -> Iterator[Site]:
    """Every site ``list_sites`` would page through with the same filters (for exports)."""
    actor.require(Permission.INVENTORY_READ)
    stmt = _filtered(actor, **filters).options(contains_eager(Site.agency))
    yield from session.scalars(stmt.order_by(*SORTING.order_by(sort, descending)).execution_options(yield_per=500))


def site_status_counts(session: Session, site_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(devices, devices down) per site id, in one query."""
    out: dict[int, tuple[int, int]] = dict.fromkeys(site_ids, (0, 0))
    if not site_ids:
        return out
    down = case((Device.status == DeviceStatus.DOWN.value, 1), else_=0)
    stmt = (
        select(Device.site_id, func.count(Device.id), func.sum(down))
        .where(Device.site_id.in_(site_ids))
        .group_by(Device.site_id)
    )
    for site_id, total, n_down in session.execute(stmt):
        out[site_id] = (int(total), int(n_down or 0))
    return out


def to_read(site: Site, counts: dict[int, tuple[int, int]] | None = None) -> SiteRead:
    read = SiteRead.model_validate(site)
    if counts and site.id in counts:
        read.device_count, read.devices_down = counts[site.id]
    return read


def get_site(session: Session, actor: Actor, site_id: int) -> Site:
    actor.require(Permission.INVENTORY_READ)
    site = session.get(Site, site_id)
    if site is None or (actor.agency_scope is not None and site.agency_id != actor.agency_scope):
        raise NotFound(f"site {site_id} does not exist")
    return site


def get_site_by_name(session: Session, name: str) -> Site | None:
    return session.scalar(select(Site).where(Site.name == name))


def _check_agency(session: Session, agency_id: int | None) -> None:
    if agency_id is not None and session.get(Agency, agency_id) is None:
        raise ValidationFailed(f"agency {agency_id} does not exist", field="agency_id")


def create_site(session: Session, actor: Actor, data: SiteCreate) -> Site:
    actor.require(Permission.INVENTORY_WRITE)
    ensure_unique(session, Site, "name", data.name, label="site")
    _check_agency(session, data.agency_id)
    site = Site(**data.model_dump())
    session.add(site)
    flush_or_conflict(session, "site")
    audit.record(session, actor, action="create", entity_type="site", entity_id=site.id,
                 message="site.created", params={"name": site.name}, after=snapshot(site))
    return site


def update_site(session: Session, actor: Actor, site_id: int, data: SiteUpdate) -> Site:
    actor.require(Permission.INVENTORY_WRITE)
    site = get_site(session, actor, site_id)
    before = snapshot(site)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes:
        ensure_unique(session, Site, "name", changes["name"], exclude_id=site.id, label="site")
    if "agency_id" in changes:
        _check_agency(session, changes["agency_id"])
    for key, value in changes.items():
        setattr(site, key, value)
    flush_or_conflict(session, "site")
    audit.record(session, actor, action="update", entity_type="site", entity_id=site.id,
                 message="site.changed", params={"name": site.name}, before=before, after=snapshot(site))
    return site


def delete_site(session: Session, actor: Actor, site_id: int) -> None:
    actor.require(Permission.INVENTORY_WRITE)
    site = get_site(session, actor, site_id)
    if session.scalar(select(Device.id).where(Device.site_id == site.id).limit(1)) is not None:
        raise Conflict(f"site {site.name} still has devices; move or delete them first")
    audit.record(session, actor, action="delete", entity_type="site", entity_id=site.id,
                 message="site.deleted", params={"name": site.name}, before=snapshot(site))
    session.delete(site)
    session.flush()
