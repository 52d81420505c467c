"""Wiring by manifest: the core app alone serves no capability, lanes mounted by path come before it, and a
capability whose module is missing stops start-up instead of being skipped."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from netmgr.app import build_app
from netmgr.capabilities import AsgiMount, Manifest, WebParts
from netmgr.entrypoints.capabilities import MANIFESTS, create_app
from tests.conftest import make_settings


class EchoLane:
    """Answers ``/echo/hello`` itself (with the app it was handed in ``scope``), hands the rest to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] != "/echo/hello":
            await self.app(scope, receive, send)
            return
        body = f"lane, core has state: {hasattr(scope['app'].state, 'netmgr')}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body})


def _echo(*, bare: bool) -> Manifest:
    return Manifest(name="echo", web=lambda: WebParts(asgi_mounts=(AsgiMount(("/echo",), EchoLane, bare=bare),)))


def test_the_core_app_alone_serves_no_capability(tmp_path: Path) -> None:
    client = TestClient(build_app(make_settings(tmp_path / "data")))
    assert client.get("/healthz").status_code == 200
    assert client.post("/api/v1/aaa/authorize", json={}).status_code == 404
    assert client.get("/portal/any-hotspot/").status_code == 404
    assert client.get("/api/v1/provisioning/jobs").status_code == 404
    assert client.get("/generate_204").status_code == 404


def test_every_capabilitys_routes_and_lanes_are_served_by_the_entry_points_app(tmp_path: Path,
                                                                              sqlite_template: Path) -> None:
    assert [m.name for m in MANIFESTS] == ["netmgr", "collectors", "provisioning", "captive_portal"]
    shutil.copy(sqlite_template, tmp_path / "netmgr.sqlite3")
    app = create_app(make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'netmgr.sqlite3'}"))
    assert "request_provision_job" in app.state.capability_services
    client = TestClient(app)
    assert client.get("/api/v1/provisioning/jobs").status_code == 401  # provisioning's router: sign in first
    assert client.get("/generate_204").status_code != 404  # the portal's lane answers Android's probe
    # The AAA lane answers FreeRADIUS itself: this client is neither allowed nor has the token.
    answer = client.post("/api/v1/aaa/authorize", json={})
    assert answer.status_code in (401, 403) and answer.json()["error"] in ("AuthenticationFailed", "PermissionDenied")


@pytest.mark.parametrize("bare", [True, False])
def test_a_mounted_lane_answers_its_paths_before_the_core_and_hands_on_the_rest(tmp_path: Path, bare: bool) -> None:
    client = TestClient(build_app(make_settings(tmp_path / "data"), capabilities=[_echo(bare=bare)]))
    answer = client.get("/echo/hello")
    assert answer.text == "lane, core has state: True"
    # A bare lane gets no middleware at all; any other gets the core's security headers, as the core's routes do.
    assert ("x-content-type-options" in answer.headers) is not bare
    assert client.get("/echo/other").status_code == 404  # handed to the core app, which has no such route
    assert client.get("/healthz").json()["status"] == "ok"


def test_a_capability_whose_module_is_missing_stops_start_up(tmp_path: Path) -> None:
    def web() -> WebParts:
        from captive_portal import portl  # type: ignore[attr-defined]  # misspelled on purpose

        return WebParts(routers=(portl.router,))

    with pytest.raises(ImportError, match="portl"):
        build_app(make_settings(tmp_path / "data"), capabilities=[Manifest(name="captive_portal", web=web)])
