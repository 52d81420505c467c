"""Hotspot sessions: RADIUS accounting keeps them current, quotas end them, silence closes them.

Data flows Accounting-Request (FreeRADIUS rest or its detail spool) → ``captive_portal.accounting``, which
applies it with the rules kept here (``advance_octets``, ``new_session``, ``disconnect_order``) → the
``hotspot_sessions`` row and usage points for the metrics store → a ``DisconnectOrder`` when the session used
up its allowance (sent by ``captive_portal.coa``). ``close_stale_sessions`` and
``enforce_quotas`` run from Celery beat as the safety net. No transport imports here.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from captive_portal import budgets
from captive_portal.decisions import Refusal, exhausted, grant_for
from captive_portal.policies import Allowance, PolicyLimits, Usage
from netmgr import localtime
from netmgr.db import secret_box
from netmgr.metrics import Point
from netmgr.models import (
    AccessGrant,
    ConsentRecord,
    Device,
    Hotspot,
    HotspotPolicy,
    HotspotSession,
    LoginAttempt,
    OtpChallenge,
    Site,
    Subscriber,
    Voucher,
    VoucherBatch,
)
from netmgr.models.enums import DeviceRole
from netmgr.models.hotspot import LoginMethod, SessionStatus

log = logging.getLogger(__name__)

DISCONNECT_RETRY_S = 60
"""A session still open this long after a Disconnect-Request gets another one."""


class AcctStatus(StrEnum):
    """Acct-Status-Type names as rlm_rest sends them."""

    START = "Start"
    INTERIM = "Interim-Update"
    STOP = "Stop"
    ACCOUNTING_ON = "Accounting-On"
    ACCOUNTING_OFF = "Accounting-Off"


@dataclass(frozen=True)
class Nas:
    """The gateway an accounting or access request came from, and the hotspot it serves."""

    device_id: int
    name: str
    address: str
    hotspot_id: int | None
    hotspot_name: str
    site_name: str
    dialect: str
    coa_port: int | None
    enabled: bool
    default_policy_id: int | None


MAX_CLIENT_NAME = 100
"""Longer than any inventory device name (the RADIUS client's shortname is the device name)."""


def _lookup_nas(session: Session, *, client: str | None, nas_ip: str | None, nas_identifier: str | None,
                called_station: str | None) -> tuple[Nas | None, str]:
    """``find_nas``'s answer and, when it refuses a known client, why (for the log)."""
    if not client:
        return None, "a request without the RADIUS client FreeRADIUS matched (the ?client= parameter) refused"
    device = session.scalar(select(Device).where(Device.name == client[:MAX_CLIENT_NAME]))
    if device is None:
        return None, ""
    # The packet's own claims may name the gateway (or a NAT'd private address no gateway has), never another
    # gateway: that would let one gateway's secret log citizens into, or close the sessions of, another hotspot.
    for attribute, claim, own, column in (("NAS-IP-Address", nas_ip, device.mgmt_address, Device.mgmt_address),
                                          ("NAS-Identifier", nas_identifier, device.name, Device.name)):
        if not claim or claim == own:
            continue
        other = session.scalar(select(Device.name).where(
            column == claim, Device.id != device.id,
            or_(Device.role == DeviceRole.HOTSPOT_GATEWAY, Device.id.in_(select(Hotspot.gateway_device_id)))))
        if other is not None:
            return None, (f"RADIUS client {device.name} sent {attribute} {claim[:100]!r}, which is gateway "
                          f"{other}: refused (spoofed NAS)")
    hotspots = list(session.scalars(select(Hotspot).where(Hotspot.gateway_device_id == device.id)
                                    .order_by(Hotspot.id)))
    hotspot = hotspots[0] if hotspots else None
    if len(hotspots) > 1 and called_station:
        # A gateway serving several SSIDs names the one in Called-Station-Id ("mac:ssid" or the server name).
        for candidate in hotspots:
            if candidate.ssid and candidate.ssid in called_station or candidate.slug in called_station:
                hotspot = candidate
                break
    site_name = ""
    if hotspot is not None:
        site = session.get(Site, hotspot.site_id)
        site_name = site.name if site else ""
    return Nas(
        device_id=device.id, name=device.name, address=device.mgmt_address,
        hotspot_id=hotspot.id if hotspot else None, hotspot_name=hotspot.name if hotspot else "",
        site_name=site_name, dialect=str(hotspot.nas_dialect) if hotspot else "mikrotik",
        coa_port=hotspot.coa_port if hotspot else None, enabled=hotspot.enabled if hotspot else False,
        default_policy_id=hotspot.default_policy_id if hotspot else None,
    ), ""


def find_nas(session: Session, *, client: str | None, nas_ip: str | None, nas_identifier: str | None,
             called_station: str | None = None) -> Nas | None:
    """The gateway a RADIUS request came from, and its hotspot; None refuses the request.

    The gateway is the RADIUS client FreeRADIUS matched by the packet's source address and shared secret
    (``client``: its shortname, which ``radius_config`` sets to the inventory device name), never what the
    packet says about itself. NAS-IP-Address and NAS-Identifier are only checked: naming a *different*
    inventory gateway refuses the request (a gateway would be speaking for another hotspot); an address no
    gateway has (a private address behind NAT) or the gateway's own is fine. A request without ``client``
    is refused: the generated FreeRADIUS config always sends it, so its absence means some other caller.
    """
    nas, refusal = _lookup_nas(session, client=client, nas_ip=nas_ip, nas_identifier=nas_identifier,
                               called_station=called_station)
    if refusal:
        log.warning("%s", refusal)
    return nas


class NasCache:
    """``find_nas`` answers kept for ``ttl_s`` seconds (the AAA hot path asks it for every request).

    Gateways and hotspots change rarely and by hand; a change (a hotspot switched off, a NAS re-addressed)
    takes effect within ``ttl_s``. Unknown NASes are remembered too, so a stray sender costs no query. The
    key is the matched RADIUS client together with the packet's claims, so one client's answer never serves
    another, and a refused (spoofed) request is logged every time it comes.
    """

    def __init__(self, ttl_s: float = 10.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[tuple[str | None, str | None, str | None, str | None],
                            tuple[float, Nas | None, str]] = {}

    def find(self, session: Session, *, client: str | None, nas_ip: str | None, nas_identifier: str | None,
             called_station: str | None = None) -> Nas | None:
        key = (client or None, nas_ip or None, nas_identifier or None, called_station or None)
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            _, nas, refusal = hit
        else:
            nas, refusal = _lookup_nas(session, client=client, nas_ip=nas_ip, nas_identifier=nas_identifier,
                                       called_station=called_station)
            if len(self._entries) > 10_000:  # far more gateways than a province has: only junk keys grow it
                self._entries.clear()
            self._entries[key] = (now + self._ttl_s, nas, refusal)
        if refusal:
            log.warning("%s", refusal)
        return nas

    def clear(self) -> None:
        self._entries.clear()


# --- usage -------------------------------------------------------------------------------------------------


def _usage(session: Session, *where: object) -> Usage:
    row = session.execute(
        select(func.coalesce(func.sum(HotspotSession.session_time_s), 0),
               func.coalesce(func.sum(HotspotSession.input_octets + HotspotSession.output_octets), 0))
        .where(*where)  # type: ignore[arg-type]
    ).one()
    return Usage(time_s=int(row[0]), octets=int(row[1]))


def device_usage_since(session: Session, mac: str, since: datetime, *, exclude_id: int | None = None) -> Usage:
    """Time and octets of every session of ``mac`` that started since ``since`` (all hotspots)."""
    if not mac:
        return Usage()
    where = [HotspotSession.mac == mac, HotspotSession.started_at >= since]
    if exclude_id is not None:
        where.append(HotspotSession.id != exclude_id)
    return _usage(session, *where)


def person_usage_since(session: Session, subscriber_id: int | None, since: datetime, *,
                       exclude_id: int | None = None) -> Usage:
    """Time and octets of every session of one person (voucher or phone) that started since ``since``."""
    if subscriber_id is None:
        return Usage()
    where = [HotspotSession.subscriber_id == subscriber_id, HotspotSession.started_at >= since]
    if exclude_id is not None:
        where.append(HotspotSession.id != exclude_id)
    return _usage(session, *where)


# --- accounting --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountingRecord:
    """One Accounting-Request, validated (octets already joined with their gigawords).

    ``octets_wrap`` says the NAS sent no gigawords: its octet counters are 32-bit and start again from 0
    after 4 GiB, so ``advance_octets`` counts the wrap instead of ignoring the smaller value.
    """

    status: AcctStatus
    acct_session_id: str
    username: str = ""
    mac: str = ""
    ip: str = ""
    input_octets: int = 0
    output_octets: int = 0
    session_time_s: int = 0
    terminate_cause: str = ""
    interim_interval_s: int | None = None
    octets_wrap: bool = False


MAX_SESSION_OCTETS = 2**48 - 1
"""What one session's counter is kept up to (256 TiB: days at 10 Gbit/s, far past any hotspot session).

RADIUS counters reach 2**64 with gigawords, beyond a BIGINT; saturating here keeps every stored value and
every sum of a day's sessions inside 64-bit integers on SQLite and PostgreSQL, whatever a NAS sends."""

_WRAP = 2**32


def advance_octets(stored: int, reported: int, *, wraps: bool) -> int:
    """A session's octet total after a NAS reported ``reported``; never less than ``stored``.

    Counters are cumulative, so a retransmitted or reordered packet (a smaller value) changes nothing. A NAS
    without gigawords (``wraps``) reports the total modulo 2**32: a value that dropped by more than half the
    counter wrapped and is counted from the last wrap; one that rose by more than half after a wrap is a
    reordered packet from before it.
    """
    if not wraps:
        return min(MAX_SESSION_OCTETS, max(stored, reported))
    low = stored % _WRAP
    if reported >= low and (stored < _WRAP or reported - low < _WRAP // 2):
        total = stored - low + reported
    elif reported < low and low - reported > _WRAP // 2:
        total = stored - low + _WRAP + reported
    else:
        total = stored
    return min(MAX_SESSION_OCTETS, max(stored, total))


@dataclass(frozen=True)
class DisconnectOrder:
    """Everything ``captive_portal.coa`` needs to ask the NAS to end one session (RFC 5176)."""

    session_id: int
    nas_address: str
    coa_port: int
    secret: str = field(repr=False)
    acct_session_id: str
    username: str
    mac: str
    ip: str
    reason: str


@dataclass
class AccountingOutcome:
    session_id: int | None = None
    closed_sessions: int = 0
    disconnect: DisconnectOrder | None = None
    points: list[Point] = field(default_factory=list, repr=False)
    """Usage points for the metrics store, written by the caller once the transaction committed."""


@dataclass(frozen=True)
class Credential:
    """Who a RADIUS User-Name belongs to: a voucher or a portal grant, with its person and policy."""

    subscriber_id: int | None
    voucher_id: int | None
    policy_id: int | None


def credential_of(session: Session, username: str) -> Credential:
    """The voucher or grant behind ``username``; all None for a name netmgr never issued."""
    if not username:
        return Credential(None, None, None)
    row = session.execute(
        select(Voucher.id, Voucher.subscriber_id, VoucherBatch.policy_id)
        .join(VoucherBatch, Voucher.batch_id == VoucherBatch.id)
        .where(Voucher.code == username.upper())
    ).first()
    if row is not None:
        return Credential(subscriber_id=row[1], voucher_id=row[0], policy_id=row[2])
    grant = session.execute(select(AccessGrant.subscriber_id, AccessGrant.policy_id)
                            .where(AccessGrant.username == username)).first()
    if grant is not None:
        return Credential(subscriber_id=grant[0], voucher_id=None, policy_id=grant[1])
    return Credential(None, None, None)


def _allowance_at_start(session: Session, row: HotspotSession, *, now: datetime, timezone: str) -> None:
    """Fix what this session may use: what was left of its quotas when it started."""
    if row.policy_id is None:
        return
    policy = session.get(HotspotPolicy, row.policy_id)
    if policy is None:
        return
    since = localtime.local_day_start(now, timezone)
    valid_for = None
    if row.voucher_id is not None:
        voucher = session.get(Voucher, row.voucher_id)
        if voucher is not None and voucher.expires_at is not None:
            valid_for = int((voucher.expires_at - now).total_seconds())
    grant = grant_for(
        PolicyLimits.of(policy),
        device_today=device_usage_since(session, row.mac, since, exclude_id=row.id),
        person_today=person_usage_since(session, row.subscriber_id, since, exclude_id=row.id),
        valid_for_s=valid_for,
    )
    if isinstance(grant, Allowance):
        row.allowance_bytes = grant.data_bytes
        row.allowance_time_s = grant.session_timeout_s
    else:  # already used up: allow nothing more, so the first interim disconnects it
        row.allowance_bytes = 0
        row.allowance_time_s = 0
    row.interim_interval_s = policy.interim_interval_s


def subscriber_for(session: Session, identity: str, kind: LoginMethod, now: datetime) -> Subscriber:
    """The person with ``identity`` (``voucher:<code>``, ``phone:<hash>``), created on first sight."""
    row = session.scalar(select(Subscriber).where(Subscriber.identity == identity))
    if row is None:
        row = Subscriber(identity=identity, kind=kind, created_at=now, last_seen_at=now)
        session.add(row)
        session.flush()
    return row


def new_session(session: Session, nas: Nas, rec: AccountingRecord, now: datetime, timezone: str,
                default_interim_s: int) -> HotspotSession:
    """The row for a session netmgr has not seen yet, with its allowance fixed; the existing row when a
    concurrent request inserted it first. Its counters are left to ``captive_portal.accounting``."""
    cred = credential_of(session, rec.username)
    if cred.voucher_id is not None and cred.subscriber_id is None:
        # Accounting can arrive for a voucher whose login netmgr did not see (FreeRADIUS restarted mid-way):
        # the voucher is still one person for the quotas.
        voucher = session.get(Voucher, cred.voucher_id)
        if voucher is not None:
            voucher.subscriber_id = subscriber_for(session, f"voucher:{voucher.code}", LoginMethod.VOUCHER, now).id
            cred = Credential(voucher.subscriber_id, voucher.id, cred.policy_id)
    started = now - timedelta(seconds=rec.session_time_s) if rec.status != AcctStatus.START else now
    values = {
        "hotspot_id": nas.hotspot_id, "nas_device_id": nas.device_id, "acct_session_id": rec.acct_session_id,
        "username": rec.username, "mac": rec.mac, "ip": rec.ip, "subscriber_id": cred.subscriber_id,
        "voucher_id": cred.voucher_id, "policy_id": cred.policy_id or nas.default_policy_id,
        "status": SessionStatus.ACTIVE.value, "started_at": started, "last_update_at": now,
        "interim_interval_s": rec.interim_interval_s or default_interim_s,
    }
    # The same Start can arrive twice at once (a NAS retransmit through two FreeRADIUS threads, two netmgr
    # workers): INSERT … ON CONFLICT DO NOTHING lets the second one find the first's row. A savepoint would
    # do too, but costs a round trip, and pysqlite commits a savepoint opened outside a transaction.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    new_id = session.execute(
        insert(HotspotSession).values(**values)
        .on_conflict_do_nothing(index_elements=["nas_device_id", "acct_session_id"])
        .returning(HotspotSession.id)
    ).scalar()
    if new_id is None:
        existing = session.scalar(select(HotspotSession).where(
            HotspotSession.nas_device_id == nas.device_id, HotspotSession.acct_session_id == rec.acct_session_id))
        if existing is None:
            raise RuntimeError(f"session {rec.acct_session_id} neither inserted nor found")
        return existing
    row = session.get_one(HotspotSession, new_id)
    _allowance_at_start(session, row, now=now, timezone=timezone)
    return row


def usage_points(nas: Nas, *, acct_session_id: str, d_in: int, d_out: int, input_total: int,
                 output_total: int, session_time_s: int, now: datetime, event: str) -> list[Point]:
    """The two points one accounting update writes: the session's progress and the hotspot's usage."""
    # Many sessions report at once with the same tags, and one session may report twice in a second: the
    # microsecond of the update plus a hash of the gateway's session id in the last digits keeps every point
    # apart (InfluxDB would otherwise overwrite one with the other), while a replayed update (the same record
    # applied again after a crash, whatever row id its session got) lands on the same point.
    time_ns = int(now.timestamp() * 1_000_000) * 1000 + zlib.crc32(acct_session_id.encode()) % 1000
    tags = {"hotspot": nas.hotspot_name or nas.name, "site": nas.site_name, "nas": nas.name}
    return [
        Point("hotspot_session", tags, {
            "session": acct_session_id, "event": event, "input_octets": d_in, "output_octets": d_out,
            "input_total": input_total, "output_total": output_total, "session_time_s": session_time_s,
        }, time_ns),
        Point("hotspot_usage", tags, {"input_octets": d_in, "output_octets": d_out}, time_ns),
    ]


def due_for_disconnect(row: HotspotSession, now: datetime) -> bool:
    """Whether a Disconnect-Request may be sent (none yet, or the last one is older than the retry interval)."""
    return disconnect_due(row.disconnect_requested_at, now)


def disconnect_due(requested_at: datetime | None, now: datetime) -> bool:
    """``due_for_disconnect`` from the time of the last Disconnect-Request alone."""
    return requested_at is None or now - requested_at >= timedelta(seconds=DISCONNECT_RETRY_S)


def disconnect_order(session: Session, row: HotspotSession, *, reason: str, now: datetime,
                     nas_address: str | None = None, coa_port: int) -> DisconnectOrder | None:
    """Mark ``row`` as being disconnected and say how; None when its NAS has no RADIUS secret."""
    device = session.get(Device, row.nas_device_id)
    if device is None or device.radius_secret_encrypted is None:
        log.warning("cannot disconnect session %s: NAS %s has no RADIUS secret", row.acct_session_id,
                    device.name if device else row.nas_device_id)
        return None
    row.disconnect_requested_at = now
    row.disconnect_result = "pending"
    return DisconnectOrder(
        session_id=row.id, nas_address=nas_address or device.mgmt_address, coa_port=coa_port,
        secret=secret_box(session).decrypt(device.radius_secret_encrypted), acct_session_id=row.acct_session_id,
        username=row.username, mac=row.mac, ip=row.ip, reason=reason,
    )


def record_disconnect_result(session: Session, session_id: int, *, acked: bool, detail: str) -> None:
    """Store the NAS's answer to a Disconnect-Request (the session closes on the NAS's Stop, not here)."""
    row = session.get(HotspotSession, session_id)
    if row is None:
        return
    row.disconnect_result = ("ack" if acked else f"nak {detail}".strip())[:40]


def close_nas_sessions(session: Session, nas_device_id: int, *, now: datetime, reason: str) -> int:
    """Close every open session of one NAS (it rebooted: Accounting-On/Off). Returns how many."""
    result = session.execute(
        update(HotspotSession)
        .where(HotspotSession.nas_device_id == nas_device_id, HotspotSession.status == SessionStatus.ACTIVE)
        .values(status=SessionStatus.CLOSED, stopped_at=now, close_reason=reason)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def close_stale_sessions(session: Session, *, now: datetime, factor: float = 2.5,
                         min_interval_s: int = 60) -> list[int]:
    """Close sessions that missed their interim updates for ``factor`` × their interval; returns their ids."""
    horizon = now - timedelta(seconds=factor * min_interval_s)
    candidates = session.scalars(select(HotspotSession).where(
        HotspotSession.status == SessionStatus.ACTIVE, HotspotSession.last_update_at < horizon))
    closed: list[int] = []
    for row in candidates:
        silence = now - row.last_update_at
        if silence >= timedelta(seconds=factor * max(row.interim_interval_s, min_interval_s)):
            row.status = SessionStatus.CLOSED
            row.stopped_at = row.last_update_at
            row.close_reason = "stale"
            closed.append(row.id)
    session.flush()
    return closed


def enforce_quotas(session: Session, *, now: datetime, timezone: str, default_coa_port: int) -> list[DisconnectOrder]:
    """Check every open session against its person's and device's daily totals (across all their sessions).

    The accounting path checks one session against what it was allowed at its start; this catches a person
    on several devices at once, and any session whose Disconnect-Request went unanswered.
    """
    since = localtime.local_day_start(now, timezone)
    rows = list(session.scalars(select(HotspotSession).where(HotspotSession.status == SessionStatus.ACTIVE)))
    if not rows:
        return []
    policies = {p.id: PolicyLimits.of(p) for p in session.scalars(select(HotspotPolicy))}
    per_mac: dict[str, Usage] = {}
    per_person: dict[int, Usage] = {}
    orders: list[DisconnectOrder] = []
    for row in rows:
        limits = policies.get(row.policy_id) if row.policy_id is not None else None
        reason = exhausted(allowance_bytes=row.allowance_bytes, allowance_time_s=row.allowance_time_s,
                           used=Usage(row.session_time_s, row.total_octets))
        if reason is None and limits is not None:
            if row.mac not in per_mac:
                per_mac[row.mac] = device_usage_since(session, row.mac, since)
            if row.subscriber_id is not None and row.subscriber_id not in per_person:
                per_person[row.subscriber_id] = person_usage_since(session, row.subscriber_id, since)
            person = per_person.get(row.subscriber_id, Usage()) if row.subscriber_id is not None else Usage()
            verdict = grant_for(limits, device_today=per_mac[row.mac], person_today=person)
            reason = verdict.reason if isinstance(verdict, Refusal) else None
        if reason is None or not due_for_disconnect(row, now):
            continue
        hotspot = session.get(Hotspot, row.hotspot_id) if row.hotspot_id is not None else None
        order = disconnect_order(session, row, reason=str(reason), now=now,
                                 coa_port=(hotspot.coa_port if hotspot and hotspot.coa_port else default_coa_port))
        if order is not None:
            orders.append(order)
    session.flush()
    return orders


def purge_expired_data(session: Session, *, now: datetime, session_retention_days: int,
                       attempt_retention_days: int) -> dict[str, int]:
    """Delete personal data past its retention (UU PDP): old sessions, login attempts, OTPs, grants, consent,
    budget counters."""
    counts: dict[str, int] = {}

    def _delete(name: str, stmt: object) -> None:
        counts[name] = int(session.execute(stmt).rowcount)  # type: ignore[call-overload]

    session_horizon = now - timedelta(days=session_retention_days)
    _delete("sessions", delete(HotspotSession).where(HotspotSession.status == SessionStatus.CLOSED,
                                                     HotspotSession.last_update_at < session_horizon))
    _delete("login_attempts", delete(LoginAttempt).where(
        LoginAttempt.at < now - timedelta(days=attempt_retention_days)))
    _delete("otp_challenges", delete(OtpChallenge).where(OtpChallenge.expires_at < now - timedelta(days=1)))
    _delete("grants", delete(AccessGrant).where(AccessGrant.expires_at < now - timedelta(days=1)))
    _delete("consent_records", delete(ConsentRecord).where(ConsentRecord.erase_after < now))
    _delete("subscribers", delete(Subscriber).where(Subscriber.erase_after < now))
    counts["budget_counters"] = budgets.purge_counters(session, now=now)  # they hold source addresses
    return counts


def open_sessions(session: Session, *, hotspot_id: int | None = None) -> Sequence[HotspotSession]:
    stmt = select(HotspotSession).where(HotspotSession.status == SessionStatus.ACTIVE)
    if hotspot_id is not None:
        stmt = stmt.where(HotspotSession.hotspot_id == hotspot_id)
    return list(session.scalars(stmt.order_by(HotspotSession.started_at)))
