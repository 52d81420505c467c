"""The AAA endpoints FreeRADIUS's rest module calls: ``/api/v1/aaa/{authorize,authenticate,post-auth,accounting}``.

Data flows rlm_rest JSON → ``captive_portal.aaa`` (validation, decisions) → ``captive_portal.fastpath``'s
worker (the database work of many requests in one transaction) → JSON attributes (200), a reject with
Reply-Message (401) or nothing (204). Only FreeRADIUS may call them: the client address must be in
``NETMGR_RADIUS__AAA_ALLOWED_NETWORKS`` (loopback by default) and it must present the shared AAA token,
as the HTTP Basic password (what the generated rest config sends) or in ``X-Netmgr-AAA-Token``.

At thousands of requests a second, dependency injection, body models, routing and the app's middleware
cost more than the answer itself, so ``AaaFastLane`` (ASGI middleware, added by ``netmgr.app``) serves
these paths directly; the same handlers are also plain Starlette routes for an app without it.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.background import BackgroundTask
from starlette.types import ASGIApp, Receive, Scope, Send

from captive_portal import aaa, coa, sessions
from captive_portal.fastpath import AaaWorker, AccountingSettings
from captive_portal.policies import RefusalCode
from captive_portal.policies import message as refusal_message
from netmgr.api.deps import get_state
from netmgr.db import session_scope
from netmgr.errors import AuthenticationFailed, NetmgrError, PermissionDenied, ValidationFailed
from netmgr.metrics import MetricsStore, make_metrics_store
from netmgr.settings import Settings
from netmgr.state import AppState

log = logging.getLogger(__name__)

PREFIX = "/api/v1/aaa"
TOKEN_HEADER = "X-Netmgr-AAA-Token"  # noqa: S105 - a header name, not a secret
_runtime_lock = threading.Lock()


class AaaGate:
    """Who may call the AAA endpoints: the allowed networks and the token, parsed once per app."""

    def __init__(self, settings: Settings) -> None:
        radius = settings.radius
        self.networks = [ipaddress.ip_network(n, strict=False) for n in radius.aaa_allowed_networks]
        self.token = radius.aaa_token.get_secret_value().encode()
        self._allowed_hosts: dict[str, bool] = {}

    def _host_allowed(self, host: str) -> bool:
        allowed = self._allowed_hosts.get(host)
        if allowed is None:
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                allowed = False
            else:
                allowed = any(address in net for net in self.networks)
            if len(self._allowed_hosts) < 4096:
                self._allowed_hosts[host] = allowed
        return allowed

    def check(self, request: Request) -> None:
        """Raise PermissionDenied for callers outside the networks, AuthenticationFailed without the token."""
        host = request.client.host if request.client else ""
        if not self._host_allowed(host):
            raise PermissionDenied("the AAA endpoints answer only FreeRADIUS")
        if not self.token:
            raise PermissionDenied("the AAA endpoints are off: set NETMGR_RADIUS__AAA_TOKEN")
        presented = request.headers.get(TOKEN_HEADER, "")
        header = request.headers.get("authorization", "")
        if not presented and header[:6].lower() == "basic ":
            try:
                presented = base64.b64decode(header[6:].strip()).decode().partition(":")[2]
            except (binascii.Error, UnicodeDecodeError):
                presented = ""
        if not secrets.compare_digest(presented.encode(), self.token):
            raise AuthenticationFailed("wrong or missing AAA token")


@dataclass
class AaaRuntime:
    """What the endpoints hold per app: the gate, the decision settings, the worker and the metrics store."""

    state: AppState
    gate: AaaGate
    config: aaa.AaaConfig
    store: MetricsStore
    worker: AaaWorker
    nas_cache: sessions.NasCache


def _runtime(request: Request) -> AaaRuntime:
    """The app's runtime, built on first use (tests may set ``app.state.aaa_metrics`` beforehand)."""
    runtime: AaaRuntime | None = getattr(request.app.state, "aaa_runtime", None)
    if runtime is not None:
        return runtime
    with _runtime_lock:
        runtime = getattr(request.app.state, "aaa_runtime", None)
        if runtime is None:
            state = get_state(request)
            store = get_metrics_store(request)
            config = aaa.AaaConfig.from_settings(state.settings)
            cache = sessions.NasCache()
            worker = AaaWorker(state.session_factory, store=store, nas_cache=cache, settings=AccountingSettings(
                timezone=config.timezone, default_interim_s=config.interim_interval_s,
                default_coa_port=config.coa_port))
            runtime = AaaRuntime(state=state, gate=AaaGate(state.settings), config=config, store=store,
                                 worker=worker, nas_cache=cache)
            request.app.state.aaa_runtime = runtime
    return runtime


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    runtime: AaaRuntime | None = getattr(app.state, "aaa_runtime", None)
    if runtime is not None:
        runtime.worker.stop()
    store: MetricsStore | None = getattr(app.state, "aaa_metrics", None)
    if store is not None:
        store.close()


def require_aaa_client(request: Request) -> None:
    """Refuse callers outside the allowed networks or without the shared AAA token."""
    _runtime(request).gate.check(request)


def get_metrics_store(request: Request) -> MetricsStore:
    """One metrics store per app, built on first use (tests may set ``app.state.aaa_metrics`` beforehand)."""
    store: MetricsStore | None = getattr(request.app.state, "aaa_metrics", None)
    if store is None:
        store = make_metrics_store(get_state(request).settings)
        request.app.state.aaa_metrics = store
    return store


def _json(body: dict[str, Any], status_code: int) -> Response:
    return Response(json.dumps(body, separators=(",", ":")).encode(), status_code=status_code,
                    media_type="application/json")


def _answer(decision: aaa.Decision) -> Response:
    # rlm_rest: 2xx with attributes → ok/updated; 401 → reject, and its body still sets Reply-Message.
    return _json(decision.attributes, 200 if decision.accept else 401)


def _bad_request(runtime: AaaRuntime, exc: ValidationFailed) -> Response:
    log.info("malformed Access-Request refused: %s", exc.message)
    return _json({"reply:Reply-Message": refusal_message(RefusalCode.BAD_REQUEST, runtime.config.language)}, 401)


def _now() -> datetime:
    return datetime.now(UTC)


async def _begin(request: Request) -> tuple[AaaRuntime, dict[str, Any]]:
    """Check the caller, then read rlm_rest's JSON object."""
    runtime = _runtime(request)
    runtime.gate.check(request)
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError as exc:
        raise ValidationFailed("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object of RADIUS attributes")
    return runtime, body


async def authorize(request: Request) -> Response:
    runtime, body = await _begin(request)
    try:
        req = aaa.RadiusRequest.from_rest(body)
    except ValidationFailed as exc:
        return _bad_request(runtime, exc)
    now, cfg, cache = _now(), runtime.config, runtime.nas_cache
    return _answer(await runtime.worker.run(lambda s: aaa.authorize(s, cfg, req, now=now, nas_cache=cache)))


async def authenticate(request: Request) -> Response:
    runtime, body = await _begin(request)
    try:
        req = aaa.RadiusRequest.from_rest(body)
    except ValidationFailed as exc:
        return _bad_request(runtime, exc)
    now, cfg, cache = _now(), runtime.config, runtime.nas_cache
    return _answer(await runtime.worker.run(lambda s: aaa.authenticate(s, cfg, req, now=now, nas_cache=cache)))


async def post_auth(request: Request) -> Response:
    """``result`` is ``Reject`` when FreeRADIUS runs Post-Auth-Type REJECT; ``message`` its Reply-Message."""
    runtime, body = await _begin(request)
    try:
        req = aaa.RadiusRequest.from_rest(body)
    except ValidationFailed:
        return Response(status_code=204)  # refused already in authorize; nothing to record
    rejected = request.query_params.get("result", "").lower() == "reject"
    message = request.query_params.get("message", "")
    now, cfg, cache = _now(), runtime.config, runtime.nas_cache
    await runtime.worker.run(lambda s: aaa.post_auth(s, cfg, req, now=now, rejected=rejected,
                                                      reply_message=message, nas_cache=cache))
    return Response(status_code=204)


async def accounting(request: Request) -> Response:
    runtime, body = await _begin(request)
    parsed = aaa.parse_accounting_request(body, now=_now())
    if parsed is None:
        return Response(status_code=204)
    outcome = await runtime.worker.accounting(parsed)
    if outcome.disconnect is not None:
        return Response(status_code=204, background=BackgroundTask(send_disconnect, runtime.state,
                                                                   outcome.disconnect))
    return Response(status_code=204)


_HANDLERS = {"/authorize": authorize, "/authenticate": authenticate, "/post-auth": post_auth,
             "/accounting": accounting}


class AaaFastLane:
    """ASGI middleware that answers ``POST /api/v1/aaa/*`` itself, ahead of the app's middleware and routing.

    Matching a path against every route of the app and passing through the session and body-limit
    middleware cost more than the AAA answer; FreeRADIUS needs none of it. netmgr's errors are mapped as
    the app's handlers map them; anything else reaches the app's server-error middleware.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = None
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].startswith(PREFIX):
            handler = _HANDLERS.get(scope["path"][len(PREFIX):])
        if handler is None:
            await self.app(scope, receive, send)
            return
        try:
            response = await handler(Request(scope, receive))
        except NetmgrError as exc:
            headers = {"WWW-Authenticate": "Basic"} if exc.http_status == 401 else None
            response = _json({"detail": exc.message, "error": type(exc).__name__}, exc.http_status)
            if headers:
                response.headers.update(headers)
        await response(scope, receive, send)


router = APIRouter(tags=["aaa"], lifespan=_lifespan)
router.add_route(f"{PREFIX}/authorize", authorize, methods=["POST"], include_in_schema=False)
router.add_route(f"{PREFIX}/authenticate", authenticate, methods=["POST"], include_in_schema=False)
router.add_route(f"{PREFIX}/post-auth", post_auth, methods=["POST"], include_in_schema=False)
router.add_route(f"{PREFIX}/accounting", accounting, methods=["POST"], include_in_schema=False)


def send_disconnect(state: AppState, order: sessions.DisconnectOrder) -> coa.DisconnectResult:
    """Send one Disconnect-Request and store the NAS's answer (runs after the accounting response went out)."""
    radius = state.settings.radius
    result = coa.disconnect(order, timeout_s=radius.coa_timeout_s, retries=radius.coa_retries)
    with session_scope(state.session_factory) as session:
        sessions.record_disconnect_result(session, order.session_id, acked=result.acked, detail=result.detail)
    return result
