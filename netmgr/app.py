"""Builds the ASGI application: the core's API and admin web UI, plus the routers and lanes of the capabilities
the entry point passes in (``netmgr.entrypoints.capabilities``); this module names no capability."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp

from netmgr import __version__, selfmetrics, web
from netmgr.api.docs import install_docs
from netmgr.api.errors import install_error_handlers
from netmgr.api.metrics import router as metrics_router
from netmgr.api.routes import (
    agencies,
    alert_transports,
    audit,
    auth,
    devices,
    inventory_io,
    monitoring,
    plans,
    reports,
    sites,
    uplinks,
    users,
)
from netmgr.capabilities import Manifest, NetmgrApp
from netmgr.middleware import BodySizeLimit, SecurityHeaders
from netmgr.services import health
from netmgr.settings import Settings
from netmgr.state import AppState

log = logging.getLogger(__name__)

API_ROUTERS = (auth.router, agencies.router, sites.router, devices.router, uplinks.router, users.router,
               audit.router, inventory_io.router, monitoring.router, reports.router, plans.router,
               alert_transports.router)
"""The core's API routers, mounted under /api/v1."""


def _api_router() -> APIRouter:
    api = APIRouter(prefix="/api/v1")
    for router in API_ROUTERS:
        api.include_router(router)
    return api


def edge_middleware(app: ASGIApp, settings: Settings) -> ASGIApp:
    """``app`` behind the core's edge: no body over the cap is read, and headers go on every answer.

    ``build_app`` adds the same two, in the same order, to the core app's own middleware stack.
    """
    return BodySizeLimit(SecurityHeaders(app), limits=settings.limits)


def build_app(settings: Settings, state: AppState | None = None, *,
              capabilities: Sequence[Manifest] = ()) -> NetmgrApp:
    """The netmgr web application for ``settings`` with the routers, lanes and services of ``capabilities``
    (the entry points pass the installed manifests; tests may inject ``state``)."""
    state = state or AppState.build(settings)
    selfmetrics.configure(settings)  # before any request records a figure

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        state.engine.dispose()

    app = FastAPI(
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
    parts = [manifest.web() for manifest in capabilities if manifest.web is not None]
    for part in parts:
        for router in part.routers:
            app.include_router(router)
    # Added last, so they wrap everything above: headers on every answer, and no body over the cap is read, signed
    # in or not (``edge_middleware`` puts the same two around the capabilities' lanes).
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodySizeLimit, limits=settings.limits)
    app.state.capability_services = {name: service for part in parts for name, service in part.services.items()}

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        """The database, the broker and InfluxDB, each checked (503 when a required one fails)."""
        result = health.readiness(settings, state.engine)
        return JSONResponse(result.as_dict() | {"version": __version__}, status_code=200 if result.ready else 503)

    web.install(app, settings)
    mounts = [mount for part in parts for mount in part.asgi_mounts]
    return NetmgrApp(app, mounts, wrap=lambda lane: edge_middleware(lane, settings))
