"""The AAA hot path: many RADIUS requests' database work done by one thread per process, one transaction each
batch (group commit), with the common accounting update as Core SQL instead of ORM loads.

Data flows ``captive_portal.api`` (validated request) → ``AaaWorker.submit`` → queue → the worker drains up
to ``max_batch`` jobs → ``Batch``: Interim-Update/Stop of a known session as one ``UPDATE … WHERE id`` per
row (sent together with ``executemany``), everything rare or complex through ``captive_portal.sessions``'
ORM path → one COMMIT → each caller's future resolved → usage points to the metrics store. An answer goes
back to FreeRADIUS only after its data committed, so nothing acknowledged is lost. When a batch fails it is
rolled back and every job runs again alone, so one bad request cannot fail the others.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Integer, Table, bindparam, case, func, select, tuple_, update
from sqlalchemy.orm import Session, sessionmaker

from captive_portal.decisions import exhausted
from captive_portal.policies import Usage
from captive_portal.sessions import (
    DISCONNECT_RETRY_S,
    AccountingOutcome,
    AccountingRecord,
    AcctStatus,
    Nas,
    NasCache,
    advance_octets,
    apply_accounting_orm,
    usage_points,
)
from netmgr import selfmetrics
from netmgr.localtime import DEFAULT_TIMEZONE
from netmgr.metrics import MetricsStore, Point
from netmgr.models import HotspotSession
from netmgr.models.hotspot import SessionStatus

log = logging.getLogger(__name__)

T = TypeVar("T")

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
_P_CAUSE = bindparam("cause", type_=_HS.c.terminate_cause.type)
_CLOSING = (_P_STOP == 1) & (_HS.c.status == _ACTIVE)

# One statement for every fast update. The octet and time counters take the larger of the stored and the
# new total IN SQL, so two workers updating one session at once can never move them back; a Stop closes an
# active session and leaves a closed one as it was (right-hand sides see the old row); an interim touches
# only an active session.
_UPDATE = (
    update(_HS)
    .where(_HS.c.id == _P_ROW, (_P_STOP == 1) | (_HS.c.status == _ACTIVE))
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
    _HS.c.id, _HS.c.nas_device_id, _HS.c.acct_session_id, _HS.c.status, _HS.c.input_octets, _HS.c.output_octets,
    _HS.c.session_time_s, _HS.c.allowance_bytes, _HS.c.allowance_time_s, _HS.c.disconnect_requested_at,
).where(tuple_(_HS.c.nas_device_id, _HS.c.acct_session_id).in_(bindparam("keys", expanding=True)))


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


@dataclass
class _Row:
    """What the fast path needs of one ``hotspot_sessions`` row, kept current through the batch."""

    id: int
    status: str
    input_octets: int
    output_octets: int
    session_time_s: int
    allowance_bytes: int | None
    allowance_time_s: int | None
    disconnect_requested_at: datetime | None


@dataclass(frozen=True)
class AccountingSettings:
    timezone: str = DEFAULT_TIMEZONE
    default_interim_s: int = 300
    default_coa_port: int = 3799


class Batch:
    """The accounting updates of one transaction: fast ones queued for one ``executemany``, the rest via the ORM.

    ``prefetch`` loads every session the batch names in one query; an item whose session is not there
    (a Start), whose update would trigger a Disconnect-Request, or which follows an ORM change to the same
    session in this batch goes through ``sessions.apply_accounting_orm``, after the queued updates are sent.
    """

    def __init__(self, session: Session, settings: AccountingSettings) -> None:
        self.session = session
        self.settings = settings
        self._rows: dict[tuple[int, str], _Row] = {}
        self._pending: list[dict[str, Any]] = []
        self._orm_touched: set[tuple[int, str]] = set()
        self._orm_nases: set[int] = set()

    def prefetch(self, items: Sequence[AccountingItem]) -> None:
        keys = {(i.nas.device_id, i.rec.acct_session_id) for i in items
                if i.rec.status in (AcctStatus.INTERIM, AcctStatus.STOP)}
        if not keys:
            return
        for r in self.session.connection().execute(_SELECT, {"keys": sorted(keys)}):
            self._rows[(r.nas_device_id, r.acct_session_id)] = _Row(
                id=r.id, status=r.status, input_octets=r.input_octets, output_octets=r.output_octets,
                session_time_s=r.session_time_s, allowance_bytes=r.allowance_bytes,
                allowance_time_s=r.allowance_time_s, disconnect_requested_at=r.disconnect_requested_at)

    def flush(self) -> None:
        """Send the queued fast updates (before anything else reads or writes sessions)."""
        if self._pending:
            self.session.connection().execute(_UPDATE, self._pending)
            self._pending = []

    def apply(self, item: AccountingItem) -> AccountingOutcome:
        """Apply one update; the outcome carries its usage points and any Disconnect-Request to send."""
        key = (item.nas.device_id, item.rec.acct_session_id)
        row = self._rows.get(key)
        if (row is None or key in self._orm_touched or item.nas.device_id in self._orm_nases
                or item.rec.status not in (AcctStatus.INTERIM, AcctStatus.STOP)):
            return self._orm(item, key)
        return self._fast(item, row) or self._orm(item, key)

    def _orm(self, item: AccountingItem, key: tuple[int, str]) -> AccountingOutcome:
        self.flush()
        s = self.settings
        outcome = apply_accounting_orm(self.session, item.nas, item.rec, now=item.now, timezone=s.timezone,
                                       default_interim_s=s.default_interim_s, default_coa_port=s.default_coa_port)
        if item.rec.status in (AcctStatus.ACCOUNTING_ON, AcctStatus.ACCOUNTING_OFF):
            self._orm_nases.add(item.nas.device_id)
        else:
            self._orm_touched.add(key)
        return outcome

    def _fast(self, item: AccountingItem, row: _Row) -> AccountingOutcome | None:
        """The update as Core SQL, or None when it needs the ORM path (it would end the session)."""
        rec, now = item.rec, item.now
        stop = rec.status == AcctStatus.STOP
        if not stop and row.status != _ACTIVE:
            return AccountingOutcome(session_id=row.id)  # a late interim leaves a closed session as it was
        total_in = advance_octets(row.input_octets, rec.input_octets, wraps=rec.octets_wrap)
        total_out = advance_octets(row.output_octets, rec.output_octets, wraps=rec.octets_wrap)
        total_time = max(row.session_time_s, rec.session_time_s)
        if not stop and row.status == _ACTIVE:
            reason = exhausted(allowance_bytes=row.allowance_bytes, allowance_time_s=row.allowance_time_s,
                               used=Usage(total_time, total_in + total_out))
            requested = row.disconnect_requested_at
            due = requested is None or now - requested >= timedelta(seconds=DISCONNECT_RETRY_S)
            if reason is not None and due:
                return None
        d_in, d_out = total_in - row.input_octets, total_out - row.output_octets
        self._pending.append({
            "row_id": row.id, "in_octets": total_in, "out_octets": total_out,
            "time_s": rec.session_time_s, "now": now, "new_ip": rec.ip or None,
            "interim_s": rec.interim_interval_s, "stop": 1 if stop else 0, "cause": rec.terminate_cause[:40],
        })
        row.input_octets, row.output_octets, row.session_time_s = total_in, total_out, total_time
        if stop:
            row.status = _CLOSED
        outcome = AccountingOutcome(session_id=row.id)
        if d_in or d_out or stop:
            outcome.points = usage_points(item.nas, row_id=row.id, acct_session_id=rec.acct_session_id, d_in=d_in,
                                          d_out=d_out, input_total=total_in, output_total=total_out,
                                          session_time_s=total_time, now=now, event=rec.status.value)
        return outcome


def apply_accounting_batch(session: Session, items: Sequence[AccountingItem],
                           settings: AccountingSettings | None = None) -> list[AccountingOutcome]:
    """Apply ``items`` in order in ``session``'s transaction (the caller commits); one outcome per item."""
    batch = Batch(session, settings or AccountingSettings())
    batch.prefetch(items)
    outcomes = [batch.apply(item) for item in items]
    batch.flush()
    return outcomes


# --- the worker --------------------------------------------------------------------------------------------


@dataclass
class _Job(Generic[T]):
    """Work for the worker: an accounting item, or a function of the batch's session (a login decision)."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[T]
    request: AccountingRequest | None = None
    call: Callable[[Session], T] | None = None
    result: Any = None


def _resolve(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():  # the caller went away (FreeRADIUS timed out and closed the connection)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


@dataclass
class WorkerStats:
    batches: int = 0
    jobs: int = 0
    retried_batches: int = 0
    largest_batch: int = 0


class AaaWorker:
    """One thread that runs AAA database work in batches, one transaction per batch (group commit).

    Callers on the event loop ``await worker.accounting(item)`` or ``await worker.run(fn)``; while one batch
    commits the next requests queue up, so the commit and the round trips are shared between them.

    Args:
        factory: sessions for the database (``AppState.session_factory``).
        store: where usage points go once their batch committed; None drops them.
        nas_cache: NAS lookups shared with the login decisions (only this thread uses it).
        max_batch: jobs per transaction at most (bounds the latency one batch adds).
    """

    def __init__(self, factory: sessionmaker[Session], *, settings: AccountingSettings | None = None,
                 store: MetricsStore | None = None, nas_cache: NasCache | None = None, max_batch: int = 64) -> None:
        self._factory = factory
        self._nas_cache = nas_cache or NasCache()
        self._settings = settings or AccountingSettings()
        self._store = store
        self._max_batch = max(1, max_batch)
        self._queue: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.stats = WorkerStats()

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="aaa-worker", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued work, then end the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    async def accounting(self, request: AccountingRequest) -> AccountingOutcome:
        """Apply one Accounting-Request; returns once it committed (a NAS netmgr does not know is ignored)."""
        loop = asyncio.get_running_loop()
        job: _Job[AccountingOutcome] = _Job(loop=loop, future=loop.create_future(), request=request)
        return await self._submit(job)

    async def run(self, call: Callable[[Session], T]) -> T:
        """``call(session)`` inside the next batch's transaction; its result once that committed."""
        loop = asyncio.get_running_loop()
        job: _Job[T] = _Job(loop=loop, future=loop.create_future(), call=call)
        return await self._submit(job)

    async def _submit(self, job: _Job[T]) -> T:
        if self._thread is None:
            self.start()
        self._queue.put(job)
        return await job.future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs: list[_Job[Any]] = [first]
            stop = False
            while len(jobs) < self._max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                jobs.append(nxt)
            self._process(jobs)
            if stop:
                return

    def _process(self, jobs: list[_Job[Any]]) -> None:
        self.stats.batches += 1
        self.stats.jobs += len(jobs)
        self.stats.largest_batch = max(self.stats.largest_batch, len(jobs))
        selfmetrics.record_aaa_batch(len(jobs))
        try:
            self._in_transaction(jobs)
        except Exception:
            log.warning("AAA batch of %d failed; running each request alone", len(jobs), exc_info=True)
            self.stats.retried_batches += 1
            for job in jobs:
                try:
                    self._in_transaction([job])
                except Exception as exc:  # noqa: BLE001 - the caller gets the error; FreeRADIUS retries
                    job.loop.call_soon_threadsafe(_resolve, job.future, None, exc)
                else:
                    self._finish([job])
            return
        self._finish(jobs)

    def _in_transaction(self, jobs: list[_Job[Any]]) -> None:
        with self._factory() as session:
            batch = Batch(session, self._settings)
            items: dict[int, AccountingItem] = {}
            for index, job in enumerate(jobs):
                if job.request is not None:
                    req = job.request
                    nas = self._nas_cache.find(session, client=req.client, nas_ip=req.nas_ip,
                                               nas_identifier=req.nas_identifier, called_station=req.called_station)
                    if nas is None:
                        log.warning("accounting from unknown NAS %s (%s / %s) ignored", req.client, req.nas_ip,
                                    req.nas_identifier)
                    else:
                        items[index] = AccountingItem(nas=nas, rec=req.rec, now=req.now)
            batch.prefetch(list(items.values()))
            for index, job in enumerate(jobs):
                if job.request is not None:
                    item = items.get(index)
                    job.result = batch.apply(item) if item is not None else AccountingOutcome()
                elif job.call is not None:
                    batch.flush()  # a login decision reads sessions: it must see this batch's updates
                    job.result = job.call(session)
            batch.flush()
            session.commit()

    def _finish(self, jobs: list[_Job[Any]]) -> None:
        points: list[Point] = []
        for job in jobs:
            job.loop.call_soon_threadsafe(_resolve, job.future, job.result, None)
            if isinstance(job.result, AccountingOutcome):
                points.extend(job.result.points)
        if points and self._store is not None:
            try:
                self._store.write(points)
            except Exception:  # noqa: BLE001 - the store spools; a bug there must not stop accounting
                log.exception("writing %d hotspot usage points failed", len(points))
