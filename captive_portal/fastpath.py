"""The AAA hot path: many RADIUS requests' database work done by one thread per process, one transaction each
batch (group commit).

Data flows ``captive_portal.api`` (validated request) → ``AaaWorker.submit`` → queue → the worker drains up
to ``max_batch`` jobs → the accounting updates (``captive_portal.accounting.Batch``) and the login decisions
in one transaction → one COMMIT → each caller's future resolved → usage points to the metrics store. An answer goes
back to FreeRADIUS only after its data committed, so nothing acknowledged is lost. When a batch fails it is
rolled back and every job runs again alone, so one bad request cannot fail the others.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from captive_portal.accounting import AccountingItem, AccountingRequest, AccountingSettings, Batch
from captive_portal.sessions import AccountingOutcome, NasCache
from netmgr import selfmetrics
from netmgr.metrics import MetricsStore, Point

log = logging.getLogger(__name__)

T = TypeVar("T")


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

    def __init__(self, factory: sessionmaker[Session], *, settings: AccountingSettings,
                 store: MetricsStore | None = None, nas_cache: NasCache | None = None, max_batch: int = 64) -> None:
        self._factory = factory
        self._nas_cache = nas_cache or NasCache()
        self._settings = settings
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
