"""HTTP routes an edge collector calls (its bearer token, never a person's), and the admins' list of edges.

Thin: each route authenticates the edge and calls ``collectors.edge.centre``.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from collectors.edge import centre
from collectors.edge.lines import check_lines
from collectors.edge.protocol import EDGE_PREFIX, Applied, Inventory, StatusReport, UsageReport
from netmgr.api.deps import SessionDep, SettingsDep, client_ip, require
from netmgr.api.routes.monitoring import MetricsDep
from netmgr.errors import AuthenticationFailed, ValidationFailed
from netmgr.metrics import MetricsStore
from netmgr.models import EdgeCollector
from netmgr.security.permissions import Actor, Permission
from netmgr.services import edges

router = APIRouter(prefix=EDGE_PREFIX, tags=["edge collectors"])

MAX_METRICS_BYTES = 8 * 1024 * 1024
"""A forwarded metrics batch once decompressed (the edge sends at most 512 KiB of line protocol at a time)."""


def current_edge(request: Request, session: SessionDep) -> EdgeCollector:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise AuthenticationFailed("send the edge collector's token as 'Authorization: Bearer <token>'")
    return edges.authenticate(session, header[7:].strip(), address=client_ip(request) or "")


EdgeDep = Annotated[EdgeCollector, Depends(current_edge)]


class EdgeRead(BaseModel):
    id: int
    name: str
    site_id: int
    site: str
    token_prefix: str
    last_seen_at: str | None
    link_down: bool
    backlog_points: int


@router.get("/inventory", response_model=Inventory)
def get_inventory(edge: EdgeDep, session: SessionDep) -> Inventory:
    """The devices of the edge's site with what polling them needs (the SNMP secrets included)."""
    return centre.inventory(session, edge)


@router.post("/usage", response_model=Applied)
def post_usage(report: UsageReport, edge: EdgeDep, session: SessionDep, settings: SettingsDep) -> Applied:
    """5-minute usage totals of the edge's meters; a repeated report changes nothing."""
    return centre.apply_usage(session, edge, report, timezone=settings.timezone)


@router.post("/status", response_model=Applied)
def post_status(report: StatusReport, edge: EdgeDep, session: SessionDep) -> Applied:
    """Device and interface status, device events, and how much the edge still has to send."""
    return centre.apply_status(session, edge, report)


@router.post("/metrics", response_model=Applied)
async def post_metrics(request: Request, edge: EdgeDep, session: SessionDep, store: MetricsDep) -> Applied:
    """Line protocol (nanosecond timestamps, optionally gzip) written as sent once every point is the edge's."""
    raw = await request.body()
    gzipped = request.headers.get("content-encoding", "").lower() == "gzip"
    return await run_in_threadpool(_ingest, raw, gzipped, edge, session, store)


def _ingest(raw: bytes, gzipped: bool, edge: EdgeCollector, session: Session, store: MetricsStore) -> Applied:
    if gzipped:
        try:
            inflater = zlib.decompressobj(wbits=31)
            raw = inflater.decompress(raw, MAX_METRICS_BYTES)
            if inflater.unconsumed_tail:
                raise ValidationFailed(f"the batch is larger than {MAX_METRICS_BYTES} bytes once decompressed",
                                       field="body")
        except (zlib.error, gzip.BadGzipFile) as exc:
            raise ValidationFailed(f"the body is not valid gzip: {exc}", field="body") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed("line protocol must be UTF-8", field="body") from exc
    lines = check_lines(text, centre.device_names(session, edge))
    store.write_lines(lines)
    store.flush()  # written to InfluxDB or to the centre's own spool before the edge forgets them
    return Applied(applied=len(lines))


@router.get("", response_model=list[EdgeRead])
def list_edges(session: SessionDep, settings: SettingsDep,
               actor: Annotated[Actor, require(Permission.INVENTORY_WRITE)]) -> list[EdgeRead]:
    """Every edge collector, its site and whether its link is down now (operators and admins)."""
    links = {link.edge_id: link for link in edges.links(session, link_down_after_s=settings.edge.link_down_after_s)}
    return [EdgeRead(id=e.id, name=e.name, site_id=e.site_id, site=e.site.name, token_prefix=e.token_prefix,
                     last_seen_at=e.last_seen_at.isoformat() if e.last_seen_at else None,
                     link_down=links[e.id].down if e.id in links else False, backlog_points=e.backlog_points)
            for e in edges.list_edges(session)]
