"""Bulk import/export of the inventory: every bad row reported, all-or-nothing, round trips, the CLI."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from netmgr.entrypoints.cli import app as cli_app
from netmgr.errors import PermissionDenied, ValidationFailed
from netmgr.models import Agency, AuditLog, Device, Site, Uplink
from netmgr.models.enums import Role, SiteKind
from netmgr.security.permissions import Actor
from netmgr.services import agencies, devices, sites, uplinks
from netmgr.services.inventory_io import (
    FILE_ROW,
    DataFormat,
    ImportKind,
    detect_format,
    export_inventory,
    import_inventory,
)
from netmgr.settings import get_settings
from tests import factories
from tests.conftest import TEST_ENCRYPTION_KEY

OPERATOR = Actor(user_id=None, username="operator", role=Role.OPERATOR)
DATA = Path(__file__).resolve().parent.parent / "data"
DEVICE_HEADER = ["name", "site", "role", "platform", "mgmt_address", "snmp_community", "ssh_username",
                 "ssh_password", "tags", "model"]
# Item index (0-based) -> the broken cell, the column it is in, and words the reason must contain.
BROKEN = {
    9: ("mgmt_address", "10.20.0.300", "not an IP address"),
    41: ("site", "Taman Kota Sampt", "'Taman Kota Sampt' does not exist; did you mean 'Taman Kota Sampit'"),
    77: ("role", "router", "'core_router', 'distribution', 'access_point' or 'hotspot_gateway'"),
}


def _device_rows(n: int, *, broken: bool) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        row: dict[str, Any] = {
            "name": f"ap-taman-{i + 1:03d}", "site": "Taman Kota Sampit", "role": "access_point",
            "platform": "mikrotik_routeros", "mgmt_address": f"10.20.{i // 250}.{i % 250 + 1}",
            "snmp_community": "komunitas-rahasia", "ssh_username": "admin", "ssh_password": "sandi-rahasia",
            "tags": ["taman", "outdoor"], "model": "cAP ac",
        }
        if broken and i in BROKEN:
            column, value, _ = BROKEN[i]
            row[column] = value
        rows.append(row)
    return rows


def devices_csv(n: int, *, broken: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(DEVICE_HEADER)
    for row in _device_rows(n, broken=broken):
        writer.writerow([";".join(row[c]) if c == "tags" else row[c] for c in DEVICE_HEADER])
    return out.getvalue()


def devices_yaml(n: int, *, broken: bool) -> str:
    return yaml.safe_dump({"devices": _device_rows(n, broken=broken)}, sort_keys=False)


@pytest.fixture
def taman(session: Session) -> Site:
    agency = factories.agency(session, code="DISKOMINFO", name="Dinas Komunikasi dan Informatika")
    return factories.site(session, agency_id=agency.id, name="Taman Kota Sampit", kind=SiteKind.PUBLIC_HOTSPOT)


def _count(session: Session, model: Any) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


@pytest.mark.parametrize(("fmt", "make", "first_row"), [(DataFormat.CSV, devices_csv, 2),
                                                          (DataFormat.YAML, devices_yaml, 1)])
def test_hundred_devices_with_three_bad_rows_report_all_three_and_import_nothing_until_fixed(
    session: Session, taman: Site, fmt: DataFormat, make: Any, first_row: int
) -> None:
    bad = make(100, broken=True)
    for dry_run in (True, False):
        report = import_inventory(session, OPERATOR, kind=ImportKind.DEVICES, fmt=fmt, content=bad.encode(),
                                  dry_run=dry_run)
        assert report.total_rows == 100 and not report.ok and not report.applied
        assert [(e.row, e.field) for e in report.errors] == [
            (index + first_row, column) for index, (column, _, _) in sorted(BROKEN.items())
        ]
        for error, (_, (_, _, words)) in zip(report.errors, sorted(BROKEN.items()), strict=True):
            assert words in error.reason
        session.commit()
        assert _count(session, Device) == 0
        assert _count(session, AuditLog) == 2  # the agency and the site; the import wrote nothing

    steps: list[tuple[int, int]] = []
    report = import_inventory(session, OPERATOR, kind=ImportKind.DEVICES, fmt=fmt,
                              content=make(100, broken=False).encode(), dry_run=False,
                              progress=lambda done, total: steps.append((done, total)))
    session.commit()
    assert report.ok and report.applied and (report.created, report.updated) == (100, 0)
    assert steps[-1] == (100, 100) and steps == sorted(steps) and len(steps) > 1
    assert _count(session, Device) == 100
    device = devices.get_device_by_name(session, OPERATOR, "ap-taman-042")
    assert device.site_id == taman.id and [t.name for t in device.tags] == ["outdoor", "taman"]
    assert "komunitas" not in (device.snmp_community_encrypted or "")
    assert devices.device_credentials(session, device).snmp_community == "komunitas-rahasia"
    summary = session.scalars(sa.select(AuditLog).where(AuditLog.action == "import")).one()
    assert summary.actor == "operator" and "100 created" in summary.summary


def test_dry_run_of_a_good_file_counts_what_would_happen_and_writes_nothing(session: Session, taman: Site) -> None:
    factories.device(session, site_id=taman.id, name="ap-taman-001", mgmt_address="10.20.0.1")
    report = import_inventory(session, OPERATOR, kind=ImportKind.DEVICES, fmt=DataFormat.CSV,
                              content=devices_csv(5, broken=False), dry_run=True)
    session.commit()
    assert report.ok and not report.applied and (report.created, report.updated) == (4, 1)
    assert _count(session, Device) == 1


def test_existing_rows_are_updated_and_columns_left_out_are_kept(session: Session, taman: Site) -> None:
    d = factories.device(session, site_id=taman.id, name="ap-1", mgmt_address="10.9.9.9", model="cAP", serial="S1")
    content = "name,site,role,platform,mgmt_address,model\nap-1,Taman Kota Sampit,access_point,mikrotik_routeros," \
              "10.9.9.10,wAP ac\n"
    report = import_inventory(session, OPERATOR, kind=ImportKind.DEVICES, fmt=DataFormat.CSV, content=content,
                              dry_run=False)
    session.commit()
    assert report.applied and (report.created, report.updated) == (0, 1)
    session.refresh(d)
    assert (d.mgmt_address, d.model, d.serial) == ("10.9.9.10", "wAP ac", "S1")
    assert devices.device_credentials(session, d).snmp_community == "s3cret-community"  # empty secret = keep


def test_unknown_or_missing_columns_name_the_expected_columns(session: Session, taman: Site) -> None:
    report = import_inventory(session, OPERATOR, kind=ImportKind.SITES, fmt=DataFormat.CSV,
                              content="name,kind,agency,colour\nKantor Camat,office,,red\n", dry_run=True)
    assert [(e.row, e.field) for e in report.errors] == [(1, "colour")]
    assert "'colour'" in report.errors[0].reason
    assert "expected columns: name, kind, agency, address, latitude, longitude, notes" in report.errors[0].reason

    report = import_inventory(session, OPERATOR, kind=ImportKind.SITES, fmt=DataFormat.CSV,
                              content="name,agency\nKantor Camat,DISKOMINFO\n", dry_run=True)
    assert [(e.row, e.field) for e in report.errors] == [(1, "kind")] and "missing" in report.errors[0].reason

    content = yaml.safe_dump([{"name": "Kantor A", "kind": "office"}, {"name": "Kantor B", "kind": "office",
                                                                        "lantai": 2}])
    report = import_inventory(session, OPERATOR, kind=ImportKind.SITES, fmt=DataFormat.YAML, content=content,
                              dry_run=False)
    assert [(e.row, e.field) for e in report.errors] == [(2, "lantai")]
    assert "expected columns" in report.errors[0].reason
    session.commit()
    assert _count(session, Site) == 1


def test_duplicates_in_the_file_and_in_the_database_and_bad_values_are_each_reported(
    session: Session, taman: Site
) -> None:
    factories.device(session, site_id=taman.id, name="core-1", mgmt_address="10.0.0.1")
    content = (
        "name;site;role;platform;mgmt_address;snmp_community;ssh_port;snmp_version\n"  # Excel's Indonesian CSV
        "ap-1;Taman Kota Sampit;access_point;mikrotik_routeros;10.1.0.1;c;22;v2c\n"
        "ap-2;Taman Kota Sampit;access_point;mikrotik_routeros;10.1.0.2;c;22;v2c\n"
        "ap-1;Taman Kota Sampit;access_point;mikrotik_routeros;10.1.0.3;c;22;v2c\n"
        "ap-4;Taman Kota Sampit;access_point;mikrotik_routeros;10.0.0.1;c;22;v2c\n"
        "ap-5;Taman Kota Sampit;access_point;cisco_nxos;10.1.0.5;c;70000;v2c\n"
        "ap-6;Taman Kota Sampit;access_point;mikrotik_routeros;10.1.0.6;;22;v2c\n"
        "ap-7;Taman Kota Sampit;access_point;mikrotik_routeros;10.1.0.7;c;22;v3\n"
    )
    report = import_inventory(session, OPERATOR, kind=ImportKind.DEVICES, fmt=DataFormat.CSV, content=content,
                              dry_run=True)
    got = {(e.row, e.field): e.reason for e in report.errors}
    assert set(got) == {(4, "name"), (5, "mgmt_address"), (6, "platform"), (6, "ssh_port"), (7, "snmp_community"),
                        (8, None)}
    assert "also on row 2" in got[(4, "name")]
    assert "already exists" in got[(5, "mgmt_address")]
    assert "'mikrotik_routeros'" in got[(6, "platform")] and "'cisco_ios'" in got[(6, "platform")]
    assert "snmp_community is required for SNMP v2c" in got[(7, "snmp_community")]
    assert "snmp_v3_user is required" in got[(8, None)]
    assert (report.created, report.updated) == (2, 0)  # ap-1 and ap-2 would be created
    assert _count(session, Device) == 1


@pytest.mark.parametrize(("fmt", "content", "row", "words"), [
    (DataFormat.CSV, "name,kind\nKantor Camat,office\nKantor D\xe9sa,office\n".encode("latin-1"), 3,
     "not UTF-8 text: undecodable byte at line 3"),
    (DataFormat.CSV, b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xd2\x8f", 1, "binary file, not CSV text"),
    (DataFormat.CSV, b"PK\x03\x04\x14\x00\xff\xfe", 1, "undecodable byte at line 1; an Excel workbook must"),
    (DataFormat.CSV, "", 1, "the file is empty; expected a header row naming: name, kind"),
    (DataFormat.YAML, "sites:\n  - name: Kantor\n    kind: [office\n", FILE_ROW, "invalid YAML at line 4"),
    (DataFormat.YAML, "just a sentence", FILE_ROW, "expected a list of sites, found str"),
    (DataFormat.YAML, "devices:\n  - name: x\n", FILE_ROW, "found keys 'devices'"),
])
def test_unreadable_files_give_one_clear_error_not_a_traceback(
    session: Session, fmt: DataFormat, content: bytes | str, row: int, words: str
) -> None:
    report = import_inventory(session, OPERATOR, kind=ImportKind.SITES, fmt=fmt, content=content, dry_run=False)
    assert len(report.errors) == 1 and report.errors[0].row == row and not report.applied
    assert words in report.errors[0].reason


def test_a_row_with_more_cells_than_the_header_is_reported_with_a_hint(session: Session) -> None:
    content = "name,kind,address\nKantor Camat Baamang,office,Jl. Tidar, Sampit\nKantor Lurah,office,\n"
    report = import_inventory(session, OPERATOR, kind=ImportKind.SITES, fmt=DataFormat.CSV, content=content,
                              dry_run=False)
    assert [(e.row, e.field) for e in report.errors] == [(2, None)] and "comma unquoted" in report.errors[0].reason
    assert report.total_rows == 2 and report.created == 1 and not report.applied
    session.commit()
    assert _count(session, Site) == 0


def test_sample_files_import_in_order_and_name_their_relations(session: Session) -> None:
    for kind, name in [(ImportKind.AGENCIES, "agencies.csv"), (ImportKind.SITES, "sites.yaml"),
                       (ImportKind.DEVICES, "devices.csv"), (ImportKind.UPLINKS, "uplinks.yaml")]:
        report = import_inventory(session, OPERATOR, kind=kind, fmt=detect_format(name),
                                  content=(DATA / name).read_bytes(), dry_run=False)
        assert report.applied, report.errors
        session.commit()
    uplink = session.scalars(sa.select(Uplink)).first()
    assert uplink is not None and uplink.device is not None and uplink.device.name == "core-diskominfo"
    site = sites.get_site_by_name(session, "Taman Kota Sampit")
    assert site is not None and site.agency is not None and site.agency.code == "DISKOMINFO"


def _seed(session: Session) -> None:
    own = factories.agency(session, code="DISDIK", name="Dinas Pendidikan")
    other = factories.agency(session, code="DINKES", name="Dinas Kesehatan")
    school = factories.site(session, agency_id=own.id, name="SMPN 1 Sampit")
    clinic = factories.site(session, agency_id=other.id, name="Puskesmas Baamang")
    core = factories.device(session, site_id=school.id, name="core-smpn1", mgmt_address="10.1.1.1",
                            tags=["lantai-1", "inti"], notes="rak, lantai 1\nbaris kedua")
    factories.device(session, site_id=clinic.id, name="ap-puskesmas", mgmt_address="ap.puskesmas.local",
                     snmp_version="v3", snmp_v3_user="monitor", snmp_v3_auth_key="auth-key-123",
                     snmp_v3_priv_key="priv-key-123")
    factories.uplink(session, name="astinet-500", device_id=core.id, interface_name="ether1",
                     billing_model="burstable_95th", committed_mbps=200, contract_start="2025-01-01",
                     contract_end="2025-12-31")


def _exports(session: Session, actor: Actor, fmt: DataFormat) -> dict[ImportKind, str]:
    return {kind: export_inventory(session, actor, kind=kind, fmt=fmt) for kind in ImportKind}


@pytest.mark.parametrize("fmt", list(DataFormat))
def test_export_then_import_round_trips_without_changes_and_without_secrets(session: Session,
                                                                            fmt: DataFormat) -> None:
    _seed(session)
    first = _exports(session, OPERATOR, fmt)
    for text in first.values():
        assert "s3cret" not in text and "auth-key" not in text and "_encrypted" not in text
    assert "inti;lantai-1" in first[ImportKind.DEVICES] or "- lantai-1" in first[ImportKind.DEVICES]
    for kind, text in first.items():
        report = import_inventory(session, OPERATOR, kind=kind, fmt=fmt, content=text, dry_run=False)
        assert report.applied and report.created == 0 and report.updated == report.total_rows > 0, report.errors
        session.commit()
    assert _exports(session, OPERATOR, fmt) == first
    ap = devices.get_device_by_name(session, OPERATOR, "ap-puskesmas")
    assert devices.device_credentials(session, ap).snmp_v3_priv_key == "priv-key-123"

    # Without the devices, agencies, sites and uplinks come back from their own exports into an empty inventory.
    for uplink in uplinks.list_uplinks(session, OPERATOR).items:
        uplinks.delete_uplink(session, OPERATOR, uplink.id)
    for device in devices.list_devices(session, OPERATOR).items:
        devices.delete_device(session, OPERATOR, device.id)
    for site in sites.list_sites(session, OPERATOR).items:
        sites.delete_site(session, OPERATOR, site.id)
    for agency in agencies.list_agencies(session, OPERATOR).items:
        agencies.delete_agency(session, OPERATOR, agency.id)
    session.commit()
    for kind in (ImportKind.AGENCIES, ImportKind.SITES):
        report = import_inventory(session, OPERATOR, kind=kind, fmt=fmt, content=first[kind], dry_run=False)
        assert report.applied and report.created == report.total_rows == 2
        session.commit()
        assert export_inventory(session, OPERATOR, kind=kind, fmt=fmt) == first[kind]


def test_export_is_scoped_to_an_agency_viewers_own_agency(session: Session) -> None:
    _seed(session)
    disdik = session.scalars(sa.select(Agency).where(Agency.code == "DISDIK")).one()
    viewer = Actor(user_id=9, username="viewer", role=Role.AGENCY_VIEWER, agency_id=disdik.id)
    rows = list(csv.DictReader(io.StringIO(export_inventory(session, viewer, kind=ImportKind.DEVICES,
                                                            fmt=DataFormat.CSV))))
    assert [r["name"] for r in rows] == ["core-smpn1"] and rows[0]["site"] == "SMPN 1 Sampit"
    assert rows[0]["notes"] == "rak, lantai 1\nbaris kedua"
    assert "Puskesmas" not in export_inventory(session, viewer, kind=ImportKind.SITES, fmt=DataFormat.YAML)
    assert export_inventory(session, viewer, kind=ImportKind.UPLINKS, fmt=DataFormat.YAML) == "uplinks: []\n"


def test_only_inventory_writers_may_import(session: Session) -> None:
    finance = Actor(user_id=3, username="keuangan", role=Role.FINANCE)
    with pytest.raises(PermissionDenied, match="inventory.write"):
        import_inventory(session, finance, kind=ImportKind.AGENCIES, fmt=DataFormat.CSV,
                         content="code,name\nDISDIK,Dinas Pendidikan\n", dry_run=True)
    assert _count(session, Agency) == 0


def test_format_is_detected_from_the_file_name() -> None:
    assert detect_format("Perangkat.CSV") == DataFormat.CSV
    assert detect_format("sites.yml") == detect_format("sites.yaml") == DataFormat.YAML
    with pytest.raises(ValidationFailed, match=r"\.csv, \.yaml or \.yml"):
        detect_format("devices.xlsx")


# --- CLI --------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Iterator[None]:
    for name, value in {"NETMGR_DATABASE_URL": database_url, "NETMGR_DATA_DIR": str(tmp_path / "cli-data"),
                        "NETMGR_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY, "NETMGR_ENVIRONMENT": "test",
                        "NETMGR_SECRET_KEY": "test-secret-key-for-signing-cookies"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("COLUMNS", "200")  # rich tables on one line each, whatever the terminal
    monkeypatch.delenv("NETMGR_CONFIG_FILE", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_import_prints_every_bad_row_exits_1_and_then_imports_the_fixed_file(
    session: Session, taman: Site, cli_env: None, tmp_path: Path
) -> None:
    runner = CliRunner()
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text(devices_csv(100, broken=True))
    good.write_text(devices_csv(100, broken=False))

    result = runner.invoke(cli_app, ["inventory", "import", "devices", str(bad), "--dry-run"])
    assert result.exit_code == 1, result.output
    assert "dry run: bad rows found" in result.output
    for index, (column, _, _) in BROKEN.items():
        assert f"│ {index + 2:>3} │ {column}" in result.output

    small = tmp_path / "small.yaml"
    small.write_text(yaml.safe_dump([{"name": "ap-x", "site": "Taman", "role": "access_point",
                                      "platform": "mikrotik_routeros", "mgmt_address": "10.3.0.1"}]))
    result = runner.invoke(cli_app, ["inventory", "import", "devices", str(small)])
    assert result.exit_code == 1 and "nothing imported" in result.output and "'Taman' does not exist" in result.output
    assert _count(session, Device) == 0

    result = runner.invoke(cli_app, ["inventory", "import", "devices", str(good)])
    assert result.exit_code == 0, result.output
    assert "imported" in result.output and "100" in result.output
    session.expire_all()
    assert _count(session, Device) == 100

    out = tmp_path / "export.yaml"
    result = runner.invoke(cli_app, ["inventory", "export", "devices", "--format", "yaml", "--output", str(out)])
    assert result.exit_code == 0, result.output
    exported = yaml.safe_load(out.read_text())["devices"]
    assert len(exported) == 100 and exported[0]["site"] == "Taman Kota Sampit"
    assert "komunitas" not in out.read_text()

    result = runner.invoke(cli_app, ["inventory", "export", "sites"])
    assert result.exit_code == 0 and result.output.startswith("name,kind,agency,")
    assert "Taman Kota Sampit,public_hotspot,DISKOMINFO" in result.output


def test_cli_import_of_a_file_with_an_unknown_extension_explains_the_choices(cli_env: None, tmp_path: Path) -> None:
    path = tmp_path / "perangkat.xlsx"
    path.write_bytes(b"PK\x03\x04")
    result = CliRunner().invoke(cli_app, ["inventory", "import", "devices", str(path)])
    assert result.exit_code == 1 and ".csv, .yaml or .yml" in result.output
