"""The AAA endpoints FreeRADIUS's rest module calls: ``/api/v1/aaa/{authorize,authenticate,post-auth,accounting}``.

Data flows rlm_rest JSON → ``captive_portal.aaa`` → JSON attributes (200), a reject with Reply-Message (401)
or nothing (204). Only FreeRADIUS may call them: the client address must be in
``NETMGR_RADIUS__AAA_ALLOWED_NETWORKS`` (loopback by default) and it must present the shared AAA token,
as the HTTP Basic password (what the generated rest config sends) or in ``X-Netmgr-AAA-Token``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import logging
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse

from captive_portal import aaa, coa, sessions
from captive_portal.policies import RefusalCode
from captive_portal.policies import message as refusal_message
from netmgr.api.deps import SessionDep, StateDep, get_state
from netmgr.db import session_scope
from netmgr.errors import AuthenticationFailed, PermissionDenied, ValidationFailed
from netmgr.metrics import MetricsStore, make_metrics_store
from netmgr.state import AppState

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Netmgr-AAA-Token"  # noqa: S105 - a header name, not a secret
_store_lock = threading.Lock()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    store: MetricsStore | None = getattr(app.state, "aaa_metrics", None)
    if store is not None:
        store.close()


def require_aaa_client(request: Request) -> None:
    """Refuse callers outside the allowed networks or without the shared AAA token."""
    settings = get_state(request).settings
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise PermissionDenied("the AAA endpoints answer only FreeRADIUS") from None
    networks = [ipaddress.ip_network(n, strict=False) for n in settings.radius.aaa_allowed_networks]
    if not any(address in net for net in networks):
        raise PermissionDenied("the AAA endpoints answer only FreeRADIUS")
    expected = settings.radius.aaa_token.get_secret_value()
    if not expected:
        raise PermissionDenied("the AAA endpoints are off: set NETMGR_RADIUS__AAA_TOKEN")
    presented = request.headers.get(TOKEN_HEADER, "")
    header = request.headers.get("authorization", "")
    if not presented and header.lower().startswith("basic "):
        try:
            presented = base64.b64decode(header[6:].strip()).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            presented = ""
    if not secrets.compare_digest(presented.encode(), expected.encode()):
        raise AuthenticationFailed("wrong or missing AAA token")


router = APIRouter(prefix="/api/v1/aaa", tags=["aaa"], dependencies=[Depends(require_aaa_client)],
                   lifespan=_lifespan)


def get_metrics_store(request: Request) -> MetricsStore:
    """One metrics store per app, built on first use (tests may set ``app.state.aaa_metrics`` beforehand)."""
    store: MetricsStore | None = getattr(request.app.state, "aaa_metrics", None)
    if store is None:
        with _store_lock:
            store = getattr(request.app.state, "aaa_metrics", None)
            if store is None:
                store = make_metrics_store(get_state(request).settings)
                request.app.state.aaa_metrics = store
    return store


MetricsDep = Annotated[MetricsStore, Depends(get_metrics_store)]


def _config(state: AppState) -> aaa.AaaConfig:
    return aaa.AaaConfig.from_settings(state.settings)


def _answer(decision: aaa.Decision) -> Response:
    # rlm_rest: 2xx with attributes → ok/updated; 401 → reject, and its body still sets Reply-Message.
    return JSONResponse(decision.attributes, status_code=200 if decision.accept else 401)


def _bad_request(state: AppState, exc: ValidationFailed) -> Response:
    log.info("malformed Access-Request refused: %s", exc.message)
    reason = refusal_message(RefusalCode.BAD_REQUEST, state.settings.default_language)
    return JSONResponse({"reply:Reply-Message": reason}, status_code=401)


def _now() -> datetime:
    return datetime.now(UTC)


@router.post("/authorize")
def authorize(body: dict[str, Any], state: StateDep) -> Response:
    try:
        req = aaa.RadiusRequest.from_rest(body)
    except ValidationFailed as exc:
        return _bad_request(state, exc)
    with session_scope(state.session_factory) as session:
        return _answer(aaa.authorize(session, _config(state), req, now=_now()))


@router.post("/authenticate")
def authenticate(body: dict[str, Any], state: StateDep) -> Response:
    try:
        req = aaa.RadiusRequest.from_rest(body)
    except ValidationFailed as exc:
        return _bad_request(state, exc)
    with session_scope(state.session_factory) as session:
        return _answer(aaa.authenticate(session, _config(state), req, now=_now()))


@router.post("/post-auth", status_code=204)
def post_auth(body: dict[str, Any], state: StateDep, result: str = "", message: str = "") -> Response:
    """``result`` is ``Reject`` when FreeRADIUS runs Post-Auth-Type REJECT; ``message`` its Reply-Message."""
    try:
        req = aaa.RadiusRequest.from_rest(body)
    except ValidationFailed:
        return Response(status_code=204)  # refused already in authorize; nothing to record
    with session_scope(state.session_factory) as session:
        aaa.post_auth(session, _config(state), req, now=_now(), rejected=result.lower() == "reject",
                      reply_message=message)
    return Response(status_code=204)


@router.post("/accounting", status_code=204)
def accounting(body: dict[str, Any], session: SessionDep, state: StateDep, store: MetricsDep,
               background: BackgroundTasks) -> Response:
    outcome = aaa.accounting(session, _config(state), body, store=store, now=_now())
    session.commit()
    if outcome.disconnect is not None:
        background.add_task(send_disconnect, state, outcome.disconnect)
    return Response(status_code=204)


def send_disconnect(state: AppState, order: sessions.DisconnectOrder) -> coa.DisconnectResult:
    """Send one Disconnect-Request and store the NAS's answer (runs after the accounting response went out)."""
    radius = state.settings.radius
    result = coa.disconnect(order, timeout_s=radius.coa_timeout_s, retries=radius.coa_retries)
    with session_scope(state.session_factory) as session:
        sessions.record_disconnect_result(session, order.session_id, acked=result.acked, detail=result.detail)
    return result
