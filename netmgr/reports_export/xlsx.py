"""XLSX export with openpyxl: one sheet per section with headings in the reader's language, numbers stored as
numbers (rupiah as ``"Rp"#,##0``, GB with one decimal, which Excel shows with the reader's own separators),
a bold frozen header row, a totals row, column widths set, so finance staff can sum and filter straight away.
Text is always a string cell (quote-prefixed when it looks like a formula), so a name such as
``=HYPERLINK(...)`` never runs."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from netmgr import formats, localtime
from netmgr.reports_export import texts
from netmgr.reports_export.columns import (
    AGENCY_COLUMNS,
    HOTSPOT_COLUMNS,
    SECTION_TITLES,
    SUMMED,
    UPLINK_COLUMNS,
    Column,
    Translate,
    _,
)
from netmgr.security.formulas import looks_like_formula

IDR_FORMAT = '"Rp"#,##0'
NUMBER_FORMAT = "#,##0.00"
GB_FORMAT = "#,##0.0"
PERCENT_FORMAT = '0.0"%"'
FORMATS = {"idr": IDR_FORMAT, "number": NUMBER_FORMAT, "gb": GB_FORMAT, "percent": PERCENT_FORMAT}
WHOLE_NUMBER_FORMAT = "#,##0"


def _append_text_safe(ws: Worksheet, values: Sequence[Any]) -> None:
    """Append a row; every ``str`` becomes a string cell (openpyxl would store ``"=..."`` as a formula), without
    the control characters XML cannot hold (a stored name may have them; the export must not fail on it)."""
    ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if looks_like_formula(cell.value):
                cell.quotePrefix = True  # editing the cell in Excel keeps it text, too


def _sheet(ws: Worksheet, t: Translate, columns: Sequence[Column], rows: Sequence[dict[str, Any]], *,
           totals: bool = True) -> None:
    headings = [t(c.heading) for c in columns]
    _append_text_safe(ws, headings)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        _append_text_safe(ws, [c.value(row, t) for c in columns])
    if totals and rows:
        # Values, not =SUM() formulas: the file reads the same in any viewer, and a total is never recomputed
        # differently from the report's own rounding.
        sums: list[Any] = [sum(v for r in rows if (v := c.value(r, t)) is not None) if c.key in SUMMED else None
                           for c in columns]
        sums[0] = t(_("Total"))
        _append_text_safe(ws, sums)
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
            cell.border = Border(top=Side(style="thin"))
    for index, (column, heading) in enumerate(zip(columns, headings, strict=True), start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = max(column.width, min(len(heading) + 2, 40))
        if column.kind in FORMATS:
            whole = all(isinstance(r.get(column.key), int) for r in rows) and column.kind == "number"
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = WHOLE_NUMBER_FORMAT if whole else FORMATS[column.kind]
    ws.freeze_panes = "A2"


def to_xlsx(report: dict[str, Any], *, generated_at: datetime, tz: str,
            lang: str = formats.DEFAULT_LANGUAGE) -> bytes:
    """The report as a workbook in ``lang``: agencies, uplinks, hotspots and recommendations sheets, and a last
    sheet that names the report and dates it in the installation's zone ``tz`` (the tables keep one header row)."""
    lang = formats.language(lang)
    t = formats.translator(lang)
    wb = Workbook()
    first = wb.active
    assert first is not None  # noqa: S101 - a new workbook always has one sheet
    first.title = t(SECTION_TITLES["agencies"])
    _sheet(first, t, AGENCY_COLUMNS, report["agencies"])
    if report["uplinks"]:
        _sheet(wb.create_sheet(t(SECTION_TITLES["uplinks"])), t, UPLINK_COLUMNS, report["uplinks"])
    if report["hotspots"]:
        _sheet(wb.create_sheet(t(SECTION_TITLES["hotspots"])), t, HOTSPOT_COLUMNS, report["hotspots"])
    if report["recommendations"]:
        ws = wb.create_sheet(t(SECTION_TITLES["recommendations"]))
        worded = [{"kind": r.kind_label, "subject": r.subject, "saving_idr": r.saving_idr, "text": r.text}
                  for r in texts.recommendations(report, lang)]
        cols = (Column("kind", _("Kind"), "text", 28), Column("subject", _("Subject"), "text", 22),
                Column("saving_idr", _("Estimated saving per month"), "idr", 22),
                Column("text", _("Detail"), "text", 90))
        _sheet(ws, t, cols, worded, totals=False)
    title = t(_("Bandwidth report %(month)s"), month=formats.month_name(report["month"], lang))
    about = wb.create_sheet(t(_("About this report")))
    for line in (title, texts.generated(generated_at, lang, tz)):
        _append_text_safe(about, [line])
    about.column_dimensions["A"].width = 60
    wb.properties.title = title
    wb.properties.language = lang
    wb.properties.created = localtime.as_utc(generated_at).replace(tzinfo=None)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
