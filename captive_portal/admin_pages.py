"""Admin pages for the hotspots, inside netmgr's admin UI: portal settings, vouchers, live sessions, usage, PDP.

Browser → page handler → one service call (captive_portal.portal, .vouchers, .privacy, .sessions) → a
template extending the admin shell. Registered in the admin navigation with ``netmgr.web.nav.register``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from fastapi import BackgroundTasks, Request
from fastapi.responses import Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context
from starlette.datastructures import UploadFile

from captive_portal import i18n, privacy, vouchers
from captive_portal import portal as portal_service
from captive_portal import sessions as hotspot_sessions
from netmgr import localtime
from netmgr.errors import NotFound, ValidationFailed
from netmgr.models import HotspotSession
from netmgr.models.hotspot import VoucherStatus
from netmgr.models.portal import GatewayKind
from netmgr.security.permissions import Permission
from netmgr.web import nav, rendering
from netmgr.web.context import CsrfChecked, Page, PageContext
from netmgr.web.pages import page_router

router = page_router()
TEMPLATE_DIR = Path(__file__).parent / "templates"
USAGE_DAYS = 30


def _(message: str) -> str:
    return message


METHOD_LABELS = {"click_through": _("Click-through terms"), "voucher": _("Voucher"), "phone_otp": _("Phone OTP")}

if "hotspots" not in nav.NAV:
    nav.register(nav.NavItem("hotspots", _("Hotspots"), "/portal-admin", Permission.PORTAL_MANAGE, 40,
                             labels={"id": "Hotspot"}))

_overlays: WeakKeyDictionary[Environment, Environment] = WeakKeyDictionary()


@pass_context
def _gettext(context: Context, message: str) -> str:
    """The portal's catalog first, then netmgr's (for the admin shell's own words)."""
    lang = context.get("lang") or "id"
    text = i18n.gettext(message, lang)
    return text if text != message else rendering.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _gettext(context, singular if n == 1 else plural)


def _env(base: Environment) -> Environment:
    """The admin environment with this package's templates and catalog layered on top."""
    env = _overlays.get(base)
    if env is None:
        loaders = [FileSystemLoader(TEMPLATE_DIR), *([base.loader] if base.loader else [])]
        env = base.overlay(loader=ChoiceLoader(loaders))
        env.globals = dict(base.globals)  # never touch the shell's own globals
        # The overlay's own i18n extension: ``env.install_gettext_callables`` is the base's bound method.
        ext: Any = env.extensions["jinja2.ext.InternationalizationExtension"]
        ext._install_callables(_gettext, _ngettext, newstyle=True)
        env.globals.update(method_labels=METHOD_LABELS, describe=vouchers.describe_policy)
        _overlays[base] = env
    return env


def _render(ctx: PageContext, template: str, **context: Any) -> Response:
    ctx.signed_in.require(Permission.PORTAL_MANAGE)
    return replace(ctx, env=_env(ctx.env)).render(template, **context)


def _t(ctx: PageContext, message: str, **values: Any) -> str:
    text = i18n.gettext(message, ctx.lang)
    if text == message:
        text = ctx._(message)
    return text % values if values else text


@router.get("/portal-admin")
def hotspot_list(ctx: Page) -> Response:
    items = portal_service.list_hotspots(ctx.db, ctx.signed_in)
    policies = portal_service.list_policies(ctx.db, ctx.signed_in)
    return _render(ctx, "admin/hotspots.html", title=_t(ctx, "Hotspots"), items=items, policies=policies)


def _hotspot_page(ctx: PageContext, hotspot_id: int, *, error: str = "", status_code: int = 200) -> Response:
    item = portal_service.get_hotspot(ctx.db, ctx.signed_in, hotspot_id)
    api_url = f"{ctx.settings.portal.base_url.rstrip('/')}/api/captive/{item.hotspot.slug}"
    return _render(ctx, "admin/hotspot.html", status_code=status_code, title=item.hotspot.name, item=item,
                   kinds=[k.value for k in GatewayKind], error=error, captive_api_url=api_url)


@router.get("/portal-admin/hotspots/{hotspot_id}")
def hotspot_detail(hotspot_id: int, ctx: Page) -> Response:
    return _hotspot_page(ctx, hotspot_id)


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


@router.post("/portal-admin/hotspots/{hotspot_id}", dependencies=[CsrfChecked])
async def hotspot_save(hotspot_id: int, request: Request, ctx: Page) -> Response:
    form = await request.form()
    logo = form.get("logo")
    logo_bytes: bytes | None = None
    logo_type = ""
    if isinstance(logo, UploadFile) and logo.filename:
        logo_bytes = await logo.read(portal_service.MAX_LOGO_BYTES + 1)
        logo_type = logo.content_type or ""
    faskey = str(form.get("faskey") or "")
    try:
        kind = GatewayKind(str(form.get("gateway_kind") or "mikrotik"))
    except ValueError:
        return _hotspot_page(ctx, hotspot_id, error=_t(ctx, "Unknown gateway kind"), status_code=422)
    data = portal_service.PortalSettingsUpdate(
        gateway_kind=kind,
        gateway_hosts=[h.strip() for h in str(form.get("gateway_hosts") or "").split(",")],
        free_logins_per_day=_int(form.get("free_logins_per_day"), 1),
        default_language=str(form.get("default_language") or "id"),
        login_methods=[str(m) for m in form.getlist("login_methods")],
        terms_version=str(form.get("terms_version") or ""),
        terms_text=str(form.get("terms_text") or ""),
        title=str(form.get("title") or ""),
        primary_color=str(form.get("primary_color") or ""),
        faskey=faskey or None,
        logo=logo_bytes, logo_type=logo_type,
    )
    try:
        portal_service.update_portal_settings(ctx.db, ctx.signed_in, hotspot_id, data)
    except ValidationFailed as exc:
        ctx.db.rollback()
        return _hotspot_page(ctx, hotspot_id, error=exc.message, status_code=422)
    ctx.flash(_t(ctx, "Saved."))
    return ctx.redirect(f"/portal-admin/hotspots/{hotspot_id}")


def _voucher_page(ctx: PageContext, *, error: str = "", status_code: int = 200) -> Response:
    batches = vouchers.list_batches(ctx.db, ctx.signed_in)
    rows = [(b, sum(1 for v in b.vouchers if v.status == VoucherStatus.UNUSED)) for b in batches]
    return _render(ctx, "admin/vouchers.html", status_code=status_code, title=_t(ctx, "Vouchers"), batches=rows,
                   policies=portal_service.list_policies(ctx.db, ctx.signed_in),
                   hotspots=portal_service.list_hotspots(ctx.db, ctx.signed_in), error=error)


@router.get("/portal-admin/vouchers")
def voucher_list(ctx: Page) -> Response:
    return _voucher_page(ctx)


@router.post("/portal-admin/vouchers", dependencies=[CsrfChecked])
async def voucher_generate(request: Request, ctx: Page) -> Response:
    form = await request.form()
    valid_until = None
    raw_date = str(form.get("valid_until") or "")
    try:
        if raw_date:
            valid_until = localtime.last_minute_utc(date.fromisoformat(raw_date), ctx.settings.timezone)
        batch = vouchers.create_batch(ctx.db, ctx.signed_in, name=str(form.get("name") or ""),
                                      policy_id=_int(form.get("policy_id")), count=_int(form.get("count")),
                                      hotspot_id=_int(form.get("hotspot_id")) or None, valid_until=valid_until)
    except (ValidationFailed, NotFound, ValueError) as exc:
        ctx.db.rollback()
        return _voucher_page(ctx, error=getattr(exc, "message", str(exc)), status_code=422)
    ctx.flash(_t(ctx, "%(n)s voucher codes generated.", n=batch.count))
    return ctx.redirect("/portal-admin/vouchers")


@router.get("/portal-admin/vouchers/{batch_id}.pdf")
def voucher_pdf(batch_id: int, ctx: Page) -> Response:
    batch, pdf = vouchers.batch_sheet(ctx.db, ctx.signed_in, batch_id, lang=ctx.lang,
                                      portal_base_url=ctx.settings.portal.base_url, tz=ctx.settings.timezone)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="voucher-{batch.id}.pdf"'})


@router.post("/portal-admin/vouchers/{batch_id}/revoke", dependencies=[CsrfChecked])
def voucher_revoke(batch_id: int, ctx: Page) -> Response:
    revoked = vouchers.revoke_batch(ctx.db, ctx.signed_in, batch_id)
    ctx.flash(_t(ctx, "%(n)s voucher codes revoked.", n=revoked))
    return ctx.redirect("/portal-admin/vouchers")


@router.get("/portal-admin/sessions")
def session_list(ctx: Page) -> Response:
    rows = portal_service.live_sessions(ctx.db, ctx.signed_in)
    names = {item.hotspot.id: item.hotspot.name for item in portal_service.list_hotspots(ctx.db, ctx.signed_in)}
    return _render(ctx, "admin/sessions.html", title=_t(ctx, "Live sessions"), rows=rows, names=names)


@router.post("/portal-admin/sessions/{session_id}/disconnect", dependencies=[CsrfChecked])
def session_disconnect(session_id: int, ctx: Page, request: Request, background: BackgroundTasks) -> Response:
    """Ask the gateway to end one session (RADIUS Disconnect-Request, sent after the page answered)."""
    ctx.signed_in.require(Permission.PORTAL_MANAGE)
    row = ctx.db.get(HotspotSession, session_id)
    if row is None:
        raise NotFound(f"session {session_id} does not exist")
    hotspot = portal_service.get_hotspot(ctx.db, ctx.signed_in, row.hotspot_id).hotspot if row.hotspot_id else None
    order = hotspot_sessions.disconnect_order(
        ctx.db, row, reason="admin", now=datetime.now(UTC),
        coa_port=(hotspot.coa_port if hotspot and hotspot.coa_port else ctx.settings.radius.coa_port))
    if order is None:
        ctx.flash(_t(ctx, "This gateway has no RADIUS secret, so it cannot be asked to disconnect."), "error")
    else:
        from captive_portal.api import send_disconnect  # the AAA API owns sending and recording the answer

        background.add_task(send_disconnect, request.app.state.netmgr, order)
        ctx.flash(_t(ctx, "Disconnect requested."))
    return ctx.redirect("/portal-admin/sessions")


@router.get("/portal-admin/usage")
def usage(ctx: Page) -> Response:
    since = datetime.now(UTC) - timedelta(days=USAGE_DAYS)
    rows = portal_service.usage_per_hotspot(ctx.db, ctx.signed_in, since=since)
    return _render(ctx, "admin/usage.html", title=_t(ctx, "Usage"), rows=rows, days=USAGE_DAYS)


def _people_page(ctx: PageContext, *, error: str = "", erased: str = "", mac: str = "",
                 status_code: int = 200) -> Response:
    return _render(ctx, "admin/people.html", status_code=status_code, title=_t(ctx, "Citizen data (UU PDP)"),
                   error=error, erased=erased, mac=mac, retention_days=ctx.settings.portal.retention_days)


@router.get("/portal-admin/people")
def people(ctx: Page) -> Response:
    return _people_page(ctx)


@router.post("/portal-admin/people/export", dependencies=[CsrfChecked])
async def people_export(request: Request, ctx: Page) -> Response:
    form = await request.form()
    mac, phone = str(form.get("mac") or "").strip(), str(form.get("phone") or "").strip()
    try:
        data = privacy.export_person(ctx.db, ctx.signed_in, mac=mac or None, phone=phone or None,
                                     secret_key=ctx.settings.secret_key.get_secret_value())
    except ValidationFailed as exc:
        return _people_page(ctx, error=exc.message, mac=mac, status_code=422)
    return Response(json.dumps(data, indent=2), media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="citizen-data.json"'})


@router.post("/portal-admin/people/erase", dependencies=[CsrfChecked])
async def people_erase(request: Request, ctx: Page) -> Response:
    form = await request.form()
    mac, phone = str(form.get("mac") or "").strip(), str(form.get("phone") or "").strip()
    try:
        counts = privacy.erase_person(ctx.db, ctx.signed_in, mac=mac or None, phone=phone or None,
                                      secret_key=ctx.settings.secret_key.get_secret_value())
    except ValidationFailed as exc:
        return _people_page(ctx, error=exc.message, mac=mac, status_code=422)
    return _people_page(ctx, erased=", ".join(f"{k} {v}" for k, v in counts.items()))
