"""Uplink pages: ISP contracts with capacity and price in rupiah; list, detail and the shared forms."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from netmgr.models import Uplink
from netmgr.schemas.inventory import UplinkCreate, UplinkUpdate
from netmgr.services import devices, uplinks
from netmgr.web.context import Page, PageContext
from netmgr.web.forms import FieldSpec
from netmgr.web.labels import BILLING_MODELS, _
from netmgr.web.pages import Pager, page_router, query
from netmgr.web.pages.crud import EntityPages, add_form_routes

router = page_router()


def _device_choices(ctx: PageContext) -> tuple[tuple[str, str], ...]:
    rows = devices.list_devices(ctx.db, ctx.signed_in, limit=5000).items
    return tuple((str(d.id), d.name) for d in rows)


def _fields(ctx: PageContext, _creating: bool) -> list[FieldSpec]:
    return [
        FieldSpec("name", _("Name"), required=True, help=_("e.g. telkom-astinet-500")),
        FieldSpec("isp_name", _("ISP"), required=True, help=_("e.g. Telkom Astinet")),
        FieldSpec("device_id", _("Router"), kind="select", nullable=True, choices=_device_choices(ctx),
                  translate_choices=False),
        FieldSpec("interface_name", _("Interface"), help=_("e.g. ether1 (needs a router)")),
        FieldSpec("capacity_down_mbps", _("Download capacity (Mbps)"), kind="number", required=True),
        FieldSpec("capacity_up_mbps", _("Upload capacity (Mbps)"), kind="number", required=True),
        FieldSpec("monthly_price_idr", _("Monthly price (Rp, before tax)"), kind="number", required=True),
        FieldSpec("tax_percent", _("Tax (PPN, %)"), kind="decimal"),
        FieldSpec("billing_model", _("Billing model"), kind="select", choices=tuple(BILLING_MODELS.items())),
        FieldSpec("committed_mbps", _("Committed rate (Mbps)"), kind="number", nullable=True,
                  help=_("Needed for 95th-percentile billing")),
        FieldSpec("price_per_gb_idr", _("Price per GB (Rp)"), kind="number", nullable=True,
                  help=_("Needed for per-GB billing")),
        FieldSpec("contract_start", _("Contract start"), kind="date", nullable=True),
        FieldSpec("contract_end", _("Contract end"), kind="date", nullable=True),
        FieldSpec("sla_availability_percent", _("SLA availability (%)"), kind="decimal", nullable=True),
        FieldSpec("sla_max_latency_ms", _("SLA latency (ms, monthly average)"), kind="decimal", nullable=True),
        FieldSpec("sla_max_loss_percent", _("SLA packet loss (%, monthly average)"), kind="decimal", nullable=True),
        FieldSpec("sla_restitution_cap_percent", _("Restitution cap (% of the monthly price)"), kind="decimal",
                  nullable=True, help=_("Outage beyond the SLA is restituted pro rata, up to this share")),
        FieldSpec("probe_address", _("Probe address (far end to ping)"), nullable=True,
                  help=_("e.g. the ISP gateway; pinged every minute for availability, latency and loss")),
        FieldSpec("notes", _("Notes"), kind="textarea"),
    ]


def _s(value: object) -> str:
    return "" if value is None else str(value)


def _values(uplink: Uplink) -> dict[str, str]:
    return {
        "name": uplink.name, "isp_name": uplink.isp_name, "device_id": _s(uplink.device_id),
        "interface_name": uplink.interface_name, "capacity_down_mbps": _s(uplink.capacity_down_mbps),
        "capacity_up_mbps": _s(uplink.capacity_up_mbps), "monthly_price_idr": _s(uplink.monthly_price_idr),
        "tax_percent": _s(uplink.tax_percent), "billing_model": uplink.billing_model,
        "committed_mbps": _s(uplink.committed_mbps), "price_per_gb_idr": _s(uplink.price_per_gb_idr),
        "contract_start": _s(uplink.contract_start), "contract_end": _s(uplink.contract_end),
        "sla_availability_percent": _s(uplink.sla_availability_percent),
        "sla_max_latency_ms": _s(uplink.sla_max_latency_ms), "sla_max_loss_percent": _s(uplink.sla_max_loss_percent),
        "sla_restitution_cap_percent": _s(uplink.sla_restitution_cap_percent),
        "probe_address": _s(uplink.probe_address), "notes": uplink.notes,
    }


def _create(session: Any, actor: Any, payload: dict[str, Any]) -> Uplink:
    return uplinks.create_uplink(session, actor, UplinkCreate.model_validate(payload))


def _update(session: Any, actor: Any, uplink_id: int, payload: dict[str, Any]) -> Uplink:
    return uplinks.update_uplink(session, actor, uplink_id, UplinkUpdate.model_validate(payload))


PAGES = EntityPages(
    prefix="/uplinks",
    title_new=_("New uplink"),
    title_edit=_("Edit uplink"),
    title_delete=_("Delete uplink"),
    fields=_fields,
    get=uplinks.get_uplink,
    create=_create,
    update=_update,
    delete=uplinks.delete_uplink,
    values=_values,
    name=lambda u: u.name,
)
add_form_routes(router, PAGES)


@router.get("/uplinks")
def uplink_list(ctx: Page) -> Response:
    pager = Pager.build(query(ctx, "page"))
    result = uplinks.list_uplinks(ctx.db, ctx.signed_in, q=query(ctx, "q"), offset=pager.offset,
                                  limit=pager.limit)
    rows = [(u, uplinks.price_with_tax(u)) for u in result.items]
    return ctx.render("uplinks/list.html", title=ctx._("Uplinks"), rows=rows, pager=pager.with_total(result.total),
                      q=query(ctx, "q") or "", billing=BILLING_MODELS)


@router.get("/uplinks/{uplink_id}")
def uplink_detail(uplink_id: int, ctx: Page) -> Response:
    uplink = uplinks.get_uplink(ctx.db, ctx.signed_in, uplink_id)
    return ctx.render("uplinks/detail.html", title=uplink.name, uplink=uplink,
                      price_with_tax=uplinks.price_with_tax(uplink), billing=BILLING_MODELS)
