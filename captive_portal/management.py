"""Operators manage hotspots, their policies, voucher batches and who is online (admin pages, API and CLI).

Transport → these functions (validation, permission, audit) → models; a change that must reach citizens
already online returns ``DisconnectOrder``s, which the caller sends (``captive_portal.api.send_disconnect``)
once the transaction is committed.

What happens to sessions and vouchers:
- disabling a hotspot refuses new logins at once and disconnects the devices online there; its vouchers keep
  working when it is enabled again;
- deleting a hotspot is refused while devices are online or while it has vouchers that can still be used
  (revoke the batches or disable the hotspot instead); past sessions stay in the reports without a hotspot;
- a policy change applies to new logins; sessions already over a new limit are disconnected, the others get
  the new limits as their allowance and, when the rates changed, a CoA-Request with the new rates;
- revoking a batch refuses its codes from then on; a citizen online with one keeps the running session.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from captive_portal import dialects, terms, vouchers
from captive_portal import portal as portal_service
from captive_portal import sessions as hotspot_sessions
from captive_portal.decisions import closing_in_s, exhausted, grant_for
from captive_portal.policies import Allowance, PolicyLimits, Usage
from captive_portal.schemas import (
    BatchCreate,
    HotspotCreate,
    HotspotUpdate,
    PolicyCreate,
    PolicyUpdate,
)
from netmgr import localtime
from netmgr.db import secret_box
from netmgr.errors import Conflict, NotFound, ValidationFailed
from netmgr.models import Device, Hotspot, HotspotPolicy, HotspotSession, Site, Voucher, VoucherBatch
from netmgr.models.enums import DeviceRole
from netmgr.models.hotspot import LoginMethod, SessionStatus, VoucherStatus
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit
from netmgr.services.common import ListResult, ensure_unique, paginate, snapshot
from netmgr.services.listing import Sorting

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


# --- hotspots ------------------------------------------------------------------------------------------------


def get_hotspot(session: Session, actor: Actor, hotspot_id: int) -> Hotspot:
    actor.require(Permission.PORTAL_MANAGE)
    hotspot = session.get(Hotspot, hotspot_id)
    if hotspot is None:
        raise NotFound(f"hotspot {hotspot_id} does not exist")
    return hotspot


def online_counts(session: Session, hotspot_ids: Sequence[int]) -> dict[int, int]:
    """Devices online now per hotspot."""
    if not hotspot_ids:
        return {}
    rows = session.execute(select(HotspotSession.hotspot_id, func.count()).where(
        HotspotSession.status == SessionStatus.ACTIVE, HotspotSession.hotspot_id.in_(hotspot_ids))
        .group_by(HotspotSession.hotspot_id)).all()
    return {int(h): int(n) for h, n in rows if h is not None}


def list_hotspots(session: Session, actor: Actor, *, q: str | None = None, offset: int = 0,
                  limit: int = 50) -> ListResult[Hotspot]:
    actor.require(Permission.PORTAL_MANAGE)
    stmt = select(Hotspot).order_by(Hotspot.name, Hotspot.id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(Hotspot.name.ilike(like) | Hotspot.slug.ilike(like) | Hotspot.ssid.ilike(like))
    return paginate(session, stmt, offset=offset, limit=limit)


def site_choices(session: Session, actor: Actor) -> list[tuple[int, str]]:
    """Sites a hotspot may be at, as ``(id, name)`` for a form."""
    actor.require(Permission.PORTAL_MANAGE)
    return [(i, n) for i, n in session.execute(select(Site.id, Site.name).order_by(Site.name))]


def gateway_choices(session: Session, actor: Actor) -> list[tuple[int, str, int]]:
    """Hotspot gateways of the inventory as ``(id, name, site id)`` for a form."""
    actor.require(Permission.PORTAL_MANAGE)
    rows = session.execute(select(Device.id, Device.name, Device.site_id)
                           .where(Device.role == DeviceRole.HOTSPOT_GATEWAY).order_by(Device.name))
    return [(i, n, s) for i, n, s in rows]


def _check_colour(value: str, field_name: str) -> None:
    if value and not _COLOUR.match(value):
        raise ValidationFailed(f"{field_name.replace('_', ' ')} must look like #0b5394", field=field_name)


def _check_venue_url(value: str) -> None:
    """Phones open the RFC 8908 ``venue-info-url`` themselves and accept only https."""
    text = value.strip()
    if text and (not text.startswith("https://") or any(c.isspace() or c in "<>\"" for c in text)):
        raise ValidationFailed("branding venue info url must be an https:// address, e.g. "
                               "https://kotimkab.go.id/taman-kota", field="branding.venue_info_url")


def _branding(data: Any) -> dict[str, Any]:
    raw = data.model_dump()
    for name in ("primary_color", "background_color", "text_color"):
        _check_colour(raw[name], f"branding.{name}")
    _check_venue_url(raw["venue_info_url"])
    welcome = {k: v.strip()[:500] for k, v in raw["welcome"].items() if k in ("id", "en") and v.strip()}
    branding: dict[str, Any] = {k: v.strip() for k, v in raw.items() if k != "welcome" and v and v.strip()}
    if welcome:
        branding["welcome"] = welcome
    return branding


def _validate_hotspot(session: Session, values: dict[str, Any], *, exclude_id: int | None) -> None:
    name = str(values["name"]).strip()
    if not name:
        raise ValidationFailed("a hotspot needs a name", field="name")
    values["name"] = name
    if not _SLUG.match(values["slug"]):
        raise ValidationFailed("the portal address may use a-z, 0-9 and '-' (2 to 63 characters), "
                               "e.g. taman-kota-sampit", field="slug")
    ensure_unique(session, Hotspot, "name", name, exclude_id=exclude_id, label="hotspot")
    ensure_unique(session, Hotspot, "slug", values["slug"], exclude_id=exclude_id, label="hotspot")
    if session.get(Site, values["site_id"]) is None:
        raise ValidationFailed(f"site {values['site_id']} does not exist", field="site_id")
    gateway = session.get(Device, values["gateway_device_id"])
    if gateway is None:
        raise ValidationFailed(f"device {values['gateway_device_id']} does not exist", field="gateway_device_id")
    if gateway.site_id != values["site_id"]:
        raise ValidationFailed(f"gateway {gateway.name} is not at this site", field="gateway_device_id")
    known = {m.value for m in LoginMethod}
    methods = list(dict.fromkeys(values["login_methods"]))
    unknown = [m for m in methods if m not in known]
    if unknown or not methods:
        raise ValidationFailed(f"login methods must be some of {', '.join(sorted(known))}", field="login_methods")
    values["login_methods"] = methods
    if values["default_policy_id"] is not None and session.get(HotspotPolicy, values["default_policy_id"]) is None:
        raise ValidationFailed(f"policy {values['default_policy_id']} does not exist", field="default_policy_id")
    if not str(values["terms_version"]).strip():
        raise ValidationFailed("the terms need a version, e.g. 2026-01", field="terms_version")
    values["terms_version"] = str(values["terms_version"]).strip()


def create_hotspot(session: Session, actor: Actor, data: HotspotCreate) -> Hotspot:
    """A new hotspot with a portal configuration whose gateway host is the gateway's management address.

    Raises:
        ValidationFailed: naming the field. Conflict: the name or slug is taken.
    """
    actor.require(Permission.PORTAL_MANAGE)
    values = data.model_dump(exclude={"branding"})
    _validate_hotspot(session, values, exclude_id=None)
    hotspot = Hotspot(**values, branding=_branding(data.branding))
    session.add(hotspot)
    session.flush()
    terms.record_version(session, hotspot, created_by=actor.username)
    session.add(portal_service.default_config(hotspot))
    session.flush()
    portal_service.settings_changed()
    audit.record(session, actor, action="create", entity_type="hotspot", entity_id=hotspot.id,
                 message="hotspot.created", params={"name": hotspot.name}, after=snapshot(hotspot))
    return hotspot


@dataclass
class HotspotChange:
    """A saved hotspot and the sessions to disconnect because it was switched off."""

    hotspot: Hotspot
    orders: list[hotspot_sessions.DisconnectOrder] = field(default_factory=list)
    not_reachable: int = 0


def _coa_port(hotspot: Hotspot | None, default: int) -> int:
    return hotspot.coa_port if hotspot is not None and hotspot.coa_port else default


def update_hotspot(session: Session, actor: Actor, hotspot_id: int, data: HotspotUpdate, *, now: datetime,
                   default_coa_port: int) -> HotspotChange:
    """Change the fields sent; switching a hotspot off disconnects the devices online there.

    Raises:
        ValidationFailed: naming the field (new terms text without a new version, too).
        Conflict: the name or slug is taken.
    """
    hotspot = get_hotspot(session, actor, hotspot_id)
    before = snapshot(hotspot)
    sent = data.model_dump(exclude_unset=True, exclude={"branding"})
    for name, value in sent.items():
        if value is None and name not in ("default_policy_id", "coa_port"):
            raise ValidationFailed(f"{name} cannot be empty", field=name)
    values = {k: before[k] for k in ("name", "slug", "site_id", "gateway_device_id", "login_methods",
                                     "default_policy_id", "terms_version")} | sent
    _validate_hotspot(session, values, exclude_id=hotspot.id)
    terms_text, privacy_text = values.pop("terms_text", None), values.pop("privacy_text", None)
    terms.change_terms(session, hotspot, version=values.pop("terms_version"), terms_text=terms_text,
                       privacy_text=privacy_text, created_by=actor.username)
    for key, value in values.items():  # ``values`` holds what was sent, checked and trimmed
        setattr(hotspot, key, value)
    if data.branding is not None:
        # Only the branding fields sent change: a form without the welcome text keeps it.
        branding = {k: v for k, v in (hotspot.branding or {}).items() if k not in data.branding.model_fields_set}
        hotspot.branding = branding | _branding(data.branding)
    change = HotspotChange(hotspot)
    if before["enabled"] and not hotspot.enabled:
        for row in hotspot_sessions.open_sessions(session, hotspot_id=hotspot.id):
            order = hotspot_sessions.disconnect_order(session, row, reason="hotspot_disabled", now=now,
                                                      coa_port=_coa_port(hotspot, default_coa_port))
            if order is None:
                change.not_reachable += 1
            else:
                change.orders.append(order)
    session.flush()
    portal_service.settings_changed()
    audit.record(session, actor, action="update", entity_type="hotspot", entity_id=hotspot.id,
                 message="hotspot.changed", params={"name": hotspot.name}, before=before, after=snapshot(hotspot))
    return change


def delete_hotspot(session: Session, actor: Actor, hotspot_id: int) -> None:
    """Delete a hotspot without devices online or usable vouchers (its batches go with it).

    Raises:
        Conflict: devices are online there, or it has vouchers that can still be used.
    """
    hotspot = get_hotspot(session, actor, hotspot_id)
    online = online_counts(session, [hotspot.id]).get(hotspot.id, 0)
    if online:
        raise Conflict(f"{online} device(s) are online at {hotspot.name}: disable it first and wait until they "
                       "are disconnected")
    usable = session.scalar(select(func.count()).select_from(Voucher).join(VoucherBatch).where(
        VoucherBatch.hotspot_id == hotspot.id, Voucher.status.in_([VoucherStatus.UNUSED, VoucherStatus.ACTIVE])))
    if usable:
        raise Conflict(f"{hotspot.name} has {usable} voucher(s) that can still be used: revoke its batches first, "
                       "or disable the hotspot instead")
    before = snapshot(hotspot)
    session.delete(hotspot)
    session.flush()
    portal_service.settings_changed()
    audit.record(session, actor, action="delete", entity_type="hotspot", entity_id=hotspot_id,
                 message="hotspot.deleted", params={"name": before["name"]}, before=before)


# --- policies ------------------------------------------------------------------------------------------------


def opening_time(value: str | None, field_name: str) -> time | None:
    """``"06:00"`` → 06:00; None or empty → None.

    Raises:
        ValidationFailed: not ``HH:MM``.
    """
    if value is None or not value.strip():
        return None
    if not _HHMM.match(value.strip()):
        raise ValidationFailed("opening hours are HH:MM, e.g. 06:00", field=field_name)
    return time.fromisoformat(value.strip())


def is_open(policy: HotspotPolicy, *, now: datetime, timezone: str) -> bool:
    """Whether logins are open under ``policy`` at ``now`` in the installation's time zone.

    ``22:00``-``06:00`` is overnight; no hours means always open.
    """
    return closing_in_s(PolicyLimits.of(policy), now=now, timezone=timezone) != 0


def close_for_opening_hours(session: Session, *, now: datetime, timezone: str,
                            default_coa_port: int) -> list[hotspot_sessions.DisconnectOrder]:
    """Disconnect orders for the sessions online under a policy whose hotspot hours are over (closing time).

    Runs with the periodic quota check (``captive_portal.enforce_quotas``); an order is repeated only after the
    retry interval, as for quotas.
    """
    policies = [p for p in session.scalars(select(HotspotPolicy).where(HotspotPolicy.opening_start.is_not(None)))
                if not is_open(p, now=now, timezone=timezone)]
    if not policies:
        return []
    rows = session.scalars(select(HotspotSession).where(
        HotspotSession.status == SessionStatus.ACTIVE, HotspotSession.policy_id.in_([p.id for p in policies])))
    orders: list[hotspot_sessions.DisconnectOrder] = []
    for row in rows:
        if not hotspot_sessions.due_for_disconnect(row, now):
            continue
        hotspot = session.get(Hotspot, row.hotspot_id) if row.hotspot_id is not None else None
        order = hotspot_sessions.disconnect_order(session, row, reason="closed_hours", now=now,
                                                  coa_port=_coa_port(hotspot, default_coa_port))
        if order is not None:
            orders.append(order)
    session.flush()
    return orders


def get_policy(session: Session, actor: Actor, policy_id: int) -> HotspotPolicy:
    actor.require(Permission.PORTAL_MANAGE)
    policy = session.get(HotspotPolicy, policy_id)
    if policy is None:
        raise NotFound(f"policy {policy_id} does not exist")
    return policy


def list_policies(session: Session, actor: Actor, *, q: str | None = None, offset: int = 0,
                  limit: int = 50) -> ListResult[HotspotPolicy]:
    actor.require(Permission.PORTAL_MANAGE)
    stmt = select(HotspotPolicy).order_by(HotspotPolicy.name, HotspotPolicy.id)
    if q:
        stmt = stmt.where(HotspotPolicy.name.ilike(f"%{q.strip()}%"))
    return paginate(session, stmt, offset=offset, limit=limit)


def _validate_policy(session: Session, values: dict[str, Any], *, exclude_id: int | None) -> None:
    name = str(values["name"]).strip()
    if not name:
        raise ValidationFailed("a policy needs a name", field="name")
    values["name"] = name
    ensure_unique(session, HotspotPolicy, "name", name, exclude_id=exclude_id, label="policy")
    start = opening_time(values.get("opening_start"), "opening_start")
    end = opening_time(values.get("opening_end"), "opening_end")
    if (start is None) != (end is None):
        raise ValidationFailed("give both opening and closing time, or neither",
                               field="opening_end" if end is None else "opening_start")
    if start is not None and start == end:
        raise ValidationFailed("opening and closing time are the same; leave both empty for all day",
                               field="opening_end")
    values["opening_start"] = start.strftime("%H:%M") if start else None
    values["opening_end"] = end.strftime("%H:%M") if end else None


def create_policy(session: Session, actor: Actor, data: PolicyCreate) -> HotspotPolicy:
    """A new policy. Raises ValidationFailed naming the field, Conflict when the name is taken."""
    actor.require(Permission.PORTAL_MANAGE)
    values = data.model_dump()
    _validate_policy(session, values, exclude_id=None)
    policy = HotspotPolicy(**values)
    session.add(policy)
    session.flush()
    audit.record(session, actor, action="create", entity_type="hotspot_policy", entity_id=policy.id,
                 message="hotspot_policy.created", params={"name": policy.name}, after=snapshot(policy))
    return policy


@dataclass(frozen=True)
class RateChange:
    """A CoA-Request to send: one running session and its policy's new rates in its gateway's dialect."""

    order: hotspot_sessions.DisconnectOrder
    attributes: dict[str, int | str]


@dataclass
class PolicyChange:
    """A saved policy, the sessions over its new limits (to disconnect), those whose rates change (CoA) and
    those that cannot be reached (no RADIUS secret)."""

    policy: HotspotPolicy
    orders: list[hotspot_sessions.DisconnectOrder] = field(default_factory=list)
    not_reachable: int = 0
    rate_changes: list[RateChange] = field(default_factory=list)

    @property
    def affected(self) -> int:
        return len(self.orders) + self.not_reachable


def _over_new_limits(session: Session, row: HotspotSession, policy: HotspotPolicy, *, now: datetime,
                     timezone: str) -> str | None:
    """Why ``row`` is over ``policy``'s limits now (a reason code), else None after giving it the new allowance."""
    if not is_open(policy, now=now, timezone=timezone):
        return "closed_hours"
    since = localtime.local_day_start(now, timezone)
    valid_for = None
    if row.voucher_id is not None:
        voucher = session.get(Voucher, row.voucher_id)
        if voucher is not None and voucher.expires_at is not None:
            valid_for = int((voucher.expires_at
                             - row.started_at).total_seconds())
    grant = grant_for(PolicyLimits.of(policy),
                      device_today=hotspot_sessions.device_usage_since(session, row.mac, since, exclude_id=row.id),
                      person_today=hotspot_sessions.person_usage_since(session, row.subscriber_id, since,
                                                                       exclude_id=row.id),
                      valid_for_s=valid_for)
    if not isinstance(grant, Allowance):
        return grant.reason.value
    # Accounting lags by up to an interim interval: the wall clock since the start counts too.
    elapsed = max(row.session_time_s, int((now - row.started_at).total_seconds()))
    reason = exhausted(allowance_bytes=grant.data_bytes, allowance_time_s=grant.session_timeout_s,
                       used=Usage(elapsed, row.total_octets))
    if reason is not None:
        return reason.value
    row.allowance_bytes, row.allowance_time_s = grant.data_bytes, grant.session_timeout_s
    return None


_TIMERS = frozenset({"Session-Timeout", "Idle-Timeout", "Acct-Interim-Interval"})


def _rate_change(session: Session, row: HotspotSession, policy: HotspotPolicy, hotspot: Hotspot | None, *,
                 coa_port: int) -> RateChange | None:
    """A CoA order with ``policy``'s rates for ``row``; None without rates, a hotspot or a RADIUS secret."""
    if hotspot is None or (policy.rate_down_kbps is None and policy.rate_up_kbps is None):
        return None
    device = session.get(Device, row.nas_device_id)
    if device is None or device.radius_secret_encrypted is None:
        return None
    rates = dialects.render(hotspot.nas_dialect, Allowance(
        session_timeout_s=None, idle_timeout_s=None, interim_interval_s=policy.interim_interval_s,
        rate_down_kbps=policy.rate_down_kbps, rate_up_kbps=policy.rate_up_kbps, data_bytes=None))
    order = hotspot_sessions.DisconnectOrder(
        session_id=row.id, nas_address=device.mgmt_address, coa_port=coa_port,
        secret=secret_box(session).decrypt(device.radius_secret_encrypted), acct_session_id=row.acct_session_id,
        username=row.username, mac=row.mac, ip=row.ip, reason="rate_change")
    return RateChange(order, {k: v for k, v in rates.items() if k not in _TIMERS})


def _too_many_devices(rows: Sequence[HotspotSession], max_devices: int) -> set[int]:
    """The newest sessions of each person beyond ``max_devices`` (their oldest devices stay online)."""
    per_person: dict[int, list[HotspotSession]] = {}
    for row in rows:
        if row.subscriber_id is not None:
            per_person.setdefault(row.subscriber_id, []).append(row)
    extra: set[int] = set()
    for group in per_person.values():
        group.sort(key=lambda r: (r.started_at, r.id))
        extra.update(r.id for r in group[max_devices:])
    return extra


def update_policy(session: Session, actor: Actor, policy_id: int, data: PolicyUpdate, *, now: datetime,
                  timezone: str, default_coa_port: int) -> PolicyChange:
    """Change the fields sent and apply the policy to the sessions running under it.

    Sessions over a new limit (time, data, devices at once, opening hours) come back as disconnect orders;
    the others get the new limits as their allowance, which accounting then enforces.

    Raises:
        ValidationFailed: naming the field. Conflict: the name is taken.
    """
    policy = get_policy(session, actor, policy_id)
    before = snapshot(policy)
    sent = data.model_dump(exclude_unset=True)
    for required in ("name", "interim_interval_s", "max_devices", "description"):
        if required in sent and sent[required] is None:
            raise ValidationFailed(f"{required} cannot be empty", field=required)
    values = {k: v for k, v in before.items() if k not in ("id", "created_at", "updated_at")} | sent
    _validate_policy(session, values, exclude_id=policy.id)
    for key, value in values.items():
        setattr(policy, key, value)
    session.flush()
    change = PolicyChange(policy)
    rows = list(session.scalars(select(HotspotSession).where(
        HotspotSession.status == SessionStatus.ACTIVE, HotspotSession.policy_id == policy.id)))
    extra = _too_many_devices(rows, policy.max_devices)
    rates_changed = (before["rate_down_kbps"], before["rate_up_kbps"]) != (policy.rate_down_kbps, policy.rate_up_kbps)
    hotspots: dict[int, Hotspot | None] = {}
    for row in rows:
        reason = "too_many_devices" if row.id in extra else _over_new_limits(session, row, policy, now=now,
                                                                               timezone=timezone)
        if row.hotspot_id is not None and row.hotspot_id not in hotspots:
            hotspots[row.hotspot_id] = session.get(Hotspot, row.hotspot_id)
        hotspot = hotspots.get(row.hotspot_id) if row.hotspot_id is not None else None
        if reason is None:
            if rates_changed:
                rate = _rate_change(session, row, policy, hotspot, coa_port=_coa_port(hotspot, default_coa_port))
                if rate is not None:
                    change.rate_changes.append(rate)
            continue
        order = hotspot_sessions.disconnect_order(session, row, reason=reason, now=now,
                                                  coa_port=_coa_port(hotspot, default_coa_port))
        if order is None:
            change.not_reachable += 1
        else:
            change.orders.append(order)
    session.flush()
    portal_service.settings_changed()  # the portal's snapshots carry the hotspots' default policies
    audit.record(session, actor, action="update", entity_type="hotspot_policy", entity_id=policy.id,
                 message="hotspot_policy.changed",
                 params={"name": policy.name, "affected": change.affected},
                 before=before, after=snapshot(policy))
    return change


def delete_policy(session: Session, actor: Actor, policy_id: int) -> None:
    """Delete a policy no hotspot and no voucher batch uses.

    Raises:
        Conflict: a hotspot or batch still uses it.
    """
    policy = get_policy(session, actor, policy_id)
    hotspots = session.scalar(select(func.count()).select_from(Hotspot).where(Hotspot.default_policy_id == policy.id))
    batches = session.scalar(select(func.count()).select_from(VoucherBatch).where(VoucherBatch.policy_id == policy.id))
    if hotspots or batches:
        raise Conflict(f"policy {policy.name} is used by {hotspots} hotspot(s) and {batches} voucher batch(es): "
                       "give them another policy first")
    before = snapshot(policy)
    session.delete(policy)
    session.flush()
    audit.record(session, actor, action="delete", entity_type="hotspot_policy", entity_id=policy_id,
                 message="hotspot_policy.deleted", params={"name": before["name"]}, before=before)


# --- voucher batches -----------------------------------------------------------------------------------------


class BatchSort(StrEnum):
    CREATED = "created"
    NAME = "name"
    COUNT = "count"
    UNUSED = "unused"
    PRICE = "price"


@dataclass(frozen=True)
class BatchRow:
    batch: VoucherBatch
    unused: int


def create_batch(session: Session, actor: Actor, data: BatchCreate) -> VoucherBatch:
    """``count`` new codes under a policy (see ``captive_portal.vouchers.create_batch``), with an optional price."""
    batch = vouchers.create_batch(session, actor, name=data.name, policy_id=data.policy_id, count=data.count,
                                  hotspot_id=data.hotspot_id, valid_until=data.valid_until, notes=data.notes)
    batch.price_idr = data.price_idr
    session.flush()
    return batch


_UNUSED = (select(func.count()).where(Voucher.batch_id == VoucherBatch.id, Voucher.status == VoucherStatus.UNUSED)
           .correlate(VoucherBatch).scalar_subquery())
BATCH_SORTING = Sorting(
    keys={BatchSort.CREATED.value: (VoucherBatch.created_at,), BatchSort.NAME.value: (VoucherBatch.name,),
          BatchSort.COUNT.value: (VoucherBatch.count,), BatchSort.UNUSED.value: (_UNUSED,),
          BatchSort.PRICE.value: (func.coalesce(VoucherBatch.price_idr, 0),)},
    default=BatchSort.CREATED.value,
    tie_breaker=VoucherBatch.id,
    default_descending=True,
)
"""The voucher batch list's sort keys (``BatchSort``'s values), newest first unless asked otherwise."""


def _batches(hotspot_id: int | None) -> Any:
    stmt = select(VoucherBatch, _UNUSED)
    return stmt if hotspot_id is None else stmt.where(VoucherBatch.hotspot_id == hotspot_id)


def list_batches(session: Session, actor: Actor, *, hotspot_id: int | None = None,
                 sort: BatchSort = BatchSort.CREATED, descending: bool = True, offset: int = 0,
                 limit: int = 50) -> ListResult[BatchRow]:
    """Voucher batches with how many codes are unused, sorted and one page at a time."""
    actor.require(Permission.PORTAL_MANAGE)
    stmt = _batches(hotspot_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(stmt.order_by(*BATCH_SORTING.order_by(sort.value, descending))
                           .offset(offset).limit(limit)).all()
    return ListResult([BatchRow(b, int(n)) for b, n in rows], total=total, offset=offset, limit=limit)


def iter_batches(session: Session, actor: Actor, *, sort: BatchSort = BatchSort.CREATED,
                 descending: bool = True) -> Iterator[BatchRow]:
    """Every batch ``list_batches`` would page through (for exports; no voucher code is read)."""
    actor.require(Permission.PORTAL_MANAGE)
    stmt = _batches(None).order_by(*BATCH_SORTING.order_by(sort.value, descending))
    stmt = stmt.options(selectinload(VoucherBatch.policy), selectinload(VoucherBatch.hotspot))
    for batch, unused in session.execute(stmt):
        yield BatchRow(batch, int(unused))


def extend_batch(session: Session, actor: Actor, batch_id: int, valid_until: datetime, *,
                 now: datetime) -> VoucherBatch:
    """Move a batch's 'use before' moment later (unused codes stay usable longer).

    Raises:
        ValidationFailed: the new moment is in the past or not later than the old one.
    """
    batch = vouchers.get_batch(session, actor, batch_id)
    new = localtime.as_utc(valid_until)
    if new <= now:
        raise ValidationFailed("the new date is in the past", field="valid_until")
    old = batch.valid_until
    if old is not None and new <= old:
        raise ValidationFailed("extend means a later date than the current one", field="valid_until")
    batch.valid_until = new
    session.flush()
    audit.record(session, actor, action="update", entity_type="voucher_batch", entity_id=batch.id,
                 message="voucher_batch.extended", params={"name": batch.name}, before={"valid_until": old},
                 after={"valid_until": new})
    return batch


def revoke_batches(session: Session, actor: Actor, batch_ids: Sequence[int]) -> int:
    """Revoke the usable codes of every batch listed; returns how many codes were revoked.

    Raises:
        NotFound: one of the batches does not exist (nothing is revoked then).
    """
    actor.require(Permission.PORTAL_MANAGE)
    ids = list(dict.fromkeys(batch_ids))
    for batch_id in ids:
        vouchers.get_batch(session, actor, batch_id)
    return sum(vouchers.revoke_batch(session, actor, batch_id) for batch_id in ids)


@dataclass(frozen=True)
class BatchReport:
    """What a batch sold and served: codes by status, sold (logged in at least once), revenue, usage."""

    batch: VoucherBatch
    unused: int
    active: int
    used: int
    revoked: int
    sessions: int
    octets: int
    seconds: int

    @property
    def sold(self) -> int:
        return self.active + self.used

    @property
    def revenue_idr(self) -> int:
        return self.sold * (self.batch.price_idr or 0)


def batch_report(session: Session, actor: Actor, batch_id: int) -> BatchReport:
    batch = vouchers.get_batch(session, actor, batch_id)
    by_status = dict(session.execute(select(Voucher.status, func.count()).where(Voucher.batch_id == batch.id)
                                     .group_by(Voucher.status)).all())
    # A revoked code that was logged in before still counts as sold.
    revoked_sold = session.scalar(select(func.count()).select_from(Voucher).where(
        Voucher.batch_id == batch.id, Voucher.status == VoucherStatus.REVOKED,
        Voucher.first_used_at.is_not(None))) or 0
    sessions, octets, seconds = session.execute(
        select(func.count(HotspotSession.id),
               func.coalesce(func.sum(HotspotSession.input_octets + HotspotSession.output_octets), 0),
               func.coalesce(func.sum(HotspotSession.session_time_s), 0))
        .join(Voucher, Voucher.id == HotspotSession.voucher_id).where(Voucher.batch_id == batch.id)).one()
    return BatchReport(batch=batch, unused=int(by_status.get(VoucherStatus.UNUSED, 0)),
                       active=int(by_status.get(VoucherStatus.ACTIVE, 0)),
                       used=int(by_status.get(VoucherStatus.USED, 0)) + int(revoked_sold),
                       revoked=int(by_status.get(VoucherStatus.REVOKED, 0)), sessions=int(sessions),
                       octets=int(octets), seconds=int(seconds))


# --- live sessions -------------------------------------------------------------------------------------------


def mask_mac(mac: str) -> str:
    """``46:12:1F:20:79:D7`` → ``46:12:1F:••:••:D7``: enough to tell devices apart on screen, not to track one."""
    parts = mac.split(":")
    if len(parts) != 6:
        return "••"
    return ":".join([*parts[:3], "••", "••", parts[5]])


@dataclass(frozen=True)
class LiveSession:
    id: int
    hotspot_id: int | None
    hotspot_name: str
    mac: str
    since: datetime
    octets: int
    seconds: int
    policy_name: str


SESSION_SORTING = Sorting(
    keys={"since": (HotspotSession.started_at,), "hotspot": (Hotspot.name,),
          "octets": (HotspotSession.input_octets + HotspotSession.output_octets,),
          "seconds": (HotspotSession.session_time_s,)},
    default="since",
    tie_breaker=HotspotSession.id,
)
"""The live session list's sort keys, oldest first unless asked otherwise."""


def _live(hotspot_id: int | None) -> Any:
    stmt = (select(HotspotSession, Hotspot.name, HotspotPolicy.name)
            .outerjoin(Hotspot, Hotspot.id == HotspotSession.hotspot_id)
            .outerjoin(HotspotPolicy, HotspotPolicy.id == HotspotSession.policy_id)
            .where(HotspotSession.status == SessionStatus.ACTIVE))
    return stmt if hotspot_id is None else stmt.where(HotspotSession.hotspot_id == hotspot_id)


def _live_row(row: HotspotSession, hname: str | None, pname: str | None) -> LiveSession:
    return LiveSession(id=row.id, hotspot_id=row.hotspot_id, hotspot_name=hname or "", mac=mask_mac(row.mac),
                       since=row.started_at, octets=row.total_octets,
                       seconds=row.session_time_s, policy_name=pname or "")


def live_sessions(session: Session, actor: Actor, *, hotspot_id: int | None = None, sort: str | None = None,
                  descending: bool | None = None, offset: int = 0, limit: int = 50) -> ListResult[LiveSession]:
    """Who is online (masked MAC), since when, data used and under which policy, oldest first unless sorted by
    another ``SESSION_SORTING`` key."""
    actor.require(Permission.PORTAL_MANAGE)
    stmt = _live(hotspot_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(stmt.order_by(*SESSION_SORTING.order_by(sort, descending)).offset(offset).limit(limit))
    items = [_live_row(row, hname, pname) for row, hname, pname in rows.all()]
    return ListResult(items, total=total, offset=offset, limit=limit)


def iter_live_sessions(session: Session, actor: Actor, *, hotspot_id: int | None = None, sort: str | None = None,
                       descending: bool | None = None) -> Iterator[LiveSession]:
    """Every session ``live_sessions`` would page through (for exports; MACs stay masked)."""
    actor.require(Permission.PORTAL_MANAGE)
    stmt = _live(hotspot_id).order_by(*SESSION_SORTING.order_by(sort, descending))
    for row, hname, pname in session.execute(stmt.execution_options(yield_per=500)):
        yield _live_row(row, hname, pname)


def disconnect_session(session: Session, actor: Actor, session_id: int, *, now: datetime,
                       default_coa_port: int) -> hotspot_sessions.DisconnectOrder | None:
    """Mark one online session for disconnection; None when its gateway has no RADIUS secret.

    Raises:
        NotFound: no such session online.
    """
    actor.require(Permission.PORTAL_MANAGE)
    row = session.get(HotspotSession, session_id)
    if row is None or row.status != SessionStatus.ACTIVE:
        raise NotFound(f"session {session_id} is not online")
    hotspot = session.get(Hotspot, row.hotspot_id) if row.hotspot_id is not None else None
    order = hotspot_sessions.disconnect_order(session, row, reason="admin", now=now,
                                              coa_port=_coa_port(hotspot, default_coa_port))
    audit.record(session, actor, action="disconnect", entity_type="hotspot_session", entity_id=row.id,
                 message="hotspot_session.disconnected",
                 params={"mac": mask_mac(row.mac), "name": hotspot.name if hotspot else "—"})
    return order
