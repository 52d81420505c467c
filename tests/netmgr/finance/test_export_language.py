"""Report files in the reader's language with Indonesian number and date formats, and PDFs that print
cleanly: no text over other text, no cut-off column, no mostly blank page (rendered with pdftoppm)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import cm

from netmgr import formats
from netmgr.reports_export import AGENCY_COLUMNS, HOTSPOT_COLUMNS, UPLINK_COLUMNS, to_csv, to_pdf, to_xlsx
from tests.pdf_layout import inked_fraction, overlapping, render_png, text_boxes

GENERATED = datetime(2026, 12, 7, 16, 45, tzinfo=UTC)
DATED: dict[str, Any] = {"generated_at": GENERATED, "tz": "Asia/Jakarta"}
"""23.45 WIB on 7 December: the files are dated in the installation's zone."""
LONG = "Dinas Kependudukan, Pencatatan Sipil, Pemberdayaan Masyarakat dan Desa Kabupaten Kotawaringin Timur"


def big_report(agencies: int = 30) -> dict[str, Any]:
    """A month of a large regency with the longest names the forms accept (100 characters)."""
    uplinks = [{
        "name": f"telkom-astinet-{i}00-{'x' * 40}", "isp_name": "PT Telekomunikasi Indonesia (Persero) Tbk " * 2,
        "capacity_mbps": 500, "price_idr": 27_500_000, "tax_idr": 3_025_000, "cost_idr": 30_525_000,
        "gb": 67_069.8, "avg_mbps": 143.27, "p95_mbps": 300.5, "p95_utilisation_percent": 60.1,
        "cost_per_mbps_used_idr": 101_580, "cost_per_gb_idr": 455, "contract_status": "partial",
        "contract_days": 17, "days_in_month": 31, "avg_utilisation_percent": 28.7} for i in range(1, 4)]
    rows = [{
        "agency_id": i, "code": f"SOPD-{i:02d}-PANJANG", "name": f"{LONG[:96]} {i:03d}", "cir_mbps": 20.0,
        "mir_mbps": 30.0, "gb": 1234.5 + i, "p95_mbps": 28.4, "use_of_cir_percent": 142.0 if i % 2 else 4.5,
        "use_of_mir_percent": 96.5 if i % 2 else 3.0, "cost_by_allocation_idr": 3_052_500 + i,
        "cost_by_use_idr": 2_500_000 - i, "change_percent": -12.5, "plan_id": 1} for i in range(agencies)]
    return {
        "month": "2026-11", "currency": "IDR", "uplinks": uplinks, "plans": [], "agencies": rows,
        "hotspots": [{"id": 1, "name": "Taman Kota Sampit " + "y" * 80, "sessions": 1520, "unique_devices": 431,
                      "gb": 812.4, "peak_hours": [19, 20, 12], "cost_idr": 4_100_000, "cost_per_session_idr": 2697}],
        "recommendations": [
            {"kind": "move_cir", "subject": "Internet Pemkab", "saving_idr": 1_500_000, "mbps": 18.0,
             "from": ["SOPD-00-PANJANG"], "to": ["SOPD-01-PANJANG"], "message": "move 18 Mbps"},
            {"kind": "downgrade_uplink", "subject": uplinks[0]["name"], "saving_idr": 6_105_000, "from_mbps": 500,
             "to_mbps": 400, "message": "smaller"}],
        "totals": {"cost_idr": 91_575_000, "tax_idr": 9_075_000, "gb": 201_209.4, "by_allocation_idr": 0,
                   "by_use_idr": 0},
    }


def test_one_formatting_module_gives_indonesian_money_volumes_and_dates() -> None:
    from datetime import date

    assert formats.rupiah(40_515_000, "id") == "Rp 40.515.000"
    assert formats.gigabytes(67_069.83, "id") == "67.069,8 GB"
    assert formats.long_date(date(2026, 12, 7), "id") == "7 Desember 2026"
    assert formats.month_name("2026-12", "id") == "Desember 2026"
    assert formats.gigabytes(67_069.83, "en") == "67,069.8 GB"
    assert formats.month_name("2026-12", "en") == "December 2026"


@pytest.mark.parametrize("lang", ["id", "en"])
def test_pdf_text_never_overlaps_and_stays_on_the_page(lang: str, tmp_path: Path) -> None:
    pdf = to_pdf(big_report(), regency="Kabupaten Kotawaringin Timur", lang=lang, **DATED)
    pages = text_boxes(pdf)
    width, height = landscape(A4)
    for number, boxes in enumerate(pages, start=1):
        assert boxes, f"page {number} has no text"
        assert not overlapping(boxes), f"page {number}: {overlapping(boxes)[:5]}"
        margin = 1.5 * cm  # the document's side margins: text beyond them is cut off or crammed against the edge
        outside = [b.text for b in boxes if not b.inside(margin - 1, 0, width - margin + 1, height)]
        assert not outside, f"page {number}: past the margin: {outside[:5]}"
    text = " ".join(b.text for page in pages for b in page)
    # The last column of the widest table is on the page, and every long name is there in full (wrapped).
    assert ("17/31 hari, prorata" if lang == "id" else "17/31 days, pro rata") in text
    words = " ".join(text.split())
    assert f"{LONG[:40]}" in words
    for png in render_png(pdf, tmp_path, f"report-{lang}")[:-1]:
        assert inked_fraction(png) > 0.6, f"{png.name} is mostly blank"


def test_pdf_speaks_indonesian_by_default_and_english_on_request() -> None:
    report = big_report(agencies=3)
    indonesian = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(to_pdf(report, **DATED))).pages)
    for expected in ("Laporan bandwidth — November 2026", "Rp 91.575.000", "201.209,4 GB", "Instansi",
                     "Rekomendasi", "Pindahkan CIR", "Uplink", "Rp 30.525.000", "67.069,8",
                     "Dibuat 7 Desember 2026 23.45 WIB"):
        assert expected in indonesian, expected
    assert "move_cir" not in indonesian and "Agencies" not in indonesian
    english = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(to_pdf(report, lang="en", **DATED))).pages)
    for expected in ("Bandwidth report — November 2026", "Rp 91,575,000", "201,209.4 GB", "Agencies",
                     "Move guaranteed rate (CIR)", "Generated on December 7, 2026 11:45 PM WIB"):
        assert expected in english, expected


def test_xlsx_in_indonesian_has_totals_words_and_numbers() -> None:
    report = big_report(agencies=4)
    wb = load_workbook(io.BytesIO(to_xlsx(report, **DATED)))
    assert wb.sheetnames == ["Instansi", "Uplink", "Hotspot publik", "Rekomendasi", "Tentang laporan ini"]
    assert [c.value for c in wb["Tentang laporan ini"]["A"]] == ["Laporan bandwidth November 2026",
                                                                 "Dibuat 7 Desember 2026 23.45 WIB"]
    ws = wb["Instansi"]
    headers = [c.value for c in ws[1]]
    assert headers[:2] == ["Kode", "Instansi"] and ws.freeze_panes == "A2"
    assert all(c.font.bold for c in ws[1])
    last = [c.value for c in ws[ws.max_row]]
    col = headers.index("Bagian biaya menurut alokasi")
    assert last[0] == "Jumlah" and last[col] == sum(a["cost_by_allocation_idr"] for a in report["agencies"])
    assert ws.cell(row=ws.max_row, column=col + 1).number_format == '"Rp"#,##0'
    gb = ws.cell(row=2, column=headers.index("GB") + 1)
    assert gb.data_type == "n" and gb.number_format == "#,##0.0"
    assert ws.cell(row=2, column=2).data_type == "s"
    kinds = [c.value for c in wb["Rekomendasi"]["A"]][1:]
    assert kinds == ["Pindahkan CIR", "Kontrak uplink lebih kecil"]
    english = load_workbook(io.BytesIO(to_xlsx(report, lang="en", **DATED)))
    assert english.sheetnames[0] == "Agencies" and english["Agencies"].cell(row=1, column=2).value == "Agency"


def test_csv_headings_follow_the_language_and_numbers_stay_machine_readable() -> None:
    report = big_report(agencies=2)
    rows = list(csv.reader(io.StringIO(to_csv(report, **DATED).decode("utf-8-sig"))))
    assert rows[0][0] == "Laporan bandwidth November 2026" and rows[1] == ["Dibuat 7 Desember 2026 23.45 WIB"]
    flat = [cell for row in rows for cell in row]
    assert "Instansi" in flat and "Kontrak uplink lebih kecil" in flat and "30525000" in flat
    assert "downgrade_uplink" not in flat
    english = [cell for row in csv.reader(io.StringIO(to_csv(report, lang="en", **DATED).decode("utf-8-sig")))
               for cell in row]
    assert "Agencies" in english and "Smaller uplink contract" in english


def test_every_column_heading_and_section_is_translated() -> None:
    t = formats.translator("id")
    for column in (*UPLINK_COLUMNS, *AGENCY_COLUMNS, *HOTSPOT_COLUMNS):
        if column.heading not in ("GB", "ISP", "Uplink", "Hotspot", "PPN", "CIR Mbps", "MIR Mbps", "Total"):
            assert t(column.heading) != column.heading, column.heading
