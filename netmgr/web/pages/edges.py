"""Edge collector pages (under Pemantauan): list with each link's state, register one for a site, remove one.

Browser form → one ``netmgr.services.edges`` call → the page again. A new edge's token is shown on the answer
to the form only (never put in a redirect, a flash cookie or a log), with what to run on the edge box.
"""

from __future__ import annotations

from fastapi.responses import Response

from netmgr.errors import NetmgrError
from netmgr.security.permissions import Permission
from netmgr.services import edges, sites
from netmgr.web.context import CsrfChecked, FormDep, Page, PageContext
from netmgr.web.pages import page_router

router = page_router()
BASE = "/monitoring/edges"


def _page(ctx: PageContext, *, error: str = "", token: str = "", created: str = "", status_code: int = 200) -> Response:
    settings = ctx.settings
    rows = edges.links(ctx.db, link_down_after_s=settings.edge.link_down_after_s)
    with_edge = {row.site_id for row in rows}
    free_sites = [s for s in sites.list_sites(ctx.db, ctx.signed_in, limit=1000).items if s.id not in with_edge]
    return ctx.render("monitoring/edges.html", title=ctx._("Edge collectors"), rows=rows, free_sites=free_sites,
                      error=error, token=token, created=created, centre_url=settings.public_url,
                      link_down_after_s=settings.edge.link_down_after_s, status_code=status_code)


@router.get(BASE)
def edges_page(ctx: Page) -> Response:
    ctx.signed_in.require(Permission.INVENTORY_WRITE)
    return _page(ctx)


@router.post(BASE, dependencies=[CsrfChecked])
def register_edge(ctx: Page, form: FormDep) -> Response:
    ctx.signed_in.require(Permission.INVENTORY_WRITE)
    raw_site, raw_name = form.get("site_id"), form.get("name")
    name = raw_name.strip() if isinstance(raw_name, str) else ""
    try:
        site_id = int(raw_site) if isinstance(raw_site, str) and raw_site.isdigit() else 0
        edge, token = edges.register(ctx.db, ctx.signed_in, site_id=site_id, name=name)
        ctx.db.commit()
    except NetmgrError as exc:
        ctx.db.rollback()
        return _page(ctx, error=ctx._(exc.message), status_code=422)
    return _page(ctx, token=token, created=edge.name)


@router.post(BASE + "/{edge_id}/delete", dependencies=[CsrfChecked])
def remove_edge(edge_id: int, ctx: Page) -> Response:
    ctx.signed_in.require(Permission.INVENTORY_WRITE)
    edges.remove(ctx.db, ctx.signed_in, edge_id)
    ctx.flash(ctx._("Edge collector removed: the centre polls the site's devices itself again."))
    return ctx.redirect(BASE)
