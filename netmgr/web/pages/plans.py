"""Bandwidth plan pages: versions and their allocations, the weekly schedule, new versions with their rules
checked next to the fields, dry run then push to the core router; and offices' bandwidth requests.

Browser → handler → ``netmgr.services.plans`` / ``bandwidth_requests`` → template. Applying sends
``provisioning.run_job`` by name through the app's task dispatch (as the API does); the page then shows the
job's per-device queue diff from its results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from netmgr import formats
from netmgr.api.deps import get_task_sender
from netmgr.api.routes.plans import get_job_requester
from netmgr.db import send_after_commit
from netmgr.errors import PermissionDenied, ValidationFailed
from netmgr.models.enums import Role
from netmgr.models.finance import Allocation, BandwidthPlan, PlanStatus, PlanVersion, RequestStatus
from netmgr.models.provisioning import FINISHED_JOB_STATUSES, JobStatus
from netmgr.schemas.finance import AllocationIn, RequestCreate, VersionCreate
from netmgr.security.permissions import Permission
from netmgr.services import agencies, bandwidth_requests, plans
from netmgr.web import nav
from netmgr.web.context import CsrfChecked, FormDep, Page, PageContext
from netmgr.web.forms import GENERAL, FormState, apply_service_error, apply_validation_error
from netmgr.web.labels import _
from netmgr.web.pages import enum_or_none, int_or_none, page_router, query

router = page_router()

PLAN_STATUS = {"draft": _("draft"), "active": _("active"), "superseded": _("superseded")}
REQUEST_STATUS = {"pending": _("waiting for a decision"), "approved": _("approved"), "rejected": _("rejected")}
JOB_STATUS = {"pending": _("waiting"), "queued": _("queued"), "running": _("running"), "succeeded": _("done"),
              "partly_done": _("partly done"), "failed": _("failed"), "halted": _("halted"),
              "cancelled": _("cancelled")}
DAYS = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))
JOB_DONE = FINISHED_JOB_STATUSES
ROW_FIELDS = ("name", "agency_id", "is_hotspot_pool", "target", "cir_mbps", "mir_mbps", "priority", "schedule")
BLANK_ROWS = 2
# A Monday: the week grid asks each allocation for its rates at an hour of this week.
GRID_WEEK = datetime(2024, 1, 1)


def ensure_nav(registry: nav.NavRegistry | None = None) -> None:
    """Register "Rencana Bandwidth/Bandwidth plans" and "Permintaan/Requests" once."""
    registry = registry or nav.NAV
    for item in (
        nav.NavItem("plans", _("Bandwidth plans"), "/plans", Permission.REPORTS_READ, 51,
                    labels={"id": "Rencana Bandwidth"}),
        nav.NavItem("requests", _("Requests"), "/requests", Permission.REPORTS_READ, 52,
                    labels={"id": "Permintaan"}),
    ):
        if item.key not in registry:
            registry.register(item)


def _viewer(ctx: PageContext) -> bool:
    return ctx.signed_in.role == Role.AGENCY_VIEWER


# --- plans and versions --------------------------------------------------------------------------


@router.get("/plans")
def plan_list(ctx: Page) -> Response:
    actor = ctx.signed_in
    rows = []
    for plan in plans.list_plans(ctx.db, actor):
        versions = [(v, plans.visible_allocations(actor, v)) for v in reversed(plan.versions)]
        rows.append((plan, plans.plan_capacity(plan)[0], versions))
    return ctx.render("plans/list.html", title=ctx._("Bandwidth plans"), rows=rows, statuses=PLAN_STATUS,
                      can_change=ctx.can(Permission.NETWORK_CHANGE), viewer=_viewer(ctx))


@dataclass(frozen=True)
class GridCell:
    cir_mbps: float
    level: int
    """0-4 for how full the capacity is (the cell's shade), 5 when the guarantees exceed it."""


def week_grid(allocations: list[Allocation], capacity_mbps: float) -> list[list[GridCell]]:
    """Guaranteed rate (Σ CIR) in force at the start of every hour of the week: 7 rows × 24 hours."""
    grid = []
    for day in range(7):
        row = []
        for hour in range(24):
            at = GRID_WEEK + timedelta(days=day, hours=hour)
            total = sum(plans.rates_at(a, at)[0] for a in allocations)
            share = total / capacity_mbps if capacity_mbps else 0.0
            row.append(GridCell(round(total, 1), min(4, int(share * 4)) if share <= 1 else 5))
        grid.append(row)
    return grid


def _windows(allocation: Allocation) -> list[list[str]]:
    """Per weekday, the allocation's windows as ``07:30–16:00 · 20/30 Mbps``."""
    days: list[list[str]] = [[] for _ in range(7)]
    for w in sorted(allocation.schedule, key=lambda w: str(w["start"])):
        for day in w["days"]:
            days[int(day)].append(f"{w['start']}–{w['end']} · {float(w['cir_mbps']):g}/{float(w['mir_mbps']):g}")
    return days


def _job_context(ctx: PageContext, version: PlanVersion) -> dict[str, Any]:
    results = plans.job_results(ctx.db, version)
    job = results[0].job if results else None
    return {"job": job, "results": results, "job_done": job is None or job.status in JOB_DONE,
            "job_statuses": JOB_STATUS}


@router.get("/plans/versions/{version_id}")
def version_detail(version_id: int, ctx: Page) -> Response:
    actor = ctx.signed_in
    version = plans.get_version(ctx.db, actor, version_id)
    plan = plans.get_plan(ctx.db, actor, version.plan_id)
    viewer = _viewer(ctx)
    allocations = plans.visible_allocations(actor, version)
    active = plans.active_version(plan)
    can_apply = ctx.can(Permission.NETWORK_CHANGE) and version.status != PlanStatus.SUPERSEDED
    job = _job_context(ctx, version) if not viewer else {"job": None, "results": [], "job_done": True}
    last = job["job"]
    dry_run_ok = last is not None and last.dry_run and last.status == JobStatus.SUCCEEDED
    return ctx.render(
        "plans/version.html", title=ctx._("%(plan)s, version %(number)s", plan=plan.name, number=version.number),
        plan=plan, version=version, allocations=allocations, statuses=PLAN_STATUS, viewer=viewer,
        problems=[] if viewer else [rule_text(ctx, p) for p in plans.check_version(version)],
        changes=[] if viewer or active is None or active.id == version.id else plans.version_diff(active, version),
        active=active, grid=week_grid(allocations, version.capacity_down_mbps), days=DAYS,
        windows=[(a, _windows(a)) for a in allocations if a.schedule],
        cir_total=sum(a.cir_mbps for a in allocations),
        can_apply=can_apply, can_push=can_apply and dry_run_ok,
        can_copy=ctx.can(Permission.NETWORK_CHANGE), diff_class=_diff_class, **job)


@router.get("/plans/versions/{version_id}/job")
def version_job(version_id: int, ctx: Page) -> Response:
    """The provisioning job section alone (htmx polls it while the job runs)."""
    if _viewer(ctx):
        raise PermissionDenied("provisioning jobs are not shown to agency viewers")
    version = plans.get_version(ctx.db, ctx.signed_in, version_id)
    return ctx.render("plans/_job.html", title="", version=version, diff_class=_diff_class,
                      **_job_context(ctx, version))


def _diff_class(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "meta"
    return {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "")


@router.post("/plans/versions/{version_id}/apply", dependencies=[CsrfChecked])
def apply_version(version_id: int, ctx: Page, form: FormDep) -> Response:
    actor = ctx.signed_in
    actor.require(Permission.NETWORK_CHANGE)
    dry_run = form.get("mode") != "push"
    try:
        dispatch = send_after_commit(ctx.db, get_task_sender(ctx.request))
        applied = plans.apply_version(ctx.db, actor, version_id, dry_run=dry_run, dispatch=dispatch,
                                      request_job=get_job_requester(ctx.request))
    except ValidationFailed as exc:
        ctx.db.rollback()
        ctx.flash(ctx._("Not applied: %(reason)s", reason=ctx._(exc.message)), "error")
    else:
        if dry_run:
            ctx.flash(ctx._("Dry run started (provisioning job %(job)s): the queue diff appears below.",
                            job=applied.job.id))
        else:
            ctx.flash(ctx._("Version %(number)s is active. Provisioning job %(job)s pushes it to the router once "
                            "another operator or an admin approves it.",
                            number=applied.version.number, job=applied.job.id))
    return ctx.redirect(f"/plans/versions/{version_id}")


# --- new version ---------------------------------------------------------------------------------


@dataclass
class AllocationRow:
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)


def _rows_from(version: PlanVersion | None) -> list[AllocationRow]:
    rows = []
    for a in version.allocations if version else []:
        rows.append(AllocationRow({
            "name": a.name, "agency_id": "" if a.agency_id is None else str(a.agency_id),
            "is_hotspot_pool": "on" if a.is_hotspot_pool else "", "target": a.target, "cir_mbps": f"{a.cir_mbps:g}",
            "mir_mbps": f"{a.mir_mbps:g}", "priority": str(a.priority),
            "schedule": json.dumps(a.schedule) if a.schedule else ""}))
    return rows


def _blank() -> AllocationRow:
    return AllocationRow(dict.fromkeys(ROW_FIELDS, "") | {"priority": "8"})


def _rows_from_form(form: FormData) -> list[AllocationRow]:
    count = int_or_none(str(form.get("rows") or "")) or 0
    rows = []
    for n in range(min(count, 500)):
        values = {}
        for name in ROW_FIELDS:
            raw = form.get(f"{name}-{n}")
            values[name] = raw.strip() if isinstance(raw, str) else ""
        if any(values[k] for k in ("name", "target", "cir_mbps", "mir_mbps", "agency_id")):
            rows.append(AllocationRow(values))
    return rows


def _allocation(row: AllocationRow, ctx: PageContext) -> AllocationIn | None:
    v = row.values
    try:
        schedule = json.loads(v["schedule"]) if v["schedule"] else []
    except ValueError:
        row.errors.setdefault("schedule", []).append(ctx._("The schedule is not valid JSON."))
        return None
    payload: dict[str, Any] = {"name": v["name"], "agency_id": v["agency_id"] or None,
                               "is_hotspot_pool": v["is_hotspot_pool"] in ("on", "true", "1"),
                               "target": v["target"], "cir_mbps": v["cir_mbps"], "mir_mbps": v["mir_mbps"],
                               "priority": v["priority"] or 8, "schedule": schedule}
    try:
        return AllocationIn.model_validate(payload)
    except ValidationError as exc:
        state = FormState()
        apply_validation_error(state, exc, ctx._, ROW_FIELDS)
        for name, messages in state.errors.items():
            row.errors.setdefault(name if name != GENERAL else "name", []).extend(messages)
        return None


def rule_text(ctx: PageContext, problem: plans.RuleProblem, *, with_subject: bool = True) -> str:
    """A plan rule's problem in the reader's language, its figures in the reader's number format."""
    values = {k: formats.number(v, ctx.lang) if isinstance(v, float | int) else v for k, v in problem.values.items()}
    text = ctx._(problem.template, **values)
    return f"{problem.subject}: {text}" if with_subject and problem.subject else text


def _place_problem(ctx: PageContext, rows: list[AllocationRow], problem: plans.RuleProblem) -> bool:
    """Put a plan rule's message next to the field it is about; False when it concerns the whole plan."""
    for row in rows:
        if problem.subject and problem.subject == row.values["name"]:
            text = problem.template
            if "is used by more than one" in text:
                name = "name"
            elif "choose the agency" in text:
                name = "agency_id"
            elif "schedule" in text or "window" in text:
                name = "schedule"
            elif "ceiling (MIR)" in text and "capacity" in text:
                name = "mir_mbps"
            else:
                name = "cir_mbps"
            row.errors.setdefault(name, []).append(rule_text(ctx, problem, with_subject=False))
            return True
    return False


def _agency_choices(ctx: PageContext) -> list[tuple[str, str]]:
    rows = agencies.list_agencies(ctx.db, ctx.signed_in, limit=5000).items
    return [(str(a.id), f"{a.code} – {a.name}") for a in rows]


def _version_form(ctx: PageContext, plan: BandwidthPlan, rows: list[AllocationRow], *, note: str = "",
                  general: list[str] | None = None, cir_errors: list[str] | None = None,
                  status_code: int = 200) -> Response:
    capacity = plans.plan_capacity(plan)[0]
    cir_total = 0.0
    for row in rows:
        try:
            cir_total += float(row.values.get("cir_mbps") or 0)
        except ValueError:
            pass
    shown = rows + [_blank() for _ in range(BLANK_ROWS)]
    return ctx.render("plans/version_form.html", status_code=status_code,
                      title=ctx._("New version of %(plan)s", plan=plan.name), plan=plan, rows=shown,
                      capacity=capacity, cir_total=cir_total, note=note, general=general or [],
                      cir_errors=cir_errors or [], agency_choices=_agency_choices(ctx))


@router.get("/plans/{plan_id}/versions/new")
def new_version_form(plan_id: int, ctx: Page) -> Response:
    actor = ctx.signed_in
    actor.require(Permission.NETWORK_CHANGE)
    plan = plans.get_plan(ctx.db, actor, plan_id)
    source_id = int_or_none(query(ctx, "from"))
    source = next((v for v in plan.versions if v.id == source_id), None) or plans.active_version(plan) or (
        plan.versions[-1] if plan.versions else None)
    note = ctx._("Based on version %(number)s", number=source.number) if source else ""
    return _version_form(ctx, plan, _rows_from(source), note=note)


@router.post("/plans/{plan_id}/versions/new", dependencies=[CsrfChecked])
def create_version(plan_id: int, ctx: Page, form: FormDep) -> Response:
    actor = ctx.signed_in
    actor.require(Permission.NETWORK_CHANGE)
    plan = plans.get_plan(ctx.db, actor, plan_id)
    rows = _rows_from_form(form)
    raw_note = form.get("note")
    note = raw_note.strip() if isinstance(raw_note, str) else ""
    parsed = [_allocation(row, ctx) for row in rows]
    general: list[str] = []
    cir_errors: list[str] = []
    # The plan's rules are checked on the rows that parsed, so every mistake shows at once.
    allocations = [a for a in parsed if a is not None]
    for problem in plans.allocation_problems(plans.plan_capacity(plan)[0], allocations):
        if not _place_problem(ctx, rows, problem):
            (cir_errors if "guaranteed rates (CIR) add up" in problem else general).append(rule_text(ctx, problem))
    if not general and not cir_errors and not any(r.errors for r in rows):
        try:
            version = plans.create_version(ctx.db, actor, plan.id, VersionCreate(note=note, allocations=allocations))
        except ValidationFailed as exc:
            ctx.db.rollback()
            general.append(ctx._(exc.message))
        else:
            ctx.flash(ctx._("Draft version %(number)s saved. Run a dry run to see the router's queue diff.",
                            number=version.number))
            return ctx.redirect(f"/plans/versions/{version.id}")
    return _version_form(ctx, plan, rows, note=note, general=general, cir_errors=cir_errors, status_code=422)


# --- bandwidth requests --------------------------------------------------------------------------


def _request_page(ctx: PageContext, *, state: FormState | None = None, status_code: int = 200) -> Response:
    actor = ctx.signed_in
    status = enum_or_none(RequestStatus, query(ctx, "status"))
    rows = [bandwidth_requests.to_read(ctx.db, r)
            for r in bandwidth_requests.list_requests(ctx.db, actor, status=status)]
    plan_rows = plans.list_plans(ctx.db, actor) if actor.can(Permission.BANDWIDTH_REQUEST) else []
    plan_choices = [(str(p.id), p.name) for p in plan_rows if plans.active_version(p) is not None]
    agency_choices: list[tuple[str, str]] = []
    own: list[tuple[BandwidthPlan, Allocation]] = []  # an agency viewer's current shares, to compare with
    for p in plan_rows:
        version = plans.active_version(p)
        for a in plans.visible_allocations(actor, version) if version else []:
            if a.agency_id is None:
                continue
            own.append((p, a))
            label = f"{a.agency.code} – {a.agency.name}" if a.agency else a.name
            if (str(a.agency_id), label) not in agency_choices:
                agency_choices.append((str(a.agency_id), label))
    return ctx.render("plans/requests.html", status_code=status_code, title=ctx._("Bandwidth requests"), rows=rows,
                      statuses=REQUEST_STATUS, status=status.value if status else "",
                      can_request=actor.can(Permission.BANDWIDTH_REQUEST) and bool(plan_choices),
                      can_decide=actor.can(Permission.NETWORK_CHANGE), viewer=_viewer(ctx),
                      own=own if _viewer(ctx) else [],
                      plan_choices=plan_choices, agency_choices=agency_choices,
                      form=state or FormState(values={"plan_id": plan_choices[0][0] if plan_choices else ""}))


@router.get("/requests")
def request_list(ctx: Page) -> Response:
    return _request_page(ctx)


@router.post("/requests", dependencies=[CsrfChecked])
def file_request(ctx: Page, form: FormDep) -> Response:
    actor = ctx.signed_in
    actor.require(Permission.BANDWIDTH_REQUEST)
    names = ("plan_id", "agency_id", "cir_mbps", "mir_mbps", "reason")
    values = {n: (v.strip() if isinstance(v := form.get(n), str) else "") for n in names}
    state = FormState(values=values)
    payload: dict[str, Any] = {k: v for k, v in values.items() if v != ""}
    try:
        row = bandwidth_requests.create_request(ctx.db, actor, RequestCreate.model_validate(payload))
    except ValidationError as exc:
        apply_validation_error(state, exc, ctx._, names)
    except ValidationFailed as exc:
        ctx.db.rollback()
        apply_service_error(state, exc, ctx._, names)
    else:
        ctx.flash(ctx._("Request sent: %(agency)s asks for CIR %(cir)s / MIR %(mir)s Mbps. Diskominfo decides.",
                        agency=row.agency.code, cir=f"{row.cir_mbps:g}", mir=f"{row.mir_mbps:g}"))
        return ctx.redirect("/requests")
    return _request_page(ctx, state=state, status_code=422)


@router.post("/requests/{request_id}/{decision}", dependencies=[CsrfChecked])
def decide_request(request_id: int, decision: str, ctx: Page, form: FormDep) -> Response:
    actor = ctx.signed_in
    actor.require(Permission.NETWORK_CHANGE)
    if decision not in ("approve", "reject"):
        return ctx.redirect("/requests")
    raw_note = form.get("note")
    note = raw_note.strip() if isinstance(raw_note, str) else ""
    try:
        if decision == "approve":
            version = bandwidth_requests.approve_request(ctx.db, actor, request_id, note=note)
            ctx.flash(ctx._("Approved: draft version %(number)s has the new rates; dry-run and push it to apply.",
                            number=version.number))
            return ctx.redirect(f"/plans/versions/{version.id}")
        bandwidth_requests.reject_request(ctx.db, actor, request_id, note=note)
        ctx.flash(ctx._("Request rejected."))
    except PermissionDenied:
        ctx.db.rollback()
        ctx.flash(ctx._("You filed this request; someone else must approve or reject it."), "error")
    except ValidationFailed as exc:
        ctx.db.rollback()
        message = ctx._("Say why the request is rejected.") if exc.field == "note" else ctx._(exc.message)
        ctx.flash(message, "error")
    return ctx.redirect("/requests")
