"""Runs a provisioning job over its devices: canary, concurrency, login spread, policy, chunks and finishing.

``execute_job`` reads as the job's story: open the job, run the canary, run or spread the rest, finish. The
parts it is built from each do one thing:

- ``JobRun.run_device``: one device on a worker thread — skip it when the job was cancelled or halted, else claim
  it (``job_store.claim``) and run it (``runner.run_device``);
- ``JobRun.record``: store finished devices together (``job_store.persist``), report progress, halt on failure;
- ``JobRun.run_batch``: a thread pool of ``limit`` SSH sessions, first logins spread (``login_delays``);
- ``JobRun.spread``: hand all chunks but one to other processes, run the last, then ``follow_dispatched``;
- ``JobRun.follow_dispatched``: poll the dispatched devices' rows, run the unstarted ones here after
  ``chunk_start_timeout_s`` and give up after :data:`CHUNK_STALL_TIMEOUT_S` without progress;
- ``finish_job``: the job's status, summary and audit entry.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from netmgr.errors import Conflict, NotFound
from netmgr.models import ProvisionJob
from netmgr.models.base import utcnow
from netmgr.models.provisioning import JobPolicy, JobStatus, ResultStatus
from netmgr.registry import Registry
from netmgr.security.permissions import Actor
from netmgr.services import audit
from provisioning import job_store
from provisioning import messages as msg
from provisioning.connections import Connector
from provisioning.drivers.base import Driver
from provisioning.messages import say
from provisioning.runner import DeviceWork, ProgressCallback, ProvisionResult, run_device, scrubbed, secrets_of

logger = logging.getLogger(__name__)

#: Default login spread per concurrent session: 50 sessions start within 1 s.
LOGIN_SPREAD_S = 0.02

#: How long a dispatched chunk may sit unstarted before the coordinator runs its devices itself
#: (e.g. a worker started with one process, busy with the coordinator).
CHUNK_START_TIMEOUT_S = 30.0

#: How long the coordinator waits without any dispatched device finishing before it gives up on them.
CHUNK_STALL_TIMEOUT_S = 900.0

#: How often the coordinator reads the dispatched devices' rows.
FOLLOW_INTERVAL_S = 0.2

#: Sends a chunk of a job's device ids to another worker process, with the SSH sessions it may open.
Dispatch = Callable[[list[int], int], None]


def login_delays(count: int, concurrency: int, spread_s: float,
                 rng: Callable[[float, float], float] = random.uniform) -> list[float]:
    """How long each of ``count`` devices waits before its first login.

    Only the first wave (one device per concurrent session) waits, each a random time within a window of
    ``spread_s`` × the sessions in that wave, so a job does not open all its sessions in the same instant;
    later devices start when a session frees up, which is already spread out. A flat per-device delay
    would instead add its mean to every device and grow the job's wall time with its size.
    """
    wave = min(max(1, concurrency), count)
    window = max(0.0, spread_s) * wave
    return [rng(0, window) if i < wave and window > 0 else 0.0 for i in range(count)]


@dataclass
class JobOutcome:
    job_id: int
    status: JobStatus
    results: list[ProvisionResult]

    def count(self, status: ResultStatus) -> int:
        return sum(1 for r in self.results if r.status == status)


def job_status(results: list[ProvisionResult]) -> JobStatus:
    """A finished job's status: succeeded when no device failed, partly done when some did and others finished
    (one unreachable access point does not make the whole job a failure), failed when none finished well."""
    failures = sum(1 for r in results if r.failed)
    if not failures:
        return JobStatus.SUCCEEDED
    finished_well = sum(1 for r in results if not r.failed and r.status != ResultStatus.SKIPPED)
    return JobStatus.PARTLY_DONE if finished_well else JobStatus.FAILED


@dataclass(frozen=True)
class JobSettings:
    """What the job's row says about how to run it."""

    dry_run: bool
    concurrency: int
    canary: int
    threshold: float
    policy: JobPolicy


def open_job(factory: sessionmaker[Session], job_id: int, *, whole_job: bool, sessions: int | None) -> JobSettings:
    """Read how to run the job; a whole job (not cancelled meanwhile) is marked running.

    Raises:
        NotFound: no such job.
    """
    with factory() as session:
        job = session.get(ProvisionJob, job_id)
        if job is None:
            raise NotFound(f"provisioning job {job_id} does not exist")
        if whole_job and job.status != JobStatus.CANCELLED:
            job.status, job.started_at = JobStatus.RUNNING, utcnow()
            session.commit()
        return JobSettings(dry_run=job.dry_run, concurrency=max(1, sessions or job.concurrency),
                           canary=max(0, job.canary_size) if whole_job else 0,
                           threshold=job.failure_threshold, policy=JobPolicy(job.policy))


def _skipped(item: DeviceWork, error: str, log: str) -> ProvisionResult:
    return ProvisionResult(item.target.device_id, item.target.name, status=ResultStatus.SKIPPED, error=say(error),
                           log=[say(log)])


@dataclass
class JobRun:
    """One process's part of a job: the devices it runs, what they returned, and whether to stop."""

    factory: sessionmaker[Session]
    actor: Actor
    job_id: int
    settings: JobSettings
    connect: Connector
    drivers: Registry[Driver]
    platforms: dict[int, str]
    on_progress: ProgressCallback | None = None
    jitter_s: float = LOGIN_SPREAD_S
    results: list[ProvisionResult] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    """Set by the halt policy or a failed canary: devices not yet started are skipped."""
    cancelled: threading.Event = field(default_factory=threading.Event)
    """Set when a claim finds the job cancelled: devices not yet started are skipped."""

    @property
    def holder(self) -> str:
        """The name this job's device locks are held under."""
        return f"job:{self.job_id}"

    def run_device(self, item: DeviceWork, delay_s: float) -> ProvisionResult | None:
        """Run one device on this thread; None when another process runs (or ran) it and records its result."""
        t = item.target
        if delay_s > 0:
            time.sleep(delay_s)  # spreads the first wave of SSH logins
        if self.cancelled.is_set():
            return _skipped(item, msg.NOT_STARTED_CANCELLED, msg.SKIPPED_CANCELLED)
        if self.stop.is_set():
            return _skipped(item, msg.NOT_STARTED_HALTED, msg.SKIPPED_HALTED)
        if item.problem or item.driver is None or item.plan is None:
            return ProvisionResult(t.device_id, t.name).fail(item.problem or say(msg.NOTHING_TO_RUN))
        try:
            refused = job_store.claim(self.factory, self.job_id, t.device_id, self.holder)
            if refused == "cancelled":
                self.cancelled.set()
                return _skipped(item, msg.NOT_STARTED_CANCELLED, msg.SKIPPED_CANCELLED)
            if refused is not None:
                return None
            return run_device(t, item.plan, driver=item.driver, connect=self.connect, dry_run=self.settings.dry_run)
        except Conflict as exc:
            return ProvisionResult(t.device_id, t.name).fail(exc.message)
        except Exception as exc:  # a bug must not leave the job hanging; record it on the device
            logger.exception("provisioning %s crashed", t.name)
            failed = ProvisionResult(t.device_id, t.name).fail(say(msg.INTERNAL, error=repr(exc)))
            return failed if item.plan is None else scrubbed(failed, secrets_of(t, item.plan))

    def record(self, done: list[ProvisionResult | None]) -> None:
        """Store the devices that finished together, report each, and stop the job on a failure under halt."""
        finished = [r for r in done if r is not None]
        if not finished:
            return
        self.results.extend(finished)
        job_store.persist(self.factory, self.actor, self.job_id, finished, self.drivers, self.platforms, self.holder)
        for result in finished:
            if self.on_progress is not None:
                self.on_progress(result)
            if result.failed and self.settings.policy == JobPolicy.HALT:
                self.stop.set()

    def run_batch(self, batch: list[DeviceWork], limit: int) -> None:
        """Run ``batch`` on ``limit`` threads (SSH sessions), storing results as devices finish."""
        with ThreadPoolExecutor(max_workers=min(limit, max(1, len(batch))),
                                thread_name_prefix=f"provision-{self.job_id}") as pool:
            delays = login_delays(len(batch), limit, self.jitter_s)
            pending: set[Future[ProvisionResult | None]] = {pool.submit(self.run_device, item, delay)
                                                            for item, delay in zip(batch, delays, strict=True)}
            while pending:
                # Devices that finish while one batch is being stored are stored together in the next.
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                self.record([fut.result() for fut in done])

    def spread(self, batch: list[DeviceWork], send: Dispatch, parts: int, start_timeout_s: float) -> None:
        """Dispatch all chunks but the last, run the last here, then follow the dispatched devices."""
        per = math.ceil(len(batch) / parts)
        chunks = [batch[i:i + per] for i in range(0, len(batch), per)]
        share = max(1, math.ceil(self.settings.concurrency / len(chunks)))
        for chunk in chunks[:-1]:
            send([w.target.device_id for w in chunk], share)
        started = time.monotonic()
        self.run_batch(chunks[-1], share)
        self.follow_dispatched([w for chunk in chunks[:-1] for w in chunk], started, start_timeout_s)

    def follow_dispatched(self, remote: list[DeviceWork], started: float, start_timeout_s: float) -> None:
        """Wait until every dispatched device has a finished row, then take their results.

        Devices still pending ``start_timeout_s`` after dispatch (and as long without progress) run here; after
        :data:`CHUNK_STALL_TIMEOUT_S` without any progress the unfinished ones are failed as lost.
        """
        by_id = {w.target.device_id: w for w in remote}
        ids = list(by_id)
        last_change, seen = time.monotonic(), job_store.stored_statuses(self.factory, self.job_id, ids)
        while True:
            stored = job_store.stored_statuses(self.factory, self.job_id, ids)
            if not any(s in job_store.UNFINISHED for s in stored.values()):
                break
            now = time.monotonic()
            if stored != seen:
                last_change, seen = now, stored
            unstarted = [by_id[d] for d, s in stored.items() if s == ResultStatus.PENDING]
            if unstarted and now - started > start_timeout_s and now - last_change > start_timeout_s:
                logger.warning("job %s: %d dispatched device(s) not started after %.0f s; running them here",
                               self.job_id, len(unstarted), start_timeout_s)
                self.run_batch(unstarted, self.settings.concurrency)
                continue
            if now - last_change > CHUNK_STALL_TIMEOUT_S:
                job_store.give_up(self.factory, self.job_id, ids,
                                  say(msg.WORKER_LOST, seconds=f"{CHUNK_STALL_TIMEOUT_S:.0f}"))
                break
            time.sleep(FOLLOW_INTERVAL_S)
        known = {r.device_id for r in self.results}
        for result in job_store.load_results(self.factory, self.job_id, ids):
            if result.device_id not in known:
                self.results.append(result)
                if self.on_progress is not None:
                    self.on_progress(result)

    def run_canary(self, first: list[DeviceWork]) -> str:
        """Run the canary devices; the reason to halt when too many of them failed, else ``""``."""
        self.run_batch(first, self.settings.concurrency)
        failed = sum(1 for r in self.results if r.failed)
        if failed / len(first) > self.settings.threshold:
            self.stop.set()
            return say(msg.CANARY, failed=failed, count=len(first), threshold=f"{self.settings.threshold:.0%}")
        return ""


def summarise(results: list[ProvisionResult], halted_reason: str) -> str:
    """``"2 changed, 1 failed"``, and why the job halted when it did."""
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + (
        "; " + say(msg.HALTED, reason=halted_reason) if halted_reason else "")


def finish_job(run: JobRun, status: JobStatus, summary: str) -> JobStatus:
    """Store the whole job's status, summary and audit entry; a cancelled job stays cancelled. Returns the status."""
    with run.factory() as session:
        job = session.get(ProvisionJob, run.job_id)
        if job is None:
            return status
        if run.cancelled.is_set() or job.status == JobStatus.CANCELLED:
            status, summary = JobStatus.CANCELLED, f"{summary}; {job.summary}" if job.summary else summary
        job.status, job.finished_at, job.summary = status, utcnow(), summary
        audit.record(session, run.actor, action="run", entity_type="provision_job", entity_id=run.job_id,
                     message="provision_job.dry_ran" if run.settings.dry_run else "provision_job.ran",
                     params={"job": run.job_id, "purpose": job.purpose, "status": status.value})
        session.commit()
    return status


def execute_job(factory: sessionmaker[Session], actor: Actor, job_id: int, work: list[DeviceWork], *,
                connect: Connector, drivers: Registry[Driver], on_progress: ProgressCallback | None = None,
                jitter_s: float = LOGIN_SPREAD_S, whole_job: bool = True, dispatch: Dispatch | None = None,
                parts: int = 1, sessions: int | None = None,
                chunk_start_timeout_s: float | None = None) -> JobOutcome:
    """Run prepared work for a job: canary first, then the rest, ``job.concurrency`` at a time.

    ``jitter_s`` is the login spread per concurrent session (see ``login_delays``); 0 starts at once.

    With ``dispatch`` and ``parts`` > 1, a continue-policy job splits the devices after the canary into
    ``parts`` chunks, sends all but one to other processes and runs the last itself, each with its share of
    ``job.concurrency`` sessions; it then waits for the dispatched devices' rows (running any still unstarted
    after ``chunk_start_timeout_s``, default :data:`CHUNK_START_TIMEOUT_S`, itself) and finishes the job.
    A halt-policy job stays in one process, so its first failure stops every device not yet started.

    With ``whole_job=False`` (a chunk run by its own task) there is no canary and the job's status and
    summary are left alone; ``sessions`` then overrides ``job.concurrency``.
    """
    settings = open_job(factory, job_id, whole_job=whole_job, sessions=sessions)
    run = JobRun(factory, actor, job_id, settings, connect, drivers,
                 platforms={w.target.device_id: w.target.platform for w in work}, on_progress=on_progress,
                 jitter_s=jitter_s)
    first, rest = (work[:settings.canary], work[settings.canary:]) if settings.canary else ([], work)
    halted_reason = run.run_canary(first) if first else ""
    if rest and dispatch is not None and parts > 1 and settings.policy == JobPolicy.CONTINUE \
            and not run.stop.is_set() and len(rest) >= parts:
        run.spread(rest, dispatch, parts,
                   CHUNK_START_TIMEOUT_S if chunk_start_timeout_s is None else chunk_start_timeout_s)
    elif rest:
        run.run_batch(rest, settings.concurrency)
    if run.stop.is_set() and not halted_reason:
        halted_reason = say(msg.POLICY_HALT)

    status = JobStatus.HALTED if run.stop.is_set() else job_status(run.results)
    if whole_job:
        status = finish_job(run, status, summarise(run.results, halted_reason))
    order = {w.target.device_id: i for i, w in enumerate(work)}
    run.results.sort(key=lambda r: order.get(r.device_id, 0))
    return JobOutcome(job_id=job_id, status=status, results=run.results)
