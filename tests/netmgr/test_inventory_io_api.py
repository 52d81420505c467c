"""/api/v1/inventory: upload a file to import (dry run or real), download an export."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.models import Device, Site
from netmgr.models.enums import Role
from netmgr.services import users
from tests import factories
from tests.netmgr.test_inventory_io import BROKEN, devices_csv

API = "/api/v1/inventory"


def _headers(session: Session, role: Role, agency_id: int | None = None) -> dict[str, str]:
    user = factories.user(session, role=role, agency_id=agency_id)
    _, token = users.create_api_token(session, users.actor_for(user), name="tests")
    session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def operator(session: Session) -> dict[str, str]:
    agency = factories.agency(session, code="DISKOMINFO", name="Dinas Komunikasi dan Informatika")
    factories.site(session, agency_id=agency.id, name="Taman Kota Sampit")
    return _headers(session, Role.OPERATOR)


def _devices(session: Session) -> int:
    session.expire_all()
    return session.scalar(sa.select(sa.func.count()).select_from(Device)) or 0


def test_dry_run_upload_answers_200_with_every_bad_row_and_writes_nothing(
    client: TestClient, session: Session, operator: dict[str, str]
) -> None:
    response = client.post(f"{API}/import/devices", params={"dry_run": "true"}, headers=operator,
                           files={"file": ("perangkat.csv", devices_csv(100, broken=True).encode(), "text/csv")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["kind"] == "devices" and body["dry_run"] and not body["ok"] and not body["applied"]
    assert body["total_rows"] == 100 and body["created"] == 97
    assert [(e["row"], e["field"]) for e in body["errors"]] == [(i + 2, c) for i, (c, _, _) in sorted(BROKEN.items())]
    assert _devices(session) == 0


def test_real_upload_with_bad_rows_is_422_with_the_row_errors_and_the_fixed_file_imports(
    client: TestClient, session: Session, operator: dict[str, str]
) -> None:
    response = client.post(f"{API}/import/devices", headers=operator,
                           files={"file": ("perangkat.csv", devices_csv(100, broken=True).encode(), "text/csv")})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "ImportFailed" and "nothing was imported" in body["detail"]
    assert [e["row"] for e in body["errors"]] == [i + 2 for i in sorted(BROKEN)]
    assert all(e["problem"] for e in body["errors"])
    assert _devices(session) == 0

    response = client.post(f"{API}/import/devices", params={"dry_run": "false"}, headers=operator,
                           files={"file": ("perangkat.csv", devices_csv(100, broken=False).encode(), "text/csv")})
    assert response.status_code == 200, response.text
    assert response.json()["applied"] and response.json()["created"] == 100
    assert _devices(session) == 100


def test_format_comes_from_the_parameter_or_the_file_name(
    client: TestClient, session: Session, operator: dict[str, str]
) -> None:
    content = yaml.safe_dump([{"name": "Kantor Camat Baamang", "kind": "office", "agency": "diskominfo"}])
    response = client.post(f"{API}/import/sites", params={"format": "yaml"}, headers=operator,
                           files={"file": ("upload", content.encode(), "application/octet-stream")})
    assert response.status_code == 200 and response.json()["created"] == 1, response.text
    site = session.scalars(sa.select(Site).where(Site.name == "Kantor Camat Baamang")).one()
    assert site.agency is not None and site.agency.code == "DISKOMINFO"

    response = client.post(f"{API}/import/sites", headers=operator,
                           files={"file": ("sites.xlsx", b"PK\x03\x04", "application/octet-stream")})
    assert response.status_code == 422 and ".csv, .yaml or .yml" in response.json()["detail"]


def test_finance_may_export_but_not_import(client: TestClient, session: Session) -> None:
    headers = _headers(session, Role.FINANCE)
    response = client.post(f"{API}/import/agencies", headers=headers,
                           files={"file": ("a.csv", b"code,name\nDISDIK,Dinas Pendidikan\n", "text/csv")})
    assert response.status_code == 403 and "inventory.write" in response.json()["detail"]
    assert client.get(f"{API}/export/agencies", headers=headers).status_code == 200
    assert client.post(f"{API}/import/agencies", files={"file": ("a.csv", b"code,name\n", "text/csv")}).status_code \
        == 401


def test_export_downloads_a_named_file_excel_can_open_and_the_import_reads_back(
    client: TestClient, session: Session, operator: dict[str, str]
) -> None:
    site = session.scalars(sa.select(Site)).one()
    factories.device(session, site_id=site.id, name="gw-taman-kota", mgmt_address="10.0.10.1", tags=["hotspot"])
    response = client.get(f"{API}/export/devices", params={"format": "csv"}, headers=operator)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="netmgr-devices-')
    assert response.headers["content-disposition"].endswith('.csv"')
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["name"], r["site"], r["tags"]) for r in rows] == [("gw-taman-kota", "Taman Kota Sampit", "hotspot")]
    assert "s3cret" not in response.text

    again = client.post(f"{API}/import/devices", headers=operator,
                        files={"file": ("export.csv", response.content, "text/csv")})
    assert again.status_code == 200 and again.json()["updated"] == 1, again.text

    response = client.get(f"{API}/export/uplinks", params={"format": "yaml"}, headers=operator)
    assert response.headers["content-type"] == "application/yaml; charset=utf-8"
    assert response.headers["content-disposition"].endswith('.yaml"')
    assert yaml.safe_load(response.text) == {"uplinks": []}


def test_agency_viewer_downloads_only_its_own_agencys_devices(client: TestClient, session: Session) -> None:
    mine, other = factories.agency(session, code="DISDIK"), factories.agency(session, code="DINKES")
    my_site = factories.site(session, agency_id=mine.id, name="SMPN 1 Sampit")
    other_site = factories.site(session, agency_id=other.id, name="Puskesmas Baamang")
    factories.device(session, site_id=my_site.id, name="ap-smpn1", mgmt_address="10.1.0.1")
    factories.device(session, site_id=other_site.id, name="ap-puskesmas", mgmt_address="10.2.0.1")
    headers = _headers(session, Role.AGENCY_VIEWER, agency_id=mine.id)
    response = client.get(f"{API}/export/devices", params={"format": "yaml"}, headers=headers)
    assert response.status_code == 200
    body = yaml.safe_load(response.text)
    assert [d["name"] for d in body["devices"]] == ["ap-smpn1"]
