"""/api/v1/sites: offices, public hotspot areas and POPs, each with its device and down counts."""

from __future__ import annotations

from fastapi import APIRouter, status

from netmgr.api.deps import CurrentActor, InventoryWriter, Limit, Offset, Search, SessionDep
from netmgr.models.enums import SiteKind
from netmgr.schemas.common import Page
from netmgr.schemas.inventory import SiteCreate, SiteRead, SiteUpdate
from netmgr.services import sites

router = APIRouter(prefix="/sites", tags=["sites"])


@router.get("", response_model=Page[SiteRead])
def list_sites(session: SessionDep, actor: CurrentActor, q: Search = None, kind: SiteKind | None = None,
               agency_id: int | None = None, offset: Offset = 0, limit: Limit = 50) -> Page[SiteRead]:
    result = sites.list_sites(session, actor, q=q, kind=kind, agency_id=agency_id, offset=offset, limit=limit)
    counts = sites.site_status_counts(session, [s.id for s in result.items])
    return Page[SiteRead](items=[sites.to_read(s, counts) for s in result.items], total=result.total,
                          offset=result.offset, limit=result.limit)


@router.post("", response_model=SiteRead, status_code=status.HTTP_201_CREATED)
def create_site(data: SiteCreate, session: SessionDep, actor: InventoryWriter) -> SiteRead:
    return sites.to_read(sites.create_site(session, actor, data))


@router.get("/{site_id}", response_model=SiteRead)
def get_site(site_id: int, session: SessionDep, actor: CurrentActor) -> SiteRead:
    site = sites.get_site(session, actor, site_id)
    return sites.to_read(site, sites.site_status_counts(session, [site.id]))


@router.patch("/{site_id}", response_model=SiteRead)
def update_site(site_id: int, data: SiteUpdate, session: SessionDep, actor: InventoryWriter) -> SiteRead:
    site = sites.update_site(session, actor, site_id, data)
    return sites.to_read(site, sites.site_status_counts(session, [site.id]))


@router.delete("/{site_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_site(site_id: int, session: SessionDep, actor: InventoryWriter) -> None:
    sites.delete_site(session, actor, site_id)
