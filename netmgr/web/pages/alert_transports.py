"""Alert transport pages (under Peringatan): list, add, edit, delete, routes, and "kirim pesan uji".

Browser form → strings parsed into ``AlertTransportCreate``/``Update``/``AlertRouteCreate`` → one
``netmgr.services.alert_transports`` call → redirect with a flash. Secrets are never put back into a page.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from netmgr.api.routes.alert_transports import get_transport_sender
from netmgr.errors import NetmgrError
from netmgr.models.alerts import AlertSeverity, TransportKind
from netmgr.models.base import utcnow
from netmgr.schemas.alert_transports import AlertRouteCreate, AlertTransportCreate, AlertTransportUpdate
from netmgr.security.permissions import Permission
from netmgr.services import agencies, alert_transports, sites
from netmgr.web.context import CsrfChecked, FormDep, Page, PageContext
from netmgr.web.labels import _
from netmgr.web.pages import page_router

router = page_router()
BASE = "/alerts/transports"

KINDS = {"email": _("E-mail (SMTP)"), "telegram": _("Telegram bot"), "http": _("WhatsApp/HTTP gateway")}
SEVERITIES = {"warning": _("warning and critical"), "critical": _("critical only")}
_TEXT = ("host", "user", "sender", "api_url", "url", "method", "body", "success_contains")
_LISTS = ("recipients", "chat_ids")


def _text(form: FormData, name: str) -> str:
    raw = form.get(name)
    return raw.strip() if isinstance(raw, str) else ""


def config_from_form(kind: TransportKind, form: FormData) -> dict[str, Any]:
    """The non-secret settings typed into the form, only those of ``kind`` (validated by the service)."""
    wanted = {TransportKind.EMAIL: ("host", "port", "starttls", "user", "sender", "recipients"),
              TransportKind.TELEGRAM: ("chat_ids", "api_url"),
              TransportKind.HTTP: ("url", "method", "headers", "body", "recipients", "success_contains")}[kind]
    config: dict[str, Any] = {}
    for name in wanted:
        value = _text(form, name)
        if name in _LISTS:
            config[name] = [v.strip() for v in value.replace(",", "\n").splitlines() if v.strip()]
        elif name == "port":
            config[name] = int(value) if value.isdigit() else (value or 25)
        elif name == "starttls":
            config[name] = value in ("on", "true", "1")
        elif name == "headers":
            try:
                headers = json.loads(value) if value else {}
            except ValueError:
                headers = None
            config[name] = headers if isinstance(headers, dict) else value
        elif name in _TEXT and value:
            config[name] = value
    return config


def _page(ctx: PageContext, *, error: str = "", status_code: int = 200) -> Response:
    return ctx.render("monitoring/transports.html", title=ctx._("Alert transports"),
                      transports=[alert_transports.read(t) for t in alert_transports.list_transports(ctx.db)],
                      kinds=KINDS, severities=SEVERITIES, error=error,
                      sites={s.id: s.name for s in sites.list_sites(ctx.db, ctx.signed_in, limit=1000).items},
                      agencies={a.id: a.name for a in agencies.list_agencies(ctx.db, ctx.signed_in, limit=1000).items},
                      status_code=status_code)


def _error(ctx: PageContext, exc: Exception) -> Response:
    ctx.db.rollback()
    if isinstance(exc, ValidationError):
        message = "; ".join(ctx._(str(e.get("msg", "")).removeprefix("Value error, ")) for e in exc.errors())
    else:
        text = str(exc.args[0]) if exc.args else str(exc)
        message = ctx._(text)
        field = getattr(exc, "field", None)
        if field:
            message = f"{field}: {message}"
    return _page(ctx, error=message, status_code=422)


def _require(ctx: PageContext) -> None:
    ctx.signed_in.require(Permission.SECRETS_WRITE)


@router.get(BASE)
def transports_page(ctx: Page) -> Response:
    _require(ctx)
    return _page(ctx)


@router.post(BASE, dependencies=[CsrfChecked])
def create_transport(ctx: Page, form: FormDep) -> Response:
    _require(ctx)
    try:
        kind = TransportKind(_text(form, "kind"))
        data = AlertTransportCreate(name=_text(form, "name"), kind=kind, enabled=True,
                                    config=config_from_form(kind, form), secret=_text(form, "secret") or None)
        transport = alert_transports.create_transport(ctx.db, ctx.signed_in, data)
    except (ValueError, NetmgrError) as exc:
        return _error(ctx, exc)
    ctx.flash(ctx._("Transport added: %(name)s", name=transport.name))
    return ctx.redirect(BASE)


@router.post(BASE + "/{transport_id}", dependencies=[CsrfChecked])
def update_transport(transport_id: int, ctx: Page, form: FormDep) -> Response:
    _require(ctx)
    try:
        transport = alert_transports.get_transport(ctx.db, transport_id)
        secret = form.get("secret")
        data = AlertTransportUpdate(
            name=_text(form, "name") or None, enabled=_text(form, "enabled") in ("on", "true", "1"),
            config=config_from_form(transport.kind, form),
            secret="" if _text(form, "remove_secret") else (secret if isinstance(secret, str) and secret else None))
        alert_transports.update_transport(ctx.db, ctx.signed_in, transport_id, data)
    except (ValueError, NetmgrError) as exc:
        return _error(ctx, exc)
    ctx.flash(ctx._("Transport saved: %(name)s", name=transport.name))
    return ctx.redirect(BASE)


@router.post(BASE + "/{transport_id}/delete", dependencies=[CsrfChecked])
def delete_transport(transport_id: int, ctx: Page) -> Response:
    _require(ctx)
    alert_transports.delete_transport(ctx.db, ctx.signed_in, transport_id)
    ctx.flash(ctx._("Transport deleted."))
    return ctx.redirect(BASE)


@router.post(BASE + "/{transport_id}/test", dependencies=[CsrfChecked])
def test_transport(transport_id: int, ctx: Page) -> Response:
    _require(ctx)
    send = get_transport_sender(ctx.request)
    results = alert_transports.send_test(ctx.db, ctx.signed_in, transport_id, send=send, now=utcnow(),
                                         tz=ctx.settings.timezone)
    for r in results:
        if r.ok:
            ctx.flash(ctx._("Test message sent to %(to)s.", to=r.recipient))
        else:
            ctx.flash(ctx._("Test message to %(to)s failed: %(error)s", to=r.recipient, error=r.error), "error")
    if not results:
        ctx.flash(ctx._("This transport has no recipients."), "error")
    return ctx.redirect(BASE)


@router.post(BASE + "/{transport_id}/routes", dependencies=[CsrfChecked])
def add_route(transport_id: int, ctx: Page, form: FormDep) -> Response:
    _require(ctx)
    try:
        data = AlertRouteCreate(site_id=_text(form, "site_id") or None, agency_id=_text(form, "agency_id") or None,
                                min_severity=AlertSeverity(_text(form, "min_severity") or "warning"),
                                start=_text(form, "start") or None, end=_text(form, "end") or None)
        alert_transports.add_route(ctx.db, ctx.signed_in, transport_id, data)
    except (ValueError, NetmgrError) as exc:
        return _error(ctx, exc)
    ctx.flash(ctx._("Route added."))
    return ctx.redirect(BASE)


@router.post(BASE + "/routes/{route_id}/delete", dependencies=[CsrfChecked])
def delete_route(route_id: int, ctx: Page) -> Response:
    _require(ctx)
    alert_transports.delete_route(ctx.db, ctx.signed_in, route_id)
    ctx.flash(ctx._("Route deleted."))
    return ctx.redirect(BASE)
