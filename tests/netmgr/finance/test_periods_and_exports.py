"""Closed months reproduce byte for byte and ignore later data; CSV, XLSX and PDF exports; end to end."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import update
from sqlalchemy.orm import Session

from netmgr.errors import Conflict, PermissionDenied, ValidationFailed
from netmgr.models import Traffic5m
from netmgr.models.enums import Role
from netmgr.reports_export import to_csv, to_pdf, to_xlsx
from netmgr.security.permissions import SYSTEM, Actor
from netmgr.services import periods
from netmgr.settings import Settings
from tests.netmgr.finance.conftest import MONTH, World, standard_month

AFTER = date(2025, 4, 1)
FINANCE = Actor(user_id=None, username="keuangan", role=Role.FINANCE)


def test_closed_month_reproduces_byte_for_byte_and_ignores_late_data(session: Session, world: World,
                                                                     settings: Settings) -> None:
    standard_month(session, world)
    closed = periods.close_month(session, FINANCE, MONTH, settings, today=AFTER)
    session.commit()
    assert closed.sha256 == hashlib.sha256(closed.content).hexdigest()
    frozen = closed.content
    # Late rollups for the same month (e.g. a collector catching up) land after closing …
    session.execute(update(Traffic5m).values(out_octets=Traffic5m.out_octets * 2))
    session.commit()
    # … and change what a recomputation would say, but not the closed month.
    assert periods.canonical_json(periods.compute(session, MONTH, settings)) != frozen
    assert periods.report_bytes(session, MONTH, settings) == frozen
    assert periods.canonical_json(periods.monthly_report(session, SYSTEM, MONTH, settings).report) == frozen
    with pytest.raises(Conflict, match="already closed"):
        periods.close_month(session, FINANCE, MONTH, settings, today=AFTER)


def test_only_ended_months_close_and_only_finance_or_admin_closes(session: Session, world: World,
                                                                  settings: Settings) -> None:
    with pytest.raises(ValidationFailed, match="has not ended"):
        periods.close_month(session, FINANCE, MONTH, settings, today=date(2025, 2, 28))
    with pytest.raises(PermissionDenied):
        periods.close_month(session, Actor(1, "ops", Role.OPERATOR), MONTH, settings, today=AFTER)


def test_xlsx_cells_are_numbers_with_the_rupiah_format(session: Session, world: World, settings: Settings) -> None:
    standard_month(session, world)
    report = periods.compute(session, MONTH, settings)
    wb = load_workbook(io.BytesIO(to_xlsx(report, lang="en", generated_at=datetime.now(UTC), tz=settings.timezone)))
    ws = wb["Agencies"]
    headers = [c.value for c in ws[1]]
    assert ws.freeze_panes == "A2"
    col = headers.index("Cost share by allocation") + 1
    cell = ws.cell(row=2, column=col)
    assert isinstance(cell.value, int) and cell.number_format == '"Rp"#,##0'
    assert ws.cell(row=2, column=headers.index("GB") + 1).data_type == "n"
    # the last row is the totals row: the agencies' shares, and their sum
    assert ws.cell(row=ws.max_row, column=1).value == "Total"
    assert sum(ws.cell(row=r, column=col).value for r in range(2, ws.max_row)) == report["totals"]["cost_idr"]
    assert ws.cell(row=ws.max_row, column=col).value == report["totals"]["cost_idr"]
    assert ws.column_dimensions["B"].width >= 40
    uplinks = wb["Uplinks"]
    assert [c.value for c in uplinks["A"]][1:] == ["iconplus-200", "telkom-astinet-500", "Total"]


def test_csv_has_every_agency_and_plain_numbers(session: Session, world: World, settings: Settings) -> None:
    standard_month(session, world)
    text = to_csv(periods.compute(session, MONTH, settings), generated_at=datetime.now(UTC),
                  tz=settings.timezone).decode("utf-8-sig")
    assert "Dinas Kependudukan dan Pencatatan Sipil" in text and "30525000" in text


def test_end_to_end_from_collector_rollups_to_a_closed_months_pdf(session: Session, world: World,
                                                                   settings: Settings) -> None:
    standard_month(session, world, via_collectors=True)
    periods.close_month(session, FINANCE, MONTH, settings, today=AFTER)
    session.commit()
    whole = periods.full_report(session, MONTH, settings)
    assert whole.closed is not None
    pdf = to_pdf(whole.report, regency="Kabupaten Kotawaringin Timur", generated_at=datetime.now(UTC),
                 tz=settings.timezone)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    assert sum(len(page.images) for page in reader.pages) == 2  # the cost-share and utilisation charts
    text = " ".join(page.extract_text() for page in reader.pages)
    for name in ("Dinas Kependudukan dan Pencatatan Sipil", "Inspektorat Daerah", "telkom-astinet-500",
                 "Rp 30.525.000"):
        assert name in text, name


def test_the_web_app_and_the_exports_start_without_importing_matplotlib() -> None:
    """matplotlib (seconds and tens of MB) is imported when a PDF is drawn, not by every API process."""
    probe = ("import sys; import netmgr.reports_export, netmgr.entrypoints.asgi; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETMGR_")} | {"NETMGR_ENVIRONMENT": "test"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env,
                            check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
