"""``netmgr hotspot``: a policy, a hotspot and a batch from the command line, in Indonesian, errors naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from netmgr.entrypoints.cli import app as cli_app
from netmgr.models import Hotspot, VoucherBatch
from netmgr.models.enums import DeviceRole, SiteKind
from netmgr.settings import get_settings
from tests import factories
from tests.conftest import TEST_ENCRYPTION_KEY


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Iterator[None]:
    for name, value in {"NETMGR_DATABASE_URL": database_url, "NETMGR_DATA_DIR": str(tmp_path / "cli-data"),
                        "NETMGR_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY, "NETMGR_ENVIRONMENT": "test",
                        "NETMGR_SECRET_KEY": "test-secret-key-for-signing-cookies", "COLUMNS": "200"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NETMGR_CONFIG_FILE", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_an_operator_sets_up_a_hotspot_from_the_command_line(session: Session, cli_env: None,
                                                            tmp_path: Path) -> None:
    site = factories.site(session, kind=SiteKind.PUBLIC_HOTSPOT)
    gateway = factories.device(session, site_id=site.id, role=DeviceRole.HOTSPOT_GATEWAY)
    session.commit()
    run = CliRunner().invoke

    bad = run(cli_app, ["hotspot", "policy-create", "Malam", "--opens", "25:00", "--closes", "06:00"])
    assert bad.exit_code == 1 and "Periksa “opening_start”" in bad.output
    made = run(cli_app, ["hotspot", "policy-create", "Voucher 2 jam", "--session-minutes", "120",
                         "--down-kbps", "10000"])
    assert made.exit_code == 0 and "Kebijakan Voucher 2 jam dibuat." in made.output, made.output
    created = run(cli_app, ["hotspot", "create", "Alun-alun Sampit", "--slug", "alun-alun", "--site-id", str(site.id),
                            "--gateway-id", str(gateway.id), "--method", "voucher", "--method", "click_through"])
    assert created.exit_code == 0 and "Hotspot Alun-alun Sampit dibuat." in created.output, created.output
    hotspot = session.scalar(select(Hotspot).where(Hotspot.slug == "alun-alun"))
    assert hotspot is not None and hotspot.login_methods == ["voucher", "click_through"]
    sheet = tmp_path / "voucher.pdf"
    batch = run(cli_app, ["hotspot", "batch-create", "Pasar malam", "--policy-id", "1", "--count", "12",
                          "--hotspot-id", str(hotspot.id), "--price", "3000", "--pdf", str(sheet)])
    assert batch.exit_code == 0 and "12 kode voucher dibuat." in batch.output, batch.output
    assert sheet.read_bytes().startswith(b"%PDF")
    row = session.scalar(select(VoucherBatch))
    assert row is not None and row.price_idr == 3000
    report = run(cli_app, ["hotspot", "batch-report", str(row.id)])
    assert "Belum dipakai" in report.output and "12" in report.output
    assert run(cli_app, ["hotspot", "revoke", str(row.id), "--yes"]).output.strip() == "12 kode voucher dibatalkan."
    off = run(cli_app, ["hotspot", "disable", str(hotspot.id)])
    assert "Hotspot dinonaktifkan: 0 sesi diputus" in off.output
    listed = run(cli_app, ["hotspot", "list"])
    assert "alun-alun" in listed.output and "mati" in listed.output
