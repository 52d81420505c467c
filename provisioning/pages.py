"""Admin pages for provisioning ("Konfigurasi"): templates with history and preview, jobs with live progress,
config backups with diffs, and drift.

Browser → page handler → one service in ``provisioning.jobs`` / ``render`` / ``backups`` → a template in
``templates_web/`` extending the admin shell. A job page polls its progress fragment every 2 s (htmx) until
the job ends; device work is sent to Celery through the same dispatch as the API.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import yaml
from babel.support import NullTranslations
from fastapi.responses import Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context
from pydantic import ValidationError
from starlette.datastructures import FormData

from netmgr import i18n
from netmgr.api.deps import get_task_sender
from netmgr.db import send_after_commit
from netmgr.errors import Conflict, NetmgrError, NotFound, PermissionDenied, ValidationFailed
from netmgr.models.enums import DeviceRole, Role
from netmgr.models.provisioning import BackupSource, JobPolicy, JobStatus
from netmgr.security.permissions import Permission
from netmgr.services.devices import get_device
from netmgr.web import nav, rendering
from netmgr.web.context import CsrfChecked, FormDep, Page, PageContext
from netmgr.web.pages import Pager, enum_or_none, int_or_none, page_router, query
from provisioning import backups, jobs, messages
from provisioning.access import require_config_read, require_template_preview
from provisioning.api import BACKUP_DEVICE_TASK, PLATFORMS
from provisioning.diff import text_diff
from provisioning.drivers import default_drivers
from provisioning.render import (
    get_template,
    list_templates,
    save_template,
    shipped_template,
    shipped_templates,
    template_version,
)
from provisioning.variables import PURPOSES, mask_for_display

router = page_router()
TEMPLATE_DIR = Path(__file__).parent / "templates_web"
LOCALE_DIR = Path(__file__).parent / "locale"
POLL_EVERY = "2s"


def _(message: str) -> str:
    """Marks a msgid for extraction; it is translated when shown."""
    return message


JOB_STATUS = {"pending": _("pending"), "queued": _("queued"), "running": _("running"), "succeeded": _("succeeded"),
              "partly_done": _("partly done"), "failed": _("failed"), "halted": _("halted"),
              "cancelled": _("cancelled")}
BADGE = {"succeeded": "up", "partly_done": "partial", "changed": "up", "no_change": "unknown", "dry_run": "partial",
         "failed": "down",
         "rolled_back": "down", "halted": "down", "cancelled": "unknown", "skipped": "unknown"}
PURPOSE_LABELS = {"basics": _("Basics (name, time, DNS, logging)"), "snmp": _("SNMP monitoring"),
                  "hotspot": _("Public Wi-Fi hotspot"), "queues": _("Bandwidth queues")}
BACKUP_SOURCES = {"scheduled": _("nightly"), "pre_push": _("before a push"), "post_push": _("after a push"),
                  "on_demand": _("on demand")}
POLICY_LABELS = {"continue": _("keep going"), "halt": _("stop starting devices")}


def ensure_nav(registry: nav.NavRegistry | None = None) -> None:
    """Register "Konfigurasi/Provisioning" once (several apps may share a process)."""
    registry = registry or nav.NAV
    if "provisioning" not in registry:
        registry.register(nav.NavItem("provisioning", _("Provisioning"), "/provisioning", Permission.NETWORK_CHANGE,
                                      50, labels={"id": "Konfigurasi"}))


ensure_nav()


# --- rendering: this package's templates and catalog over the admin shell ------------------------------

_overlays: WeakKeyDictionary[Environment, Environment] = WeakKeyDictionary()
def catalog(lang: str) -> NullTranslations:
    """Provisioning's own catalog for ``lang`` (English msgids fall through unchanged)."""
    return i18n.catalog(LOCALE_DIR, lang)


@pass_context
def _gettext(context: Context, message: str) -> str:
    """This package's catalog first, then netmgr's (for the admin shell's own words)."""
    text = catalog(context.get("lang") or "id").gettext(message)
    return text if text != message else rendering.gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _gettext(context, singular if n == 1 else plural)


@pass_context
def _tr(context: Context, message: str) -> str:
    return _gettext(context, message)


@pass_context
def _said(context: Context, text: str) -> str:
    """A stored log, error or message in the reader's language (the device's own words stay as they are)."""
    return messages.translate(text, lambda m: _gettext(context, m))


@pass_context
def _summary(context: Context, text: str) -> str:
    return messages.translate_summary(text, lambda m: _gettext(context, m))


def diff_lines(text: str) -> list[tuple[str, str]]:
    """A unified diff as (css class, line) pairs, so the page colours additions and removals."""
    out = []
    for line in text.splitlines():
        if line.startswith(("+++", "---")):
            kind = "meta"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append((kind, line))
    return out


def _env(base: Environment) -> Environment:
    env = _overlays.get(base)
    if env is None:
        env = base.overlay(loader=ChoiceLoader([FileSystemLoader(TEMPLATE_DIR),
                                                *([base.loader] if base.loader else [])]))
        env.globals = dict(base.globals)  # never touch the shell's own globals
        # The overlay's own i18n extension: ``env.install_gettext_callables`` is the base's bound method.
        ext: Any = env.extensions["jinja2.ext.InternationalizationExtension"]
        ext._install_callables(_gettext, _ngettext, newstyle=True)
        env.filters.update(said=_said, summary=_summary)
        env.globals.update(ptr=_tr, diff_lines=diff_lines, job_status=JOB_STATUS, result_status=messages.RESULT_STATUS,
                           badge=BADGE, purpose_labels=PURPOSE_LABELS, backup_sources=BACKUP_SOURCES,
                           policy_labels=POLICY_LABELS, poll_every=POLL_EVERY)
        _overlays[base] = env
    return env


def _render(ctx: PageContext, template: str, **context: Any) -> Response:
    require_config_read(ctx.signed_in)
    return replace(ctx, env=_env(ctx.env)).render(template, can_change=ctx.can(Permission.NETWORK_CHANGE),
                                                  **context)


def _t(ctx: PageContext, message: str, **values: Any) -> str:
    text = catalog(ctx.lang).gettext(message)
    if text == message:
        text = ctx._(message)
    return text % values if values else text


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _split(raw: str) -> list[str]:
    return [part for part in (p.strip() for p in re.split(r"[,\n]", raw)) if part]


def _problem(exc: Exception) -> str:
    if isinstance(exc, NetmgrError):
        return exc.message
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in exc.errors())
    return str(exc)


# --- jobs ----------------------------------------------------------------------------------------------

@router.get("/provisioning")
def job_list(ctx: Page) -> Response:
    require_config_read(ctx.signed_in)
    status = enum_or_none(JobStatus, query(ctx, "status"))
    pager = Pager.build(query(ctx, "page"))
    rows, total = jobs.list_jobs(ctx.db, ctx.signed_in, status=status, offset=pager.offset, limit=pager.limit)
    return _render(ctx, "provisioning/jobs.html", title=_t(ctx, "Provisioning jobs"), rows=rows,
                   pager=pager.with_total(total), status=status.value if status else "",
                   counts={r.id: jobs.result_counts(r) for r in rows}, tab="jobs")


def _job_form_values(form: FormData | None) -> dict[str, Any]:
    if form is None:
        return {"purpose": "snmp", "policy": "continue", "concurrency": "10", "canary_size": "0",
                "failure_threshold": "0", "roles": [], "variables": "", "devices": "", "sites": "", "agencies": "",
                "tags": "", "template_name": ""}
    values: dict[str, Any] = {k: _field(form, k) for k in ("purpose", "policy", "concurrency", "canary_size",
                                                           "failure_threshold", "devices", "sites", "agencies",
                                                           "tags", "template_name")}
    values["variables"] = form.get("variables") if isinstance(form.get("variables"), str) else ""
    values["roles"] = [r for r in form.getlist("roles") if isinstance(r, str)]
    return values


def _job_form(ctx: PageContext, values: dict[str, Any], error: str = "", status_code: int = 200) -> Response:
    ctx.signed_in.require(Permission.NETWORK_CHANGE)
    return _render(ctx, "provisioning/job_new.html", status_code=status_code, title=_t(ctx, "New provisioning job"),
                   values=values, error=error, purposes=sorted(PURPOSES), roles=[r.value for r in DeviceRole],
                   stored=list_templates(ctx.db, ctx.signed_in), policies=[p.value for p in JobPolicy], tab="jobs")


@router.get("/provisioning/jobs/new")
def job_new(ctx: Page) -> Response:
    return _job_form(ctx, _job_form_values(None))


def _job_create(values: dict[str, Any], *, dry_run: bool) -> jobs.JobCreate:
    raw_vars = yaml.safe_load(values["variables"] or "") or {}
    if not isinstance(raw_vars, dict):
        raise ValueError("variables must be YAML key: value lines")
    return jobs.JobCreate(
        purpose=values["purpose"], template_name=values["template_name"], variables=raw_vars, dry_run=dry_run,
        targets=jobs.Targets(devices=_split(values["devices"]), sites=_split(values["sites"]),
                             agencies=_split(values["agencies"]), roles=values["roles"],
                             tags=_split(values["tags"])),
        canary_size=int(values["canary_size"] or 0), failure_threshold=float(values["failure_threshold"] or 0),
        policy=JobPolicy(values["policy"] or "continue"), concurrency=int(values["concurrency"] or 10),
    )


@router.post("/provisioning/jobs/new", dependencies=[CsrfChecked])
def job_create(ctx: Page, form: FormDep) -> Response:
    ctx.signed_in.require(Permission.NETWORK_CHANGE)
    values = _job_form_values(form)
    dry_run = _field(form, "action") != "create"
    try:
        data = _job_create(values, dry_run=dry_run)
        job = jobs.start_job(ctx.db, ctx.signed_in, data,
                             dispatch=send_after_commit(ctx.db, get_task_sender(ctx.request)))
        ctx.db.commit()
    except (NetmgrError, ValidationError, ValueError, yaml.YAMLError) as exc:
        ctx.db.rollback()
        return _job_form(ctx, values, error=_problem(exc), status_code=422)
    if dry_run:
        ctx.flash(_t(ctx, "Dry run started: the diffs appear below as each device answers."))
    else:
        ctx.flash(_t(ctx, "Job created. Another operator (or an admin) must approve it before it runs."))
    return ctx.redirect(f"/provisioning/jobs/{job.id}")


def _job_context(ctx: PageContext, job_id: int) -> dict[str, Any]:
    job = jobs.get_job(ctx.db, ctx.signed_in, job_id)
    actor = ctx.signed_in
    may_change = actor.can(Permission.NETWORK_CHANGE)
    return {
        "job": job, "counts": jobs.result_counts(job), "done": job.status in jobs.FINISHED,
        "variables": mask_for_display(job.variables),
        "can_approve": may_change and not job.dry_run and job.status == JobStatus.PENDING and not job.approved_by
        and (actor.username != job.created_by or actor.role == Role.ADMIN),
        "can_run": may_change and job.status == JobStatus.PENDING and (job.dry_run or bool(job.approved_by)),
        "can_cancel": may_change and job.status not in jobs.FINISHED,
        "can_copy": may_change and job.status in jobs.FINISHED,
    }


@router.get("/provisioning/jobs/{job_id}")
def job_detail(job_id: int, ctx: Page) -> Response:
    context = _job_context(ctx, job_id)
    return _render(ctx, "provisioning/job.html", title=_t(ctx, "Job %(id)s", id=job_id), tab="jobs", **context)


@router.get("/provisioning/jobs/{job_id}/progress")
def job_progress(job_id: int, ctx: Page) -> Response:
    """The per-device table alone; it carries its own polling trigger until the job ends."""
    return _render(ctx, "provisioning/_progress.html", title="", **_job_context(ctx, job_id))


@router.post("/provisioning/jobs/{job_id}/{action}", dependencies=[CsrfChecked])
def job_action(job_id: int, action: str, ctx: Page, form: FormDep) -> Response:
    actor = ctx.signed_in
    actor.require(Permission.NETWORK_CHANGE)
    target = job_id
    try:
        if action == "approve":
            jobs.approve_job(ctx.db, actor, job_id)
            message = _t(ctx, "Job approved. Start it when ready.")
        elif action == "run":
            jobs.queue_job(ctx.db, actor, job_id)
            message = _t(ctx, "Job started.")
        elif action == "cancel":
            jobs.cancel_job(ctx.db, actor, job_id)
            message = _t(ctx, "Job cancelled: devices not started yet are skipped.")
        elif action == "copy":
            dry_run = _field(form, "dry_run") == "1"
            copy = jobs.copy_job(ctx.db, actor, job_id, dry_run=dry_run)
            if dry_run:
                jobs.queue_job(ctx.db, actor, copy.id)
            target = copy.id
            message = (_t(ctx, "Dry run started.") if dry_run else
                       _t(ctx, "Job created. Another operator (or an admin) must approve it before it runs."))
        else:
            raise NotFound(f"no job action {action!r}")
        ctx.db.commit()
    except (Conflict, ValidationFailed, PermissionDenied) as exc:  # e.g. maker-checker: shown on the job page
        ctx.db.rollback()
        ctx.flash(exc.message, "error")
        return ctx.redirect(f"/provisioning/jobs/{job_id}")
    if action == "run" or (action == "copy" and target != job_id and _field(form, "dry_run") == "1"):
        send_after_commit(ctx.db, get_task_sender(ctx.request))(jobs.RUN_JOB_TASK, kwargs={"job_id": target})
    ctx.flash(message)
    return ctx.redirect(f"/provisioning/jobs/{target}")


# --- templates -----------------------------------------------------------------------------------------

@router.get("/provisioning/templates")
def template_list(ctx: Page) -> Response:
    require_config_read(ctx.signed_in)
    return _render(ctx, "provisioning/templates.html", title=_t(ctx, "Config templates"), tab="templates",
                   stored=list_templates(ctx.db, ctx.signed_in), shipped=shipped_templates())


def _editor(ctx: PageContext, *, row: Any = None, values: dict[str, str] | None = None, error: str = "",
            status_code: int = 200) -> Response:
    devices = [d.device for d in backups.backups_by_device(ctx.db, ctx.signed_in)]
    if values is None:
        values = ({"name": row.name, "platform": row.platform, "purpose": row.purpose, "body": row.body,
                   "description": row.description} if row is not None else
                  {"name": "", "platform": PLATFORMS[0], "purpose": "snmp", "body": "", "description": ""})
    title = row.name if row is not None else _t(ctx, "New config template")
    return _render(ctx, "provisioning/template.html", status_code=status_code, title=title, tab="templates",
                   row=row, values=values, error=error, platforms=PLATFORMS, purposes=sorted(PURPOSES),
                   devices=[d for d in devices if row is None or str(d.platform) == row.platform])


@router.get("/provisioning/templates/new")
def template_new(ctx: Page) -> Response:
    ctx.signed_in.require(Permission.NETWORK_CHANGE)
    platform, purpose = query(ctx, "platform") or PLATFORMS[0], query(ctx, "purpose") or "snmp"
    shipped = shipped_template(platform, purpose)
    values = {"name": "", "platform": platform, "purpose": purpose, "description": "",
              "body": shipped.body if shipped else ""}
    return _editor(ctx, values=values)


def _save(ctx: PageContext, form: FormData, row: Any) -> Response:
    ctx.signed_in.require(Permission.NETWORK_CHANGE)
    values = {k: _field(form, k) for k in ("name", "platform", "purpose", "description")}
    body = form.get("body")
    values["body"] = body.replace("\r\n", "\n") if isinstance(body, str) else ""
    if row is not None:
        values["name"], values["platform"] = row.name, row.platform
    problems = []
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", values["name"]):
        problems.append(_t(ctx, "Name: letters, digits, dot, dash and underscore only."))
    if values["platform"] not in PLATFORMS:
        problems.append(_t(ctx, "Choose a platform."))
    if values["purpose"] not in PURPOSES:
        problems.append(_t(ctx, "Choose a purpose."))
    if not values["body"].strip():
        problems.append(_t(ctx, "The template is empty."))
    if not problems:
        try:
            saved = save_template(ctx.db, ctx.signed_in, name=values["name"], platform=values["platform"],
                                  purpose=values["purpose"], body=values["body"], drivers=default_drivers(),
                                  description=values["description"])
            ctx.db.commit()
        except NetmgrError as exc:
            ctx.db.rollback()
            problems.append(messages.translate(exc.message, lambda m: _t(ctx, m)))
        else:
            ctx.flash(_t(ctx, "Template saved as version %(v)s.", v=saved.version))
            return ctx.redirect(f"/provisioning/templates/{saved.id}")
    return _editor(ctx, row=row, values=values, error=" ".join(problems), status_code=422)


@router.post("/provisioning/templates/new", dependencies=[CsrfChecked])
def template_create(ctx: Page, form: FormDep) -> Response:
    return _save(ctx, form, None)


@router.get("/provisioning/templates/shipped/{platform}/{purpose}")
def template_shipped(platform: str, purpose: str, ctx: Page) -> Response:
    require_config_read(ctx.signed_in)
    found = shipped_template(platform, purpose)
    if found is None:
        raise NotFound(f"no shipped {purpose} template for {platform}")
    return _render(ctx, "provisioning/shipped.html", title=found.name, tab="templates", platform=platform,
                   purpose=purpose, body=found.body)


@router.post("/provisioning/templates/preview", dependencies=[CsrfChecked])
def template_preview(ctx: Page, form: FormDep) -> Response:
    """Rendered text and diff against the device's newest backup, as a fragment for the editor (htmx)."""
    require_template_preview(ctx.signed_in)
    body = form.get("body")
    preview, error = None, ""
    try:
        raw_vars = yaml.safe_load(_field(form, "variables") or "") or {}
        if not isinstance(raw_vars, dict):
            raise ValueError("variables must be YAML key: value lines")
        preview = jobs.preview_render(
            ctx.db, ctx.signed_in, device_id=int_or_none(_field(form, "device_id")) or 0,
            purpose=_field(form, "purpose"), variables=raw_vars, drivers=default_drivers(),
            settings=ctx.settings, body=body.replace("\r\n", "\n") if isinstance(body, str) and body.strip() else None)
    except (NetmgrError, ValueError, yaml.YAMLError) as exc:
        error = _problem(exc)
    return _render(ctx, "provisioning/_preview.html", title="", preview=preview, error=error)


@router.get("/provisioning/templates/{template_id}")
def template_detail(template_id: int, ctx: Page) -> Response:
    require_config_read(ctx.signed_in)
    return _editor(ctx, row=get_template(ctx.db, ctx.signed_in, template_id))


@router.post("/provisioning/templates/{template_id}", dependencies=[CsrfChecked])
def template_update(template_id: int, ctx: Page, form: FormDep) -> Response:
    return _save(ctx, form, get_template(ctx.db, ctx.signed_in, template_id))


@router.get("/provisioning/templates/{template_id}/versions/{version}")
def template_version_page(template_id: int, version: int, ctx: Page) -> Response:
    require_config_read(ctx.signed_in)
    row = get_template(ctx.db, ctx.signed_in, template_id)
    shown = template_version(row, version)
    before = next((v for v in row.versions if v.version == version - 1), None)
    diff = text_diff(before.body, shown.body, a_name=f"{row.name} v{before.version}",
                     b_name=f"{row.name} v{version}") if before else ""
    return _render(ctx, "provisioning/template_version.html", title=f"{row.name} v{version}", tab="templates",
                   row=row, shown=shown, diff=diff)


# --- backups and drift ---------------------------------------------------------------------------------

@router.get("/provisioning/backups")
def backup_overview(ctx: Page) -> Response:
    return _render(ctx, "provisioning/backups.html", title=_t(ctx, "Config backups"), tab="backups",
                   rows=backups.backups_by_device(ctx.db, ctx.signed_in))


@router.get("/provisioning/devices/{device_id}/backups")
def device_backups(device_id: int, ctx: Page) -> Response:
    history = backups.backup_history(ctx.db, ctx.signed_in, device_id, limit=200)
    device = get_device(ctx.db, ctx.signed_in, device_id)
    return _render(ctx, "provisioning/device_backups.html", title=_t(ctx, "Backups of %(name)s", name=device.name),
                   tab="backups", device=device, history=history)


@router.post("/provisioning/devices/{device_id}/backups", dependencies=[CsrfChecked])
def device_backup_now(device_id: int, ctx: Page) -> Response:
    ctx.signed_in.require(Permission.NETWORK_CHANGE)
    device = get_device(ctx.db, ctx.signed_in, device_id)
    send_after_commit(ctx.db, get_task_sender(ctx.request))(BACKUP_DEVICE_TASK, kwargs={"device_id": device.id,
                                                          "source": BackupSource.ON_DEMAND.value})
    ctx.flash(_t(ctx, "Backup of %(name)s started; reload this page in a few seconds.", name=device.name))
    return ctx.redirect(f"/provisioning/devices/{device_id}/backups")


@router.get("/provisioning/backups/{backup_id}")
def backup_view(backup_id: int, ctx: Page) -> Response:
    row = backups.get_backup(ctx.db, ctx.signed_in, backup_id)
    against_id = int_or_none(query(ctx, "against"))
    other = (backups.get_backup(ctx.db, ctx.signed_in, against_id) if against_id is not None
             else backups.previous_backup(ctx.db, row))
    diff = ""
    if other is not None and other.device_id == row.device_id and other.id != row.id:
        older, newer = sorted((row, other), key=lambda b: (b.taken_at, b.id))
        diff = backups.diff_backups(ctx.db, older, newer, tz=ctx.settings.timezone)
    device = get_device(ctx.db, ctx.signed_in, row.device_id)
    return _render(ctx, "provisioning/backup.html", title=_t(ctx, "Backup %(id)s", id=row.id), tab="backups",
                   row=row, other=other, device=device, text=backups.backup_text(ctx.db, row), diff=diff)


@router.get("/provisioning/drift")
def drift_list(ctx: Page) -> Response:
    drift = backups.find_drift(ctx.db, ctx.signed_in)
    diffs = {d.device_id: backups.diff_backups(ctx.db, d.pushed, d.latest, tz=ctx.settings.timezone)
             for d in drift}
    return _render(ctx, "provisioning/drift.html", title=_t(ctx, "Drift"), tab="drift", drift=drift, diffs=diffs)

