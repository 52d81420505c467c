"""Provisioning jobs as a service: create (validated, audited), resolve targets, run, read results.

Transports (CLI, Celery tasks, later the API) call these; they hold the business rules.
Targets are a JSON spec: ``{"devices": [...], "sites": [...], "agencies": [...], "roles": [...],
"tags": [...]}`` — within a key any value matches, across keys all must (e.g. access points at one site).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload, sessionmaker

from netmgr.db import TaskSender, secret_box
from netmgr.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from netmgr.models import Agency, Device, ProvisionJob, ProvisionResultRecord, Site, Tag, Uplink
from netmgr.models.enums import Role
from netmgr.models.provisioning import FINISHED_JOB_STATUSES, JobPolicy, JobStatus, ResultStatus
from netmgr.registry import Registry
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit
from netmgr.services.devices import device_credentials, get_device
from netmgr.settings import Settings
from provisioning.access import require_config_read, require_template_preview
from provisioning.backups import backup_text, latest_backup
from provisioning.connections import Connector, target_for
from provisioning.diff import quiet_diff
from provisioning.drivers import driver_for
from provisioning.drivers.base import Driver
from provisioning.orchestrator import LOGIN_SPREAD_S, Dispatch, JobOutcome, execute_job
from provisioning.render import TemplateSource, find_template, get_template
from provisioning.runner import DeviceWork, Plan, ProgressCallback, render_for, secrets_of
from provisioning.variables import dump_for_storage, load_from_storage, validate_variables

TARGET_KEYS = ("devices", "sites", "agencies", "roles", "tags")
RUN_JOB_TASK = "provisioning.run_job"


class Targets(BaseModel):
    """Which devices a job configures. Names (or ids) per key; empty keys are ignored."""

    devices: list[str] = Field(default_factory=list)
    sites: list[str] = Field(default_factory=list)
    agencies: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    def is_empty(self) -> bool:
        return not any(getattr(self, k) for k in TARGET_KEYS)


class JobCreate(BaseModel):
    purpose: str
    targets: Targets
    variables: dict[str, Any] = Field(default_factory=dict)
    template_name: str = ""
    dry_run: bool = True
    canary_size: int = Field(default=0, ge=0)
    failure_threshold: float = Field(default=0.0, ge=0, le=1)
    policy: JobPolicy = JobPolicy.CONTINUE
    concurrency: int = Field(default=10, ge=1, le=200)
    revert_after_s: int = Field(default=300, ge=10, le=3600)


def _ids_or_names(column_id: Any, column_name: Any, values: list[str]) -> Any:
    ids = [int(v) for v in values if v.isdigit()]
    return or_(column_id.in_(ids), column_name.in_(values))


def targets_query(targets: Targets, actor: Actor) -> Select[Device]:
    stmt = select(Device).join(Site, Device.site_id == Site.id).order_by(Device.name)
    if actor.agency_scope is not None:
        stmt = stmt.where(Site.agency_id == actor.agency_scope)
    if targets.devices:
        stmt = stmt.where(_ids_or_names(Device.id, Device.name, targets.devices))
    if targets.sites:
        stmt = stmt.where(_ids_or_names(Site.id, Site.name, targets.sites))
    if targets.agencies:
        agency_ids = select(Agency.id).where(_ids_or_names(Agency.id, Agency.code, targets.agencies))
        stmt = stmt.where(Site.agency_id.in_(agency_ids))
    if targets.roles:
        stmt = stmt.where(Device.role.in_(targets.roles))
    if targets.tags:
        stmt = stmt.where(Device.tags.any(Tag.name.in_(targets.tags)))
    return stmt


def resolve_targets(session: Session, actor: Actor, targets: Targets) -> list[Device]:
    """The devices a spec selects, by name.

    Raises:
        ValidationFailed: the spec is empty or selects nothing.
    """
    if targets.is_empty():
        raise ValidationFailed("choose target devices: by device, site, agency, role or tag", field="targets")
    devices = list(session.scalars(targets_query(targets, actor)))
    if not devices:
        raise ValidationFailed(f"no device matches the targets {targets.model_dump(exclude_defaults=True)}",
                               field="targets")
    return devices


def _add_with_results(session: Session, job: ProvisionJob, devices: list[Device]) -> None:
    """Store a new job with a pending result per device."""
    session.add(job)
    session.flush()
    for device in devices:
        session.add(ProvisionResultRecord(job_id=job.id, device_id=device.id, device_name=device.name,
                                          status=ResultStatus.PENDING))
    session.flush()


def create_job(session: Session, actor: Actor, data: JobCreate) -> ProvisionJob:
    """Validate variables and targets, then record a pending job with a pending result per device."""
    actor.require(Permission.NETWORK_CHANGE)
    variables = validate_variables(data.purpose, data.variables)
    devices = resolve_targets(session, actor, data.targets)
    job = ProvisionJob(
        purpose=data.purpose, template_name=data.template_name, targets=data.targets.model_dump(),
        variables=dump_for_storage(variables, secret_box(session)), dry_run=data.dry_run,
        status=JobStatus.PENDING, canary_size=data.canary_size, failure_threshold=data.failure_threshold,
        policy=data.policy, concurrency=data.concurrency, revert_after_s=data.revert_after_s,
        created_by=actor.username, approved_by=actor.username if data.dry_run else None,
    )
    _add_with_results(session, job, devices)
    audit.record(session, actor, action="create", entity_type="provision_job", entity_id=job.id,
                 message="provision_job.created_dry_run" if data.dry_run else "provision_job.created",
                 params={"job": job.id, "purpose": data.purpose, "count": len(devices)},
                 after={"purpose": data.purpose, "targets": job.targets, "template": data.template_name})
    return job


def start_job(session: Session, actor: Actor, data: JobCreate, *, dispatch: TaskSender | None,
              summary: str = "") -> ProvisionJob:
    """Create a job (``create_job``) and, for a dry run, queue it and send ``provisioning.run_job`` through
    ``dispatch`` (which should send after the caller's commit). A real change waits for approval.
    """
    job = create_job(session, actor, data)
    if summary:
        job.summary = summary
    if data.dry_run:
        queue_job(session, actor, job.id)
        if dispatch is not None:
            dispatch(RUN_JOB_TASK, kwargs={"job_id": job.id})
    return job


def request_job(session: Session, actor: Actor, *, purpose: str, devices: list[str], variables: dict[str, Any],
                dry_run: bool, summary: str = "", dispatch: TaskSender | None = None) -> ProvisionJob:
    """A job another part of netmgr asks for (a bandwidth plan's queues), under provisioning's own rules.

    The variables are validated, the devices resolved, and a real change stays pending until a second
    person approves it (maker-checker), exactly as for a job made in provisioning. The core reaches this
    through the capability seam ``netmgr.services.plans.JobRequester``, never by importing it.

    Raises:
        ValidationFailed: the variables are not valid for ``purpose`` or no device matches.
    """
    data = JobCreate(purpose=purpose, targets=Targets(devices=devices), variables=variables, dry_run=dry_run,
                     concurrency=1)
    return start_job(session, actor, data, dispatch=dispatch, summary=summary)


def approve_job(session: Session, actor: Actor, job_id: int) -> ProvisionJob:
    """Record who allowed a job that changes devices to run (maker-checker: not its creator, unless an admin).

    Raises:
        PermissionDenied: the creator approves their own job and is not an admin.
        Conflict: the job is not pending, or is already approved.
        ValidationFailed: the job is a dry run (it changes nothing, so needs no approval).
    """
    actor.require(Permission.NETWORK_CHANGE)
    job = get_job(session, actor, job_id)
    if job.dry_run:
        raise ValidationFailed(f"job {job.id} is a dry run; it changes nothing and needs no approval",
                               field="approved_by")
    if job.status != JobStatus.PENDING:
        raise Conflict(f"job {job.id} is {job.status}; only a pending job can be approved")
    if job.approved_by:
        raise Conflict(f"job {job.id} was already approved by {job.approved_by}")
    if actor.username == job.created_by and actor.role != Role.ADMIN:
        raise PermissionDenied(f"job {job.id} was created by you; another operator or an admin must approve it "
                               "(maker-checker)")
    job.approved_by = actor.username
    job.approved_pin = approval_pin(session, job)
    audit.record(session, actor, action="approve", entity_type="provision_job", entity_id=job.id,
                 message="provision_job.approved", params={"job": job.id}, after=job.approved_pin)
    return job


# --- maker-checker: what an approval covers ------------------------------------------------------------

class ApprovalVoid(ValidationFailed):
    """A job's template or variables changed after it was approved; it must be approved again."""


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _template_pin(source: TemplateSource) -> str:
    """A template as approved: its name and the digest of its body (``db:taman v3 sha256:…``)."""
    return f"{source.name} {_digest(source.body)}"


def _variables_pin(job: ProvisionJob) -> str:
    return _digest(json.dumps(job.variables, sort_keys=True))


def _job_templates(session: Session, job: ProvisionJob,
                   keys: set[tuple[str, str]]) -> dict[tuple[str, str], TemplateSource | str]:
    """Per (platform, role): the template the job uses, or why there is none."""
    found: dict[tuple[str, str], TemplateSource | str] = {}
    for platform, role in sorted(keys):
        try:
            found[(platform, role)] = find_template(session, platform=platform, purpose=job.purpose, role=role,
                                                    name=job.template_name or None)
        except (NotFound, ValidationFailed) as exc:
            found[(platform, role)] = exc.message
    return found


def approval_pin(session: Session, job: ProvisionJob) -> dict[str, Any]:
    """What approving ``job`` now covers: each template its devices get (name and body digest) and its variables.

    The run compares the same pin (``check_pin``); a device without a template is not pinned and fails then.
    """
    ids = [int(r.device_id) for r in job.results if r.device_id is not None]
    keys = {(str(p), str(r)) for p, r in session.execute(select(Device.platform, Device.role)
                                                          .where(Device.id.in_(ids)))}
    templates = {f"{p}/{r}": _template_pin(t) for (p, r), t in _job_templates(session, job, keys).items()
                 if isinstance(t, TemplateSource)}
    return {"templates": templates, "variables": _variables_pin(job)}


def check_pin(job: ProvisionJob, templates: dict[tuple[str, str], TemplateSource | str]) -> None:
    """Refuse a run that would push something other than what was approved.

    Raises:
        ApprovalVoid: a template the run would use, or the job's variables, differ from the approved ones.
    """
    if job.dry_run:
        return
    pin = job.approved_pin or {}
    pinned: dict[str, str] = pin.get("templates") or {}
    changed = [f"the {key[0]} {key[1]} template ({template.name})" for key, template in templates.items()
               if isinstance(template, TemplateSource) and pinned.get(f"{key[0]}/{key[1]}") != _template_pin(template)]
    if pin.get("variables") != _variables_pin(job):
        changed.append("the job's variables")
    if changed:
        raise ApprovalVoid(f"job {job.id}: {', '.join(changed)} changed after it was approved by "
                           f"{job.approved_by or 'nobody'}; the approval is void, nothing was pushed - review the "
                           "change and approve it again", field="approved_by")


def void_approval(session: Session, actor: Actor, job: ProvisionJob, reason: str) -> None:
    """Withdraw a job's approval (its content changed since): it goes back to pending and says why."""
    approver = job.approved_by or "—"
    job.approved_by, job.approved_pin = None, None
    if job.status == JobStatus.QUEUED:
        job.status = JobStatus.PENDING
    job.summary = reason
    audit.record(session, actor, action="void_approval", entity_type="provision_job", entity_id=job.id,
                 message="provision_job.approval_void", params={"job": job.id, "approver": approver})


def get_job(session: Session, actor: Actor, job_id: int) -> ProvisionJob:
    require_config_read(actor)
    job = session.scalar(select(ProvisionJob).options(selectinload(ProvisionJob.results))
                         .where(ProvisionJob.id == job_id))
    if job is None:
        raise NotFound(f"provisioning job {job_id} does not exist")
    return job


FINISHED = FINISHED_JOB_STATUSES


def list_jobs(session: Session, actor: Actor, *, status: JobStatus | None = None, offset: int = 0,
              limit: int = 50) -> tuple[list[ProvisionJob], int]:
    """Jobs newest first (with their results), and how many match."""
    require_config_read(actor)
    stmt = select(ProvisionJob)
    if status is not None:
        stmt = stmt.where(ProvisionJob.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.options(selectinload(ProvisionJob.results))
                           .order_by(ProvisionJob.id.desc()).offset(offset).limit(limit))
    return list(rows), total


def queue_job(session: Session, actor: Actor, job_id: int) -> ProvisionJob:
    """Mark a pending job as sent to a worker; the caller then sends ``provisioning.run_job``.

    Raises:
        Conflict: the job is not pending (already queued, running, finished or cancelled).
        ValidationFailed: it changes devices and nobody approved it yet.
    """
    actor.require(Permission.NETWORK_CHANGE)
    job = get_job(session, actor, job_id)
    if job.status != JobStatus.PENDING:
        raise Conflict(f"job {job.id} is {job.status}; only a pending job can be started")
    if not job.dry_run and not job.approved_by:
        raise ValidationFailed(f"job {job.id} changes devices and is not approved yet", field="approved_by")
    job.status = JobStatus.QUEUED
    audit.record(session, actor, action="queue", entity_type="provision_job", entity_id=job.id,
                 message="provision_job.queued", params={"job": job.id})
    return job


def cancel_job(session: Session, actor: Actor, job_id: int) -> ProvisionJob:
    """Stop a job: devices not started are skipped; a device being configured finishes (or rolls back) safely.

    Raises:
        Conflict: the job has already finished.
    """
    actor.require(Permission.NETWORK_CHANGE)
    job = get_job(session, actor, job_id)
    if job.status in FINISHED:
        raise Conflict(f"job {job.id} is already {job.status}")
    job.status = JobStatus.CANCELLED
    for row in job.results:
        if row.status == ResultStatus.PENDING:
            row.status, row.error = ResultStatus.SKIPPED, f"not started: cancelled by {actor.username}"
    job.summary = (job.summary + "; " if job.summary else "") + f"cancelled by {actor.username}"
    audit.record(session, actor, action="cancel", entity_type="provision_job", entity_id=job.id,
                 message="provision_job.cancelled", params={"job": job.id})
    return job


def copy_job(session: Session, actor: Actor, job_id: int, *, dry_run: bool) -> ProvisionJob:
    """A new pending job with the same purpose, template, targets, variables and policy (e.g. the real run
    after a dry-run preview, or a re-run). Targets are resolved again against today's inventory."""
    actor.require(Permission.NETWORK_CHANGE)
    source = get_job(session, actor, job_id)
    devices = resolve_targets(session, actor, Targets.model_validate(source.targets))
    job = ProvisionJob(
        purpose=source.purpose, template_name=source.template_name, targets=dict(source.targets),
        variables=dict(source.variables), dry_run=dry_run, status=JobStatus.PENDING,
        canary_size=source.canary_size, failure_threshold=source.failure_threshold, policy=source.policy,
        concurrency=source.concurrency, revert_after_s=source.revert_after_s, created_by=actor.username,
        approved_by=actor.username if dry_run else None,
    )
    _add_with_results(session, job, devices)
    audit.record(session, actor, action="create", entity_type="provision_job", entity_id=job.id,
                 message="provision_job.copied_dry_run" if dry_run else "provision_job.copied",
                 params={"job": job.id, "source": source.id, "purpose": job.purpose, "count": len(devices)},
                 after={"purpose": job.purpose, "targets": job.targets, "copied_from": source.id})
    return job


def result_counts(job: ProvisionJob) -> dict[str, int]:
    """How many of the job's devices are in each status (every status present, zeros included)."""
    counts = {s.value: 0 for s in ResultStatus}
    for row in job.results:
        counts[str(row.status)] = counts.get(str(row.status), 0) + 1
    return counts


@dataclass(frozen=True)
class RenderPreview:
    """A template rendered for one device, and what would change against its newest stored backup."""

    device_id: int
    device_name: str
    template: str
    rendered: str
    diff: str
    backup_id: int | None


def preview_render(session: Session, actor: Actor, *, device_id: int, purpose: str, variables: dict[str, Any],
                   drivers: Registry[Driver], settings: Settings, template_id: int | None = None,
                   body: str | None = None) -> RenderPreview:
    """Render a template (an unsaved ``body``, a stored template, or the device's shipped one) for a device.

    Secrets render as placeholders (``<secret:snmp_community>``) and the backup's secrets are replaced by the
    same placeholders, so the diff is meaningful and no template transformation can reveal a secret. The
    diff is against the device's newest backup (no SSH session); without a backup it is empty.

    Raises:
        PermissionDenied: the actor may not change the network (finance, agency viewers).
        NotFound: no such device, template or driver.
        ValidationFailed: bad variables, or the template fails to render (the message names the line).
    """
    require_template_preview(actor)
    device = get_device(session, actor, device_id)
    platform = str(device.platform)
    driver = driver_for(drivers, platform)
    validated = validate_variables(purpose, variables)
    if body is not None:
        source = TemplateSource(name="editor", body=body)
    elif template_id is not None:
        row = get_template(session, actor, template_id)
        source = TemplateSource(name=f"db:{row.name} v{row.version}", body=row.body, version=row.version)
    else:
        source = find_template(session, platform=platform, purpose=purpose, role=str(device.role))
    target = target_for(session, device, inventory_context(session, device, settings))
    plan = Plan(purpose=purpose, template=source, variables=validated)
    secrets = secrets_of(target, plan)
    known = secrets.texts()
    try:
        rendered = secrets.hide(render_for(target, plan, driver, reveal=False))
    except ValidationFailed as exc:
        raise ValidationFailed(secrets.hide(exc.message), field=exc.field) from None
    backup = latest_backup(session, device.id)
    diff = ""
    if backup is not None:
        running = secrets.hide(backup_text(session, backup))
        diff = quiet_diff(driver, running, driver.preview(running, rendered), name=device.name, known=known)
    return RenderPreview(device.id, device.name, source.name, driver.mask_secrets(rendered, known), secrets.hide(diff),
                         backup.id if backup else None)


def inventory_context(session: Session, device: Device, settings: Settings,
                      uplinks: list[Uplink] | None = None) -> dict[str, Any]:
    """What templates may use about a device: itself, its site, agency and uplinks, and netmgr's URLs.

    ``uplinks`` are the device's uplinks when the caller already loaded them (a job loads all at once).
    """
    creds = device_credentials(session, device)
    site, agency = device.site, device.site.agency
    if uplinks is None:
        uplinks = list(session.scalars(select(Uplink).where(Uplink.device_id == device.id).order_by(Uplink.name)))
    return {
        "device": {"id": device.id, "name": device.name, "role": str(device.role), "platform": str(device.platform),
                   "mgmt_address": device.mgmt_address, "model": device.model},
        "site": {"id": site.id, "name": site.name, "kind": str(site.kind), "address": site.address},
        "agency": None if agency is None else {"id": agency.id, "code": agency.code, "name": agency.name},
        "uplinks": [{"name": u.name, "isp_name": u.isp_name, "interface": u.interface_name,
                     "down_mbps": u.capacity_down_mbps, "up_mbps": u.capacity_up_mbps} for u in uplinks],
        "netmgr": {"portal_url": settings.portal.base_url, "public_url": settings.public_url},
        "inventory": {
            "device_name": device.name, "site_name": site.name, "snmp_community": creds.snmp_community,
            "radius_secret": creds.radius_secret, "portal_url": settings.portal.base_url,
            "timezone": settings.timezone,
        },
    }


def prepare_work(session: Session, job: ProvisionJob, *, drivers: Registry[Driver],
                 settings: Settings, only: set[int] | None = None) -> list[DeviceWork]:
    """Per device of the job (or of ``only`` its devices): connection target, driver and plan, or the reason
    it cannot run. Devices, sites, agencies and uplinks are read with three queries for the whole job, and
    each (platform, role) looks its template up once."""
    variables = load_from_storage(job.purpose, job.variables, secret_box(session))
    rows = [row for row in job.results if row.status == ResultStatus.PENDING and row.device_id is not None
            and (only is None or row.device_id in only)]
    ids = [int(row.device_id) for row in rows if row.device_id is not None]
    devices = {d.id: d for d in session.scalars(
        select(Device).options(joinedload(Device.site).joinedload(Site.agency)).where(Device.id.in_(ids)))}
    uplinks: dict[int, list[Uplink]] = {i: [] for i in ids}
    for uplink in session.scalars(select(Uplink).where(Uplink.device_id.in_(ids)).order_by(Uplink.name)):
        uplinks[int(uplink.device_id or 0)].append(uplink)
    keys = {(str(d.platform), str(d.role)) for d in devices.values()}
    templates = _job_templates(session, job, {k for k in keys if k[0] in drivers})
    check_pin(job, templates)
    for key in keys - templates.keys():
        try:
            driver_for(drivers, key[0])
        except NotFound as exc:  # the message lists the known platforms
            templates[key] = exc.message
    work: list[DeviceWork] = []
    for row in rows:
        device = devices.get(int(row.device_id or 0))
        if device is None:
            continue
        target = target_for(session, device, inventory_context(session, device, settings, uplinks[device.id]))
        key = (str(device.platform), str(device.role))
        template = templates[key]
        if isinstance(template, str):
            work.append(DeviceWork(target, None, None, problem=template))
            continue
        plan = Plan(purpose=job.purpose, template=template, variables=variables, revert_after_s=job.revert_after_s)
        work.append(DeviceWork(target, drivers.get(key[0]), plan))
    return work


def run_job(factory: sessionmaker[Session], actor: Actor, job_id: int, *, drivers: Registry[Driver],
            connect: Connector, settings: Settings, on_progress: ProgressCallback | None = None,
            jitter_s: float = LOGIN_SPREAD_S, device_ids: list[int] | None = None,
            sessions: int | None = None, dispatch: Dispatch | None = None, parts: int = 1) -> JobOutcome:
    """Run a pending job to the end and return every device's result (also stored as it happens).

    ``device_ids`` (some devices of a job, sent to another worker process by ``provisioning.run_chunk``)
    runs only those devices' pending results, with ``sessions`` SSH sessions, and leaves the job's
    status alone. ``dispatch`` and ``parts`` let a whole job hand chunks to other processes after its canary
    (see ``execute_job``).

    Raises:
        NotFound: no such job.
        ValidationFailed: the job changes devices but nobody approved it.
        ApprovalVoid: its template or variables changed after approval; nothing ran and (for a whole job) the
            approval is withdrawn, so the job is pending again.
    """
    actor.require(Permission.NETWORK_CHANGE)
    only = set(device_ids or ())
    with factory() as session:
        job = get_job(session, actor, job_id)
        if not job.dry_run and not job.approved_by:
            raise ValidationFailed(f"job {job_id} changes devices and is not approved yet", field="approved_by")
        if not only and job.status in FINISHED:
            raise ValidationFailed(f"job {job_id} is already {job.status}; copy it to run it again", field="status")
        try:
            work = prepare_work(session, job, drivers=drivers, settings=settings, only=only or None)
        except ApprovalVoid as exc:
            if not only:  # a chunk of a running job leaves its devices to the coordinator, which checked them
                void_approval(session, actor, job, exc.message)
                session.commit()
            raise
    return execute_job(factory, actor, job_id, work, connect=connect, drivers=drivers, on_progress=on_progress,
                       jitter_s=jitter_s, whole_job=not only, sessions=sessions, dispatch=dispatch, parts=parts)
