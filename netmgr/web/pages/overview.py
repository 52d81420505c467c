"""The overview page: inventory counts, device status per site, and the devices that are down."""

from __future__ import annotations

from fastapi.responses import Response

from netmgr.security.permissions import Permission
from netmgr.services import overview
from netmgr.web.context import Page
from netmgr.web.labels import DEVICE_STATUS, SITE_KINDS
from netmgr.web.pages import page_router

router = page_router()


@router.get("/")
def overview_page(ctx: Page) -> Response:
    if not ctx.can(Permission.INVENTORY_READ) and ctx.can(Permission.LEADERSHIP_READ):
        return ctx.redirect("/leadership")  # the Bupati's office has one page, and lands on it after sign-in
    data = overview.network_overview(ctx.db, ctx.signed_in)
    return ctx.render("overview.html", title=ctx._("Overview"), data=data, statuses=DEVICE_STATUS,
                      kinds=SITE_KINDS)
