"""Names holding control characters (an import or an API client may store them) never break an export."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from netmgr.models import Agency
from netmgr.models.enums import Role
from tests.netmgr.api.conftest import World
from tests.netmgr.api.test_finance_api import _plan


def test_report_xlsx_of_an_agency_named_with_control_characters_drops_them(
        client: TestClient, session: Session, world: World) -> None:
    agency = session.get(Agency, world.own_agency)
    assert agency is not None
    agency.name = "Dinas\x12 Pendidikan\x1b\x0b"  # (PostgreSQL text cannot hold NUL at all)
    session.commit()
    _plan(session, world)
    response = client.get("/api/v1/reports/monthly.xlsx", params={"month": "2025-02"},
                          headers=world.headers(Role.FINANCE))
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content))
    texts = {cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row}
    assert "Dinas Pendidikan" in texts
