"""Agency (SOPD) pages: list with search, detail with its sites, and the shared create/edit/delete forms."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from netmgr.models import Agency
from netmgr.schemas.inventory import AgencyCreate, AgencyUpdate
from netmgr.services import agencies, sites
from netmgr.web.context import Page, PageContext
from netmgr.web.forms import FieldSpec
from netmgr.web.labels import _
from netmgr.web.pages import Pager, page_router, query
from netmgr.web.pages.crud import EntityPages, add_form_routes

router = page_router()


def _fields(_ctx: PageContext, _creating: bool) -> list[FieldSpec]:
    return [
        FieldSpec("code", _("Code"), required=True, help=_("Capitals, digits and dashes, e.g. DISKOMINFO")),
        FieldSpec("name", _("Name"), required=True),
        FieldSpec("contact_email", _("Contact e-mail"), kind="email", nullable=True),
        FieldSpec("notes", _("Notes"), kind="textarea"),
    ]


def _values(agency: Agency) -> dict[str, str]:
    return {"code": agency.code, "name": agency.name, "contact_email": agency.contact_email or "",
            "notes": agency.notes}


def _create(session: Any, actor: Any, payload: dict[str, Any]) -> Agency:
    return agencies.create_agency(session, actor, AgencyCreate.model_validate(payload))


def _update(session: Any, actor: Any, agency_id: int, payload: dict[str, Any]) -> Agency:
    return agencies.update_agency(session, actor, agency_id, AgencyUpdate.model_validate(payload))


PAGES = EntityPages(
    prefix="/agencies",
    title_new=_("New agency"),
    title_edit=_("Edit agency"),
    title_delete=_("Delete agency"),
    fields=_fields,
    get=agencies.get_agency,
    create=_create,
    update=_update,
    delete=agencies.delete_agency,
    values=_values,
    name=lambda a: a.name,
)
add_form_routes(router, PAGES)


@router.get("/agencies")
def agency_list(ctx: Page) -> Response:
    pager = Pager.build(query(ctx, "page"))
    result = agencies.list_agencies(ctx.db, ctx.signed_in, q=query(ctx, "q"), offset=pager.offset,
                                    limit=pager.limit)
    return ctx.render("agencies/list.html", title=ctx._("Agencies"), rows=result.items,
                      pager=pager.with_total(result.total), q=query(ctx, "q") or "")


@router.get("/agencies/{agency_id}")
def agency_detail(agency_id: int, ctx: Page) -> Response:
    agency = agencies.get_agency(ctx.db, ctx.signed_in, agency_id)
    agency_sites = sites.list_sites(ctx.db, ctx.signed_in, agency_id=agency.id, limit=500)
    return ctx.render("agencies/detail.html", title=agency.name, agency=agency, sites=agency_sites.items)
