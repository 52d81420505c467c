"""Builds the ASGI application: API, admin web UI and (later) the captive portal, on one app."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

from netmgr import __version__, selfmetrics
from netmgr.api.docs import install_docs
from netmgr.api.errors import install_error_handlers
from netmgr.api.metrics import router as metrics_router
from netmgr.middleware import BodySizeLimit, SecurityHeaders
from netmgr.services import health
from netmgr.settings import Settings
from netmgr.state import AppState

log = logging.getLogger(__name__)

# Router modules under netmgr.api.routes, each exposing ``router``; mounted under /api/v1.
API_ROUTE_MODULES = [
    "auth",
    "agencies",
    "sites",
    "devices",
    "uplinks",
    "users",
    "audit",
    "inventory_io",
    "monitoring",
    "reports",
    "plans",
    "alert_transports",
]

# Routers of the capability packages as "module:attribute", included when their module exists. They carry
# their own prefixes (e.g. /api/v1/aaa for FreeRADIUS, /portal for citizens); the core never imports them.
CAPABILITY_ROUTERS = [
    "captive_portal.api:router",
    "captive_portal.pages:router",
    "captive_portal.admin_pages:router",
    "captive_portal.admin_api:router",
    "captive_portal.sms_pages:router",
    "provisioning.api:router",
    "provisioning.pages:router",
]

# ASGI middleware of the capability packages as "module:attribute", added when their module exists; e.g. the
# portal's fast lane serves the captive portal before the app's routing.
CAPABILITY_MIDDLEWARE = [
    "captive_portal.pages:PortalFastLane",
]

# Service functions of the capability packages as name → "module:attribute", found when their module exists and
# kept in ``app.state.capability_services``. Transports inject them into the core's services through a seam
# (e.g. ``netmgr.services.plans.JobRequester``), so a core service uses a capability without importing it.
CAPABILITY_SERVICES = {
    "request_provision_job": "provisioning.jobs:request_job",
    "send_alert_test": "collectors.notify.transports:send_through",
}

# ASGI middleware that wraps the whole app, outside even FastAPI's error, telemetry and body-limit layers: only
# for paths that must be as cheap as possible and handle their own errors (the AAA fast lane, which answers
# FreeRADIUS thousands of times a second).
OUTER_MIDDLEWARE = [
    "captive_portal.api:AaaFastLane",
]


class NetmgrAPI(FastAPI):
    """FastAPI with ``outer_middleware``: ASGI middleware around the whole stack ``build_middleware_stack`` builds."""

    outer_middleware: list[Any]

    def build_middleware_stack(self) -> ASGIApp:
        app: ASGIApp = super().build_middleware_stack()
        for middleware in reversed(getattr(self, "outer_middleware", [])):
            app = middleware(app)
        return app


def _capabilities(specs: list[str]) -> list[Any]:
    """The ``"module:attribute"`` objects of the capability packages that exist (routers, middleware)."""
    found: list[Any] = []
    for spec in specs:
        module_name, _, attribute = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # capability not built yet
            raise
        found.append(getattr(module, attribute))
    return found


def _api_router() -> APIRouter:
    api = APIRouter(prefix="/api/v1")
    for name in API_ROUTE_MODULES:
        try:
            module = importlib.import_module(f"netmgr.api.routes.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"netmgr.api.routes.{name}":
                continue  # area not built yet
            raise
        api.include_router(module.router)
    return api


def create_app(settings: Settings, state: AppState | None = None) -> FastAPI:
    """The netmgr web application for ``settings`` (state may be injected by tests)."""
    state = state or AppState.build(settings)
    selfmetrics.configure(settings)  # before any request records a figure

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.engine.dispose()

    app = NetmgrAPI(
        title="netmgr",
        version=__version__,
        docs_url=None,  # served from the package by install_docs, not from a CDN
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.netmgr = state
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie="netmgr_session",
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    install_error_handlers(app)
    install_docs(app, openapi_url="/api/openapi.json")
    app.include_router(_api_router())
    app.include_router(metrics_router)
    for capability_router in _capabilities(CAPABILITY_ROUTERS):
        app.include_router(capability_router)
    for middleware in _capabilities(CAPABILITY_MIDDLEWARE):
        app.add_middleware(middleware)
    # Added last, so they wrap everything above (the portal's fast lane included): headers on every answer, and
    # no body over the cap is read, signed in or not.
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodySizeLimit, limits=settings.limits)
    app.outer_middleware = _capabilities(OUTER_MIDDLEWARE)
    app.state.capability_services = {name: found for name, spec in CAPABILITY_SERVICES.items()
                                     for found in _capabilities([spec])}

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        """The database, the broker and InfluxDB, each checked (503 when a required one fails)."""
        result = health.readiness(settings, state.engine)
        return JSONResponse(result.as_dict() | {"version": __version__}, status_code=200 if result.ready else 503)

    try:
        web = importlib.import_module("netmgr.web")
    except ModuleNotFoundError as exc:
        if exc.name != "netmgr.web":
            raise
    else:
        web.install(app, settings)
    return app
