"""CSV export: one file, sections one after another (uplinks, agencies, hotspots), plain numbers (no Rp).

Every cell goes through ``netmgr.security.formulas.SafeCsvWriter``, so text never opens as a spreadsheet formula.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from netmgr.reports_export.columns import AGENCY_COLUMNS, HOTSPOT_COLUMNS, UPLINK_COLUMNS, Column
from netmgr.security.formulas import SafeCsvWriter


def _section(writer: SafeCsvWriter, title: str, columns: Sequence[Column], rows: Sequence[dict[str, Any]]) -> None:
    writer.writerow([title])
    writer.writerow([c.heading for c in columns])
    for row in rows:
        writer.writerow(["" if c.value(row) is None else c.value(row) for c in columns])
    writer.writerow([])


def to_csv(report: dict[str, Any]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the agency names correctly."""
    buf = io.StringIO()
    writer = SafeCsvWriter(buf)
    writer.writerow([f"Bandwidth report {report['month']}", "IDR"])
    writer.writerow([])
    if report["uplinks"]:
        _section(writer, "Uplinks", UPLINK_COLUMNS, report["uplinks"])
    _section(writer, "Agencies", AGENCY_COLUMNS, report["agencies"])
    if report["hotspots"]:
        _section(writer, "Hotspots", HOTSPOT_COLUMNS, report["hotspots"])
    if report["recommendations"]:
        writer.writerow(["Recommendations"])
        writer.writerow(["Kind", "Subject", "Estimated saving per month (IDR)", "Detail"])
        for r in report["recommendations"]:
            writer.writerow([r["kind"], r["subject"], r["saving_idr"], r["message"]])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
