"""Runs provisioning: one device (``run_device``) and a whole job (``run_job``), returning results, not raising.

Per device: back up → render → diff → stop on dry run → arm the device's self-revert → push → reconnect
and disarm (if netmgr cannot reach the device again, it reverts by itself) → verify → save. A refused
command or a failed verify rolls the device back to its backup, and the result says so in the device's
own words. A job fans out over devices with a concurrency limit, a canary and a continue/halt policy,
and records each device's progress as it happens.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from netmgr.errors import Conflict, DeviceError, NetmgrError, NotFound
from netmgr.models import ProvisionJob, ProvisionResultRecord
from netmgr.models.provisioning import BackupSource, JobPolicy, JobStatus, ResultStatus
from netmgr.registry import Registry
from netmgr.security.permissions import Actor
from netmgr.services import audit
from provisioning.backups import store_backup
from provisioning.connections import Connector, DeviceTarget
from provisioning.diff import quiet_diff
from provisioning.drivers.base import DeviceBackup, Driver
from provisioning.locks import device_lock
from provisioning.render import TemplateSource, render
from provisioning.variables import PurposeVariables, complete

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """What to apply: a purpose, its template and validated variables, and how long the self-revert waits."""

    purpose: str
    template: TemplateSource
    variables: PurposeVariables
    revert_after_s: int = 300


@dataclass
class ProvisionResult:
    """What happened on one device (Nornir-style: ``changed``/``failed`` instead of an exception)."""

    device_id: int
    device_name: str
    status: ResultStatus = ResultStatus.PENDING
    changed: bool = False
    diff: str = ""
    failed: bool = False
    error: str | None = None
    rolled_back: bool = False
    log: list[str] = field(default_factory=list)
    before: str | None = None
    after: str | None = None

    def fail(self, message: str, *, rolled_back: bool = False) -> ProvisionResult:
        self.failed, self.error, self.rolled_back = True, message, rolled_back
        self.status = ResultStatus.ROLLED_BACK if rolled_back else ResultStatus.FAILED
        self.log.append(f"error: {message}")
        return self


def render_for(target: DeviceTarget, plan: Plan) -> str:
    """The device's desired config. Raises ValidationFailed (bad or missing variable, template error)."""
    context = {**target.context, **complete(plan.variables, target.context.get("inventory", {}))}
    return render(plan.template, context)


def _check_restored(target: DeviceTarget, driver: Driver, connect: Connector, before: str,
                    result: ProvisionResult, reconnect_attempts: int, reconnect_delay_s: float) -> str:
    """After a rollback, read the config back and say whether the device is where it started."""
    try:
        with _session(connect, target, driver, reconnect_attempts, reconnect_delay_s) as conn:
            now = driver.get_running_config(conn)
    except DeviceError as exc:
        return f"; could not read the config back after the rollback: {exc.message}"
    if quiet_diff(driver, before, now):
        result.log.append(quiet_diff(driver, before, now, name=target.name))
        return "; WARNING: the config read back after the rollback still differs from the backup"
    result.log.append("read the config back: the device is at its pre-push config")
    return ""


@contextmanager
def _session(connect: Connector, target: DeviceTarget, driver: Driver, attempts: int,
             delay_s: float) -> Iterator[Any]:
    """``connect`` with retries on the way in (the device may be rebooting into a restored config)."""
    with ExitStack() as stack:
        for attempt in range(max(1, attempts)):
            try:
                conn = stack.enter_context(connect(target, driver.netmiko_device_type))
                break
            except DeviceError:
                if attempt + 1 >= attempts:
                    raise
                time.sleep(delay_s)
        yield conn


def may_cut_management(driver: Driver, commands: list[str]) -> bool:
    """Whether pushing ``commands`` could cut netmgr's own path to the device (addresses, routes, firewall…).

    A driver lists the commands that cannot in ``management_safe`` (regexes matched at the start of a
    command, e.g. RouterOS ``/snmp`` or ``/system identity``); a driver without the list, or any command
    outside it, counts as "could cut", so the runner proves reachability with a fresh session.
    """
    safe: tuple[re.Pattern[str], ...] = tuple(getattr(driver, "management_safe", ()))
    return not safe or any(not any(p.match(c) for p in safe) for c in commands)


def _verify_and_save(conn: Any, driver: Driver, backup: DeviceBackup, desired: str,
                     result: ProvisionResult) -> list[str]:
    """Disarm the self-revert, read the config back, and save it, or roll back the lines that did not stick.

    Returns the desired lines the device did not keep (empty: verified and saved). The read-back doubles
    as the post-push config, so verification costs one config read, not two.
    """
    driver.disarm_revert(conn)
    result.log.append("disarmed the self-revert")
    after = driver.get_running_config(conn)
    # The same check as ``driver.verify``, on the text already read (every shipped driver's verify is this).
    missing = driver.missing_lines(after, "\n".join(desired.splitlines()))
    if missing:
        driver.rollback(conn, backup)
        return missing
    driver.save(conn)
    result.after = after
    return []


def run_device(target: DeviceTarget, plan: Plan, *, driver: Driver, connect: Connector, dry_run: bool,
               reconnect_attempts: int = 5, reconnect_delay_s: float = 2.0) -> ProvisionResult:
    """Apply ``plan`` to one device safely. Never raises for device or template problems.

    SSH sessions: one for a compliant device, a dry run, or a change that cannot cut management (read,
    back up, diff, arm the self-revert, push, disarm, verify, save); a change that could cut management
    adds one short reconnect that proves netmgr still reaches the device before the revert is called off.
    """
    result = ProvisionResult(device_id=target.device_id, device_name=target.name)
    try:
        desired = render_for(target, plan)
    except NetmgrError as exc:
        return result.fail(exc.message)
    result.log.append(f"rendered {plan.template.name}: {len(desired.splitlines())} lines")
    pushed, reconnect, missing = False, False, []
    try:
        with connect(target, driver.netmiko_device_type) as conn:
            running = driver.get_running_config(conn)
            commands = driver.commands_for(running, desired)
            if not commands:
                result.before, result.status = running, ResultStatus.NO_CHANGE
                result.log.append("device already complies; nothing pushed")
                return result
            if dry_run:
                result.before, result.status = running, ResultStatus.DRY_RUN
                result.diff = quiet_diff(driver, running, driver.preview(running, desired), name=target.name)
                result.log.append(f"dry run: {len(commands)} command(s) would be pushed")
                return result
            backup = driver.backup(conn)
            result.log.append(f"backed up the running config on the device as {backup.ref}")
            if backup.text != running:  # changed under us (or the driver prepared it for the revert)
                running = backup.text
                commands = driver.commands_for(running, desired)
            result.before = running
            result.diff = quiet_diff(driver, running, driver.preview(running, desired), name=target.name)
            if not commands:
                result.status = ResultStatus.NO_CHANGE
                result.log.append("device already complies; nothing pushed")
                return result
            driver.arm_revert(conn, backup, plan.revert_after_s)
            result.log.append(f"armed a self-revert in {plan.revert_after_s} s")
            pushed = True
            output = driver.push(conn, commands)
            result.log.append(driver.mask_secrets(output.output))
            rejected = output.rejected
            if rejected:
                driver.rollback(conn, backup)
            else:
                reconnect = may_cut_management(driver, commands)
                if not reconnect:
                    result.log.append("the change cannot cut management; verifying on the same session")
                    missing = _verify_and_save(conn, driver, backup, desired, result)
        if rejected:
            tail = _check_restored(target, driver, connect, running, result, reconnect_attempts, reconnect_delay_s)
            return result.fail(f"{target.name} refused {driver.mask_secrets(rejected[0])}; rolled back to the "
                               f"pre-push config{tail}", rolled_back=True)
        if reconnect:
            # A fresh session proves the change left the device reachable; only then is the revert called off.
            with _session(connect, target, driver, reconnect_attempts, reconnect_delay_s) as conn:
                result.log.append("reconnected after the push")
                missing = _verify_and_save(conn, driver, backup, desired, result)
        if missing:
            shown = "; ".join(driver.mask_secrets(m) for m in missing[:5])
            tail = _check_restored(target, driver, connect, running, result, reconnect_attempts, reconnect_delay_s)
            return result.fail(f"{target.name} did not keep {len(missing)} line(s) after the push ({shown}); "
                               f"rolled back to the pre-push config{tail}", rolled_back=True)
        result.status, result.changed = ResultStatus.CHANGED, True
        result.log.append(f"pushed {len(commands)} command(s), verified and saved")
        return result
    except DeviceError as exc:
        message = exc.message
        if pushed:
            message += f"; the device restores its pre-push config by itself within {plan.revert_after_s} s"
        return result.fail(message)


# --- jobs --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DeviceWork:
    """One device of a job, ready to run without touching the database."""

    target: DeviceTarget
    driver: Driver | None
    plan: Plan | None
    problem: str | None = None


ProgressCallback = Callable[[ProvisionResult], None]

#: Default login spread per concurrent session: 50 sessions start within 1 s.
LOGIN_SPREAD_S = 0.02


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


def _now() -> datetime:
    return datetime.now(UTC)


def _persist(factory: sessionmaker[Session], actor: Actor, job_id: int, result: ProvisionResult,
             drivers: Registry[Driver], platform: str) -> None:
    with factory() as session:
        row = session.query(ProvisionResultRecord).filter_by(job_id=job_id, device_id=result.device_id).one_or_none()
        if row is None:
            return
        row.status, row.diff = result.status, result.diff
        row.log, row.error, row.finished_at = "\n".join(result.log), result.error, _now()
        if platform in drivers:
            driver = drivers.get(platform)
            if result.before is not None and result.status in (ResultStatus.CHANGED, ResultStatus.ROLLED_BACK):
                store_backup(session, result.device_id, result.before, driver, source=BackupSource.PRE_PUSH,
                             job_id=job_id)
            if result.after is not None:
                store_backup(session, result.device_id, result.after, driver, source=BackupSource.POST_PUSH,
                             job_id=job_id)
        if result.status in (ResultStatus.CHANGED, ResultStatus.ROLLED_BACK, ResultStatus.FAILED):
            audit.record(session, actor, action="provision", entity_type="device", entity_id=result.device_id,
                         summary=f"job {job_id}: {result.device_name} {result.status.value}"
                                 + (f" ({result.error})" if result.error else ""))
        session.commit()


def _mark(factory: sessionmaker[Session], job_id: int, device_id: int, status: ResultStatus,
          error: str | None = None) -> None:
    with factory() as session:
        row = session.query(ProvisionResultRecord).filter_by(job_id=job_id, device_id=device_id).one_or_none()
        if row is not None:
            row.status = status
            if status == ResultStatus.RUNNING:
                row.started_at = _now()
            else:
                row.finished_at, row.error = _now(), error
            session.commit()


def _cancelled(factory: sessionmaker[Session], job_id: int) -> bool:
    with factory() as session:
        return session.scalar(select(ProvisionJob.status).where(ProvisionJob.id == job_id)) == JobStatus.CANCELLED


def execute_job(factory: sessionmaker[Session], actor: Actor, job_id: int, work: list[DeviceWork], *,
                connect: Connector, drivers: Registry[Driver], on_progress: ProgressCallback | None = None,
                jitter_s: float = LOGIN_SPREAD_S, whole_job: bool = True) -> JobOutcome:
    """Run prepared work for a job: canary first, then the rest, ``job.concurrency`` at a time.

    ``jitter_s`` is the login spread per concurrent session (see ``login_delays``); 0 starts at once.

    With ``whole_job=False`` (one device run by its own task) the job's status and summary are left alone.
    """
    with factory() as session:
        job = session.get(ProvisionJob, job_id)
        if job is None:
            raise NotFound(f"provisioning job {job_id} does not exist")
        if whole_job and job.status != JobStatus.CANCELLED:
            job.status, job.started_at = JobStatus.RUNNING, _now()
            session.commit()
        dry_run, concurrency = job.dry_run, max(1, job.concurrency)
        canary, threshold, policy = max(0, job.canary_size), job.failure_threshold, JobPolicy(job.policy)
    stop, cancelled = threading.Event(), threading.Event()
    results: list[ProvisionResult] = []
    platforms = {w.target.device_id: w.target.platform for w in work}

    def one(item: DeviceWork, delay_s: float) -> ProvisionResult:
        t = item.target
        if delay_s > 0:
            time.sleep(delay_s)  # spreads the first wave of SSH logins
        if cancelled.is_set() or _cancelled(factory, job_id):
            cancelled.set()
            return ProvisionResult(t.device_id, t.name, status=ResultStatus.SKIPPED,
                                   error="not started: the job was cancelled", log=["skipped: the job was cancelled"])
        if stop.is_set():
            return ProvisionResult(t.device_id, t.name, status=ResultStatus.SKIPPED,
                                   error="not started: the job halted", log=["skipped: the job halted"])
        if item.problem or item.driver is None or item.plan is None:
            return ProvisionResult(t.device_id, t.name).fail(item.problem or "nothing to run")
        try:
            with device_lock(factory, t.device_id, f"job:{job_id}"):
                _mark(factory, job_id, t.device_id, ResultStatus.RUNNING)
                return run_device(t, item.plan, driver=item.driver, connect=connect, dry_run=dry_run)
        except Conflict as exc:
            return ProvisionResult(t.device_id, t.name).fail(exc.message)
        except Exception as exc:  # a bug must not leave the job hanging; record it on the device
            logger.exception("provisioning %s crashed", t.name)
            return ProvisionResult(t.device_id, t.name).fail(f"internal error: {exc!r}")

    def finish(result: ProvisionResult) -> None:
        results.append(result)
        _persist(factory, actor, job_id, result, drivers, platforms.get(result.device_id, ""))
        if on_progress is not None:
            on_progress(result)
        if result.failed and policy == JobPolicy.HALT:
            stop.set()

    def run_batch(batch: list[DeviceWork]) -> None:
        with ThreadPoolExecutor(max_workers=min(concurrency, max(1, len(batch))),
                                thread_name_prefix=f"provision-{job_id}") as pool:
            delays = login_delays(len(batch), concurrency, jitter_s)
            pending: set[Future[ProvisionResult]] = {pool.submit(one, item, delay)
                                                     for item, delay in zip(batch, delays, strict=True)}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    finish(fut.result())

    halted_reason = ""
    first, rest = (work[:canary], work[canary:]) if canary else ([], work)
    if first:
        run_batch(first)
        failed = sum(1 for r in results if r.failed)
        if failed / len(first) > threshold:
            stop.set()
            halted_reason = (f"canary: {failed} of {len(first)} device(s) failed, above the "
                             f"{threshold:.0%} threshold")
    if rest:
        run_batch(rest)
    if stop.is_set() and not halted_reason:
        halted_reason = "a device failed and the job's policy is halt"

    failures = sum(1 for r in results if r.failed)
    status = JobStatus.HALTED if stop.is_set() else (JobStatus.FAILED if failures else JobStatus.SUCCEEDED)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + (f"; halted: {halted_reason}"
                                                                          if halted_reason else "")
    with factory() as session:
        job = session.get(ProvisionJob, job_id) if whole_job else None
        if job is not None and (cancelled.is_set() or job.status == JobStatus.CANCELLED):
            status, summary = JobStatus.CANCELLED, f"{summary}; {job.summary}" if job.summary else summary
        if job is not None:
            job.status, job.finished_at, job.summary = status, _now(), summary
            audit.record(session, actor, action="run", entity_type="provision_job", entity_id=job_id,
                         summary=f"provisioning job {job_id} ({job.purpose}{', dry run' if dry_run else ''}): "
                                 f"{summary}")
            session.commit()
    order = {w.target.device_id: i for i, w in enumerate(work)}
    results.sort(key=lambda r: order.get(r.device_id, 0))
    return JobOutcome(job_id=job_id, status=status, results=results)
