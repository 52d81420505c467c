"""Site pages: list with search and filters, detail with its devices, and the shared forms."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from netmgr.models import Site
from netmgr.models.enums import SiteKind
from netmgr.schemas.inventory import SiteCreate, SiteUpdate
from netmgr.services import agencies, devices, sites
from netmgr.web.context import Page, PageContext
from netmgr.web.forms import FieldSpec
from netmgr.web.labels import SITE_KINDS, _
from netmgr.web.lists import csv_response, list_view
from netmgr.web.pages import enum_or_none, int_or_none, page_router, query
from netmgr.web.pages.crud import EntityPages, add_form_routes

router = page_router()


def agency_choices(ctx: PageContext) -> tuple[tuple[str, str], ...]:
    rows = agencies.list_agencies(ctx.db, ctx.signed_in, limit=1000).items
    return tuple((str(a.id), f"{a.name} ({a.code})") for a in rows)


def _fields(ctx: PageContext, _creating: bool) -> list[FieldSpec]:
    return [
        FieldSpec("name", _("Name"), required=True),
        FieldSpec("kind", _("Kind"), kind="select", required=True, choices=tuple(SITE_KINDS.items())),
        FieldSpec("agency_id", _("Agency"), kind="select", nullable=True, choices=agency_choices(ctx),
                  translate_choices=False),
        FieldSpec("address", _("Address"), kind="textarea"),
        FieldSpec("latitude", _("Latitude"), kind="decimal", nullable=True, help=_("e.g. -2.5406")),
        FieldSpec("longitude", _("Longitude"), kind="decimal", nullable=True, help=_("e.g. 112.9498")),
        FieldSpec("notes", _("Notes"), kind="textarea"),
    ]


def _values(site: Site) -> dict[str, str]:
    return {"name": site.name, "kind": site.kind, "agency_id": str(site.agency_id or ""), "address": site.address,
            "latitude": "" if site.latitude is None else str(site.latitude),
            "longitude": "" if site.longitude is None else str(site.longitude), "notes": site.notes}


def _create(session: Any, actor: Any, payload: dict[str, Any]) -> Site:
    return sites.create_site(session, actor, SiteCreate.model_validate(payload))


def _update(session: Any, actor: Any, site_id: int, payload: dict[str, Any]) -> Site:
    return sites.update_site(session, actor, site_id, SiteUpdate.model_validate(payload))


PAGES = EntityPages(
    prefix="/sites",
    title_new=_("New site"),
    title_edit=_("Edit site"),
    title_delete=_("Delete site"),
    fields=_fields,
    get=sites.get_site,
    create=_create,
    update=_update,
    delete=sites.delete_site,
    values=_values,
    name=lambda s: s.name,
)
add_form_routes(router, PAGES)


def _filters(ctx: PageContext) -> dict[str, Any]:
    return {"q": query(ctx, "q"), "kind": enum_or_none(SiteKind, query(ctx, "kind")),
            "agency_id": int_or_none(query(ctx, "agency_id"))}


@router.get("/sites")
def site_list(ctx: Page) -> Response:
    view = list_view(ctx, sites.SORTING)
    filters = _filters(ctx)
    result = sites.list_sites(ctx.db, ctx.signed_in, sort=view.request.sort, descending=view.request.descending,
                              offset=view.request.offset, limit=view.request.size, **filters)
    counts = sites.site_status_counts(ctx.db, [s.id for s in result.items])
    return ctx.render("sites/list.html", title=ctx._("Sites"), rows=result.items, counts=counts, view=view,
                      pager=view.pager(result.total), filters=filters, kinds=SITE_KINDS,
                      agency_choices=agency_choices(ctx))


@router.get("/sites.csv")
def site_export(ctx: Page) -> Response:
    """The filtered, sorted site list as CSV."""
    view = list_view(ctx, sites.SORTING)
    header = [ctx._("Name"), ctx._("Kind"), ctx._("Agency"), ctx._("Address"), ctx._("Latitude"), ctx._("Longitude")]
    rows = ([s.name, ctx._(SITE_KINDS.get(s.kind, s.kind)), s.agency.name if s.agency else "", s.address,
             s.latitude, s.longitude]
            for s in sites.iter_sites(ctx.db, ctx.signed_in, sort=view.request.sort,
                                      descending=view.request.descending, **_filters(ctx)))
    return csv_response("lokasi.csv", header, rows)


@router.get("/sites/{site_id}")
def site_detail(site_id: int, ctx: Page) -> Response:
    site = sites.get_site(ctx.db, ctx.signed_in, site_id)
    site_devices = devices.list_devices(ctx.db, ctx.signed_in, site_id=site.id, limit=500)
    return ctx.render("sites/detail.html", title=site.name, site=site, devices=site_devices.items)
