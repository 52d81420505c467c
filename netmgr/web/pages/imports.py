"""The import page: upload a CSV or YAML of agencies, sites, devices or uplinks, check it, then apply it.

Upload → ``inventory_io.import_inventory(dry_run=True)`` → a table of every bad row, or "ready: N rows"
with an Import button that re-sends the same file (carried in the page, base64) for the real run.
"""

from __future__ import annotations

import base64
import binascii

from fastapi.responses import Response
from starlette.datastructures import UploadFile

from netmgr.errors import ValidationFailed
from netmgr.security.permissions import Permission
from netmgr.services import import_problems, inventory_io
from netmgr.services.inventory_io import DataFormat, ImportKind, ImportReport
from netmgr.web.context import CsrfChecked, FormDep, Page, PageContext
from netmgr.web.labels import _
from netmgr.web.pages import page_router

router = page_router()
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
KIND_LABELS = {"agencies": _("Agencies"), "sites": _("Sites"), "devices": _("Devices"), "uplinks": _("Uplinks")}


def _page(ctx: PageContext, *, kind: str = "devices", report: ImportReport | None = None, problem: str | None = None,
          payload: str = "", filename: str = "", status_code: int = 200) -> Response:
    problems = [(e, import_problems.problem_text(e, ctx._)) for e in report.errors] if report else []
    return ctx.render("import.html", status_code=status_code, title=ctx._("Import"), kinds=KIND_LABELS,
                      kind=kind, report=report, problems=problems, problem=problem, payload=payload,
                      filename=filename)


@router.get("/import")
def import_form(ctx: Page) -> Response:
    ctx.signed_in.require(Permission.INVENTORY_WRITE)
    kind = ctx.request.query_params.get("kind", "devices")
    return _page(ctx, kind=kind if kind in KIND_LABELS else "devices")


def _read_file(form: FormDep) -> tuple[str, bytes] | None:
    """(file name, content) from the upload, or from the checked file the page carried along."""
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        return upload.filename, upload.file.read(MAX_UPLOAD_BYTES + 1)
    carried = form.get("payload")
    if isinstance(carried, str) and carried:
        try:
            return str(form.get("filename") or "import.csv"), base64.b64decode(carried, validate=True)
        except (binascii.Error, ValueError):
            return None
    return None


@router.post("/import", dependencies=[CsrfChecked])
def run_import(ctx: Page, form: FormDep) -> Response:
    actor = ctx.signed_in
    actor.require(Permission.INVENTORY_WRITE)
    raw_kind = str(form.get("kind") or "")
    if raw_kind not in KIND_LABELS:
        return _page(ctx, problem=ctx._("Choose what the file contains."), status_code=422)
    kind = ImportKind(raw_kind)
    file = _read_file(form)
    if file is None:
        return _page(ctx, kind=kind, problem=ctx._("Choose a CSV or YAML file."), status_code=422)
    filename, content = file
    if len(content) > MAX_UPLOAD_BYTES:
        return _page(ctx, kind=kind, problem=ctx._("The file is larger than 5 MB."), status_code=413)
    try:
        fmt: DataFormat = inventory_io.detect_format(filename)
    except ValidationFailed:
        return _page(ctx, kind=kind, problem=ctx._("Name the file .csv, .yaml or .yml."), status_code=422)
    dry_run = form.get("action") != "apply"
    report = inventory_io.import_inventory(ctx.db, actor, kind=kind, fmt=fmt, content=content, dry_run=dry_run)
    if report.applied:
        ctx.flash(ctx._("Imported %(n)s rows: %(created)s new, %(updated)s updated.", n=report.total_rows,
                        created=report.created, updated=report.updated))
        return ctx.redirect(f"/{kind.value}")
    payload = base64.b64encode(content).decode("ascii") if report.ok else ""
    return _page(ctx, kind=kind, report=report, payload=payload, filename=filename,
                 status_code=200 if report.ok else 422)
