"""XLSX export with openpyxl: one sheet per section, numbers stored as numbers, rupiah as ``"Rp"#,##0``,
frozen header row, column widths set, so finance staff can sum and filter straight away. Text is always a
string cell (quote-prefixed when it looks like a formula), so a name such as ``=HYPERLINK(...)`` never runs."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from netmgr.reports_export.columns import AGENCY_COLUMNS, HOTSPOT_COLUMNS, UPLINK_COLUMNS, Column
from netmgr.security.formulas import looks_like_formula

IDR_FORMAT = '"Rp"#,##0'
NUMBER_FORMAT = "#,##0.00"
PERCENT_FORMAT = '0.0"%"'
FORMATS = {"idr": IDR_FORMAT, "number": NUMBER_FORMAT, "percent": PERCENT_FORMAT}


def _append_text_safe(ws: Worksheet, values: Sequence[Any]) -> None:
    """Append a row; every ``str`` becomes a string cell (openpyxl would store ``"=..."`` as a formula), without
    the control characters XML cannot hold (a stored name may have them; the export must not fail on it)."""
    ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if looks_like_formula(cell.value):
                cell.quotePrefix = True  # editing the cell in Excel keeps it text, too


def _sheet(ws: Worksheet, columns: Sequence[Column], rows: Sequence[dict[str, Any]]) -> None:
    _append_text_safe(ws, [c.heading for c in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        _append_text_safe(ws, [c.value(row) for c in columns])
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = max(column.width, len(column.heading) + 2)
        if column.kind in FORMATS:
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = FORMATS[column.kind]
    ws.freeze_panes = "A2"


def to_xlsx(report: dict[str, Any]) -> bytes:
    wb = Workbook()
    first = wb.active
    assert first is not None  # noqa: S101 - a new workbook always has one sheet
    first.title = "Agencies"
    _sheet(first, AGENCY_COLUMNS, report["agencies"])
    if report["uplinks"]:
        _sheet(wb.create_sheet("Uplinks"), UPLINK_COLUMNS, report["uplinks"])
    if report["hotspots"]:
        _sheet(wb.create_sheet("Hotspots"), HOTSPOT_COLUMNS, report["hotspots"])
    if report["recommendations"]:
        ws = wb.create_sheet("Recommendations")
        cols = (Column("kind", "Kind", "text", 18), Column("subject", "Subject", "text", 22),
                Column("saving_idr", "Estimated saving per month", "idr", 22), Column("message", "Detail", "text", 90))
        _sheet(ws, cols, report["recommendations"])
    wb.properties.title = f"Bandwidth report {report['month']}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
