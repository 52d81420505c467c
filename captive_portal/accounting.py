"""Accounting applied to hotspot sessions: the one implementation, used one request at a time and in batches.

Data flows validated Accounting-Requests (``AccountingItem``: from the AAA endpoint's worker, the detail spool
reader or ``aaa.accounting``) → ``apply_accounting_batch`` → one ``UPDATE … WHERE id`` per update (sent together
with ``executemany``) on the ``hotspot_sessions`` rows, a new row through ``sessions.new_session`` for a session
not seen yet → outcomes with usage points and Disconnect-Requests. The caller commits. Every rule of a session's
life is here or in ``captive_portal.sessions``: counters never go back (a replayed or reordered record is a
no-op), a late interim leaves a closed session alone, a Stop closes it, Accounting-On/Off closes the NAS's
sessions, a session past its allowance is disconnected.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, case, func, select, tuple_, update
from sqlalchemy.orm import Session

from captive_portal.decisions import exhausted
from captive_portal.policies import Usage
from captive_portal.sessions import (
    AccountingOutcome,
    AccountingRecord,
    AcctStatus,
    DisconnectOrder,
    Nas,
    advance_octets,
    close_nas_sessions,
    disconnect_due,
    disconnect_order,
    new_session,
    usage_points,
)
from netmgr.models import HotspotSession
from netmgr.models.hotspot import SessionStatus

log = logging.getLogger(__name__)

_HS = cast(Table, HotspotSession.__table__)
_ACTIVE = SessionStatus.ACTIVE.value
_CLOSED = SessionStatus.CLOSED.value

# Each parameter is declared once with its column's type, so every use of it is bound the same way.
_P_ROW = bindparam("row_id", type_=_HS.c.id.type)
_P_IN = bindparam("in_octets", type_=_HS.c.input_octets.type)
_P_OUT = bindparam("out_octets", type_=_HS.c.output_octets.type)
_P_TIME = bindparam("time_s", type_=_HS.c.session_time_s.type)
_P_NOW = bindparam("now", type_=_HS.c.last_update_at.type)
_P_IP = bindparam("new_ip", type_=_HS.c.ip.type)
_P_INTERIM = bindparam("interim_s", type_=_HS.c.interim_interval_s.type)
_P_STOP = bindparam("stop", type_=Integer())
_P_ANY = bindparam("any_status", type_=Integer())
_P_CAUSE = bindparam("cause", type_=_HS.c.terminate_cause.type)
_CLOSING = (_P_STOP == 1) & (_HS.c.status == _ACTIVE)

# One statement for every update. The octet and time counters take the larger of the stored and the new total
# IN SQL, so two workers updating one session at once can never move them back; a Stop closes an active
# session and leaves a closed one as it was (right-hand sides see the old row); an interim touches only an
# active session (``any_status`` is 0 for it), a Start or Stop also a closed one.
_UPDATE = (
    update(_HS)
    .where(_HS.c.id == _P_ROW, (_P_ANY == 1) | (_HS.c.status == _ACTIVE))
    .values(
        input_octets=case((_HS.c.input_octets > _P_IN, _HS.c.input_octets), else_=_P_IN),
        output_octets=case((_HS.c.output_octets > _P_OUT, _HS.c.output_octets), else_=_P_OUT),
        session_time_s=case((_HS.c.session_time_s > _P_TIME, _HS.c.session_time_s), else_=_P_TIME),
        last_update_at=_P_NOW,
        ip=func.coalesce(_P_IP, _HS.c.ip),
        interim_interval_s=func.coalesce(_P_INTERIM, _HS.c.interim_interval_s),
        status=case((_P_STOP == 1, _CLOSED), else_=_HS.c.status),
        stopped_at=case((_CLOSING, _P_NOW), else_=_HS.c.stopped_at),
        terminate_cause=case((_CLOSING, _P_CAUSE), else_=_HS.c.terminate_cause),
        close_reason=case((_CLOSING, "stop"), else_=_HS.c.close_reason),
    )
)

# The batch's sessions by (NAS, Acct-Session-Id), one expanding parameter: built and compiled once.
_SELECT = select(
    _HS.c.id,
    _HS.c.nas_device_id,
    _HS.c.acct_session_id,
    _HS.c.status,
    _HS.c.input_octets,
    _HS.c.output_octets,
    _HS.c.session_time_s,
    _HS.c.allowance_bytes,
    _HS.c.allowance_time_s,
    _HS.c.disconnect_requested_at,
).where(tuple_(_HS.c.nas_device_id, _HS.c.acct_session_id).in_(bindparam("keys", expanding=True)))

_SESSION_STATUSES = (AcctStatus.START, AcctStatus.INTERIM, AcctStatus.STOP)


@dataclass(frozen=True)
class AccountingRequest:
    """A validated Accounting-Request before its NAS is looked up (that needs the database)."""

    rec: AccountingRecord
    client: str | None
    """The RADIUS client FreeRADIUS matched: the gateway's identity (``sessions.find_nas``)."""
    nas_ip: str | None
    nas_identifier: str | None
    called_station: str
    now: datetime


@dataclass(frozen=True)
class AccountingItem:
    """One validated Accounting-Request from a known NAS, and when it arrived."""

    nas: Nas
    rec: AccountingRecord
    now: datetime


@dataclass(frozen=True)
class AccountingSettings:
    timezone: str
    """The installation's zone (``settings.timezone``): where a daily quota's day starts."""
    default_interim_s: int = 300
    default_coa_port: int = 3799


@dataclass
class _Row:
    """What accounting needs of one ``hotspot_sessions`` row, kept current through the batch."""

    id: int
    status: str
    input_octets: int
    output_octets: int
    session_time_s: int
    allowance_bytes: int | None
    allowance_time_s: int | None
    disconnect_requested_at: datetime | None


class Batch:
    """The accounting updates of one transaction, queued for one ``executemany``.

    ``prefetch`` loads every session the batch names in one query; a session not there is created first
    (``sessions.new_session``, which reads the day's usage, so the queued updates are sent before it).
    """

    def __init__(self, session: Session, settings: AccountingSettings) -> None:
        self.session = session
        self.settings = settings
        self._rows: dict[tuple[int, str], _Row] = {}
        self._pending: list[dict[str, Any]] = []

    def prefetch(self, items: Sequence[AccountingItem]) -> None:
        keys = {(i.nas.device_id, i.rec.acct_session_id) for i in items if i.rec.status in _SESSION_STATUSES}
        self._load(keys)

    def _load(self, keys: set[tuple[int, str]]) -> None:
        if not keys:
            return
        for r in self.session.connection().execute(_SELECT, {"keys": sorted(keys)}):
            self._rows[(r.nas_device_id, r.acct_session_id)] = _Row(
                id=r.id,
                status=r.status,
                input_octets=r.input_octets,
                output_octets=r.output_octets,
                session_time_s=r.session_time_s,
                allowance_bytes=r.allowance_bytes,
                allowance_time_s=r.allowance_time_s,
                disconnect_requested_at=r.disconnect_requested_at,
            )

    def flush(self) -> None:
        """Send the queued updates (before anything else reads or writes sessions)."""
        if not self._pending:
            return
        self.session.connection().execute(_UPDATE, self._pending)
        # Rows the ORM holds (a new session, a disconnected one) are stale now: reload them when next read.
        for params in self._pending:
            held = self.session.identity_map.get(self.session.identity_key(HotspotSession, params["row_id"]))
            if held is not None:
                self.session.expire(held)
        self._pending = []

    def apply(self, item: AccountingItem) -> AccountingOutcome:
        """Apply one update; the outcome carries its usage points and any Disconnect-Request to send."""
        rec = item.rec
        if rec.status in (AcctStatus.ACCOUNTING_ON, AcctStatus.ACCOUNTING_OFF):
            return self._nas_restarted(item)
        key = (item.nas.device_id, rec.acct_session_id)
        row = self._rows.get(key)
        if row is None:
            self.flush()
            s = self.settings
            new_session(self.session, item.nas, rec, item.now, s.timezone, s.default_interim_s)
            self.session.flush()
            self._load({key})
            row = self._rows[key]
        return self._update(item, row)

    def _nas_restarted(self, item: AccountingItem) -> AccountingOutcome:
        self.flush()
        closed = close_nas_sessions(self.session, item.nas.device_id, now=item.now, reason="nas_reboot")
        for (device_id, _), row in self._rows.items():
            if device_id == item.nas.device_id:
                row.status = _CLOSED
        log.info("%s from %s closed %d open session(s)", item.rec.status.value, item.nas.name, closed)
        return AccountingOutcome(closed_sessions=closed)

    def _update(self, item: AccountingItem, row: _Row) -> AccountingOutcome:
        rec, now = item.rec, item.now
        stop = rec.status == AcctStatus.STOP
        if rec.status == AcctStatus.INTERIM and row.status != _ACTIVE:
            return AccountingOutcome(session_id=row.id)  # a late interim leaves a closed session as it was
        # Counters are cumulative per session; a retransmitted, replayed or reordered record must not make them
        # go back, nor count twice. A record older than one already applied (by the session time the gateway
        # sent) is old news: its 32-bit counters could otherwise pass for a wrap.
        if rec.session_time_s < row.session_time_s:
            total_in, total_out = row.input_octets, row.output_octets
        else:
            total_in = advance_octets(row.input_octets, rec.input_octets, wraps=rec.octets_wrap)
            total_out = advance_octets(row.output_octets, rec.output_octets, wraps=rec.octets_wrap)
        total_time = max(row.session_time_s, rec.session_time_s)
        d_in, d_out = total_in - row.input_octets, total_out - row.output_octets
        self._pending.append(
            {
                "row_id": row.id,
                "in_octets": total_in,
                "out_octets": total_out,
                "time_s": rec.session_time_s,
                "now": now,
                "new_ip": rec.ip or None,
                "interim_s": rec.interim_interval_s,
                "stop": 1 if stop else 0,
                "any_status": 0 if rec.status == AcctStatus.INTERIM else 1,
                "cause": rec.terminate_cause[:40],
            }
        )
        row.input_octets, row.output_octets, row.session_time_s = total_in, total_out, total_time
        outcome = AccountingOutcome(session_id=row.id)
        if stop:
            row.status = _CLOSED
        elif row.status == _ACTIVE:
            outcome.disconnect = self._disconnect_if_exhausted(item, row)
        if d_in or d_out or rec.status != AcctStatus.INTERIM:
            outcome.points = usage_points(
                item.nas,
                acct_session_id=rec.acct_session_id,
                d_in=d_in,
                d_out=d_out,
                input_total=total_in,
                output_total=total_out,
                session_time_s=total_time,
                now=now,
                event=rec.status.value,
            )
        return outcome

    def _disconnect_if_exhausted(self, item: AccountingItem, row: _Row) -> DisconnectOrder | None:
        reason = exhausted(
            allowance_bytes=row.allowance_bytes,
            allowance_time_s=row.allowance_time_s,
            used=Usage(row.session_time_s, row.input_octets + row.output_octets),
        )
        if reason is None or not disconnect_due(row.disconnect_requested_at, item.now):
            return None
        self.flush()
        held = self.session.get_one(HotspotSession, row.id, populate_existing=True)
        order = disconnect_order(
            self.session,
            held,
            reason=reason.value,
            now=item.now,
            nas_address=item.nas.address,
            coa_port=item.nas.coa_port or self.settings.default_coa_port,
        )
        self.session.flush()  # before a later update of this row expires the ORM's copy
        if order is not None:
            row.disconnect_requested_at = item.now
        return order


def apply_accounting_batch(
    session: Session, items: Sequence[AccountingItem], settings: AccountingSettings
) -> list[AccountingOutcome]:
    """Apply ``items`` in order in ``session``'s transaction (the caller commits); one outcome per item."""
    batch = Batch(session, settings)
    batch.prefetch(items)
    outcomes = [batch.apply(item) for item in items]
    batch.flush()
    return outcomes
