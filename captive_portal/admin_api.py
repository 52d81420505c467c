"""/api/v1/hotspots, /api/v1/hotspot-policies and /api/v1/voucher-batches: what operators manage, over HTTP.

Request → one ``captive_portal.management`` call → read schema; Disconnect-Requests a change causes are sent
after the response, once the transaction is committed (``captive_portal.api.send_disconnect``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Query, status
from fastapi.responses import Response

from captive_portal import coa, management, terms, vouchers
from captive_portal.api import send_disconnect
from captive_portal.schemas import (
    BatchCreate,
    BatchExtend,
    BatchRead,
    BatchReportRead,
    BatchRevoke,
    DisconnectRead,
    HotspotCreate,
    HotspotRead,
    HotspotUpdate,
    LiveSessionRead,
    PolicyChangeRead,
    PolicyCreate,
    PolicyRead,
    PolicyUpdate,
    RevokeRead,
    TermsVersionRead,
)
from captive_portal.sessions import DisconnectOrder
from netmgr.api.deps import Limit, Offset, Search, SessionDep, StateDep, require
from netmgr.models import Hotspot, HotspotPolicy
from netmgr.schemas.common import Page
from netmgr.security.permissions import Actor, Permission
from netmgr.state import AppState

PortalManager = Annotated[Actor, require(Permission.PORTAL_MANAGE)]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"}, 403: {"description": "the role may not manage hotspots"},
    404: {"description": "no such row"}, 422: {"description": "invalid field (named in the answer)"}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "the name is taken, or the row is still in use"}}

router = APIRouter(prefix="/api/v1", tags=["hotspots"], responses=ERRORS)


def _now() -> datetime:
    return datetime.now(UTC)


def _send_later(background: BackgroundTasks, state: AppState, orders: Sequence[DisconnectOrder]) -> None:
    for order in orders:
        background.add_task(send_disconnect, state, order)


def _hotspot(h: Hotspot, online: dict[int, int]) -> HotspotRead:
    return HotspotRead(id=h.id, name=h.name, slug=h.slug, site_id=h.site_id, gateway_device_id=h.gateway_device_id,
                       nas_dialect=h.nas_dialect, ssid=h.ssid, login_methods=list(h.login_methods or []),
                       default_policy_id=h.default_policy_id, branding=dict(h.branding or {}),
                       terms_version=h.terms_version, terms_text=h.terms_text, privacy_text=h.privacy_text or "",
                       coa_port=h.coa_port,
                       enabled=h.enabled, online=online.get(h.id, 0))


@router.get("/hotspots", response_model=Page[HotspotRead])
def list_hotspots(session: SessionDep, actor: PortalManager, q: Search = None, offset: Offset = 0,
                  limit: Limit = 50) -> Page[HotspotRead]:
    result = management.list_hotspots(session, actor, q=q, offset=offset, limit=limit)
    online = management.online_counts(session, [h.id for h in result.items])
    return Page[HotspotRead](items=[_hotspot(h, online) for h in result.items], total=result.total,
                             offset=result.offset, limit=result.limit)


@router.post("/hotspots", response_model=HotspotRead, status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def create_hotspot(data: HotspotCreate, session: SessionDep, actor: PortalManager) -> HotspotRead:
    return _hotspot(management.create_hotspot(session, actor, data), {})


@router.get("/hotspots/{hotspot_id}", response_model=HotspotRead)
def get_hotspot(hotspot_id: int, session: SessionDep, actor: PortalManager) -> HotspotRead:
    hotspot = management.get_hotspot(session, actor, hotspot_id)
    return _hotspot(hotspot, management.online_counts(session, [hotspot.id]))


@router.patch("/hotspots/{hotspot_id}", response_model=HotspotRead, responses=CONFLICT)
def update_hotspot(hotspot_id: int, data: HotspotUpdate, session: SessionDep, actor: PortalManager,
                   state: StateDep, background: BackgroundTasks) -> HotspotRead:
    """Switching a hotspot off (``enabled: false``) disconnects the devices online there."""
    change = management.update_hotspot(session, actor, hotspot_id, data, now=_now(),
                                       default_coa_port=state.settings.radius.coa_port)
    _send_later(background, state, change.orders)
    return _hotspot(change.hotspot, management.online_counts(session, [hotspot_id]))


@router.delete("/hotspots/{hotspot_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CONFLICT)
def delete_hotspot(hotspot_id: int, session: SessionDep, actor: PortalManager) -> None:
    management.delete_hotspot(session, actor, hotspot_id)


@router.get("/hotspots/{hotspot_id}/terms-versions", response_model=list[TermsVersionRead])
def list_terms_versions(hotspot_id: int, session: SessionDep, actor: PortalManager) -> list[TermsVersionRead]:
    """Every version of the hotspot's terms and privacy text, newest first (what citizens consented to)."""
    return [TermsVersionRead.model_validate(v) for v in terms.list_versions(session, actor, hotspot_id)]


@router.get("/hotspots/{hotspot_id}/sessions", response_model=Page[LiveSessionRead])
def hotspot_sessions(hotspot_id: int, session: SessionDep, actor: PortalManager, offset: Offset = 0,
                     limit: Limit = 50) -> Page[LiveSessionRead]:
    management.get_hotspot(session, actor, hotspot_id)
    result = management.live_sessions(session, actor, hotspot_id=hotspot_id, offset=offset, limit=limit)
    return Page[LiveSessionRead](items=[LiveSessionRead(**vars(s)) for s in result.items], total=result.total,
                                 offset=result.offset, limit=result.limit)


@router.post("/hotspot-sessions/{session_id}/disconnect", response_model=DisconnectRead)
def disconnect_session(session_id: int, session: SessionDep, actor: PortalManager, state: StateDep,
                       background: BackgroundTasks) -> DisconnectRead:
    order = management.disconnect_session(session, actor, session_id, now=_now(),
                                          default_coa_port=state.settings.radius.coa_port)
    if order is None:
        return DisconnectRead(requested=False, detail="the gateway has no RADIUS secret in the inventory")
    _send_later(background, state, [order])
    return DisconnectRead(requested=True)


def _policy(p: HotspotPolicy) -> PolicyRead:
    return PolicyRead.model_validate(p)


@router.get("/hotspot-policies", response_model=Page[PolicyRead])
def list_policies(session: SessionDep, actor: PortalManager, q: Search = None, offset: Offset = 0,
                  limit: Limit = 50) -> Page[PolicyRead]:
    result = management.list_policies(session, actor, q=q, offset=offset, limit=limit)
    return Page[PolicyRead](items=[_policy(p) for p in result.items], total=result.total, offset=result.offset,
                            limit=result.limit)


@router.post("/hotspot-policies", response_model=PolicyRead, status_code=status.HTTP_201_CREATED,
             responses=CONFLICT)
def create_policy(data: PolicyCreate, session: SessionDep, actor: PortalManager) -> PolicyRead:
    return _policy(management.create_policy(session, actor, data))


@router.get("/hotspot-policies/{policy_id}", response_model=PolicyRead)
def get_policy(policy_id: int, session: SessionDep, actor: PortalManager) -> PolicyRead:
    return _policy(management.get_policy(session, actor, policy_id))


@router.patch("/hotspot-policies/{policy_id}", response_model=PolicyChangeRead, responses=CONFLICT)
def update_policy(policy_id: int, data: PolicyUpdate, session: SessionDep, actor: PortalManager, state: StateDep,
                  background: BackgroundTasks) -> PolicyChangeRead:
    """Sessions already over a new limit are sent a Disconnect-Request, the others a CoA-Request when the rates
    changed; the answer says how many of each."""
    change = management.update_policy(session, actor, policy_id, data, now=_now(), timezone=state.settings.timezone,
                                      default_coa_port=state.settings.radius.coa_port)
    _send_later(background, state, change.orders)
    radius = state.settings.radius
    for rate in change.rate_changes:
        background.add_task(coa.change_rates, rate.order, rate.attributes, timeout_s=radius.coa_timeout_s,
                            retries=radius.coa_retries)
    return PolicyChangeRead(policy=_policy(change.policy), affected_sessions=change.affected,
                            not_reachable=change.not_reachable, rates_changed=len(change.rate_changes))


@router.delete("/hotspot-policies/{policy_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CONFLICT)
def delete_policy(policy_id: int, session: SessionDep, actor: PortalManager) -> None:
    management.delete_policy(session, actor, policy_id)


def _batch(row: management.BatchRow) -> BatchRead:
    b = row.batch
    return BatchRead(id=b.id, name=b.name, policy_id=b.policy_id, policy_name=b.policy.name, hotspot_id=b.hotspot_id,
                     count=b.count, unused=row.unused, valid_until=b.valid_until, price_idr=b.price_idr,
                     created_by=b.created_by, created_at=b.created_at)


@router.get("/voucher-batches", response_model=Page[BatchRead])
def list_batches(session: SessionDep, actor: PortalManager, hotspot_id: int | None = None,
                 sort: management.BatchSort = management.BatchSort.CREATED,
                 order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc", offset: Offset = 0,
                 limit: Limit = 50) -> Page[BatchRead]:
    result = management.list_batches(session, actor, hotspot_id=hotspot_id, sort=sort, descending=order == "desc",
                                     offset=offset, limit=limit)
    return Page[BatchRead](items=[_batch(r) for r in result.items], total=result.total, offset=result.offset,
                           limit=result.limit)


@router.post("/voucher-batches", response_model=BatchRead, status_code=status.HTTP_201_CREATED)
def create_batch(data: BatchCreate, session: SessionDep, actor: PortalManager) -> BatchRead:
    batch = management.create_batch(session, actor, data)
    return _batch(management.BatchRow(batch, batch.count))


@router.get("/voucher-batches/{batch_id}/report", response_model=BatchReportRead)
def batch_report(batch_id: int, session: SessionDep, actor: PortalManager) -> BatchReportRead:
    r = management.batch_report(session, actor, batch_id)
    return BatchReportRead(batch_id=r.batch.id, name=r.batch.name, count=r.batch.count, unused=r.unused,
                           active=r.active, used=r.used, revoked=r.revoked, sold=r.sold, price_idr=r.batch.price_idr,
                           revenue_idr=r.revenue_idr, sessions=r.sessions, octets=r.octets, seconds=r.seconds)


@router.get("/voucher-batches/{batch_id}/sheet.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "the printable sheet"}})
def batch_sheet(batch_id: int, session: SessionDep, actor: PortalManager, state: StateDep,
                lang: Annotated[Literal["id", "en"], Query(description="Language of the cards")] = "id") -> Response:
    batch, pdf = vouchers.batch_sheet(session, actor, batch_id, lang=lang,
                                      portal_base_url=state.settings.portal.base_url, tz=state.settings.timezone)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="voucher-{batch.id}.pdf"'})


@router.post("/voucher-batches/{batch_id}/extend", response_model=BatchRead)
def extend_batch(batch_id: int, data: BatchExtend, session: SessionDep, actor: PortalManager) -> BatchRead:
    batch = management.extend_batch(session, actor, batch_id, data.valid_until, now=_now())
    report = management.batch_report(session, actor, batch.id)
    return _batch(management.BatchRow(batch, report.unused))


@router.post("/voucher-batches/revoke", response_model=RevokeRead)
def revoke_batches(data: BatchRevoke, session: SessionDep, actor: PortalManager) -> RevokeRead:
    """Revoke every usable code of the batches listed (all or nothing)."""
    return RevokeRead(revoked=management.revoke_batches(session, actor, data.batch_ids))
