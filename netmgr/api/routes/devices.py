"""/api/v1/devices and /api/v1/interfaces: the device inventory. Secrets go in, never come out."""

from __future__ import annotations

from fastapi import APIRouter, status

from netmgr.api.deps import CurrentActor, InventoryWriter, Limit, Offset, Search, SessionDep
from netmgr.api.paging import page_of, page_of_list
from netmgr.models.enums import DeviceRole, DeviceStatus, Platform
from netmgr.schemas.common import Page
from netmgr.schemas.inventory import DeviceCreate, DeviceRead, DeviceUpdate, InterfaceRead, InterfaceUpdate
from netmgr.services import devices, interfaces

router = APIRouter(tags=["devices"])


@router.get("/devices", response_model=Page[DeviceRead])
def list_devices(
    session: SessionDep,
    actor: CurrentActor,
    q: Search = None,
    site_id: int | None = None,
    agency_id: int | None = None,
    role: DeviceRole | None = None,
    platform: Platform | None = None,
    status: DeviceStatus | None = None,
    tag: str | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[DeviceRead]:
    result = devices.list_devices(session, actor, q=q, site_id=site_id, agency_id=agency_id, role=role,
                                  platform=platform, status=status, tag=tag, offset=offset, limit=limit)
    return page_of(result, devices.to_read)


@router.post("/devices", response_model=DeviceRead, status_code=status.HTTP_201_CREATED)
def create_device(data: DeviceCreate, session: SessionDep, actor: InventoryWriter) -> DeviceRead:
    return devices.to_read(devices.create_device(session, actor, data))


@router.get("/devices/{device_id}", response_model=DeviceRead)
def get_device(device_id: int, session: SessionDep, actor: CurrentActor) -> DeviceRead:
    return devices.to_read(devices.get_device(session, actor, device_id))


@router.patch("/devices/{device_id}", response_model=DeviceRead)
def update_device(device_id: int, data: DeviceUpdate, session: SessionDep, actor: InventoryWriter) -> DeviceRead:
    return devices.to_read(devices.update_device(session, actor, device_id, data))


@router.delete("/devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_device(device_id: int, session: SessionDep, actor: InventoryWriter) -> None:
    devices.delete_device(session, actor, device_id)


@router.get("/devices/{device_id}/interfaces", response_model=Page[InterfaceRead])
def list_interfaces(device_id: int, session: SessionDep, actor: CurrentActor, offset: Offset = 0,
                    limit: Limit = 1000) -> Page[InterfaceRead]:
    rows = interfaces.list_interfaces(session, actor, device_id)
    return page_of_list(rows, InterfaceRead.model_validate, offset=offset, limit=limit)


@router.patch("/interfaces/{interface_id}", response_model=InterfaceRead, tags=["interfaces"])
def update_interface(interface_id: int, data: InterfaceUpdate, session: SessionDep,
                     actor: InventoryWriter) -> InterfaceRead:
    return InterfaceRead.model_validate(interfaces.update_interface(session, actor, interface_id, data))
