"""Poll workers: their heartbeats, when one counts as dead, and the polling status operators see.

Each poll worker process → ``Heartbeat`` thread → ``poll_workers.seen_at``; each finished batch → ``record_batch``
(devices and lateness of its cycle). ``collectors.scheduler.acquire_leases`` reclaims the leases of holders that
``dead_before`` calls dead; ``poll_status`` (CLI, alert rule) reads workers and devices' last poll cycles.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from netmgr.models import PollState, PollWorker
from netmgr.models.base import utcnow
from netmgr.settings import SnmpSettings

log = logging.getLogger(__name__)

DEAD_AFTER_HEARTBEATS = 3
"""A worker silent for this many heartbeats is dead (one late heartbeat on a busy machine is not)."""

FORGET_AFTER_S = 86400.0
"""A dead worker is shown as missing for this long, then forgotten (a worker scaled away for good)."""


def holder_name(node: str) -> str:
    """The lease holder name of this process: its Celery node and process id, e.g. ``poll@server-2/4711``."""
    return f"{node or socket.gethostname()}/{os.getpid()}"


def dead_before(now: datetime, settings: SnmpSettings) -> datetime:
    """Workers whose last heartbeat is older than this are dead."""
    return now - timedelta(seconds=DEAD_AFTER_HEARTBEATS * settings.worker_heartbeat_s)


def cycle_id(started: datetime) -> int:
    """A poll cycle's number: its start in epoch milliseconds (grows with every cycle, names it for people)."""
    return int(started.timestamp() * 1000)


def cycle_start(cycle: int) -> datetime:
    return datetime.fromtimestamp(cycle / 1000, UTC)


def heartbeat(session: Session, *, holder: str, node: str, now: datetime) -> None:
    """Record that ``holder`` is alive now (its row is created on the first beat). Commits."""
    row = session.get(PollWorker, holder)
    if row is None:
        session.add(PollWorker(holder=holder, node=node, started_at=now, seen_at=now, devices=0, lateness_s=0.0))
    else:
        row.seen_at = now
    session.execute(delete(PollWorker).where(PollWorker.seen_at < now - timedelta(seconds=FORGET_AFTER_S)))
    session.commit()


def retire(session: Session, *, holder: str) -> None:
    """Forget a worker that stops cleanly (scaled down, restarted): it is gone, not missing. Commits."""
    session.execute(delete(PollWorker).where(PollWorker.holder == holder))
    session.commit()


def record_batch(
    session: Session, *, holder: str, node: str, cycle: int, devices: int, finished: datetime, interval_s: float
) -> None:
    """Add a finished batch of ``cycle`` to the holder's figures: devices polled, lateness past the cycle's end.

    A holder runs one batch at a time, so its row is never written by two batches at once. Commits.
    """
    lateness = max(0.0, (finished - cycle_start(cycle)).total_seconds() - interval_s)
    row = session.get(PollWorker, holder)
    if row is None:
        row = PollWorker(holder=holder, node=node, started_at=finished, seen_at=finished, devices=0, lateness_s=0.0)
        session.add(row)
    if row.cycle != cycle:
        row.cycle, row.devices, row.lateness_s = cycle, 0, 0.0
    row.devices += devices
    row.lateness_s = max(row.lateness_s, lateness)
    row.seen_at = max(row.seen_at, finished)
    session.commit()


class Heartbeat:
    """A daemon thread that writes this process's heartbeat every ``settings.worker_heartbeat_s``.

    A failed write (database briefly away) is logged and retried at the next beat; the thread ends with the
    process, so a killed worker stops beating and the others reclaim its leases.
    """

    def __init__(
        self, session_factory: sessionmaker[Session], *, holder: str, node: str, settings: SnmpSettings
    ) -> None:
        self.holder, self.node = holder, node
        self._factory = session_factory
        self._interval = settings.worker_heartbeat_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="poll-heartbeat", daemon=True)

    def beat(self) -> None:
        with self._factory() as session:
            heartbeat(session, holder=self.holder, node=self.node, now=utcnow())

    def start(self) -> None:
        self.beat()  # alive (and its leases safe) before its first poll
        self._thread.start()

    def stop(self) -> None:
        """Stop beating and forget this worker (a clean shutdown: not a missing worker)."""
        self._stop.set()
        self._thread.join(self._interval + 5)
        with self._factory() as session:
            retire(session, holder=self.holder)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.beat()
            except SQLAlchemyError as exc:
                log.warning("poll worker heartbeat not written: %s", exc)


@dataclass(frozen=True)
class WorkerStatus:
    holder: str
    node: str
    alive: bool
    seen_at: datetime
    started_at: datetime
    cycle: int | None
    devices: int
    lateness_s: float


@dataclass(frozen=True)
class PollStatus:
    """Polling as an operator sees it.

    ``last_cycle`` is the latest cycle that has ended (its start, epoch ms); ``missed`` counts the pollable devices
    not polled in it or since; ``lateness_s`` is how long after its end its last batch finished, or how long
    polling has stalled (no cycle started for more than an interval); ``late`` is true when either is above 0.
    """

    workers: list[WorkerStatus]
    devices: int
    last_cycle: int | None
    missed: int
    lateness_s: float

    @property
    def alive(self) -> list[WorkerStatus]:
        return [w for w in self.workers if w.alive]

    @property
    def missing(self) -> list[WorkerStatus]:
        return [w for w in self.workers if not w.alive]

    @property
    def late(self) -> bool:
        return self.missed > 0 or self.lateness_s > 0


def poll_status(session: Session, device_ids: list[int], *, settings: SnmpSettings, now: datetime) -> PollStatus:
    """Workers (alive or missing), and how the latest ended cycle went for ``device_ids`` (the pollable ones).

    The latest ended cycle is the newest cycle any worker polled in whose interval is over; its lateness is the
    worst of its workers', or the time polling has stalled past the next cycle's end (no worker polled since).
    A device counts as missed when its last poll belongs to an older cycle.
    """
    dead = dead_before(now, settings)
    rows = session.scalars(select(PollWorker).order_by(PollWorker.node, PollWorker.holder)).all()
    workers = [
        WorkerStatus(
            r.holder,
            r.node,
            r.seen_at >= dead,
            r.seen_at,
            r.started_at,
            r.cycle,
            r.devices,
            r.lateness_s,
        )
        for r in rows
    ]
    interval_ms = settings.poll_interval_s * 1000
    ended = [w.cycle for w in workers if w.cycle is not None and w.cycle + interval_ms <= cycle_id(now)]
    last = max(ended, default=None)
    if last is None or not device_ids:
        return PollStatus(workers, len(device_ids), last, 0, 0.0)
    polled = (
        session.scalar(
            select(func.count())
            .select_from(PollState)
            .where(PollState.device_id.in_(device_ids), PollState.cycle >= last)
        )
        or 0
    )
    newest = max(w.cycle for w in workers if w.cycle is not None)
    stalled = (cycle_id(now) - newest - 2 * interval_ms) / 1000
    lateness = max([w.lateness_s for w in workers if w.cycle == last] + [stalled, 0.0])
    return PollStatus(workers, len(device_ids), last, len(device_ids) - polled, lateness)


def status_json(status: PollStatus) -> dict[str, Any]:
    """``status`` as JSON-ready data (times ISO 8601 UTC, cycles as their start)."""

    def when(cycle: int | None) -> str | None:
        return cycle_start(cycle).isoformat() if cycle is not None else None

    return {
        "workers": [
            {
                "holder": w.holder,
                "node": w.node,
                "alive": w.alive,
                "seen_at": w.seen_at.isoformat(),
                "started_at": w.started_at.isoformat(),
                "cycle_started": when(w.cycle),
                "devices": w.devices,
                "lateness_s": round(w.lateness_s, 3),
            }
            for w in status.workers
        ],
        "alive": len(status.alive),
        "missing": len(status.missing),
        "devices": status.devices,
        "last_cycle_started": when(status.last_cycle),
        "missed": status.missed,
        "lateness_s": round(status.lateness_s, 3),
        "late": status.late,
    }


__all__ = [
    "DEAD_AFTER_HEARTBEATS",
    "Heartbeat",
    "PollStatus",
    "WorkerStatus",
    "cycle_id",
    "cycle_start",
    "dead_before",
    "heartbeat",
    "holder_name",
    "poll_status",
    "record_batch",
    "retire",
    "status_json",
]
