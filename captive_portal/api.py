"""The AAA endpoints FreeRADIUS's rest module calls: ``/api/v1/aaa/{authorize,authenticate,post-auth,accounting}``.

Data flows rlm_rest JSON → ``captive_portal.aaa`` (validation, decisions) → ``captive_portal.fastpath``'s
worker (the database work of many requests in one transaction) → JSON attributes (200), a reject with
Reply-Message (401) or nothing (204). Only FreeRADIUS may call them: the client address must be in
``NETMGR_RADIUS__AAA_ALLOWED_NETWORKS`` (loopback by default) and it must present the shared AAA token,
as the HTTP Basic password (what the generated rest config sends) or in ``X-Netmgr-AAA-Token``.

At thousands of requests a second, dependency injection, body models, routing, request objects and the
app's middleware (FastAPI's error, telemetry and body-limit layers included) cost more than the answer
itself, so ``AaaFastLane`` — raw ASGI, which ``captive_portal.manifest`` mounts by path ahead of the whole app — serves
these paths.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from captive_portal import aaa, coa, sessions
from captive_portal.accounting import AccountingSettings
from captive_portal.decisions import RefusalReason
from captive_portal.decisions import message as refusal_message
from captive_portal.fastpath import AaaWorker
from netmgr import selfmetrics
from netmgr.errors import AuthenticationFailed, NetmgrError, PermissionDenied, ValidationFailed
from netmgr.metrics import MetricsStore, make_metrics_store
from netmgr.settings import Settings
from netmgr.state import AppState

log = logging.getLogger(__name__)

PREFIX = "/api/v1/aaa"
MAX_BODY_BYTES = 64 * 1024
TOKEN_HEADER = "X-Netmgr-AAA-Token"  # noqa: S105 - a header name, not a secret
_TOKEN_KEY = TOKEN_HEADER.lower().encode()
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

    def check(self, scope: Scope) -> None:
        """Raise PermissionDenied for callers outside the networks, AuthenticationFailed without the token."""
        client = scope.get("client")
        if not self._host_allowed(client[0] if client else ""):
            raise PermissionDenied("the AAA endpoints answer only FreeRADIUS")
        if not self.token:
            raise PermissionDenied("the AAA endpoints are off: set NETMGR_RADIUS__AAA_TOKEN")
        presented, authorization = b"", b""
        for key, value in scope["headers"]:
            if key == b"authorization":
                authorization = value
            elif key == _TOKEN_KEY:
                presented = value
        if not presented and authorization[:6].lower() == b"basic ":
            try:
                presented = base64.b64decode(authorization[6:].strip()).partition(b":")[2]
            except (binascii.Error, ValueError):
                presented = b""
        if not secrets.compare_digest(presented, self.token):
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


def _runtime(app: Any) -> AaaRuntime:
    """The app's runtime, built on first use (tests may set ``app.state.aaa_metrics`` beforehand)."""
    runtime: AaaRuntime | None = getattr(app.state, "aaa_runtime", None)
    if runtime is not None:
        return runtime
    with _runtime_lock:
        runtime = getattr(app.state, "aaa_runtime", None)
        if runtime is None:
            state: AppState = app.state.netmgr
            store = _metrics_store(app, state)
            config = aaa.AaaConfig.from_settings(state.settings)
            cache = sessions.NasCache()
            worker = AaaWorker(state.session_factory, store=store, nas_cache=cache, settings=AccountingSettings(
                timezone=config.timezone, default_interim_s=config.interim_interval_s,
                default_coa_port=config.coa_port))
            runtime = AaaRuntime(state=state, gate=AaaGate(state.settings), config=config, store=store,
                                 worker=worker, nas_cache=cache)
            app.state.aaa_runtime = runtime
    return runtime


def _metrics_store(app: Any, state: AppState) -> MetricsStore:
    """One metrics store per app (tests may set ``app.state.aaa_metrics`` beforehand)."""
    store: MetricsStore | None = getattr(app.state, "aaa_metrics", None)
    if store is None:
        store = make_metrics_store(state.settings)
        app.state.aaa_metrics = store
    return store


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    runtime: AaaRuntime | None = getattr(app.state, "aaa_runtime", None)
    if runtime is not None:
        runtime.worker.stop()
    store: MetricsStore | None = getattr(app.state, "aaa_metrics", None)
    if store is not None:
        store.close()


@dataclass(frozen=True)
class Reply:
    """An answer to rlm_rest: status, JSON attributes (None: no body), and work to run once it went out."""

    status: int
    attributes: dict[str, Any] | None = None
    after: Callable[[], object] | None = None


def _answer(decision: aaa.Decision) -> Reply:
    # rlm_rest: 2xx with attributes → ok/updated; 401 → reject, and its body still sets Reply-Message.
    return Reply(200 if decision.accept else 401, decision.attributes)


def _bad_request(runtime: AaaRuntime, exc: ValidationFailed) -> Reply:
    log.info("malformed Access-Request refused: %s", exc.message)
    return Reply(401, {"reply:Reply-Message": refusal_message(RefusalReason.BAD_REQUEST, runtime.config.language)})


def _now() -> datetime:
    return datetime.now(UTC)


def _client(query: dict[str, list[str]]) -> str:
    """The RADIUS client FreeRADIUS matched, from the generated config's ``?client=%{client:shortname}``.

    Absent (only a caller other than the generated config omits it), the request names no gateway and is
    refused (``sessions.find_nas``).
    """
    return query.get("client", [""])[0]


def _parse_body(raw: bytes) -> dict[str, Any]:
    """rlm_rest's JSON object of RADIUS attributes."""
    try:
        body = json.loads(raw) if raw else {}
    except RecursionError as exc:  # rlm_rest sends a flat object; nesting this deep is an attack
        raise ValidationFailed("the body is nested too deeply") from exc
    except ValueError as exc:
        raise ValidationFailed("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object of RADIUS attributes")
    return body


async def authorize(runtime: AaaRuntime, body: dict[str, Any], query: dict[str, list[str]]) -> Reply:
    try:
        req = aaa.RadiusRequest.from_rest(body, client=_client(query))
    except ValidationFailed as exc:
        return _bad_request(runtime, exc)
    now, cfg, cache = _now(), runtime.config, runtime.nas_cache
    return _answer(await runtime.worker.run(lambda s: aaa.authorize(s, cfg, req, now=now, nas_cache=cache)))


async def authenticate(runtime: AaaRuntime, body: dict[str, Any], query: dict[str, list[str]]) -> Reply:
    try:
        req = aaa.RadiusRequest.from_rest(body, client=_client(query))
    except ValidationFailed as exc:
        return _bad_request(runtime, exc)
    now, cfg, cache = _now(), runtime.config, runtime.nas_cache
    return _answer(await runtime.worker.run(lambda s: aaa.authenticate(s, cfg, req, now=now, nas_cache=cache)))


async def post_auth(runtime: AaaRuntime, body: dict[str, Any], query: dict[str, list[str]]) -> Reply:
    """``result`` is ``Reject`` when FreeRADIUS runs Post-Auth-Type REJECT; ``message`` its Reply-Message."""
    try:
        req = aaa.RadiusRequest.from_rest(body, client=_client(query))
    except ValidationFailed:
        return Reply(204)  # refused already in authorize; nothing to record
    rejected = query.get("result", [""])[0].lower() == "reject"
    message = query.get("message", [""])[0]
    now, cfg, cache = _now(), runtime.config, runtime.nas_cache
    await runtime.worker.run(lambda s: aaa.post_auth(s, cfg, req, now=now, rejected=rejected,
                                                      reply_message=message, nas_cache=cache))
    return Reply(204)


async def accounting(runtime: AaaRuntime, body: dict[str, Any], query: dict[str, list[str]]) -> Reply:
    parsed = aaa.parse_accounting_request(body, now=_now(), client=_client(query))
    if parsed is None:
        return Reply(204)
    outcome = await runtime.worker.accounting(parsed)
    order = outcome.disconnect
    if order is not None:
        state = runtime.state
        return Reply(204, after=lambda: send_disconnect(state, order))
    return Reply(204)


Handler = Callable[[AaaRuntime, dict[str, Any], dict[str, list[str]]], Awaitable[Reply]]
_HANDLERS: dict[str, Handler] = {"/authorize": authorize, "/authenticate": authenticate, "/post-auth": post_auth,
                                 "/accounting": accounting}
_JSON_HEADERS = [(b"content-type", b"application/json")]


async def _read_body(receive: Receive) -> bytes:
    raw = b""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ValidationFailed("the caller went away before sending the whole body")
        raw += bytes(message.get("body", b""))
        if len(raw) > MAX_BODY_BYTES:
            raise ValidationFailed(f"the body is over {MAX_BODY_BYTES} bytes; rlm_rest sends a few hundred")
        if not message.get("more_body", False):
            return raw


async def _send(send: Send, status: int, attributes: dict[str, Any] | None,
                headers: list[tuple[bytes, bytes]] | None = None) -> None:
    if attributes is None:
        await send({"type": "http.response.start", "status": status, "headers": headers or []})
        await send({"type": "http.response.body", "body": b""})
        return
    payload = json.dumps(attributes, separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [*_JSON_HEADERS, (b"content-length", str(len(payload)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": payload})


class AaaFastLane:
    """ASGI lane ahead of the whole app that answers ``POST /api/v1/aaa/*`` itself, in raw ASGI.

    Mounted by path as a bare lane (``captive_portal.manifest``), outside every layer of the app: routing,
    request objects and the session, telemetry and body-limit middleware cost more than the AAA answer, and
    FreeRADIUS needs none of them. netmgr's
    errors are answered as the app's handlers answer them; anything else is logged and answered 500 (a
    FreeRADIUS ``fail``), never leaked to the caller. Bodies are limited to ``MAX_BODY_BYTES``.
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
        started = time.perf_counter()
        try:
            runtime = _runtime(scope["app"])
            runtime.gate.check(scope)
            body = _parse_body(await _read_body(receive))
            query = parse_qs(scope["query_string"].decode("latin-1")) if scope["query_string"] else {}
            reply = await handler(runtime, body, query)
            selfmetrics.record_aaa_request(scope["path"][len(PREFIX):], time.perf_counter() - started)
        except NetmgrError as exc:
            headers = [(b"www-authenticate", b"Basic")] if exc.http_status == 401 else None
            await _send(send, exc.http_status, {"detail": exc.message, "error": type(exc).__name__}, headers)
            return
        except Exception:
            log.exception("AAA request %s failed", scope["path"])
            await _send(send, 500, {"detail": "internal error; see netmgr's log", "error": "InternalError"})
            return
        await _send(send, reply.status, reply.attributes)
        if reply.after is not None:
            await run_in_threadpool(reply.after)


# The AAA paths are served by AaaFastLane alone; the router carries the lifespan that stops the worker.
router = APIRouter(tags=["aaa"], lifespan=_lifespan)


def send_disconnect(state: AppState, order: sessions.DisconnectOrder) -> coa.DisconnectResult:
    """Send one Disconnect-Request and store the NAS's answer (runs after the accounting response went out)."""
    return coa.disconnect_and_record(order, factory=state.session_factory, radius=state.settings.radius)
