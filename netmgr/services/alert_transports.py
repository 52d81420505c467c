"""Alert transports set up in the UI and the routes choosing which alerts each one gets.

Admin input (UI, API) → validated config + encrypted secret in ``alert_transports``/``alert_routes`` →
``transports_for`` picks the transports of an alert (site, agency, severity, local time of day) →
a sender built by the notifier package from a ``TransportSpec`` (the only place the secret is decrypted).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from netmgr import localtime
from netmgr.db import secret_box
from netmgr.errors import Conflict, NotFound, ValidationFailed
from netmgr.i18n import N_
from netmgr.models.alerts import AlertRoute, AlertSeverity, AlertTransport, TransportKind
from netmgr.schemas.alert_transports import (
    AlertRouteCreate,
    AlertTransportCreate,
    AlertTransportRead,
    AlertTransportUpdate,
)
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit

_SEVERITY_RANK = {AlertSeverity.WARNING: 0, AlertSeverity.CRITICAL: 1}

_REQUIRED: dict[TransportKind, tuple[str, ...]] = {
    TransportKind.EMAIL: ("host", "sender", "recipients"),
    TransportKind.TELEGRAM: ("chat_ids",),
    TransportKind.HTTP: ("url", "recipients"),
}
_LISTS = ("recipients", "chat_ids")


@dataclass(frozen=True)
class TransportSpec:
    """Everything a sender needs, with the secret decrypted: handed to senders only, never shown or logged."""

    id: int
    name: str
    kind: TransportKind
    config: dict[str, Any]
    secret: str

    def __repr__(self) -> str:
        return f"TransportSpec(id={self.id}, name={self.name!r}, kind={self.kind.value!r}, secret=<hidden>)"


@dataclass(frozen=True)
class TestDelivery:
    recipient: str
    ok: bool
    error: str = ""


TransportSender = Callable[[TransportSpec, str, str], Sequence[TestDelivery]]
"""Sends (subject, text) through a transport; built by ``collectors.notify`` and injected by the entry point."""


def _check_config(kind: TransportKind, config: dict[str, Any]) -> dict[str, Any]:
    # Messages are fixed English msgids (the UI translates them) naming the field in ``field``.
    if any(k.endswith(("password", "token", "secret")) for k in config):
        raise ValidationFailed(N_("Put the password or token in the secret field, never in the settings."),
                               field="secret")
    for key in _REQUIRED[kind]:
        if not config.get(key):
            raise ValidationFailed(N_("This kind of transport needs this field."), field=key)
    for key in _LISTS:
        if key in config and not (isinstance(config[key], list) and all(isinstance(v, str) for v in config[key])):
            raise ValidationFailed(N_("Enter a list: one address, number or chat id per line."), field=key)
    if "port" in config and not (isinstance(config["port"], int) and 0 < config["port"] < 65536):
        raise ValidationFailed(N_("Enter a port from 1 to 65535."), field="port")
    return dict(config)


def read(transport: AlertTransport) -> AlertTransportRead:
    """The transport as people may see it: the secret only as set / not set."""
    return AlertTransportRead.model_validate({
        "id": transport.id, "name": transport.name, "kind": transport.kind, "enabled": transport.enabled,
        "config": transport.config, "secret_set": bool(transport.secret_encrypted), "routes": transport.routes})


def get_transport(session: Session, transport_id: int) -> AlertTransport:
    transport = session.get(AlertTransport, transport_id)
    if transport is None:
        raise NotFound(f"alert transport {transport_id} does not exist")
    return transport


def list_transports(session: Session) -> list[AlertTransport]:
    return list(session.scalars(select(AlertTransport).options(selectinload(AlertTransport.routes))
                                .order_by(AlertTransport.name)))


def any_transport(session: Session) -> bool:
    """Whether any transport is set up in the UI (then the NETMGR_NOTIFY__ channels are no longer used)."""
    return session.scalar(select(AlertTransport.id).limit(1)) is not None


def _unique_name(session: Session, name: str, own_id: int | None = None) -> None:
    other = session.scalar(select(AlertTransport.id).where(AlertTransport.name == name))
    if other is not None and other != own_id:
        raise Conflict(f"an alert_transport with name {name!r} already exists")


def create_transport(session: Session, actor: Actor, data: AlertTransportCreate) -> AlertTransport:
    """Add a transport; its secret is stored encrypted.

    Raises:
        PermissionDenied, ValidationFailed (missing host/recipients…), Conflict (name taken).
    """
    actor.require(Permission.SECRETS_WRITE)
    _unique_name(session, data.name)
    transport = AlertTransport(name=data.name, kind=data.kind, enabled=data.enabled,
                               config=_check_config(data.kind, data.config),
                               secret_encrypted=secret_box(session).encrypt_optional(data.secret))
    session.add(transport)
    session.flush()
    audit.record(session, actor, action="create", entity_type="alert_transport", entity_id=transport.id,
                 message="alert_transport.created",
                 params={"name": transport.name, "transport_kind": transport.kind.value},
                 after={"name": transport.name, "kind": transport.kind.value, "config": transport.config,
                        "secret_set": bool(transport.secret_encrypted)})
    return transport


def update_transport(session: Session, actor: Actor, transport_id: int, data: AlertTransportUpdate) -> AlertTransport:
    """Change a transport; ``secret`` absent keeps the stored one, ``''`` removes it."""
    actor.require(Permission.SECRETS_WRITE)
    transport = get_transport(session, transport_id)
    if data.name is not None:
        _unique_name(session, data.name, transport.id)
        transport.name = data.name
    if data.enabled is not None:
        transport.enabled = data.enabled
    if data.config is not None:
        transport.config = _check_config(transport.kind, data.config)
    if data.secret is not None:
        transport.secret_encrypted = secret_box(session).encrypt_optional(data.secret)
    session.flush()
    audit.record(session, actor, action="update", entity_type="alert_transport", entity_id=transport.id,
                 message="alert_transport.changed", params={"name": transport.name},
                 after={"config": transport.config, "enabled": transport.enabled,
                        "secret_changed": data.secret is not None})
    return transport


def delete_transport(session: Session, actor: Actor, transport_id: int) -> None:
    actor.require(Permission.SECRETS_WRITE)
    transport = get_transport(session, transport_id)
    audit.record(session, actor, action="delete", entity_type="alert_transport", entity_id=transport.id,
                 message="alert_transport.deleted", params={"name": transport.name})
    session.delete(transport)
    session.flush()


def add_route(session: Session, actor: Actor, transport_id: int, data: AlertRouteCreate) -> AlertRoute:
    """Send some alerts to a transport (a transport without routes gets every alert)."""
    actor.require(Permission.SECRETS_WRITE)
    transport = get_transport(session, transport_id)
    route = AlertRoute(transport=transport, **data.model_dump())
    session.add(route)
    session.flush()
    audit.record(session, actor, action="create", entity_type="alert_route", entity_id=route.id,
                 message="alert_route.created", params={"name": transport.name}, after=data.model_dump(mode="json"))
    return route


def delete_route(session: Session, actor: Actor, route_id: int) -> None:
    actor.require(Permission.SECRETS_WRITE)
    route = session.get(AlertRoute, route_id)
    if route is None:
        raise NotFound(f"alert route {route_id} does not exist")
    session.delete(route)
    session.flush()


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def in_window(start: str | None, end: str | None, moment: time) -> bool:
    """Whether a local time of day falls in [start, end); end before start crosses midnight; none: always."""
    if not start or not end:
        return True
    first, last = _hhmm(start), _hhmm(end)
    if first <= last:
        return first <= moment < last
    return moment >= first or moment < last


def route_matches(route: AlertRoute, *, site_id: int | None, agency_id: int | None, severity: AlertSeverity,
                  local_time: time) -> bool:
    """Whether an alert of this site, agency and severity at this local time goes along ``route``."""
    return ((route.site_id is None or route.site_id == site_id)
            and (route.agency_id is None or route.agency_id == agency_id)
            and _SEVERITY_RANK[severity] >= _SEVERITY_RANK[route.min_severity]
            and in_window(route.start, route.end, local_time))


def transports_for(session: Session, *, site_id: int | None, agency_id: int | None, severity: AlertSeverity,
                   now: datetime, tz: str) -> list[AlertTransport]:
    """The enabled transports an alert goes to: those with a matching route, or with no routes at all."""
    moment = localtime.to_local(now, tz).time()
    return [t for t in list_transports(session) if t.enabled and (not t.routes or any(
        route_matches(r, site_id=site_id, agency_id=agency_id, severity=severity, local_time=moment)
        for r in t.routes))]


def spec(session: Session, transport: AlertTransport) -> TransportSpec:
    """The transport with its secret decrypted, for a sender."""
    secret = secret_box(session).decrypt(transport.secret_encrypted) if transport.secret_encrypted else ""
    return TransportSpec(id=transport.id, name=transport.name, kind=transport.kind, config=dict(transport.config),
                         secret=secret)


TEST_SUBJECT = "[netmgr] Pesan uji"


def send_test(session: Session, actor: Actor, transport_id: int, *, send: TransportSender,
              now: datetime, tz: str) -> list[TestDelivery]:
    """Send a test message through a transport (``kirim pesan uji``); one result per recipient."""
    actor.require(Permission.SECRETS_WRITE)
    transport = get_transport(session, transport_id)
    when = localtime.to_local(now, tz).strftime("%d-%m-%Y %H:%M")
    text = (f"✅ PESAN UJI dari netmgr lewat transport {transport.name!r} ({when} {localtime.zone_label(tz, now)}), "
            f"dikirim oleh {actor.username}. Jika pesan ini sampai, peringatan juga akan sampai.")
    results = list(send(spec(session, transport), TEST_SUBJECT, text))
    audit.record(session, actor, action="test", entity_type="alert_transport", entity_id=transport.id,
                 message="alert_transport.tested",
                 params={"delivered": sum(r.ok for r in results), "count": len(results)})
    return results
