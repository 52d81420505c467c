"""CSV export: one file, sections one after another (uplinks, agencies, hotspots, recommendations), headings
in the reader's language, plain machine-readable numbers (no Rp, no grouping) so a spreadsheet can sum them.

Every cell goes through ``netmgr.security.formulas.SafeCsvWriter``, so text never opens as a spreadsheet formula.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from netmgr import formats
from netmgr.reports_export import texts
from netmgr.reports_export.columns import (
    AGENCY_COLUMNS,
    HOTSPOT_COLUMNS,
    SECTION_TITLES,
    UPLINK_COLUMNS,
    Column,
    Translate,
    _,
)
from netmgr.security.formulas import SafeCsvWriter


def _section(writer: SafeCsvWriter, t: Translate, title: str, columns: Sequence[Column],
             rows: Sequence[dict[str, Any]]) -> None:
    writer.writerow([t(title)])
    writer.writerow([t(c.heading) for c in columns])
    for row in rows:
        writer.writerow(["" if (v := c.value(row, t)) is None else v for c in columns])
    writer.writerow([])


def to_csv(report: dict[str, Any], *, generated_at: datetime, tz: str, lang: str = formats.DEFAULT_LANGUAGE) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the agency names correctly; the second line dates the file in
    the installation's zone ``tz``."""
    lang = formats.language(lang)
    t = formats.translator(lang)
    buf = io.StringIO()
    writer = SafeCsvWriter(buf)
    writer.writerow([t(_("Bandwidth report %(month)s"), month=formats.month_name(report["month"], lang)),
                     report["month"], "IDR"])
    writer.writerow([texts.generated(generated_at, lang, tz)])
    writer.writerow([])
    if report["uplinks"]:
        _section(writer, t, SECTION_TITLES["uplinks"], UPLINK_COLUMNS, report["uplinks"])
    _section(writer, t, SECTION_TITLES["agencies"], AGENCY_COLUMNS, report["agencies"])
    if report["hotspots"]:
        _section(writer, t, SECTION_TITLES["hotspots"], HOTSPOT_COLUMNS, report["hotspots"])
    if report["recommendations"]:
        writer.writerow([t(SECTION_TITLES["recommendations"])])
        writer.writerow([t(_("Kind")), t(_("Subject")), t(_("Estimated saving per month (IDR)")), t(_("Detail"))])
        for r in texts.recommendations(report, lang):
            writer.writerow([r.kind_label, r.subject, r.saving_idr, r.text])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
