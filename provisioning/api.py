"""/api/v1/provisioning: config templates, jobs with live per-device progress, backups and drift (JSON).

Request → one service in ``provisioning.jobs`` / ``render`` / ``backups`` → read schema. Work that talks to
devices (running a job, taking a backup) is sent to Celery by task name through ``netmgr.api.deps.DispatchDep``
(after the commit; tests may set ``app.state.task_dispatch``), so no request waits on SSH.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from netmgr.api.deps import CurrentActor, DispatchDep, Limit, Offset, SessionDep, SettingsDep, get_state, require
from netmgr.errors import NotFound
from netmgr.models import ConfigBackup, ConfigTemplate, ProvisionJob
from netmgr.models.provisioning import BackupSource, JobStatus
from netmgr.schemas.common import Page
from netmgr.security.permissions import Actor, Permission
from provisioning import backups, jobs
from provisioning.access import require_config_read
from provisioning.drivers import default_drivers
from provisioning.jobs import RUN_JOB_TASK
from provisioning.render import get_template, list_templates, save_template, shipped_template, shipped_templates
from provisioning.variables import PURPOSES, mask_for_display

BACKUP_DEVICE_TASK = "provisioning.backup_device"
PLATFORMS = ("mikrotik_routeros", "cisco_ios", "linux")

router = APIRouter(prefix="/api/v1/provisioning", tags=["provisioning"])




def _config_reader(actor: CurrentActor) -> Actor:
    require_config_read(actor)
    return actor


# Checked before the body is read, so a role without the permission gets 403, not a validation error.
ConfigReader = Annotated[Actor, Depends(_config_reader)]
NetworkChanger = Annotated[Actor, require(Permission.NETWORK_CHANGE)]


# --- schemas -------------------------------------------------------------------------------------------

def _check_platform(value: str) -> str:
    if value not in PLATFORMS:
        raise ValueError(f"unknown platform {value!r}; known: {', '.join(PLATFORMS)}")
    return value


def _check_purpose(value: str) -> str:
    if value not in PURPOSES:
        raise ValueError(f"unknown purpose {value!r}; known: {', '.join(sorted(PURPOSES))}")
    return value


class TemplateSave(BaseModel):
    """A new template, or a new version of the one with the same name and platform."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")
    platform: str
    purpose: str
    body: str = Field(min_length=1, max_length=200_000)
    description: str = Field(default="", max_length=2000)

    _platform = field_validator("platform")(_check_platform)
    _purpose = field_validator("purpose")(_check_purpose)


class TemplateEdit(BaseModel):
    """A new version of a stored template (its name and platform stay)."""

    body: str = Field(min_length=1, max_length=200_000)
    purpose: str | None = None
    description: str = Field(default="", max_length=2000)

    @field_validator("purpose")
    @classmethod
    def _purpose(cls, value: str | None) -> str | None:
        return None if value is None else _check_purpose(value)


class TemplateVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int
    body: str
    created_at: datetime
    created_by: str


class TemplateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    platform: str
    purpose: str
    version: int
    description: str
    body: str
    updated_at: datetime | None = None


class TemplateDetail(TemplateRead):
    versions: list[TemplateVersionRead]


class ShippedTemplate(BaseModel):
    platform: str
    purpose: str
    path: str


class ShippedTemplateBody(ShippedTemplate):
    body: str


class TemplateList(BaseModel):
    stored: list[TemplateRead]
    shipped: list[ShippedTemplate]


class PreviewRequest(BaseModel):
    """Render for one device: an unsaved ``body``, a stored ``template_id``, or (neither) the shipped one."""

    device_id: int
    purpose: str
    variables: dict[str, Any] = Field(default_factory=dict)
    template_id: int | None = None
    body: str | None = Field(default=None, max_length=200_000)


class PreviewRead(BaseModel):
    device_id: int
    device_name: str
    template: str
    rendered: str
    diff: str
    backup_id: int | None


class ResultRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    device_id: int | None
    device_name: str
    status: str
    diff: str
    log: str
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None


class JobSummary(BaseModel):
    id: int
    purpose: str
    template_name: str
    targets: dict[str, Any]
    dry_run: bool
    status: str
    policy: str
    canary_size: int
    failure_threshold: float
    concurrency: int
    created_by: str
    approved_by: str | None
    created_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    summary: str
    counts: dict[str, int]
    done: bool


class JobRead(JobSummary):
    variables: dict[str, Any]
    results: list[ResultRead]


class JobCopy(BaseModel):
    dry_run: bool = True


class BackupRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    device_id: int
    taken_at: datetime
    sha256: str
    source: str
    job_id: int | None


class BackupText(BackupRead):
    text: str


class BackupDiff(BaseModel):
    older_id: int
    newer_id: int
    diff: str


class BackupQueued(BaseModel):
    device_id: int
    queued: bool = True
    task: str = BACKUP_DEVICE_TASK


class DriftRead(BaseModel):
    device_id: int
    device_name: str
    pushed_backup_id: int
    pushed_at: datetime
    latest_backup_id: int
    latest_at: datetime
    diff: str


def _summary(job: ProvisionJob) -> dict[str, Any]:
    return {
        "id": job.id, "purpose": job.purpose, "template_name": job.template_name, "targets": job.targets,
        "dry_run": job.dry_run, "status": str(job.status), "policy": str(job.policy),
        "canary_size": job.canary_size, "failure_threshold": job.failure_threshold, "concurrency": job.concurrency,
        "created_by": job.created_by, "approved_by": job.approved_by, "created_at": job.created_at,
        "started_at": job.started_at, "finished_at": job.finished_at, "summary": job.summary,
        "counts": jobs.result_counts(job), "done": job.status in jobs.FINISHED,
    }


def job_read(job: ProvisionJob) -> JobRead:
    results = [ResultRead.model_validate(r) for r in job.results]
    return JobRead(**_summary(job), variables=mask_for_display(job.variables), results=results)


def _template_read(row: ConfigTemplate) -> TemplateRead:
    return TemplateRead.model_validate(row)


def _backup_read(row: ConfigBackup) -> BackupRead:
    return BackupRead.model_validate(row)


# --- templates -----------------------------------------------------------------------------------------

@router.get("/templates", response_model=TemplateList)
def list_config_templates(session: SessionDep, actor: ConfigReader) -> TemplateList:
    shipped = [ShippedTemplate(platform=p, purpose=u, path=f"provisioning/templates/{p}/{u}.j2")
               for p, u in shipped_templates()]
    return TemplateList(stored=[_template_read(r) for r in list_templates(session, actor)], shipped=shipped)


@router.get("/templates/shipped/{platform}/{purpose}", response_model=ShippedTemplateBody)
def get_shipped_template(platform: str, purpose: str, actor: ConfigReader) -> ShippedTemplateBody:
    found = shipped_template(platform, purpose)
    if found is None:
        raise NotFound(f"no shipped {purpose!r} template for platform {platform!r}")
    return ShippedTemplateBody(platform=platform, purpose=purpose, path=f"provisioning/templates/{found.name}",
                               body=found.body)


@router.post("/templates", response_model=TemplateDetail, status_code=status.HTTP_201_CREATED)
def save_config_template(data: TemplateSave, session: SessionDep, actor: NetworkChanger) -> TemplateDetail:
    row = save_template(session, actor, name=data.name, platform=data.platform, purpose=data.purpose,
                        body=data.body, drivers=default_drivers(), description=data.description)
    session.refresh(row)
    return TemplateDetail.model_validate(row)


@router.get("/templates/{template_id}", response_model=TemplateDetail)
def get_config_template(template_id: int, session: SessionDep, actor: ConfigReader) -> TemplateDetail:
    return TemplateDetail.model_validate(get_template(session, actor, template_id))


@router.put("/templates/{template_id}", response_model=TemplateDetail)
def edit_config_template(template_id: int, data: TemplateEdit, session: SessionDep,
                         actor: NetworkChanger) -> TemplateDetail:
    row = get_template(session, actor, template_id)
    purpose = data.purpose or row.purpose
    saved = save_template(session, actor, name=row.name, platform=row.platform, purpose=purpose, body=data.body,
                          drivers=default_drivers(), description=data.description)
    session.refresh(saved)
    return TemplateDetail.model_validate(saved)


@router.post("/templates/preview", response_model=PreviewRead)
def preview_config_template(data: PreviewRequest, request: Request, session: SessionDep,
                            actor: NetworkChanger) -> PreviewRead:
    """The rendered text for a device and its diff against the device's newest backup (no SSH)."""
    preview = jobs.preview_render(session, actor, device_id=data.device_id, purpose=data.purpose,
                                  variables=data.variables, drivers=default_drivers(),
                                  settings=get_state(request).settings, template_id=data.template_id,
                                  body=data.body)
    return PreviewRead(**preview.__dict__)


# --- jobs ----------------------------------------------------------------------------------------------

@router.get("/jobs", response_model=Page[JobSummary])
def list_provision_jobs(session: SessionDep, actor: ConfigReader, status: JobStatus | None = None,
                        offset: Offset = 0, limit: Limit = 50) -> Page[JobSummary]:
    rows, total = jobs.list_jobs(session, actor, status=status, offset=offset, limit=limit)
    return Page[JobSummary](items=[JobSummary(**_summary(r)) for r in rows], total=total, offset=offset,
                            limit=limit)


@router.post("/jobs", response_model=JobRead, status_code=status.HTTP_201_CREATED)
def create_provision_job(data: jobs.JobCreate, session: SessionDep, actor: NetworkChanger,
                         dispatch: DispatchDep) -> JobRead:
    """Record a job. A dry run starts at once (it changes nothing); a real one waits for approval and a run."""
    job = jobs.start_job(session, actor, data, dispatch=dispatch)
    session.commit()
    return job_read(jobs.get_job(session, actor, job.id))


@router.get("/jobs/{job_id}", response_model=JobRead)
def get_provision_job(job_id: int, session: SessionDep, actor: ConfigReader) -> JobRead:
    """The job with every device's status, diff, log and error as they are now (poll it for live progress)."""
    return job_read(jobs.get_job(session, actor, job_id))


@router.post("/jobs/{job_id}/approve", response_model=JobRead)
def approve_provision_job(job_id: int, session: SessionDep, actor: NetworkChanger) -> JobRead:
    return job_read(jobs.approve_job(session, actor, job_id))


@router.post("/jobs/{job_id}/run", response_model=JobRead, status_code=status.HTTP_202_ACCEPTED)
def run_provision_job(job_id: int, session: SessionDep, actor: NetworkChanger, dispatch: DispatchDep) -> JobRead:
    job = jobs.queue_job(session, actor, job_id)
    session.commit()
    dispatch(RUN_JOB_TASK, kwargs={"job_id": job.id})
    return job_read(jobs.get_job(session, actor, job_id))


@router.post("/jobs/{job_id}/cancel", response_model=JobRead)
def cancel_provision_job(job_id: int, session: SessionDep, actor: NetworkChanger) -> JobRead:
    return job_read(jobs.cancel_job(session, actor, job_id))


@router.post("/jobs/{job_id}/copy", response_model=JobRead, status_code=status.HTTP_201_CREATED)
def copy_provision_job(job_id: int, data: JobCopy, session: SessionDep, actor: NetworkChanger,
                       dispatch: DispatchDep) -> JobRead:
    """The same change again as a new job: the real run after a dry-run preview, or a re-run."""
    job = jobs.copy_job(session, actor, job_id, dry_run=data.dry_run)
    if data.dry_run:
        jobs.queue_job(session, actor, job.id)
    session.commit()
    if data.dry_run:
        dispatch(RUN_JOB_TASK, kwargs={"job_id": job.id})
    return job_read(jobs.get_job(session, actor, job.id))


# --- backups and drift ---------------------------------------------------------------------------------

@router.get("/devices/{device_id}/backups", response_model=Page[BackupRead])
def list_device_backups(device_id: int, session: SessionDep, actor: ConfigReader, offset: Offset = 0,
                        limit: Limit = 50) -> Page[BackupRead]:
    rows = backups.backup_history(session, actor, device_id, limit=offset + limit)
    return Page[BackupRead](items=[_backup_read(r) for r in rows[offset:]], total=len(rows), offset=offset,
                            limit=limit)


@router.post("/devices/{device_id}/backups", response_model=BackupQueued, status_code=status.HTTP_202_ACCEPTED)
def take_device_backup(device_id: int, session: SessionDep, actor: NetworkChanger,
                       dispatch: DispatchDep) -> BackupQueued:
    """Queue a backup of the device now (``provisioning.backup_device``); it appears in the list when done."""
    backups.backup_history(session, actor, device_id, limit=1)  # 404 for a device the actor cannot see
    dispatch(BACKUP_DEVICE_TASK, kwargs={"device_id": device_id, "source": BackupSource.ON_DEMAND.value})
    return BackupQueued(device_id=device_id)


@router.get("/backups/{backup_id}", response_model=BackupText)
def get_config_backup(backup_id: int, session: SessionDep, actor: ConfigReader) -> BackupText:
    row = backups.get_backup(session, actor, backup_id)
    return BackupText(**_backup_read(row).model_dump(), text=backups.backup_text(session, row))


@router.get("/backups/{backup_id}/diff", response_model=BackupDiff)
def diff_config_backups(backup_id: int, session: SessionDep, actor: ConfigReader, settings: SettingsDep,
                        against: Annotated[int | None, Query(description="the other backup (default: the one "
                                                                             "before this)")] = None) -> BackupDiff:
    row = backups.get_backup(session, actor, backup_id)
    other = backups.get_backup(session, actor, against) if against is not None else backups.previous_backup(
        session, row)
    if other is None:
        return BackupDiff(older_id=row.id, newer_id=row.id, diff="")
    older, newer = sorted((row, other), key=lambda b: (b.taken_at, b.id))
    return BackupDiff(older_id=older.id, newer_id=newer.id, diff=backups.diff_backups(session, older, newer,
                                                                                     tz=settings.timezone))


@router.get("/drift", response_model=list[DriftRead])
def list_drift(session: SessionDep, actor: ConfigReader, settings: SettingsDep) -> list[DriftRead]:
    """Devices whose running config no longer matches what netmgr last pushed."""
    return [DriftRead(device_id=d.device_id, device_name=d.device_name, pushed_backup_id=d.pushed.id,
                      pushed_at=d.pushed.taken_at, latest_backup_id=d.latest.id, latest_at=d.latest.taken_at,
                      diff=backups.diff_backups(session, d.pushed, d.latest, tz=settings.timezone))
            for d in backups.find_drift(session, actor)]
