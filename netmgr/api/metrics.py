"""``GET /metrics``: netmgr's own figures for Prometheus (loopback only, or with NETMGR_PROMETHEUS__TOKEN)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from netmgr import selfmetrics

router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    summary="netmgr's own metrics in Prometheus text format",
    responses={
        200: {"content": {selfmetrics.CONTENT_TYPE: {"schema": {"type": "string"}}},
              "description": "Prometheus text exposition format 0.0.4"},
        401: {"description": "a token is configured (NETMGR_PROMETHEUS__TOKEN) and the request lacks it"},
        403: {"description": "no token is configured and the client is not on this machine"},
    },
)
async def metrics(request: Request, authorization: Annotated[str | None, Header()] = None) -> Response:
    state = request.app.state.netmgr
    selfmetrics.check_access(state.settings, client_host=request.client.host if request.client else None,
                             authorization=authorization)
    body = await run_in_threadpool(selfmetrics.render, state.settings, state.engine)
    return Response(body, media_type=selfmetrics.CONTENT_TYPE)
