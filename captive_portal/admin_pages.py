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
from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import UploadFile

from captive_portal import coa, i18n, management, privacy, terms, vouchers
from captive_portal import portal as portal_service
from captive_portal import sessions as hotspot_sessions
from captive_portal.schemas import MAX_BATCH, BatchCreate, HotspotCreate, HotspotUpdate, PolicyCreate, PolicyUpdate
from netmgr import localtime
from netmgr.errors import Conflict, NotFound, ValidationFailed
from netmgr.models.hotspot import NasDialect
from netmgr.models.portal import GatewayKind
from netmgr.security.permissions import Permission
from netmgr.web import nav, rendering
from netmgr.web.context import CsrfChecked, Page, PageContext
from netmgr.web.lists import csv_response, csv_time, list_view
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


# Registered before /portal-admin/hotspots/{hotspot_id}, which would otherwise take "new" for an id.
@router.get("/portal-admin/hotspots/new")
def hotspot_new(ctx: Page) -> Response:
    ctx.signed_in.require(Permission.PORTAL_MANAGE)
    return _hotspot_form_page(ctx, values={"terms_version": "1", "login_methods": ["click_through", "voucher"],
                                           "primary_color": portal_service.DEFAULT_PRIMARY})


@router.post("/portal-admin/hotspots/new", dependencies=[CsrfChecked])
async def hotspot_create(request: Request, ctx: Page) -> Response:
    payload = _hotspot_payload(await request.form())
    try:
        hotspot = management.create_hotspot(ctx.db, ctx.signed_in, HotspotCreate.model_validate(payload))
    except (PydanticValidationError, ValidationFailed, Conflict) as exc:
        ctx.db.rollback()
        flat = payload | payload["branding"]
        return _hotspot_form_page(ctx, values=flat, error=_error_text(ctx, exc), status_code=422)
    ctx.flash(_t(ctx, "Hotspot %(name)s created.", name=hotspot.name))
    return ctx.redirect(f"/portal-admin/hotspots/{hotspot.id}")


def _hotspot_page(ctx: PageContext, hotspot_id: int, *, error: str = "", status_code: int = 200) -> Response:
    item = portal_service.get_hotspot(ctx.db, ctx.signed_in, hotspot_id)
    api_url = f"{ctx.settings.portal.base_url.rstrip('/')}/api/captive/{item.hotspot.slug}"
    return _render(ctx, "admin/hotspot.html", status_code=status_code, title=item.hotspot.name, item=item,
                   kinds=[k.value for k in GatewayKind], error=error, captive_api_url=api_url,
                   versions=terms.list_versions(ctx.db, ctx.signed_in, hotspot_id))


@router.get("/portal-admin/hotspots/{hotspot_id}")
def hotspot_detail(hotspot_id: int, ctx: Page) -> Response:
    return _hotspot_page(ctx, hotspot_id)


@router.get("/portal-admin/hotspots/{hotspot_id}/terms/{version_id}")
def terms_version(hotspot_id: int, version_id: int, ctx: Page) -> Response:
    """One past or current version of a hotspot's terms and privacy text, as citizens saw it."""
    version = terms.get_version(ctx.db, ctx.signed_in, hotspot_id, version_id)
    return _render(ctx, "admin/terms_version.html", title=_t(ctx, "Terms version %(version)s", version=version.version),
                   version=version, hotspot_id=hotspot_id)


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
        privacy_text=str(form.get("privacy_text") or "") if "privacy_text" in form else None,
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
    view = list_view(ctx, management.BATCH_SORTING)
    result = management.list_batches(ctx.db, ctx.signed_in, sort=management.BatchSort(view.request.sort),
                                     descending=view.request.descending, offset=view.request.offset,
                                     limit=view.request.size)
    return _render(ctx, "admin/vouchers.html", status_code=status_code, title=_t(ctx, "Vouchers"),
                   batches=result.items, pager=view.pager(result.total), view=view,
                   policies=portal_service.list_policies(ctx.db, ctx.signed_in),
                   hotspots=portal_service.list_hotspots(ctx.db, ctx.signed_in), error=error, max_batch=MAX_BATCH)


@router.get("/portal-admin/vouchers.csv")
def voucher_export(ctx: Page) -> Response:
    """The voucher batches as CSV, sorted as on the page: counts and prices, never a code."""
    ctx.signed_in.require(Permission.PORTAL_MANAGE)
    view = list_view(ctx, management.BATCH_SORTING)
    tz = ctx.settings.timezone
    header = [_t(ctx, "Batch"), _t(ctx, "Hotspot"), _t(ctx, "Policy"), _t(ctx, "Codes"), _t(ctx, "Unused"),
              _t(ctx, "Price (Rp)"), _t(ctx, "Created"), _t(ctx, "Use before")]
    rows = ([r.batch.name, r.batch.hotspot.name if r.batch.hotspot else "", r.batch.policy.name, r.batch.count,
             r.unused, r.batch.price_idr, csv_time(r.batch.created_at, tz), csv_time(r.batch.valid_until, tz)]
            for r in management.iter_batches(ctx.db, ctx.signed_in, sort=management.BatchSort(view.request.sort),
                                             descending=view.request.descending))
    return csv_response("voucher.csv", header, rows)


@router.get("/portal-admin/vouchers")
def voucher_list(ctx: Page) -> Response:
    return _voucher_page(ctx)


def _use_before(raw: str, tz: str) -> datetime | None:
    return localtime.last_minute_utc(date.fromisoformat(raw), tz) if raw else None


@router.post("/portal-admin/vouchers", dependencies=[CsrfChecked])
async def voucher_generate(request: Request, ctx: Page) -> Response:
    form = await request.form()
    try:
        data = BatchCreate.model_validate({
            "name": str(form.get("name") or ""), "policy_id": _int(form.get("policy_id")),
            "count": _int(form.get("count")), "hotspot_id": _int(form.get("hotspot_id")) or None,
            "valid_until": _use_before(str(form.get("valid_until") or ""), ctx.settings.timezone),
            "price_idr": _optional_int(form.get("price_idr"))})
        batch = management.create_batch(ctx.db, ctx.signed_in, data)
    except (PydanticValidationError, ValidationFailed, NotFound, ValueError) as exc:
        ctx.db.rollback()
        return _voucher_page(ctx, error=_error_text(ctx, exc), status_code=422)
    ctx.flash(_t(ctx, "%(n)s voucher codes generated.", n=batch.count))
    return ctx.redirect("/portal-admin/vouchers")


@router.get("/portal-admin/vouchers/{batch_id}.pdf")
def voucher_pdf(batch_id: int, ctx: Page) -> Response:
    batch, pdf = vouchers.batch_sheet(ctx.db, ctx.signed_in, batch_id, lang=ctx.lang,
                                      portal_base_url=ctx.settings.portal.base_url, tz=ctx.settings.timezone)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="voucher-{batch.id}.pdf"'})


@router.get("/portal-admin/vouchers/{batch_id}")
def voucher_report(batch_id: int, ctx: Page) -> Response:
    """A batch's sales and usage (Mikhmon's report), with extend and revoke."""
    report = management.batch_report(ctx.db, ctx.signed_in, batch_id)
    return _render(ctx, "admin/voucher_batch.html", title=report.batch.name, report=report)


@router.post("/portal-admin/vouchers/{batch_id}/extend", dependencies=[CsrfChecked])
async def voucher_extend(batch_id: int, request: Request, ctx: Page) -> Response:
    raw = str((await request.form()).get("valid_until") or "")
    try:
        new = _use_before(raw, ctx.settings.timezone)
        if new is None:
            raise ValidationFailed("choose the new date", field="valid_until")
        management.extend_batch(ctx.db, ctx.signed_in, batch_id, new, now=datetime.now(UTC))
    except (ValidationFailed, ValueError) as exc:
        ctx.db.rollback()
        ctx.flash(_error_text(ctx, exc), "error")
        return ctx.redirect(f"/portal-admin/vouchers/{batch_id}")
    ctx.flash(_t(ctx, "Use-before date moved to %(day)s.", day=raw))
    return ctx.redirect(f"/portal-admin/vouchers/{batch_id}")


def _batch_ids(form: Any) -> list[int]:
    return [n for n in (_int(v) for v in form.getlist("batch_id")) if n > 0]


@router.post("/portal-admin/vouchers/revoke", dependencies=[CsrfChecked])
async def voucher_revoke(request: Request, ctx: Page) -> Response:
    """Revoke the batches ticked (or the one named), only after the confirmation page was answered."""
    form = await request.form()
    ids = _batch_ids(form)
    if not ids:
        ctx.flash(_t(ctx, "Tick the batches to revoke first."), "error")
        return ctx.redirect("/portal-admin/vouchers")
    if str(form.get("confirmed") or "") != "1":
        names = [management.batch_report(ctx.db, ctx.signed_in, i).batch.name for i in ids]
        return _render(ctx, "admin/confirm.html", title=_t(ctx, "Revoke vouchers"),
                       question=_t(ctx, "Revoke every code that can still be used in %(names)s? Citizens online "
                                        "with one keep their session until it ends. This cannot be undone.",
                                   names=", ".join(names)),
                       action="/portal-admin/vouchers/revoke", button=_t(ctx, "Revoke"), hidden=ids,
                       cancel_url="/portal-admin/vouchers", error="")
    revoked = management.revoke_batches(ctx.db, ctx.signed_in, ids)
    ctx.flash(_t(ctx, "%(n)s voucher codes revoked.", n=revoked))
    return ctx.redirect("/portal-admin/vouchers")


@router.post("/portal-admin/vouchers/{batch_id}/revoke", dependencies=[CsrfChecked])
def voucher_revoke_one(batch_id: int, ctx: Page) -> Response:
    """The form posted by scripts and older pages: revokes one batch at once (the page itself confirms first)."""
    revoked = vouchers.revoke_batch(ctx.db, ctx.signed_in, batch_id)
    ctx.flash(_t(ctx, "%(n)s voucher codes revoked.", n=revoked))
    return ctx.redirect("/portal-admin/vouchers")


@router.get("/portal-admin/sessions")
def session_list(ctx: Page) -> Response:
    hotspot_id = _optional_int(ctx.request.query_params.get("hotspot"))
    view = list_view(ctx, management.SESSION_SORTING)
    result = management.live_sessions(ctx.db, ctx.signed_in, hotspot_id=hotspot_id, sort=view.request.sort,
                                      descending=view.request.descending, offset=view.request.offset,
                                      limit=view.request.size)
    return _render(ctx, "admin/sessions.html", title=_t(ctx, "Live sessions"), rows=result.items, view=view,
                   pager=view.pager(result.total), hotspot_id=hotspot_id,
                   hotspots=portal_service.list_hotspots(ctx.db, ctx.signed_in))


@router.get("/portal-admin/sessions.csv")
def session_export(ctx: Page) -> Response:
    """Who is online as CSV, sorted and filtered as on the page; MAC addresses stay masked."""
    ctx.signed_in.require(Permission.PORTAL_MANAGE)
    view = list_view(ctx, management.SESSION_SORTING)
    tz = ctx.settings.timezone
    header = [_t(ctx, "Hotspot"), _t(ctx, "Device"), _t(ctx, "Since"), _t(ctx, "MB"), _t(ctx, "Policy")]
    rows = ([s.hotspot_name, s.mac, csv_time(s.since, tz), round(s.octets / 1_000_000, 1), s.policy_name]
            for s in management.iter_live_sessions(
                ctx.db, ctx.signed_in, hotspot_id=_optional_int(ctx.request.query_params.get("hotspot")),
                sort=view.request.sort, descending=view.request.descending))
    return csv_response("sesi.csv", header, rows)


@router.post("/portal-admin/sessions/{session_id}/disconnect", dependencies=[CsrfChecked])
def session_disconnect(session_id: int, ctx: Page, request: Request, background: BackgroundTasks) -> Response:
    """Ask the gateway to end one session (RADIUS Disconnect-Request, sent after the page answered)."""
    order = management.disconnect_session(ctx.db, ctx.signed_in, session_id, now=datetime.now(UTC),
                                          default_coa_port=ctx.settings.radius.coa_port)
    if order is None:
        ctx.flash(_t(ctx, "This gateway has no RADIUS secret, so it cannot be asked to disconnect."), "error")
    else:
        _send_disconnects(request, background, [order])
        ctx.flash(_t(ctx, "Disconnect requested."))
    back = request.headers.get("referer", "")
    return ctx.redirect("/portal-admin/sessions" + (f"?{back.split('?', 1)[1]}" if "?" in back else ""))


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


# --- managing hotspots, policies, batches and sessions (captive_portal.management) -------------------------

FIELD_LABELS = {
    "name": _("Name"), "slug": _("Portal address"), "site_id": _("Site"), "gateway_device_id": _("Gateway"),
    "login_methods": _("Login methods"), "default_policy_id": _("Policy"), "terms_version": _("Terms version"),
    "branding.primary_color": _("Brand colour"), "branding.venue_info_url": _("Venue information page"),
    "coa_port": _("CoA port"), "opening_start": _("Opens at"),
    "opening_end": _("Closes at"), "valid_until": _("Use before"), "count": _("Number of codes"),
    "price_idr": _("Price per voucher (Rp)"),
}


def _error_text(ctx: PageContext, exc: Exception) -> str:
    """A service or form error for a person: the field in their language, then what is wrong."""
    if isinstance(exc, PydanticValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        label = _t(ctx, FIELD_LABELS[where]) if where in FIELD_LABELS else where
        return _t(ctx, "Check “%(field)s”: %(problem)s", field=label, problem=first.get("msg", ""))
    if isinstance(exc, ValidationFailed) and exc.field:
        label = _t(ctx, FIELD_LABELS[exc.field]) if exc.field in FIELD_LABELS else exc.field
        return _t(ctx, "Check “%(field)s”: %(problem)s", field=label, problem=exc.message)
    if isinstance(exc, Conflict):
        return _t(ctx, "Already in use: %(problem)s", problem=exc.message)
    return str(getattr(exc, "message", exc))


def _send_disconnects(request: Request, background: BackgroundTasks,
                      orders: list[hotspot_sessions.DisconnectOrder]) -> None:
    from captive_portal.api import send_disconnect  # the AAA API owns sending and recording the answer

    for order in orders:
        background.add_task(send_disconnect, request.app.state.netmgr, order)


def _optional_int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.lstrip("-").isdigit() else None


def _hotspot_form_page(ctx: PageContext, *, hotspot: Any = None, values: dict[str, Any] | None = None,
                       error: str = "", status_code: int = 200) -> Response:
    return _render(ctx, "admin/hotspot_form.html", status_code=status_code,
                   title=hotspot.name if hotspot else _t(ctx, "New hotspot"), hotspot=hotspot,
                   values=values or {}, error=error, dialects=[d.value for d in NasDialect],
                   sites=management.site_choices(ctx.db, ctx.signed_in),
                   gateways=management.gateway_choices(ctx.db, ctx.signed_in),
                   policies=portal_service.list_policies(ctx.db, ctx.signed_in))


def _hotspot_payload(form: Any) -> dict[str, Any]:
    return {
        "name": str(form.get("name") or ""), "slug": str(form.get("slug") or "").strip(),
        "site_id": _int(form.get("site_id")), "gateway_device_id": _int(form.get("gateway_device_id")),
        "nas_dialect": str(form.get("nas_dialect") or "mikrotik"), "ssid": str(form.get("ssid") or ""),
        "login_methods": [str(m) for m in form.getlist("login_methods")],
        "default_policy_id": _optional_int(form.get("default_policy_id")),
        "branding": {"title": str(form.get("title") or ""), "primary_color": str(form.get("primary_color") or ""),
                     "operator": str(form.get("operator") or ""),
                     "venue_info_url": str(form.get("venue_info_url") or "").strip()},
        "terms_version": str(form.get("terms_version") or ""), "terms_text": str(form.get("terms_text") or ""),
        "privacy_text": str(form.get("privacy_text") or ""), "coa_port": _optional_int(form.get("coa_port")),
    }


@router.get("/portal-admin/hotspots/{hotspot_id}/edit")
def hotspot_edit(hotspot_id: int, ctx: Page) -> Response:
    hotspot = management.get_hotspot(ctx.db, ctx.signed_in, hotspot_id)
    values = {c: getattr(hotspot, c) for c in ("name", "slug", "site_id", "gateway_device_id", "nas_dialect",
                                                "ssid", "login_methods", "default_policy_id", "terms_version",
                                                "terms_text", "privacy_text", "coa_port")}
    values |= dict(hotspot.branding or {})
    return _hotspot_form_page(ctx, hotspot=hotspot, values=values)


@router.post("/portal-admin/hotspots/{hotspot_id}/edit", dependencies=[CsrfChecked])
async def hotspot_update(hotspot_id: int, request: Request, ctx: Page, background: BackgroundTasks) -> Response:
    payload = _hotspot_payload(await request.form())
    hotspot = management.get_hotspot(ctx.db, ctx.signed_in, hotspot_id)
    try:
        change = management.update_hotspot(ctx.db, ctx.signed_in, hotspot_id, HotspotUpdate.model_validate(payload),
                                           now=datetime.now(UTC), default_coa_port=ctx.settings.radius.coa_port)
    except (PydanticValidationError, ValidationFailed, Conflict) as exc:
        ctx.db.rollback()
        return _hotspot_form_page(ctx, hotspot=hotspot, values=payload | payload["branding"],
                                  error=_error_text(ctx, exc), status_code=422)
    _send_disconnects(request, background, change.orders)
    ctx.flash(_t(ctx, "Saved."))
    return ctx.redirect(f"/portal-admin/hotspots/{hotspot_id}")


@router.post("/portal-admin/hotspots/{hotspot_id}/enabled", dependencies=[CsrfChecked])
async def hotspot_switch(hotspot_id: int, request: Request, ctx: Page, background: BackgroundTasks) -> Response:
    """Switch a hotspot on or off; off disconnects the devices online there."""
    enabled = str((await request.form()).get("enabled") or "") == "1"
    change = management.update_hotspot(ctx.db, ctx.signed_in, hotspot_id, HotspotUpdate(enabled=enabled),
                                       now=datetime.now(UTC), default_coa_port=ctx.settings.radius.coa_port)
    _send_disconnects(request, background, change.orders)
    if enabled:
        ctx.flash(_t(ctx, "Hotspot switched on: citizens can log in again."))
    else:
        ctx.flash(_t(ctx, "Hotspot switched off: %(n)s session(s) disconnected, new logins refused.",
                     n=len(change.orders) + change.not_reachable))
    return ctx.redirect(f"/portal-admin/hotspots/{hotspot_id}")


@router.get("/portal-admin/hotspots/{hotspot_id}/delete")
def hotspot_delete_confirm(hotspot_id: int, ctx: Page) -> Response:
    hotspot = management.get_hotspot(ctx.db, ctx.signed_in, hotspot_id)
    return _render(ctx, "admin/confirm.html", title=_t(ctx, "Delete hotspot"),
                   question=_t(ctx, "Delete %(name)s? Its voucher batches are deleted with it; past sessions stay "
                                    "in the reports. This cannot be undone.", name=hotspot.name),
                   action=f"/portal-admin/hotspots/{hotspot_id}/delete", button=_t(ctx, "Delete"),
                   cancel_url=f"/portal-admin/hotspots/{hotspot_id}", error="")


@router.post("/portal-admin/hotspots/{hotspot_id}/delete", dependencies=[CsrfChecked])
def hotspot_delete(hotspot_id: int, ctx: Page) -> Response:
    try:
        management.delete_hotspot(ctx.db, ctx.signed_in, hotspot_id)
    except Conflict as exc:
        ctx.db.rollback()
        ctx.flash(_error_text(ctx, exc), "error")
        return ctx.redirect(f"/portal-admin/hotspots/{hotspot_id}")
    ctx.flash(_t(ctx, "Hotspot deleted."))
    return ctx.redirect("/portal-admin")


# Policy forms speak minutes, megabytes and Mbps; the service stores seconds, octets and kbit/s.
POLICY_UNITS: dict[str, tuple[str, int]] = {
    "rate_down_mbps": ("rate_down_kbps", 1000), "rate_up_mbps": ("rate_up_kbps", 1000),
    "session_minutes": ("session_timeout_s", 60), "idle_minutes": ("idle_timeout_s", 60),
    "device_daily_minutes": ("device_daily_time_s", 60), "device_daily_mb": ("device_daily_bytes", 10**6),
    "person_daily_minutes": ("person_daily_time_s", 60), "person_daily_mb": ("person_daily_bytes", 10**6),
    "voucher_hours": ("voucher_lifetime_s", 3600),
}


def _policy_payload(form: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"name": str(form.get("name") or ""),
                               "description": str(form.get("description") or ""),
                               "max_devices": _int(form.get("max_devices"), 1),
                               "opening_start": str(form.get("opening_start") or "") or None,
                               "opening_end": str(form.get("opening_end") or "") or None}
    for field_name, (target, factor) in POLICY_UNITS.items():
        raw = str(form.get(field_name) or "").strip().replace(",", ".")
        try:
            payload[target] = round(float(raw) * factor) if raw else None
        except ValueError:
            payload[target] = raw  # pydantic names the field
    return payload


def _policy_values(policy: Any) -> dict[str, Any]:
    values: dict[str, Any] = {k: getattr(policy, k) for k in ("name", "description", "max_devices",
                                                             "opening_start", "opening_end")}
    for field_name, (target, factor) in POLICY_UNITS.items():
        raw = getattr(policy, target)
        values[field_name] = "" if raw is None else f"{raw / factor:g}"
    return values


def _policy_form_page(ctx: PageContext, *, policy: Any = None, values: dict[str, Any] | None = None,
                      error: str = "", status_code: int = 200) -> Response:
    return _render(ctx, "admin/policy_form.html", status_code=status_code,
                   title=policy.name if policy else _t(ctx, "New policy"), policy=policy, values=values or {},
                   error=error, zone=localtime.zone_label(ctx.settings.timezone))


@router.get("/portal-admin/policies/new")
def policy_new(ctx: Page) -> Response:
    ctx.signed_in.require(Permission.PORTAL_MANAGE)
    return _policy_form_page(ctx, values={"max_devices": 1})


@router.post("/portal-admin/policies/new", dependencies=[CsrfChecked])
async def policy_create(request: Request, ctx: Page) -> Response:
    form = await request.form()
    payload = _policy_payload(form)
    try:
        policy = management.create_policy(ctx.db, ctx.signed_in, PolicyCreate.model_validate(payload))
    except (PydanticValidationError, ValidationFailed, Conflict) as exc:
        ctx.db.rollback()
        return _policy_form_page(ctx, values=dict(form), error=_error_text(ctx, exc), status_code=422)
    ctx.flash(_t(ctx, "Policy %(name)s created.", name=policy.name))
    return ctx.redirect("/portal-admin")


@router.get("/portal-admin/policies/{policy_id}")
def policy_edit(policy_id: int, ctx: Page) -> Response:
    policy = management.get_policy(ctx.db, ctx.signed_in, policy_id)
    return _policy_form_page(ctx, policy=policy, values=_policy_values(policy))


@router.post("/portal-admin/policies/{policy_id}", dependencies=[CsrfChecked])
async def policy_update(policy_id: int, request: Request, ctx: Page, background: BackgroundTasks) -> Response:
    """Save a policy; sessions over its new limits are disconnected and the page says how many."""
    form = await request.form()
    policy = management.get_policy(ctx.db, ctx.signed_in, policy_id)
    try:
        change = management.update_policy(ctx.db, ctx.signed_in, policy_id,
                                          PolicyUpdate.model_validate(_policy_payload(form)), now=datetime.now(UTC),
                                          timezone=ctx.settings.timezone,
                                          default_coa_port=ctx.settings.radius.coa_port)
    except (PydanticValidationError, ValidationFailed, Conflict) as exc:
        ctx.db.rollback()
        return _policy_form_page(ctx, policy=policy, values=dict(form), error=_error_text(ctx, exc),
                                 status_code=422)
    _send_disconnects(request, background, change.orders)
    radius = ctx.settings.radius
    for rate in change.rate_changes:
        background.add_task(coa.change_rates, rate.order, rate.attributes, timeout_s=radius.coa_timeout_s,
                            retries=radius.coa_retries)
    message = _t(ctx, "Policy saved. %(n)s session(s) online were over the new limits and are being disconnected.",
                 n=change.affected)
    if change.not_reachable:
        message += " " + _t(ctx, "%(n)s of them cannot be reached: their gateway has no RADIUS secret.",
                            n=change.not_reachable)
    if change.rate_changes:
        message += " " + _t(ctx, "%(n)s other session(s) get the new speed now.", n=len(change.rate_changes))
    ctx.flash(message)
    return ctx.redirect(f"/portal-admin/policies/{policy_id}")


@router.post("/portal-admin/policies/{policy_id}/delete", dependencies=[CsrfChecked])
def policy_delete(policy_id: int, ctx: Page) -> Response:
    try:
        management.delete_policy(ctx.db, ctx.signed_in, policy_id)
    except Conflict as exc:
        ctx.db.rollback()
        ctx.flash(_error_text(ctx, exc), "error")
        return ctx.redirect(f"/portal-admin/policies/{policy_id}")
    ctx.flash(_t(ctx, "Policy deleted."))
    return ctx.redirect("/portal-admin")
