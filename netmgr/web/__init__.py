"""The admin web UI: server-rendered Jinja2 pages (htmx where it helps), Bahasa Indonesia by default.

Browser → page handler (``netmgr.web.pages``) → one service call → template. ``install`` adds the pages,
the vendored static files (no CDN: nothing leaves the host) and the navigation to the app.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from netmgr.settings import Settings
from netmgr.web import nav
from netmgr.web.pages import agencies, audit, devices, imports, login, monitoring, overview, sites, uplinks, users
from netmgr.web.pages import alert_transports as transport_pages
from netmgr.web.pages import edges as edge_pages
from netmgr.web.pages import leadership as leadership_pages
from netmgr.web.pages import plans as plan_pages
from netmgr.web.pages import reports as report_pages
from netmgr.web.rendering import make_environment

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static/web"


def install(app: FastAPI, settings: Settings) -> None:
    """Mount the admin UI on ``app`` (called by ``netmgr.app.build_app``)."""
    nav.ensure_core_items()
    monitoring.ensure_nav()
    report_pages.ensure_nav()
    plan_pages.ensure_nav()
    leadership_pages.ensure_nav()
    app.state.netmgr_web_env = make_environment(settings.timezone)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="web-static")
    for module in (login, overview, agencies, sites, devices, uplinks, imports, audit, users, monitoring,
                   transport_pages, edge_pages):
        app.include_router(module.router)
    for pages in (report_pages, plan_pages, leadership_pages):
        app.include_router(pages.router)
