"""The report page and its exports say when an uplink was not (or only partly) under contract in a month, in
Indonesian first; the report and budget pages flag an expired contract."""
# ruff: noqa: F811 - the fixture imported below (world) is a parameter of the tests

from __future__ import annotations

import io
from datetime import date

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.orm import Session

from netmgr.models.enums import Role
from netmgr.schemas.inventory import UplinkUpdate
from netmgr.security.permissions import SYSTEM
from netmgr.services import uplinks
from tests import factories
from tests.netmgr.finance.conftest import World, standard_month, world  # noqa: F401 - fixture
from tests.netmgr.web.helpers import login, signed_in_csrf

KEY = "2025-02"


def _finance(client: TestClient, session: Session) -> None:
    factories.user(session, username="keuangan", role=Role.FINANCE)
    assert login(client, "keuangan").status_code == 303


def _uncovered_telkom_half_covered_icon(session: Session, world: World) -> None:
    standard_month(session, world)
    uplinks.update_uplink(session, SYSTEM, world.telkom, UplinkUpdate(contract_start=date(2025, 3, 1)))
    uplinks.update_uplink(session, SYSTEM, world.iconplus, UplinkUpdate(contract_end=date(2025, 2, 14)))
    session.commit()


def test_report_page_says_which_uplinks_had_no_contract_or_part_of_the_month(client: TestClient, session: Session,
                                                                            world: World) -> None:
    _uncovered_telkom_half_covered_icon(session, world)
    _finance(client, session)
    html = client.get(f"/reports?month={KEY}").text
    telkom = html[html.index('data-uplink="telkom-astinet-500"'):]
    telkom = telkom[:telkom.index("</tr>")]
    assert "Rp 0" in telkom and "tanpa kontrak bulan ini: tidak ditagih" in telkom
    icon = html[html.index('data-uplink="iconplus-200"'):]
    assert "kontrak mencakup 14 dari 28 hari: ditagih prorata" in icon[:icon.index("</tr>")]
    english = client.get(f"/reports?month={KEY}&lang=en").text
    assert "no contract this month: not billed" in english


def test_exports_carry_the_contract_note(client: TestClient, session: Session, world: World) -> None:
    _uncovered_telkom_half_covered_icon(session, world)
    _finance(client, session)
    csv = client.get(f"/reports/monthly.csv?month={KEY}").text.splitlines()
    telkom = next(line for line in csv if line.startswith("telkom-astinet-500,"))
    assert telkom.endswith(",\"tanpa kontrak, tidak ditagih\"")
    icon = next(line for line in csv if line.startswith("iconplus-200,"))
    assert icon.endswith(",\"14/28 hari, prorata\"")
    english = client.get(f"/reports/monthly.csv?month={KEY}&lang=en").text.splitlines()
    assert next(line for line in english if line.startswith("iconplus-200,")).endswith(",\"14/28 days, pro rata\"")
    book = load_workbook(io.BytesIO(client.get(f"/reports/monthly.xlsx?month={KEY}").content))
    cells = {str(c.value) for row in book["Uplink"].iter_rows() for c in row}
    assert "tanpa kontrak, tidak ditagih" in cells
    pdf = PdfReader(io.BytesIO(client.get(f"/reports/monthly.pdf?month={KEY}").content))
    text = " ".join(p.extract_text() for p in pdf.pages)
    assert "tanpa kontrak" in text


def test_expired_contract_is_flagged_on_the_report_and_budget_pages(client: TestClient, session: Session,
                                                                   world: World) -> None:
    # the world's contracts ended on 31 Dec 2025 and 28 Feb 2026; nobody recorded a renewal
    _finance(client, session)
    html = client.get(f"/reports?month={KEY}").text
    assert "kontrak berakhir pada" in html and "belum ada perpanjangan yang dicatat" in html
    budget = client.get("/reports/budget?year=2026").text
    assert budget.count("berakhir, tidak ditagih: catat perpanjangannya") == 2


def test_renewal_entered_on_the_uplink_form_keeps_the_old_terms_as_an_earlier_contract(
        client: TestClient, session: Session) -> None:
    uplink = factories.uplink(session, name="telkom-astinet", monthly_price_idr=27_500_000,
                              contract_start=date(2025, 1, 1), contract_end=date(2025, 12, 31))
    factories.user(session, username="admin")
    assert login(client, "admin").status_code == 303
    form = {"name": "telkom-astinet", "isp_name": "Telkom Astinet", "device_id": "", "interface_name": "",
            "capacity_down_mbps": "500", "capacity_up_mbps": "500", "monthly_price_idr": "25000000",
            "tax_percent": "11", "billing_model": "flat", "committed_mbps": "", "price_per_gb_idr": "",
            "contract_start": "2025-12-16", "contract_end": "2026-12-15", "sla_availability_percent": "",
            "notes": "", "csrf_token": signed_in_csrf(client)}
    saved = client.post(f"/uplinks/{uplink.id}/edit", data=form, follow_redirects=False)
    assert saved.status_code == 303
    detail = client.get(f"/uplinks/{uplink.id}").text
    history = detail[detail.index('id="contract-history"'):]
    assert "Kontrak sebelumnya" in detail and "Rp 27.500.000" in history and "15 Des 2025" in history
    # correcting the new price on the same form replaces it: still one earlier contract
    client.post(f"/uplinks/{uplink.id}/edit", data={**form, "monthly_price_idr": "24000000"},
                follow_redirects=False)
    detail = client.get(f"/uplinks/{uplink.id}").text
    assert detail[detail.index('id="contract-history"'):].count("<tr>") == 2  # heading + one contract
