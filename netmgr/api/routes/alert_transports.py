"""/api/v1/alert-transports: e-mail, Telegram and HTTP gateway transports for alerts, their routes, a test send.

Secrets go in and never come back (``secret_set``). The sender for a test comes from the collectors capability
through ``app.state.capability_services["send_alert_test"]`` (see ``netmgr.app.CAPABILITY_SERVICES``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status

from netmgr.api.deps import SessionDep, SettingsDep, require
from netmgr.errors import ConfigError
from netmgr.models.base import utcnow
from netmgr.schemas.alert_transports import (
    AlertRouteCreate,
    AlertRouteRead,
    AlertTransportCreate,
    AlertTransportRead,
    AlertTransportUpdate,
    TestDeliveryRead,
)
from netmgr.security.permissions import Actor, Permission
from netmgr.services import alert_transports

router = APIRouter(prefix="/alert-transports", tags=["alerts"])

TransportAdmin = Annotated[Actor, require(Permission.SECRETS_WRITE)]


def get_transport_sender(request: Request) -> alert_transports.TransportSender:
    """The collectors' sender for stored transports; a clear error when that capability is not installed."""
    services: dict[str, Any] = getattr(request.app.state, "capability_services", {})
    sender: alert_transports.TransportSender | None = services.get("send_alert_test")
    if sender is None:
        raise ConfigError("the collectors package is not installed here, so no message can be sent")
    return sender


SenderDep = Annotated[alert_transports.TransportSender, Depends(get_transport_sender)]


@router.get("", response_model=list[AlertTransportRead])
def list_transports(session: SessionDep, actor: TransportAdmin) -> list[AlertTransportRead]:
    return [alert_transports.read(t) for t in alert_transports.list_transports(session)]


@router.post("", response_model=AlertTransportRead, status_code=status.HTTP_201_CREATED,
             responses={409: {"description": "the name is taken"}, 422: {"description": "the config is incomplete"}})
def create_transport(data: AlertTransportCreate, session: SessionDep, actor: TransportAdmin) -> AlertTransportRead:
    return alert_transports.read(alert_transports.create_transport(session, actor, data))


@router.get("/{transport_id}", response_model=AlertTransportRead, responses={404: {"description": "no such transport"}})
def get_transport(transport_id: int, session: SessionDep, actor: TransportAdmin) -> AlertTransportRead:
    return alert_transports.read(alert_transports.get_transport(session, transport_id))


@router.patch("/{transport_id}", response_model=AlertTransportRead,
              responses={404: {"description": "no such transport"}, 409: {"description": "the name is taken"}})
def update_transport(transport_id: int, data: AlertTransportUpdate, session: SessionDep,
                     actor: TransportAdmin) -> AlertTransportRead:
    return alert_transports.read(alert_transports.update_transport(session, actor, transport_id, data))


@router.delete("/{transport_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses={404: {"description": "no such transport"}})
def delete_transport(transport_id: int, session: SessionDep, actor: TransportAdmin) -> None:
    alert_transports.delete_transport(session, actor, transport_id)


@router.post("/{transport_id}/routes", response_model=AlertRouteRead, status_code=status.HTTP_201_CREATED,
             responses={404: {"description": "no such transport"}})
def add_route(transport_id: int, data: AlertRouteCreate, session: SessionDep, actor: TransportAdmin) -> AlertRouteRead:
    return AlertRouteRead.model_validate(alert_transports.add_route(session, actor, transport_id, data))


@router.delete("/routes/{route_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses={404: {"description": "no such route"}})
def delete_route(route_id: int, session: SessionDep, actor: TransportAdmin) -> None:
    alert_transports.delete_route(session, actor, route_id)


@router.post("/{transport_id}/test", response_model=list[TestDeliveryRead],
             responses={404: {"description": "no such transport"}})
def send_test(transport_id: int, session: SessionDep, actor: TransportAdmin, settings: SettingsDep,
              send: SenderDep) -> list[TestDeliveryRead]:
    """Send a test message ("kirim pesan uji"); one result per recipient, failures with their reason."""
    results = alert_transports.send_test(session, actor, transport_id, send=send, now=utcnow(), tz=settings.timezone)
    return [TestDeliveryRead(recipient=r.recipient, ok=r.ok, error=r.error) for r in results]
