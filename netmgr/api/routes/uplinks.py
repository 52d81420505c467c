"""/api/v1/uplinks: ISP contracts with capacity, price (with PPN) and billing model."""

from __future__ import annotations

from fastapi import APIRouter, status

from netmgr.api.deps import CurrentActor, InventoryWriter, Limit, Offset, Search, SessionDep
from netmgr.api.paging import page_of
from netmgr.schemas.common import Page
from netmgr.schemas.inventory import UplinkCreate, UplinkRead, UplinkUpdate
from netmgr.services import uplinks

router = APIRouter(prefix="/uplinks", tags=["uplinks"])


@router.get("", response_model=Page[UplinkRead])
def list_uplinks(session: SessionDep, actor: CurrentActor, q: Search = None, offset: Offset = 0,
                 limit: Limit = 50) -> Page[UplinkRead]:
    return page_of(uplinks.list_uplinks(session, actor, q=q, offset=offset, limit=limit), uplinks.to_read)


@router.post("", response_model=UplinkRead, status_code=status.HTTP_201_CREATED)
def create_uplink(data: UplinkCreate, session: SessionDep, actor: InventoryWriter) -> UplinkRead:
    return uplinks.to_read(uplinks.create_uplink(session, actor, data))


@router.get("/{uplink_id}", response_model=UplinkRead)
def get_uplink(uplink_id: int, session: SessionDep, actor: CurrentActor) -> UplinkRead:
    return uplinks.to_read(uplinks.get_uplink(session, actor, uplink_id))


@router.patch("/{uplink_id}", response_model=UplinkRead)
def update_uplink(uplink_id: int, data: UplinkUpdate, session: SessionDep, actor: InventoryWriter) -> UplinkRead:
    return uplinks.to_read(uplinks.update_uplink(session, actor, uplink_id, data))


@router.delete("/{uplink_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_uplink(uplink_id: int, session: SessionDep, actor: InventoryWriter) -> None:
    uplinks.delete_uplink(session, actor, uplink_id)
