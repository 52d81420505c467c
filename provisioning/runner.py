"""Runs provisioning: one device (``run_device``) and a whole job (``run_job``), returning results, not raising.

Per device: back up → render → diff → stop on dry run → arm the device's self-revert → push → reconnect
and disarm (if netmgr cannot reach the device again, it reverts by itself) → verify → save. A refused
command or a failed verify rolls the device back to its backup, and the result says so in the device's
own words. A job fans out over devices with a concurrency limit, a canary and a continue/halt policy,
and records each device's progress as it happens; after the canary, a continue-policy job may hand chunks
of its devices to other worker processes (``dispatch``) and waits for their rows before it finishes.
"""

from __future__ import annotations

import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from netmgr.errors import Conflict, DeviceError, NetmgrError, NotFound
from netmgr.models import ProvisionJob, ProvisionResultRecord
from netmgr.models.provisioning import BackupSource, JobPolicy, JobStatus, ResultStatus
from netmgr.registry import Registry
from netmgr.security.permissions import Actor
from netmgr.services import audit
from provisioning import locks
from provisioning import messages as msg
from provisioning.backups import NewBackup, add_backups
from provisioning.connections import Connector, DeviceTarget
from provisioning.diff import quiet_diff
from provisioning.drivers.base import DeviceBackup, Driver
from provisioning.messages import say
from provisioning.render import TemplateSource, render_checked
from provisioning.secrets import INVENTORY_SECRETS, SecretValues, placeholder_context, variable_secrets
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
    #: The device's inventory secrets, masked in the backups kept from ``before`` and ``after``.
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def fail(self, message: str, *, rolled_back: bool = False) -> ProvisionResult:
        self.failed, self.error, self.rolled_back = True, message, rolled_back
        self.status = ResultStatus.ROLLED_BACK if rolled_back else ResultStatus.FAILED
        self.log.append(say(msg.ERROR, message=message))
        return self


def render_for(target: DeviceTarget, plan: Plan, driver: Driver, *, reveal: bool = True) -> str:
    """The device's desired config, every line of it one ``driver`` can carry: with its real secrets for the
    push, or (``reveal=False``) with a placeholder for each, which is all a person may see.

    Raises ValidationFailed (bad or missing variable, template error, a line the driver refuses).
    """
    context = target.context if reveal else placeholder_context(target.context, INVENTORY_SECRETS)
    return render_checked(driver, plan.template, {**context, **complete(plan.variables, context.get("inventory", {}),
                                                                        reveal=reveal)})


def secrets_of(target: DeviceTarget, plan: Plan) -> SecretValues:
    """Every secret a render for ``target`` may use: the device's, its inventory's and the job's secret variables."""
    inventory = target.context.get("inventory") or {}
    return (target.secrets
            .merged({k: str(inventory[k]) for k in INVENTORY_SECRETS if inventory.get(k)})
            .merged({"ssh_password": target.password, "enable_secret": target.enable_secret})
            .merged(variable_secrets(plan.variables)))


def scrubbed(result: ProvisionResult, secrets: SecretValues) -> ProvisionResult:
    """``result`` with every secret masked by value in what people read: its diff, log and error."""
    result.diff = secrets.hide(result.diff)
    result.log = [secrets.hide(line) for line in result.log]
    result.error = secrets.hide_optional(result.error)
    return result


def _check_restored(target: DeviceTarget, driver: Driver, connect: Connector, before: str,
                    result: ProvisionResult, reconnect_attempts: int, reconnect_delay_s: float) -> str:
    """After a rollback, read the config back and say whether the device is where it started."""
    try:
        with _session(connect, target, driver, reconnect_attempts, reconnect_delay_s) as conn:
            now = driver.get_running_config(conn)
    except DeviceError as exc:
        return say(msg.NOT_READ_BACK, error=exc.message)
    if quiet_diff(driver, before, now, known=target.secrets.texts()):
        result.log.append(quiet_diff(driver, before, now, name=target.name, known=target.secrets.texts()))
        return say(msg.STILL_DIFFERS)
    result.log.append(say(msg.RESTORED))
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
    result.log.append(say(msg.DISARMED))
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

    A dry run renders and compares with placeholder secrets only (the running config's secrets replaced by
    the same placeholders), so no template can show a person a secret; only the push renders real ones.
    """
    secrets = secrets_of(target, plan)
    result = _run_device(target, plan, secrets, driver=driver, connect=connect, dry_run=dry_run,
                         reconnect_attempts=reconnect_attempts, reconnect_delay_s=reconnect_delay_s)
    return scrubbed(result, secrets)


def _run_device(target: DeviceTarget, plan: Plan, secrets: SecretValues, *, driver: Driver, connect: Connector,
                dry_run: bool, reconnect_attempts: int, reconnect_delay_s: float) -> ProvisionResult:
    known = secrets.texts()
    result = ProvisionResult(device_id=target.device_id, device_name=target.name, secrets=known)
    try:
        # Masked like the running config it is compared with, so text that happens to equal a secret matches.
        shown = secrets.hide(render_for(target, plan, driver, reveal=False))
        desired = shown if dry_run else render_for(target, plan, driver)
    except NetmgrError as exc:
        return result.fail(exc.message)
    result.log.append(say(msg.RENDERED, template=plan.template.name, lines=len(desired.splitlines())))
    pushed, reconnect, missing = False, False, []
    try:
        with connect(target, driver.netmiko_device_type) as conn:
            running = driver.get_running_config(conn)
            if dry_run:
                seen = secrets.hide(running)
                commands = driver.commands_for(seen, shown)
                result.before = running
                if not commands:
                    result.status = ResultStatus.NO_CHANGE
                    result.log.append(say(msg.COMPLIES))
                    return result
                result.status = ResultStatus.DRY_RUN
                result.diff = quiet_diff(driver, seen, driver.preview(seen, shown), name=target.name, known=known)
                result.log.append(say(msg.WOULD_PUSH, count=len(commands)))
                return result
            commands = driver.commands_for(running, desired)
            if not commands:
                result.before, result.status = running, ResultStatus.NO_CHANGE
                result.log.append(say(msg.COMPLIES))
                return result
            backup = driver.backup(conn, running)
            result.log.append(say(msg.BACKED_UP, ref=backup.ref))
            if backup.text != running:  # the driver prepared the device for the revert (e.g. an IOS archive)
                running = backup.text
                commands = driver.commands_for(running, desired)
            result.before = running
            seen = secrets.hide(running)
            result.diff = quiet_diff(driver, seen, driver.preview(seen, shown), name=target.name, known=known)
            if not commands:
                result.status = ResultStatus.NO_CHANGE
                result.log.append(say(msg.COMPLIES))
                return result
            driver.arm_revert(conn, backup, plan.revert_after_s)
            result.log.append(say(msg.ARMED, seconds=plan.revert_after_s))
            pushed = True
            output = driver.push(conn, commands)
            result.log.append(driver.mask_secrets(output.output, known))
            rejected = output.rejected
            if rejected:
                driver.rollback(conn, backup)
            else:
                reconnect = may_cut_management(driver, commands)
                if not reconnect:
                    result.log.append(say(msg.SAME_SESSION))
                    missing = _verify_and_save(conn, driver, backup, desired, result)
        if rejected:
            tail = _check_restored(target, driver, connect, running, result, reconnect_attempts, reconnect_delay_s)
            return result.fail(say(msg.REFUSED, device=target.name, rejection=driver.mask_secrets(rejected[0], known),
                                   tail=tail), rolled_back=True)
        if reconnect:
            # A fresh session proves the change left the device reachable; only then is the revert called off.
            with _session(connect, target, driver, reconnect_attempts, reconnect_delay_s) as conn:
                result.log.append(say(msg.RECONNECTED))
                missing = _verify_and_save(conn, driver, backup, desired, result)
        if missing:
            kept_out = "; ".join(driver.mask_secrets(m, known) for m in missing[:5])
            tail = _check_restored(target, driver, connect, running, result, reconnect_attempts, reconnect_delay_s)
            return result.fail(say(msg.NOT_KEPT, device=target.name, count=len(missing), lines=kept_out, tail=tail),
                               rolled_back=True)
        result.status, result.changed = ResultStatus.CHANGED, True
        result.log.append(say(msg.PUSHED, count=len(commands)))
        return result
    except DeviceError as exc:
        message = exc.message
        if pushed:
            message = say(msg.SELF_RESTORES, error=message, seconds=plan.revert_after_s)
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


_RESULTS = cast(Table, ProvisionResultRecord.__table__)
_STORE_RESULT = (update(_RESULTS)
                 .where(_RESULTS.c.job_id == bindparam("b_job"), _RESULTS.c.device_id == bindparam("b_device"))
                 .values(status=bindparam("b_status"), diff=bindparam("b_diff"), log=bindparam("b_log"),
                         error=bindparam("b_error"), finished_at=bindparam("b_finished")))
_AUDITED = (ResultStatus.CHANGED, ResultStatus.ROLLED_BACK, ResultStatus.FAILED)


def _persist(factory: sessionmaker[Session], actor: Actor, job_id: int, results: list[ProvisionResult],
             drivers: Registry[Driver], platforms: dict[int, str], holder: str) -> None:
    """Store finished devices' results, their pre/post-push backups and audit entries, and free the devices.

    All of ``results`` (the devices that finished while the previous batch was being written) go in one
    transaction, a few ``executemany`` statements in all. If that fails (a device deleted mid-job, say), each
    result is stored alone so one bad row cannot lose the others; one that still fails is logged and its
    device unlocked.
    """
    try:
        with factory() as session:
            _store(session, actor, job_id, results, drivers, platforms, holder)
            session.commit()
        return
    except Exception:
        logger.warning("job %s: storing %d result(s) together failed; storing each alone", job_id, len(results),
                       exc_info=True)
    for result in results:
        try:
            with factory() as session:
                _store(session, actor, job_id, [result], drivers, platforms, holder)
                session.commit()
        except Exception:
            logger.exception("job %s: could not store the result of %s (%s)", job_id, result.device_name,
                             result.status.value)
            locks.release(factory, result.device_id, holder)


def _store(session: Session, actor: Actor, job_id: int, results: list[ProvisionResult], drivers: Registry[Driver],
           platforms: dict[int, str], holder: str) -> None:
    now = _now()
    locks.drop(session, [r.device_id for r in results], holder)
    session.execute(_STORE_RESULT, [
        {"b_job": job_id, "b_device": r.device_id, "b_status": r.status.value, "b_diff": r.diff,
         "b_log": "\n".join(r.log), "b_error": r.error, "b_finished": now} for r in results])
    keep: list[NewBackup] = []
    for r in results:
        platform = platforms.get(r.device_id, "")
        if platform not in drivers:
            continue
        driver = drivers.get(platform)
        if r.before is not None and r.status in (ResultStatus.CHANGED, ResultStatus.ROLLED_BACK):
            keep.append(NewBackup(r.device_id, driver, r.before, BackupSource.PRE_PUSH, r.secrets))
        if r.after is not None:
            keep.append(NewBackup(r.device_id, driver, r.after, BackupSource.POST_PUSH, r.secrets))
    add_backups(session, keep, job_id=job_id)
    audit.record_many(session, actor, [
        ("provision", "device", r.device_id, "device.provisioned",
         {"job": job_id, "name": r.device_name, "result": r.status.value})
        for r in results if r.status in _AUDITED])


_JOBS = cast(Table, ProvisionJob.__table__)
_JOB_STATUS = select(_JOBS.c.status).where(_JOBS.c.id == bindparam("b_job"))
# Claims a pending result unless the job was cancelled: the cancel check and the running mark in one statement.
_CLAIM = (update(_RESULTS)
          .where(_RESULTS.c.job_id == bindparam("b_job"), _RESULTS.c.device_id == bindparam("b_device"),
                 _RESULTS.c.status == ResultStatus.PENDING.value,
                 _JOB_STATUS.scalar_subquery() != JobStatus.CANCELLED.value)
          .values(status=ResultStatus.RUNNING.value, started_at=bindparam("b_now")))


def job_status(results: list[ProvisionResult]) -> JobStatus:
    """A finished job's status: succeeded when no device failed, partly done when some did and others finished
    (one unreachable access point does not make the whole job a failure), failed when none finished well."""
    failures = sum(1 for r in results if r.failed)
    if not failures:
        return JobStatus.SUCCEEDED
    finished_well = sum(1 for r in results if not r.failed and r.status != ResultStatus.SKIPPED)
    return JobStatus.PARTLY_DONE if finished_well else JobStatus.FAILED


def _claim(factory: sessionmaker[Session], job_id: int, device_id: int, holder: str) -> str | None:
    """Take a device's pending result and the device's lock for this run, in one transaction.

    Returns None when claimed, ``"cancelled"`` when the job was cancelled, ``"taken"`` when another process
    (a chunk task, or the coordinator taking over a chunk nobody started) already has it. The lock is
    released by ``_persist`` with the device's result.

    Raises:
        Conflict: another run holds the device; the result is claimed, so it is stored as failed with this.
    """
    for attempt in range(2):
        with factory() as session:
            claimed = session.execute(_CLAIM, {"b_job": job_id, "b_device": device_id, "b_now": _now()})
            if getattr(claimed, "rowcount", 0) != 1:
                session.rollback()
                cancelled = session.scalar(_JOB_STATUS, {"b_job": job_id}) == JobStatus.CANCELLED.value
                return "cancelled" if cancelled else "taken"
            try:
                busy = locks.take(session, device_id, holder)
                session.commit()
            except IntegrityError:  # another process locked the device between our read and our insert
                session.rollback()
                if attempt == 0:
                    continue
                raise
        if busy is not None:
            raise Conflict(say(msg.BUSY, device=device_id, holder=busy))
        return None
    raise AssertionError("unreachable")


#: Result statuses of a device that is not finished yet.
UNFINISHED = (ResultStatus.PENDING, ResultStatus.RUNNING)

#: How long a dispatched chunk may sit unstarted before the coordinator runs its devices itself
#: (e.g. a worker started with one process, busy with the coordinator).
CHUNK_START_TIMEOUT_S = 30.0

#: How long the coordinator waits without any dispatched device finishing before it gives up on them.
CHUNK_STALL_TIMEOUT_S = 900.0


def _stored_results(factory: sessionmaker[Session], job_id: int, device_ids: list[int]) -> dict[int, ResultStatus]:
    with factory() as session:
        rows = session.execute(select(ProvisionResultRecord.device_id, ProvisionResultRecord.status)
                               .where(ProvisionResultRecord.job_id == job_id,
                                      ProvisionResultRecord.device_id.in_(device_ids)))
        return {int(d): ResultStatus(s) for d, s in rows if d is not None}


def _result_from_row(row: ProvisionResultRecord) -> ProvisionResult:
    status = ResultStatus(row.status)
    failed = status in (ResultStatus.FAILED, ResultStatus.ROLLED_BACK)
    return ProvisionResult(int(row.device_id or 0), row.device_name, status=status,
                           changed=status == ResultStatus.CHANGED, diff=row.diff or "", failed=failed,
                           error=row.error, rolled_back=status == ResultStatus.ROLLED_BACK)


def _load_results(factory: sessionmaker[Session], job_id: int, device_ids: list[int]) -> list[ProvisionResult]:
    with factory() as session:
        rows = session.scalars(select(ProvisionResultRecord)
                               .where(ProvisionResultRecord.job_id == job_id,
                                      ProvisionResultRecord.device_id.in_(device_ids)))
        return [_result_from_row(r) for r in rows]


def _give_up(factory: sessionmaker[Session], job_id: int, device_ids: list[int], message: str) -> None:
    with factory() as session:
        session.execute(update(ProvisionResultRecord)
                        .where(ProvisionResultRecord.job_id == job_id,
                               ProvisionResultRecord.device_id.in_(device_ids),
                               ProvisionResultRecord.status.in_(UNFINISHED))
                        .values(status=ResultStatus.FAILED, error=message, finished_at=_now()))
        session.commit()


#: Sends a chunk of a job's device ids to another worker process, with the SSH sessions it may open.
Dispatch = Callable[[list[int], int], None]


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

    With ``whole_job=False`` (a chunk or one device run by its own task) there is no canary and the job's
    status and summary are left alone; ``sessions`` then overrides ``job.concurrency``.
    """
    with factory() as session:
        job = session.get(ProvisionJob, job_id)
        if job is None:
            raise NotFound(f"provisioning job {job_id} does not exist")
        if whole_job and job.status != JobStatus.CANCELLED:
            job.status, job.started_at = JobStatus.RUNNING, _now()
            session.commit()
        dry_run, concurrency = job.dry_run, max(1, sessions or job.concurrency)
        canary = max(0, job.canary_size) if whole_job else 0
        threshold, policy = job.failure_threshold, JobPolicy(job.policy)
    start_timeout_s = CHUNK_START_TIMEOUT_S if chunk_start_timeout_s is None else chunk_start_timeout_s
    stop, cancelled = threading.Event(), threading.Event()
    results: list[ProvisionResult] = []
    platforms = {w.target.device_id: w.target.platform for w in work}
    holder = f"job:{job_id}"

    def one(item: DeviceWork, delay_s: float) -> ProvisionResult | None:
        t = item.target
        if delay_s > 0:
            time.sleep(delay_s)  # spreads the first wave of SSH logins
        if cancelled.is_set():
            return ProvisionResult(t.device_id, t.name, status=ResultStatus.SKIPPED,
                                   error=say(msg.NOT_STARTED_CANCELLED), log=[say(msg.SKIPPED_CANCELLED)])
        if stop.is_set():
            return ProvisionResult(t.device_id, t.name, status=ResultStatus.SKIPPED,
                                   error=say(msg.NOT_STARTED_HALTED), log=[say(msg.SKIPPED_HALTED)])
        if item.problem or item.driver is None or item.plan is None:
            return ProvisionResult(t.device_id, t.name).fail(item.problem or say(msg.NOTHING_TO_RUN))
        try:
            refused = _claim(factory, job_id, t.device_id, holder)
            if refused == "cancelled":
                cancelled.set()
                return ProvisionResult(t.device_id, t.name, status=ResultStatus.SKIPPED,
                                       error=say(msg.NOT_STARTED_CANCELLED),
                                       log=[say(msg.SKIPPED_CANCELLED)])
            if refused is not None:
                return None  # another process runs (or ran) this device and records its result
            return run_device(t, item.plan, driver=item.driver, connect=connect, dry_run=dry_run)
        except Conflict as exc:
            return ProvisionResult(t.device_id, t.name).fail(exc.message)
        except Exception as exc:  # a bug must not leave the job hanging; record it on the device
            logger.exception("provisioning %s crashed", t.name)
            failed = ProvisionResult(t.device_id, t.name).fail(say(msg.INTERNAL, error=repr(exc)))
            return failed if item.plan is None else scrubbed(failed, secrets_of(t, item.plan))

    def finish(done: list[ProvisionResult | None]) -> None:
        finished = [r for r in done if r is not None]
        if not finished:
            return
        results.extend(finished)
        _persist(factory, actor, job_id, finished, drivers, platforms, holder)
        for result in finished:
            if on_progress is not None:
                on_progress(result)
            if result.failed and policy == JobPolicy.HALT:
                stop.set()

    def run_batch(batch: list[DeviceWork], limit: int) -> None:
        with ThreadPoolExecutor(max_workers=min(limit, max(1, len(batch))),
                                thread_name_prefix=f"provision-{job_id}") as pool:
            delays = login_delays(len(batch), limit, jitter_s)
            pending: set[Future[ProvisionResult | None]] = {pool.submit(one, item, delay)
                                                            for item, delay in zip(batch, delays, strict=True)}
            while pending:
                # Devices that finish while one batch is being stored are stored together in the next.
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                finish([fut.result() for fut in done])

    def run_spread(batch: list[DeviceWork], send: Dispatch) -> None:
        """Dispatch all chunks but the last, run the last here, then collect the dispatched devices."""
        per = math.ceil(len(batch) / parts)
        chunks = [batch[i:i + per] for i in range(0, len(batch), per)]
        share = max(1, math.ceil(concurrency / len(chunks)))
        remote = [w for chunk in chunks[:-1] for w in chunk]
        for chunk in chunks[:-1]:
            send([w.target.device_id for w in chunk], share)
        started = time.monotonic()
        run_batch(chunks[-1], share)
        by_id = {w.target.device_id: w for w in remote}
        ids = list(by_id)
        last_change, seen = time.monotonic(), _stored_results(factory, job_id, ids)
        while True:
            stored = _stored_results(factory, job_id, ids)
            if not any(s in UNFINISHED for s in stored.values()):
                break
            now = time.monotonic()
            if stored != seen:
                last_change, seen = now, stored
            unstarted = [by_id[d] for d, s in stored.items() if s == ResultStatus.PENDING]
            if unstarted and now - started > start_timeout_s and now - last_change > start_timeout_s:
                logger.warning("job %s: %d dispatched device(s) not started after %.0f s; running them here",
                               job_id, len(unstarted), start_timeout_s)
                run_batch(unstarted, concurrency)
                continue
            if now - last_change > CHUNK_STALL_TIMEOUT_S:
                _give_up(factory, job_id, ids, say(msg.WORKER_LOST, seconds=f"{CHUNK_STALL_TIMEOUT_S:.0f}"))
                break
            time.sleep(0.2)
        known = {r.device_id for r in results}
        for result in _load_results(factory, job_id, ids):
            if result.device_id not in known:
                results.append(result)
                if on_progress is not None:
                    on_progress(result)

    halted_reason = ""
    first, rest = (work[:canary], work[canary:]) if canary else ([], work)
    if first:
        run_batch(first, concurrency)
        failed = sum(1 for r in results if r.failed)
        if failed / len(first) > threshold:
            stop.set()
            halted_reason = say(msg.CANARY, failed=failed, count=len(first), threshold=f"{threshold:.0%}")
    if rest and dispatch is not None and parts > 1 and policy == JobPolicy.CONTINUE and not stop.is_set() \
            and len(rest) >= parts:
        run_spread(rest, dispatch)
    elif rest:
        run_batch(rest, concurrency)
    if stop.is_set() and not halted_reason:
        halted_reason = say(msg.POLICY_HALT)

    status = JobStatus.HALTED if stop.is_set() else job_status(results)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status.value] = counts.get(r.status.value, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + (
        "; " + say(msg.HALTED, reason=halted_reason) if halted_reason else "")
    with factory() as session:
        job = session.get(ProvisionJob, job_id) if whole_job else None
        if job is not None and (cancelled.is_set() or job.status == JobStatus.CANCELLED):
            status, summary = JobStatus.CANCELLED, f"{summary}; {job.summary}" if job.summary else summary
        if job is not None:
            job.status, job.finished_at, job.summary = status, _now(), summary
            audit.record(session, actor, action="run", entity_type="provision_job", entity_id=job_id,
                         message="provision_job.dry_ran" if dry_run else "provision_job.ran",
                         params={"job": job_id, "purpose": job.purpose, "status": status.value})
            session.commit()
    order = {w.target.device_id: i for i, w in enumerate(work)}
    results.sort(key=lambda r: order.get(r.device_id, 0))
    return JobOutcome(job_id=job_id, status=status, results=results)
