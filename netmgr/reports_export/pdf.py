"""PDF export with reportlab for a budget meeting, in the reader's language: headline figures, matplotlib charts,
tables whose headings and names wrap inside their columns.

Charts are drawn off-screen to PNG with matplotlib's ``Figure`` (no pyplot, no global backend, no display) and
placed in the document. matplotlib is imported when the first chart is drawn, not with every API process.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    CondPageBreak,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from netmgr import formats
from netmgr.reports_export import texts
from netmgr.reports_export.columns import (
    AGENCY_COLUMNS,
    HOTSPOT_COLUMNS,
    SECTION_TITLES,
    UPLINK_COLUMNS,
    Column,
    _,
)

FONT_SIZE = 7
MAX_WORD = 70.0
"""Points: a text column is never made wider than this just to fit one word."""


def idr(value: Any, lang: str = formats.DEFAULT_LANGUAGE) -> str:
    """Rp with the reader's thousands separators, e.g. ``Rp 27.500.000``."""
    return formats.rupiah(value, lang)


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": base["Title"], "subtitle": base["Heading3"], "h2": base["Heading2"], "body": base["Normal"],
        "note": base["Italic"],
        "head": ParagraphStyle("head", fontName="Helvetica-Bold", fontSize=FONT_SIZE, leading=FONT_SIZE * 1.2,
                               textColor=colors.white),
        "cell": ParagraphStyle("cell", fontName="Helvetica", fontSize=FONT_SIZE, leading=FONT_SIZE * 1.2),
        "num": ParagraphStyle("num", fontName="Helvetica", fontSize=FONT_SIZE, leading=FONT_SIZE * 1.2,
                              alignment=TA_RIGHT),
    }


def _widths(columns: tuple[Column, ...], head: list[str], body: list[list[str]], width: float) -> list[float]:
    """Column widths that fit ``width``: each column at least as wide as its longest word (a number or a
    rupiah amount never wraps), the room left shared mostly among the text columns (names wrap there)."""
    pad = 3 + 3 + 0.5
    need = []
    for i, column in enumerate(columns):
        words = [stringWidth(w, "Helvetica-Bold", FONT_SIZE) for w in head[i].split()]
        for row in body:
            if column.kind != "text":
                words.append(stringWidth(row[i], "Helvetica", FONT_SIZE))
            else:  # a very long word (a name without spaces) is broken rather than widening its column
                words += [min(stringWidth(w, "Helvetica", FONT_SIZE), MAX_WORD) for w in row[i].split()]
        need.append(max(words, default=0) + pad)
    spare = width - sum(need)
    if spare < 0:  # more than a page can hold: share by the columns' nominal widths and let them wrap
        total = sum(c.width for c in columns)
        return [width * c.width / total for c in columns]
    weights = [c.width * (1.0 if c.kind == "text" else 0.25) for c in columns]
    return [n + spare * w / sum(weights) for n, w in zip(need, weights, strict=True)]


def _table(columns: tuple[Column, ...], rows: list[dict[str, Any]], width: float, lang: str,
           styles: dict[str, ParagraphStyle]) -> Table:
    """Headings and cells are paragraphs: a long heading or name wraps inside its column, never over the next."""
    t = formats.translator(lang)
    head_text = [t(c.heading) for c in columns]
    body_text = [[c.text(r, lang) for c in columns] for r in rows]
    head = [Paragraph(escape(text), styles["head"]) for text in head_text]
    body = [[Paragraph(escape(text), styles["cell" if c.kind == "text" else "num"])
             for c, text in zip(columns, cells, strict=True)] for cells in body_text]
    table = Table([head, *body], colWidths=_widths(columns, head_text, body_text, width), repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f4e79")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#eef3f8")]),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa9b8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _figure(width_in: float, height_in: float) -> tuple[Any, Any]:
    """A matplotlib ``Figure`` and its axes, without pyplot (no global backend or figure registry). matplotlib is
    imported here, when a PDF is drawn: seconds and tens of MB that no other API request pays for."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in))
    return fig, fig.subplots()


def _png(fig: Any) -> io.BytesIO:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=130, bbox_inches="tight", metadata={"Software": None})
    buf.seek(0)
    return buf


def _axis_numbers(ax: Any, lang: str) -> None:
    """Tick labels with the reader's decimal separator (``1,5`` in Indonesian)."""
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: formats.number(round(value, 2), lang)))


def _agency_ticks(ax: Any, rows: list[dict[str, Any]]) -> None:
    """One label per bar that never runs into the next: slanted for a few agencies, upright and smaller for many
    (30 SOPD codes slanted at 45° overlap each other)."""
    many = len(rows) > 12
    ax.set_xticks(list(range(len(rows))), [r["code"] for r in rows], rotation=90 if many else 45,
                  ha="center" if many else "right", fontsize=max(4.5, 7 * 12 / len(rows)) if many else 7)


def cost_share_chart(report: dict[str, Any], lang: str = formats.DEFAULT_LANGUAGE) -> io.BytesIO:
    """Bars per agency: its cost share by allocation beside its share by use, in millions of rupiah."""
    t = formats.translator(lang)
    rows = report["agencies"]
    fig, ax = _figure(6, 3.4)
    x = range(len(rows))
    ax.bar([i - 0.2 for i in x], [r["cost_by_allocation_idr"] / 1e6 for r in rows], width=0.4,
           label=t(_("by allocation (CIR)")), color="#1f4e79")
    ax.bar([i + 0.2 for i in x], [r["cost_by_use_idr"] / 1e6 for r in rows], width=0.4, label=t(_("by use (GB)")),
           color="#f0a030")
    _agency_ticks(ax, rows)
    tallest = max([r["cost_by_allocation_idr"] / 1e6 for r in rows] + [r["cost_by_use_idr"] / 1e6 for r in rows],
                  default=0)
    if tallest > 0:  # room above the bars for the legend, which would otherwise cover them
        ax.set_ylim(0, tallest * 1.3)
    ax.set_ylabel(t(_("Rp million")))
    ax.set_title(t(_("Cost share per agency")), fontsize=10)
    _axis_numbers(ax, lang)
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def utilisation_chart(report: dict[str, Any], lang: str = formats.DEFAULT_LANGUAGE) -> io.BytesIO:
    """Per agency: the 95th percentile as a share of its guaranteed rate (CIR) and of its ceiling (MIR)."""
    t = formats.translator(lang)
    rows = report["agencies"]
    fig, ax = _figure(6, 3.4)
    x = range(len(rows))
    ax.bar(list(x), [min(r["use_of_mir_percent"], 120) for r in rows], color=[
        "#c0392b" if r["use_of_mir_percent"] >= 95 else "#7f8c8d" if r["use_of_cir_percent"] < 20 else "#27ae60"
        for r in rows])
    ax.axhline(100, color="#c0392b", linewidth=0.8, linestyle="--")
    _agency_ticks(ax, rows)
    ax.set_ylabel(t(_("% of ceiling (MIR)")))
    ax.set_title(t(_("95th percentile use of each allocation")), fontsize=10)
    _axis_numbers(ax, lang)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def to_pdf(report: dict[str, Any], *, generated_at: datetime, tz: str, title: str = "", regency: str = "",
           lang: str = formats.DEFAULT_LANGUAGE) -> bytes:
    """A landscape A4 PDF in ``lang``: summary, recommendations, the two charts side by side, then the uplink,
    agency and hotspot tables flowing on (no forced page break, so no page is left mostly blank).

    ``title`` replaces the translated "Bandwidth report" heading when given; ``generated_at`` is dated under it
    in the installation's zone ``tz`` ("Dibuat 7 Desember 2026 23.45 WIB").
    """
    lang = formats.language(lang)
    t = formats.translator(lang)
    title = title or t(_("Bandwidth report"))
    month = formats.month_name(report["month"], lang)
    buf = io.BytesIO()
    page = landscape(A4)
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=1.5 * cm, rightMargin=1.5 * cm, topMargin=1.2 * cm,
                            bottomMargin=1.2 * cm, title=f"{title} {month}", author=regency or "netmgr",
                            lang=lang, invariant=1)
    width = page[0] - 3 * cm
    styles = _styles()
    story: list[Any] = [Paragraph(escape(f"{title} — {month}"), styles["title"])]
    if regency:
        story.append(Paragraph(escape(regency), styles["subtitle"]))
    story.append(Paragraph(escape(texts.generated(generated_at, lang, tz)), styles["note"]))
    totals = report["totals"]
    if totals.get("cost_idr") is not None:
        story.append(Paragraph(t(_("Total internet cost this month: <b>%(cost)s</b> (of which PPN %(tax)s), "
                                   "%(gb)s carried."), cost=idr(totals["cost_idr"], lang),
                                 tax=idr(totals["tax_idr"], lang), gb=formats.gigabytes(totals["gb"], lang)),
                               styles["body"]))
    story.append(Paragraph(t(_("The 95th percentile: sort the month's 5-minute samples, set aside the busiest 5 % "
                               "and read the highest that remains — the speed an office needs almost all the "
                               "time.")), styles["note"]))
    story.append(Spacer(1, 0.3 * cm))
    if report["recommendations"]:
        story.append(Paragraph(escape(t(SECTION_TITLES["recommendations"])), styles["h2"]))
        for r in texts.recommendations(report, lang):
            story.append(Paragraph(f"• <b>{escape(r.kind_label)}</b>: {escape(r.text)} {escape(r.saving_text)}",
                                   styles["body"]))
        story.append(Spacer(1, 0.3 * cm))
    if report["agencies"]:
        half = width / 2 - 0.2 * cm
        charts = Table([[Image(cost_share_chart(report, lang), width=half, height=half * 0.56),
                         Image(utilisation_chart(report, lang), width=half, height=half * 0.56)]],
                       colWidths=[width / 2, width / 2])
        story.append(charts)
        story.append(Spacer(1, 0.3 * cm))
    sections = [("uplinks", UPLINK_COLUMNS), ("agencies", AGENCY_COLUMNS), ("hotspots", HOTSPOT_COLUMNS)]
    for key, columns in sections:
        if report[key] or key == "agencies":
            # A heading never ends a page alone, and a table that does not fit flows on (no blank page).
            story.append(CondPageBreak(5 * cm))
            story.append(Paragraph(escape(t(SECTION_TITLES[key])), styles["h2"]))
            story.append(_table(columns, report[key], width, lang, styles))
            story.append(Spacer(1, 0.4 * cm))
    doc.build(story)
    return buf.getvalue()
