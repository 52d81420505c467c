"""Agencies (SOPD): list, view, create, change, delete."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from netmgr.errors import Conflict, NotFound
from netmgr.models import Agency, Site
from netmgr.schemas.inventory import AgencyCreate, AgencyUpdate
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit
from netmgr.services.common import ListResult, ensure_unique, flush_or_conflict, paginate, snapshot


def list_agencies(session: Session, actor: Actor, *, q: str | None = None, offset: int = 0,
                  limit: int = 50) -> ListResult[Agency]:
    actor.require(Permission.INVENTORY_READ)
    stmt = select(Agency).order_by(Agency.name)
    if actor.agency_scope is not None:
        stmt = stmt.where(Agency.id == actor.agency_scope)
    if q:
        stmt = stmt.where(or_(Agency.name.ilike(f"%{q}%"), Agency.code.ilike(f"%{q}%")))
    return paginate(session, stmt, offset=offset, limit=limit)


def get_agency(session: Session, actor: Actor, agency_id: int) -> Agency:
    actor.require(Permission.INVENTORY_READ)
    agency = session.get(Agency, agency_id)
    if agency is None or (actor.agency_scope is not None and agency.id != actor.agency_scope):
        raise NotFound(f"agency {agency_id} does not exist")
    return agency


def get_agency_by_code(session: Session, code: str) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.code == code))


def create_agency(session: Session, actor: Actor, data: AgencyCreate) -> Agency:
    actor.require(Permission.INVENTORY_WRITE)
    ensure_unique(session, Agency, "code", data.code, label="agency")
    ensure_unique(session, Agency, "name", data.name, label="agency")
    agency = Agency(**data.model_dump())
    session.add(agency)
    flush_or_conflict(session, "agency")
    audit.record(session, actor, action="create", entity_type="agency", entity_id=agency.id,
                 message="agency.created", params={"name": agency.name}, after=snapshot(agency))
    return agency


def update_agency(session: Session, actor: Actor, agency_id: int, data: AgencyUpdate) -> Agency:
    actor.require(Permission.INVENTORY_WRITE)
    agency = get_agency(session, actor, agency_id)
    before = snapshot(agency)
    changes = data.model_dump(exclude_unset=True)
    if "code" in changes:
        ensure_unique(session, Agency, "code", changes["code"], exclude_id=agency.id, label="agency")
    if "name" in changes:
        ensure_unique(session, Agency, "name", changes["name"], exclude_id=agency.id, label="agency")
    for key, value in changes.items():
        setattr(agency, key, value)
    flush_or_conflict(session, "agency")
    audit.record(session, actor, action="update", entity_type="agency", entity_id=agency.id,
                 message="agency.changed", params={"name": agency.name}, before=before, after=snapshot(agency))
    return agency


def delete_agency(session: Session, actor: Actor, agency_id: int) -> None:
    actor.require(Permission.INVENTORY_WRITE)
    agency = get_agency(session, actor, agency_id)
    if session.scalar(select(Site.id).where(Site.agency_id == agency.id).limit(1)) is not None:
        raise Conflict(f"agency {agency.name} still owns sites; move or delete them first")
    audit.record(session, actor, action="delete", entity_type="agency", entity_id=agency.id,
                 message="agency.deleted", params={"name": agency.name}, before=snapshot(agency))
    session.delete(agency)
    session.flush()
