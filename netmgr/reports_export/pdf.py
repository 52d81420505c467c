"""PDF export with reportlab for a budget meeting: headline figures, matplotlib charts, tables.

Charts are drawn off-screen to PNG with matplotlib's ``Figure`` (no pyplot, no global backend, no display) and
placed in the document. matplotlib is imported when the first chart is drawn, not with every API process.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from netmgr.reports_export.columns import AGENCY_COLUMNS, HOTSPOT_COLUMNS, UPLINK_COLUMNS, Column

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def idr(value: Any) -> str:
    """Rp with Indonesian thousands dots, e.g. ``Rp 27.500.000``."""
    if value is None:
        return "—"
    return "Rp " + f"{int(value):,}".replace(",", ".")


def _cell(column: Column, row: dict[str, Any]) -> str:
    value = column.value(row)
    if value is None:
        return "—"
    if column.kind == "idr":
        return idr(value)
    if column.kind == "percent":
        return f"{value:g} %"
    if column.kind == "number":
        return f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".") if isinstance(value, float) \
            else f"{value:,}".replace(",", ".")
    return str(value)


def _table(columns: tuple[Column, ...], rows: list[dict[str, Any]], width: float) -> Table:
    data = [[c.heading for c in columns]] + [[_cell(c, r) for c in columns] for r in rows]
    total_w = sum(c.width for c in columns)
    table = Table(data, colWidths=[width * c.width / total_w for c in columns], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 7),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f4e79")),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#eef3f8")]),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa9b8")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        *[("ALIGN", (i, 1), (i, -1), "RIGHT") for i, c in enumerate(columns) if c.kind != "text"],
    ]))
    return table


def _figure(width_in: float, height_in: float) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure  # seconds and tens of MB: only when a PDF is drawn

    fig = Figure(figsize=(width_in, height_in))
    return fig, fig.subplots()


def _png(fig: Figure) -> io.BytesIO:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130, bbox_inches="tight", metadata={"Software": None})
    buf.seek(0)
    return buf


def cost_share_chart(report: dict[str, Any]) -> io.BytesIO:
    """Bars per agency: its cost share by allocation beside its share by use, in millions of rupiah."""
    rows = report["agencies"]
    fig, ax = _figure(10, 3.6)
    x = range(len(rows))
    ax.bar([i - 0.2 for i in x], [r["cost_by_allocation_idr"] / 1e6 for r in rows], width=0.4,
           label="by allocation (CIR)", color="#1f4e79")
    ax.bar([i + 0.2 for i in x], [r["cost_by_use_idr"] / 1e6 for r in rows], width=0.4, label="by use (GB)",
           color="#f0a030")
    ax.set_xticks(list(x), [r["code"] for r in rows], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("Rp million")
    ax.set_title(f"Cost share per agency, {report['month']}")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def utilisation_chart(report: dict[str, Any]) -> io.BytesIO:
    """Per agency: the 95th percentile as a share of its guaranteed rate (CIR) and of its ceiling (MIR)."""
    rows = report["agencies"]
    fig, ax = _figure(10, 3.2)
    x = range(len(rows))
    ax.bar(list(x), [min(r["use_of_mir_percent"], 120) for r in rows], color=[
        "#c0392b" if r["use_of_mir_percent"] >= 95 else "#7f8c8d" if r["use_of_cir_percent"] < 20 else "#27ae60"
        for r in rows])
    ax.axhline(100, color="#c0392b", linewidth=0.8, linestyle="--")
    ax.set_xticks(list(x), [r["code"] for r in rows], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("% of ceiling (MIR)")
    ax.set_title("95th percentile use of each allocation (red: at its ceiling, grey: mostly idle)")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def to_pdf(report: dict[str, Any], *, title: str = "Bandwidth report", regency: str = "") -> bytes:
    """A landscape A4 PDF: summary, recommendations, charts, then the uplink, agency and hotspot tables."""
    buf = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=1.5 * cm, rightMargin=1.5 * cm, topMargin=1.2 * cm,
                            bottomMargin=1.2 * cm, title=f"{title} {report['month']}", author=regency or "netmgr",
                            invariant=1)
    width = page[0] - 3 * cm
    styles = getSampleStyleSheet()
    story: list[Any] = [Paragraph(f"{title} — {report['month']}", styles["Title"])]
    if regency:
        story.append(Paragraph(regency, styles["Heading3"]))
    totals = report["totals"]
    if totals.get("cost_idr") is not None:
        story.append(Paragraph(
            f"Total internet cost this month: <b>{idr(totals['cost_idr'])}</b> (of which PPN {idr(totals['tax_idr'])}),"
            f" {totals['gb']:,.1f} GB carried.", styles["Normal"]))
    story.append(Paragraph("The 95th percentile: sort the month's 5-minute samples, set aside the busiest 5 % "
                           "and read the highest that remains — the speed an office needs almost all the time.",
                           styles["Italic"]))
    story.append(Spacer(1, 0.3 * cm))
    if report["recommendations"]:
        story.append(Paragraph("Recommendations", styles["Heading2"]))
        for r in report["recommendations"]:
            story.append(Paragraph(f"• {r['message']}", styles["Normal"]))
        story.append(Spacer(1, 0.3 * cm))
    if report["agencies"]:
        story.append(Image(cost_share_chart(report), width=width, height=width * 0.33))
        story.append(Image(utilisation_chart(report), width=width, height=width * 0.3))
        story.append(PageBreak())
    if report["uplinks"]:
        story.append(Paragraph("Uplinks", styles["Heading2"]))
        story.append(_table(UPLINK_COLUMNS, report["uplinks"], width))
        story.append(Spacer(1, 0.4 * cm))
    story.append(Paragraph("Agencies", styles["Heading2"]))
    story.append(_table(AGENCY_COLUMNS, report["agencies"], width))
    if report["hotspots"]:
        story.append(Spacer(1, 0.4 * cm))
        story.append(Paragraph("Public hotspots", styles["Heading2"]))
        story.append(_table(HOTSPOT_COLUMNS, report["hotspots"], width))
    doc.build(story)
    return buf.getvalue()
