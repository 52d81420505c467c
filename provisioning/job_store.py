"""Where a provisioning job's per-device rows are claimed, stored and read back (one home for that SQL).

A device is claimed (its pending result marked running and its lock taken) before it runs; its finished result,
its pre/post-push backups and its audit entry are stored together, and its lock freed. The orchestrator reads the
rows back to follow devices another process runs, and gives up on devices whose process was lost.
"""

from __future__ import annotations

import logging
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from netmgr.errors import Conflict
from netmgr.models import ProvisionJob, ProvisionResultRecord
from netmgr.models.base import utcnow
from netmgr.models.provisioning import BackupSource, JobStatus, ResultStatus
from netmgr.registry import Registry
from netmgr.security.permissions import Actor
from netmgr.services import audit
from provisioning import locks
from provisioning import messages as msg
from provisioning.backups import NewBackup, add_backups
from provisioning.drivers.base import Driver
from provisioning.messages import say
from provisioning.runner import ProvisionResult

logger = logging.getLogger(__name__)


_RESULTS = cast(Table, ProvisionResultRecord.__table__)
_STORE_RESULT = (update(_RESULTS)
                 .where(_RESULTS.c.job_id == bindparam("b_job"), _RESULTS.c.device_id == bindparam("b_device"))
                 .values(status=bindparam("b_status"), diff=bindparam("b_diff"), log=bindparam("b_log"),
                         error=bindparam("b_error"), finished_at=bindparam("b_finished")))
_AUDITED = (ResultStatus.CHANGED, ResultStatus.ROLLED_BACK, ResultStatus.FAILED)


def persist(factory: sessionmaker[Session], actor: Actor, job_id: int, results: list[ProvisionResult],
             drivers: Registry[Driver], platforms: dict[int, str], holder: str) -> None:
    """Store finished devices' results, their pre/post-push backups and audit entries, and free the devices.

    All of ``results`` (the devices that finished while the previous batch was being written) go in one
    transaction, a few ``executemany`` statements in all. If that fails (a device deleted mid-job, say), each
    result is stored alone so one bad row cannot lose the others; one that still fails is logged and its
    device unlocked.
    """
    try:
        with factory() as session:
            _write(session, actor, job_id, results, drivers, platforms, holder)
            session.commit()
        return
    except Exception:
        logger.warning("job %s: storing %d result(s) together failed; storing each alone", job_id, len(results),
                       exc_info=True)
    for result in results:
        try:
            with factory() as session:
                _write(session, actor, job_id, [result], drivers, platforms, holder)
                session.commit()
        except Exception:
            logger.exception("job %s: could not store the result of %s (%s)", job_id, result.device_name,
                             result.status.value)
            locks.release(factory, result.device_id, holder)


def _write(session: Session, actor: Actor, job_id: int, results: list[ProvisionResult], drivers: Registry[Driver],
           platforms: dict[int, str], holder: str) -> None:
    now = utcnow()
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


def claim(factory: sessionmaker[Session], job_id: int, device_id: int, holder: str) -> str | None:
    """Take a device's pending result and the device's lock for this run, in one transaction.

    Returns None when claimed, ``"cancelled"`` when the job was cancelled, ``"taken"`` when another process
    (a chunk task, or the coordinator taking over a chunk nobody started) already has it. The lock is
    released by ``persist`` with the device's result.

    Raises:
        Conflict: another run holds the device; the result is claimed, so it is stored as failed with this.
    """
    for attempt in range(2):
        with factory() as session:
            claimed = session.execute(_CLAIM, {"b_job": job_id, "b_device": device_id, "b_now": utcnow()})
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

def stored_statuses(factory: sessionmaker[Session], job_id: int, device_ids: list[int]) -> dict[int, ResultStatus]:
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


def load_results(factory: sessionmaker[Session], job_id: int, device_ids: list[int]) -> list[ProvisionResult]:
    with factory() as session:
        rows = session.scalars(select(ProvisionResultRecord)
                               .where(ProvisionResultRecord.job_id == job_id,
                                      ProvisionResultRecord.device_id.in_(device_ids)))
        return [_result_from_row(r) for r in rows]


def give_up(factory: sessionmaker[Session], job_id: int, device_ids: list[int], message: str) -> None:
    with factory() as session:
        session.execute(update(ProvisionResultRecord)
                        .where(ProvisionResultRecord.job_id == job_id,
                               ProvisionResultRecord.device_id.in_(device_ids),
                               ProvisionResultRecord.status.in_(UNFINISHED))
                        .values(status=ResultStatus.FAILED, error=message, finished_at=utcnow()))
        session.commit()
