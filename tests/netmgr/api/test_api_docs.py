"""/api/docs works on a server without internet: Swagger UI's files come from netmgr itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from netmgr.entrypoints.capabilities import create_app
from netmgr.state import AppState
from tests.conftest import make_settings
from tests.servers.app import CHROMIUM, CHROMIUM_ARGS, migrated_sqlite_url, need_chromium, serve_app


@pytest.fixture
def docs_server(tmp_path: Path) -> Iterator[str]:
    settings = make_settings(tmp_path / "data", migrated_sqlite_url(tmp_path))
    state = AppState.build(settings)
    try:
        with serve_app(create_app(settings, state=state)) as base:
            yield base
    finally:
        state.engine.dispose()


def test_the_docs_page_names_no_outside_url(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", migrated_sqlite_url(tmp_path))
    state = AppState.build(settings)
    try:
        with TestClient(create_app(settings, state=state)) as client:
            page = client.get("/api/docs")
            assert page.status_code == 200
            assert "http://" not in page.text and "https://" not in page.text and "//cdn" not in page.text
            script = client.get("/api/docs/assets/swagger-ui-bundle.js")
            assert script.status_code == 200 and "SwaggerUIBundle" in script.text
            assert client.get("/api/docs/assets/swagger-ui.css").status_code == 200
    finally:
        state.engine.dispose()


@pytest.mark.browser
def test_the_docs_render_every_route_in_chromium_with_the_internet_cut_off(docs_server: str) -> None:
    need_chromium()
    from playwright.sync_api import Route, expect, sync_playwright

    outside: list[str] = []

    def only_netmgr(route: Route) -> None:
        if route.request.url.startswith(docs_server):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route("**/*", only_netmgr)
            page.goto(f"{docs_server}/api/docs")
            expect(page.locator(".opblock").first).to_be_visible(timeout=15_000)
            assert page.locator(".opblock").count() > 50
            expect(page.locator(".swagger-ui .info .title")).to_contain_text("netmgr")
        finally:
            browser.close()
    assert outside == []
