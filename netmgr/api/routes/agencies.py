"""/api/v1/agencies: the SOPD list. Routes parse, call one service function and map to read schemas."""

from __future__ import annotations

from fastapi import APIRouter, status

from netmgr.api.deps import CurrentActor, InventoryWriter, Limit, Offset, Search, SessionDep
from netmgr.api.paging import page_of
from netmgr.schemas.common import Page
from netmgr.schemas.inventory import AgencyCreate, AgencyRead, AgencyUpdate
from netmgr.services import agencies

router = APIRouter(prefix="/agencies", tags=["agencies"])


@router.get("", response_model=Page[AgencyRead])
def list_agencies(session: SessionDep, actor: CurrentActor, q: Search = None, offset: Offset = 0,
                  limit: Limit = 50) -> Page[AgencyRead]:
    result = agencies.list_agencies(session, actor, q=q, offset=offset, limit=limit)
    return page_of(result, AgencyRead.model_validate)


@router.post("", response_model=AgencyRead, status_code=status.HTTP_201_CREATED)
def create_agency(data: AgencyCreate, session: SessionDep, actor: InventoryWriter) -> AgencyRead:
    return AgencyRead.model_validate(agencies.create_agency(session, actor, data))


@router.get("/{agency_id}", response_model=AgencyRead)
def get_agency(agency_id: int, session: SessionDep, actor: CurrentActor) -> AgencyRead:
    return AgencyRead.model_validate(agencies.get_agency(session, actor, agency_id))


@router.patch("/{agency_id}", response_model=AgencyRead)
def update_agency(agency_id: int, data: AgencyUpdate, session: SessionDep, actor: InventoryWriter) -> AgencyRead:
    return AgencyRead.model_validate(agencies.update_agency(session, actor, agency_id, data))


@router.delete("/{agency_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_agency(agency_id: int, session: SessionDep, actor: InventoryWriter) -> None:
    agencies.delete_agency(session, actor, agency_id)
