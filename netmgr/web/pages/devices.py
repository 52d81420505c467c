"""Device pages: list with search and filters, detail with interfaces, and the shared forms.

Secret fields are password inputs that are never pre-filled; the form only says whether one is stored.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from netmgr.errors import ValidationFailed
from netmgr.models import Device
from netmgr.models.enums import DeviceRole, DeviceStatus, Platform, SnmpAuthProtocol, SnmpPrivProtocol, SnmpVersion
from netmgr.schemas.inventory import DeviceCreate, DeviceUpdate
from netmgr.security.permissions import Permission
from netmgr.services import devices, interfaces, sites
from netmgr.services.reachability import device_reachability
from netmgr.web.context import CsrfChecked, FormDep, Page, PageContext
from netmgr.web.forms import FieldSpec
from netmgr.web.labels import DEVICE_ROLES, DEVICE_STATUS, REACHABILITY, _
from netmgr.web.lists import back_to, csv_response, csv_time, list_view, selected_ids
from netmgr.web.pages import enum_or_none, int_or_none, page_router, query
from netmgr.web.pages.crud import EntityPages, add_form_routes

router = page_router()

SECRET_COLUMNS = {
    "snmp_community": "snmp_community_encrypted",
    "snmp_v3_auth_key": "snmp_v3_auth_key_encrypted",
    "snmp_v3_priv_key": "snmp_v3_priv_key_encrypted",
    "ssh_password": "ssh_password_encrypted",
    "radius_secret": "radius_secret_encrypted",
}
PLATFORMS = tuple((p.value, p.value) for p in Platform)


def site_choices(ctx: PageContext) -> tuple[tuple[str, str], ...]:
    return tuple((str(s.id), s.name) for s in sites.list_sites(ctx.db, ctx.signed_in, limit=2000).items)


def _plain(values: list[str]) -> tuple[tuple[str, str], ...]:
    return tuple((v, v) for v in values)


def _fields(ctx: PageContext, creating: bool) -> list[FieldSpec]:
    return [
        FieldSpec("name", _("Name"), required=True, help=_("Letters, digits, dot, dash, underscore")),
        FieldSpec("site_id", _("Site"), kind="select", required=True, choices=site_choices(ctx),
                  translate_choices=False),
        FieldSpec("role", _("Role"), kind="select", required=True, choices=tuple(DEVICE_ROLES.items())),
        FieldSpec("platform", _("Platform"), kind="select", required=True, choices=PLATFORMS,
                  translate_choices=False),
        FieldSpec("mgmt_address", _("Management address"), required=True, help=_("IP address or host name")),
        FieldSpec("ssh_port", _("SSH port"), kind="number"),
        FieldSpec("ssh_username", _("SSH user name"), nullable=True),
        FieldSpec("ssh_password", _("SSH password"), kind="password"),
        FieldSpec("snmp_version", _("SNMP version"), kind="select",
                  choices=_plain([v.value for v in SnmpVersion]), translate_choices=False),
        FieldSpec("snmp_port", _("SNMP port"), kind="number"),
        FieldSpec("snmp_community", _("SNMP community"), kind="password", help=_("Required for SNMP v2c")),
        FieldSpec("snmp_v3_user", _("SNMP v3 user"), nullable=True),
        FieldSpec("snmp_v3_auth_protocol", _("SNMP v3 auth protocol"), kind="select", nullable=True,
                  choices=_plain([v.value for v in SnmpAuthProtocol]), translate_choices=False),
        FieldSpec("snmp_v3_auth_key", _("SNMP v3 auth key"), kind="password"),
        FieldSpec("snmp_v3_priv_protocol", _("SNMP v3 privacy protocol"), kind="select", nullable=True,
                  choices=_plain([v.value for v in SnmpPrivProtocol]), translate_choices=False),
        FieldSpec("snmp_v3_priv_key", _("SNMP v3 privacy key"), kind="password"),
        FieldSpec("radius_secret", _("RADIUS secret"), kind="password"),
        FieldSpec("tags", _("Tags"), kind="tags", help=_("Comma separated, e.g. lantai-2, taman")),
        FieldSpec("vendor", _("Vendor")),
        FieldSpec("model", _("Model")),
        FieldSpec("serial", _("Serial number")),
        FieldSpec("notes", _("Notes"), kind="textarea"),
    ]


def _values(device: Device) -> dict[str, str]:
    return {
        "name": device.name, "site_id": str(device.site_id), "role": device.role, "platform": device.platform,
        "mgmt_address": device.mgmt_address, "ssh_port": str(device.ssh_port), "snmp_port": str(device.snmp_port),
        "snmp_version": device.snmp_version, "snmp_v3_user": device.snmp_v3_user or "",
        "snmp_v3_auth_protocol": device.snmp_v3_auth_protocol or "",
        "snmp_v3_priv_protocol": device.snmp_v3_priv_protocol or "", "snmp_context": device.snmp_context or "",
        "ssh_username": device.ssh_username or "", "tags": ", ".join(t.name for t in device.tags),
        "vendor": device.vendor, "model": device.model, "serial": device.serial, "notes": device.notes,
    }


def _stored(device: Device) -> frozenset[str]:
    return frozenset(name for name, column in SECRET_COLUMNS.items() if getattr(device, column))


def _create(session: Any, actor: Any, payload: dict[str, Any]) -> Device:
    return devices.create_device(session, actor, DeviceCreate.model_validate(payload))


def _update(session: Any, actor: Any, device_id: int, payload: dict[str, Any]) -> Device:
    return devices.update_device(session, actor, device_id, DeviceUpdate.model_validate(payload))


PAGES = EntityPages(
    prefix="/devices",
    title_new=_("New device"),
    title_edit=_("Edit device"),
    title_delete=_("Delete device"),
    fields=_fields,
    get=devices.get_device,
    create=_create,
    update=_update,
    delete=devices.delete_device,
    values=_values,
    name=lambda d: d.name,
    stored_secrets=_stored,
)
add_form_routes(router, PAGES)


def _filters(ctx: PageContext) -> dict[str, Any]:
    return {
        "q": query(ctx, "q"),
        "site_id": int_or_none(query(ctx, "site_id")),
        "role": enum_or_none(DeviceRole, query(ctx, "role")),
        "platform": enum_or_none(Platform, query(ctx, "platform")),
        "status": enum_or_none(DeviceStatus, query(ctx, "status")),
        "tag": query(ctx, "tag"),
    }


@router.get("/devices")
def device_list(ctx: Page) -> Response:
    view = list_view(ctx, devices.SORTING)
    filters = _filters(ctx)
    result = devices.list_devices(ctx.db, ctx.signed_in, sort=view.request.sort, descending=view.request.descending,
                                  offset=view.request.offset, limit=view.request.size, **filters)
    return ctx.render("devices/list.html", title=ctx._("Devices"), rows=result.items, view=view,
                      pager=view.pager(result.total), filters=filters, roles=DEVICE_ROLES,
                      statuses=DEVICE_STATUS, platforms=PLATFORMS, site_choices=site_choices(ctx),
                      can_bulk=ctx.can(Permission.INVENTORY_WRITE))


@router.get("/devices.csv")
def device_export(ctx: Page) -> Response:
    """The filtered, sorted device list as CSV: what the page shows, never a secret."""
    view = list_view(ctx, devices.SORTING)
    tz = ctx.settings.timezone
    header = [ctx._("Name"), ctx._("Status"), ctx._("Site"), ctx._("Role"), ctx._("Platform"), ctx._("Address"),
              ctx._("Vendor"), ctx._("Model"), ctx._("Serial number"), ctx._("Tags"), ctx._("Last seen")]
    rows = ([d.name, ctx._(REACHABILITY.get(device_reachability(d).value, d.status)), d.site.name,
             ctx._(DEVICE_ROLES.get(d.role, d.role)), d.platform, d.mgmt_address, d.vendor, d.model, d.serial,
             ", ".join(t.name for t in d.tags), csv_time(d.last_seen_at, tz)]
            for d in devices.iter_devices(ctx.db, ctx.signed_in, sort=view.request.sort,
                                          descending=view.request.descending, **_filters(ctx)))
    return csv_response("perangkat.csv", header, rows)


@router.post("/devices/bulk", dependencies=[CsrfChecked])
def device_bulk(ctx: Page, form: FormDep) -> Response:
    """Tag or untag the ticked devices; the list comes back with its filters."""
    ids = selected_ids(form)
    action = form.get("action")
    tag = form.get("tag")
    back = back_to(form, "/devices")
    if not ids:
        ctx.flash(ctx._("Tick the devices first."), "error")
        return ctx.redirect(back)
    if action not in ("tag", "untag"):
        ctx.flash(ctx._("Choose what to do with the ticked devices."), "error")
        return ctx.redirect(back)
    try:
        changed = devices.tag_devices(ctx.db, ctx.signed_in, ids, tag if isinstance(tag, str) else "",
                                      remove=action == "untag")
    except ValidationFailed:
        ctx.db.rollback()
        ctx.flash(ctx._("A tag is 1 to 64 characters; at most 1000 devices at once."), "error")
        return ctx.redirect(back)
    ctx.flash(ctx._("%(n)s devices changed.", n=changed))
    return ctx.redirect(back)


@router.get("/devices/{device_id}")
def device_detail(device_id: int, ctx: Page) -> Response:
    device = devices.get_device(ctx.db, ctx.signed_in, device_id)
    rows = interfaces.list_interfaces(ctx.db, ctx.signed_in, device.id)
    return ctx.render("devices/detail.html", title=device.name, device=device, interfaces=rows,
                      uplinks=interfaces.uplink_interface_names(ctx.db, device.id), stored=_stored(device),
                      secret_labels=_secret_labels())


def _secret_labels() -> dict[str, str]:
    return {"snmp_community": _("SNMP community"), "snmp_v3_auth_key": _("SNMP v3 auth key"),
            "snmp_v3_priv_key": _("SNMP v3 privacy key"), "ssh_password": _("SSH password"),
            "radius_secret": _("RADIUS secret")}
