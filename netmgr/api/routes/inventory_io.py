"""/api/v1/inventory: bulk import (multipart upload of CSV or YAML) and export (file download)."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from netmgr import formats
from netmgr.api.deps import ApiLanguage, CurrentActor, InventoryWriter, SessionDep
from netmgr.errors import ImportFailed, RowError, ValidationFailed
from netmgr.models.base import utcnow
from netmgr.services import import_problems
from netmgr.services.inventory_io import (
    DataFormat,
    ImportKind,
    ImportReport,
    detect_format,
    export_inventory,
    import_inventory,
)

router = APIRouter(prefix="/inventory", tags=["inventory"])

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MEDIA_TYPES = {DataFormat.CSV: "text/csv; charset=utf-8", DataFormat.YAML: "application/yaml; charset=utf-8"}
EXTENSIONS = {DataFormat.CSV: "csv", DataFormat.YAML: "yaml"}


class RowProblem(BaseModel):
    row: int
    field: str | None
    problem: str


class ImportReportRead(BaseModel):
    """The outcome of an import; ``errors`` uses the same shape as the 422 body of a failed real run."""

    kind: ImportKind
    dry_run: bool
    total_rows: int
    created: int
    updated: int
    ok: bool
    applied: bool
    errors: list[RowProblem]

    @classmethod
    def of(cls, report: ImportReport) -> ImportReportRead:
        return cls(kind=report.kind, dry_run=report.dry_run, total_rows=report.total_rows, created=report.created,
                   updated=report.updated, ok=report.ok, applied=report.applied,
                   errors=[RowProblem(row=e.row, field=e.field, problem=e.reason) for e in report.errors])


def _worded(errors: list[RowError], lang: str) -> list[RowError]:
    """``errors`` with each problem in the request's language (``Accept-Language``)."""
    translate = formats.translator(lang)
    return [replace(e, reason=import_problems.problem_text(e, translate)) for e in errors]


def _file_problem(code: str, lang: str, **values: str) -> str:
    return import_problems.problem_text(RowError(0, "file", "", code=code, values=tuple(values.items())),
                                        formats.translator(lang))


@router.post("/import/{kind}", response_model=ImportReportRead)
def import_file(
    kind: ImportKind,
    session: SessionDep,
    actor: InventoryWriter,
    lang: ApiLanguage,
    file: UploadFile = File(..., description="a CSV or YAML file"),
    dry_run: bool = Query(False, description="check every row and report, write nothing"),
    fmt: DataFormat | None = Query(None, alias="format", description="csv or yaml; default: from the file name"),
) -> ImportReportRead:
    """Import agencies, sites, devices or uplinks. A real run with any bad row writes nothing and answers 422.

    Problems are worded in the language of ``Accept-Language`` (``id`` or ``en``; English when none is named).
    """
    if fmt is None:
        try:
            fmt = detect_format(file.filename or "")
        except ValidationFailed:
            raise ValidationFailed(_file_problem("unknown_format", lang, name=repr(file.filename or "")),
                                   field="format") from None
    content = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(_file_problem("file_too_large", lang, mb=str(MAX_UPLOAD_BYTES // (1024 * 1024))),
                               field="file")
    report = import_inventory(session, actor, kind=kind, fmt=fmt, content=content, dry_run=dry_run)
    report.errors = _worded(report.errors, lang)
    if not report.dry_run and not report.ok:
        raise ImportFailed(report.errors)
    return ImportReportRead.of(report)


@router.get("/export/{kind}", response_class=Response,
            responses={200: {"content": {"text/csv": {}, "application/yaml": {}}}})
def export_file(
    kind: ImportKind,
    session: SessionDep,
    actor: CurrentActor,
    fmt: DataFormat = Query(DataFormat.CSV, alias="format", description="csv or yaml"),
) -> Response:
    """Download the rows you may see, in the format the import reads (secrets are never exported)."""
    text = export_inventory(session, actor, kind=kind, fmt=fmt)
    if fmt == DataFormat.CSV:
        text = "\ufeff" + text  # the BOM makes Excel read the file as UTF-8; the import skips it
    filename = f"netmgr-{kind.value}-{utcnow():%Y-%m-%d}.{EXTENSIONS[fmt]}"
    return Response(content=text.encode("utf-8"), media_type=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
