"""The leaders' page for the Bupati's office: figures with small counts hidden, open-data files, nothing else."""

from __future__ import annotations

import csv
import io
import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.models.enums import Role
from tests import factories
from tests.netmgr.test_leadership import assert_k_anonymous, seed
from tests.netmgr.web.helpers import login


def test_the_bupatis_office_lands_on_its_dashboard_and_sees_nothing_else(client: TestClient,
                                                                          session: Session) -> None:
    seed(session)
    factories.user(session, role=Role.LEADERSHIP, username="bupati")
    landed = login(client, "bupati")
    assert landed.headers["location"] == "/"
    assert client.get("/", follow_redirects=False).headers["location"] == "/leadership"
    page = client.get("/leadership", params={"month": "2026-11"})
    assert page.status_code == 200
    html = page.text
    assert "Wi-Fi publik untuk warga 2026-11" in html and "Jam sibuk" in html and "Perangkat unik" in html
    assert "&lt;5" in html  # Taman Kecil's 3 devices
    assert 'id="heat-map"' in html and "02:00:00" not in html
    assert 'href="/devices"' not in html and 'href="/reports"' not in html  # the nav offers only this page
    for path in ("/devices", "/sites", "/reports", "/users", "/audit", "/hotspots"):
        assert client.get(path).status_code in (403, 404), path


def test_the_open_data_files_download_suppressed_and_described(client: TestClient, session: Session) -> None:
    seed(session)
    factories.user(session, role=Role.LEADERSHIP, username="bupati")
    login(client, "bupati")
    csv_file = client.get("/leadership/open-data/wifi-publik-2026-11.csv", params={"month": "2026-11"})
    assert csv_file.status_code == 200 and csv_file.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_file.text)))
    assert len(rows) == 10
    assert_k_anonymous(rows, 5)
    package = client.get("/leadership/open-data/datapackage.json", params={"month": "2026-11"}).json()
    assert package["resources"][0]["path"] == "wifi-publik-2026-11.csv"
    assert json.dumps(package).count("CC-BY-4.0") == 1
    assert client.get("/leadership/open-data/other.csv").status_code == 404


def test_finance_may_not_open_the_leaders_page(client: TestClient, session: Session) -> None:
    factories.user(session, role=Role.FINANCE, username="keuangan")
    login(client, "keuangan")
    assert client.get("/leadership").status_code == 403
