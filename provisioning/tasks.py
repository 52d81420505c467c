"""Celery tasks for provisioning: thin, take IDs, return quietly when the row is gone (queue ``provisioning``).

``provisioning.backup_all`` (scheduled by beat, by name) fans out one ``provisioning.backup_device`` per device.
``provisioning.run_job`` runs a job's canary, then spreads the rest over ``celery.worker_concurrency`` processes:
it sends ``provisioning.run_chunk`` tasks (some devices of a job, one or many) for all chunks but one, runs that
one, and finishes the job.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from sqlalchemy import select

from netmgr.errors import DeviceError, NotFound, ValidationFailed
from netmgr.models import Device
from netmgr.models.provisioning import BackupSource
from netmgr.security.permissions import SYSTEM
from netmgr.task_resources import task_resources
from provisioning import backups, jobs
from provisioning.connections import NetmikoConnector
from provisioning.drivers import default_drivers
from provisioning.orchestrator import JobOutcome

logger = logging.getLogger(__name__)


def _outcome(outcome: JobOutcome) -> dict[str, Any]:
    return {"job_id": outcome.job_id, "status": outcome.status.value,
            "results": [{"device_id": r.device_id, "device": r.device_name, "status": r.status.value,
                         "error": r.error} for r in outcome.results]}


def _run(job_id: int, **how: Any) -> dict[str, Any] | None:
    """Run a job (or some of its devices) with this process's resources; None when the job is gone."""
    state = task_resources().state
    try:
        outcome = jobs.run_job(state.session_factory, SYSTEM, job_id, drivers=default_drivers(),
                               connect=NetmikoConnector(), settings=state.settings, **how)
    except NotFound:
        logger.info("provisioning job %s is gone; nothing to run", job_id)
        return None
    except ValidationFailed as exc:
        return {"job_id": job_id, "status": "refused", "error": exc.message}
    return _outcome(outcome)


@shared_task(name="provisioning.run_job", bind=True, ignore_result=False)  # type: ignore[untyped-decorator]
def run_job_task(self: Any, job_id: int) -> dict[str, Any] | None:
    """Run a whole job: the canary here, then the rest spread over the worker's processes (a prefork worker
    with one process per core runs the chunks in parallel; called directly, the job runs here alone)."""

    def dispatch(device_ids: list[int], sessions: int) -> None:
        self.app.send_task("provisioning.run_chunk", args=[job_id, device_ids, sessions])

    if self.request.called_directly:
        return _run(job_id)
    return _run(job_id, dispatch=dispatch, parts=task_resources().settings.celery.worker_concurrency)


@shared_task(name="provisioning.run_chunk", ignore_result=False)  # type: ignore[untyped-decorator]
def run_chunk_task(job_id: int, device_ids: list[int], sessions: int | None = None) -> dict[str, Any] | None:
    """Run some devices of a job (one or many) with ``sessions`` SSH sessions (default: the job's concurrency);
    the job's status is left to ``provisioning.run_job``, which finishes it."""
    return _run(job_id, device_ids=[int(d) for d in device_ids], sessions=sessions)


@shared_task(name="provisioning.backup_device", ignore_result=False)  # type: ignore[untyped-decorator]
def backup_device_task(device_id: int, source: str = BackupSource.SCHEDULED.value) -> dict[str, Any] | None:
    """Back up one device's running config; a device that cannot be reached is reported, not retried."""
    state = task_resources().state
    try:
        with state.session_factory() as session:
            row = backups.take_backup(session, state.session_factory, SYSTEM, device_id, drivers=default_drivers(),
                                      connect=NetmikoConnector(), source=BackupSource(source))
            session.commit()
            return {"device_id": device_id, "backup_id": row.id, "sha256": row.sha256}
    except NotFound:
        return None
    except DeviceError as exc:
        return {"device_id": device_id, "error": exc.message}


@shared_task(name="provisioning.backup_all", bind=True, ignore_result=False)  # type: ignore[untyped-decorator]
def backup_all_task(self: Any) -> dict[str, int]:
    """Queue a scheduled backup of every device whose platform has a driver."""
    state = task_resources().state
    known = default_drivers().names()
    with state.session_factory() as session:
        ids = list(session.scalars(select(Device.id).where(Device.platform.in_(known)).order_by(Device.id)))
    for device_id in ids:
        self.app.send_task("provisioning.backup_device", args=[device_id, BackupSource.SCHEDULED.value])
    return {"queued": len(ids)}
