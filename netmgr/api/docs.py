"""``/api/docs``: the API's Swagger UI, with its script and style served by netmgr itself.

FastAPI's default page loads Swagger UI from a CDN and is blank on a server without internet (common in a
regency's server room). The files come from the ``fastapi-offline`` package (Swagger UI 5, which reads the
OpenAPI 3.1 that FastAPI writes).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

DOCS_URL = "/api/docs"
ASSETS_URL = "/api/docs/assets"


def _assets_dir() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def install_docs(app: FastAPI, *, openapi_url: str) -> None:
    """Serve Swagger UI at ``/api/docs`` from files in the installed package (no outside URL)."""
    app.mount(ASSETS_URL, StaticFiles(directory=_assets_dir()), name="api-docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
        )
