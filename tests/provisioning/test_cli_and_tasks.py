"""`netmgr provision …` and the Celery task functions, against a RouterOS simulator and a real database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from netmgr.demo.simulators.sshsim import SimulatorHandle, run_in_thread
from netmgr.entrypoints.cli import app
from netmgr.models.enums import Platform
from netmgr.security.permissions import SYSTEM
from netmgr.settings import Settings, get_settings
from provisioning import tasks
from provisioning.jobs import JobCreate, Targets, create_job
from tests import factories
from tests.conftest import TEST_ENCRYPTION_KEY

PASSWORD = "Sim-pass-1"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[None]:
    monkeypatch.setenv("NETMGR_ENVIRONMENT", "test")
    monkeypatch.setenv("NETMGR_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("NETMGR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("NETMGR_ENCRYPTION_KEYS", TEST_ENCRYPTION_KEY)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def router(session: Session) -> Iterator[tuple[SimulatorHandle, int]]:
    with run_in_thread("mikrotik_routeros", password=PASSWORD, hostname="core-sampit") as handle:
        site = factories.site(session, name="Diskominfo POP")
        device = factories.device(session, site_id=site.id, name="core-sampit", mgmt_address=handle.host,
                                  ssh_port=handle.port, ssh_password=PASSWORD, snmp_community="k0mun1tas",
                                  platform=Platform.MIKROTIK_ROUTEROS, role="core_router")
        yield handle, device.id


def test_cli_runs_a_job_then_backs_up_and_diffs(env: None, router: tuple[SimulatorHandle, int],
                                                tmp_path: Path) -> None:
    runner = CliRunner()
    vars_file = tmp_path / "snmp.yaml"
    vars_file.write_text("contact: NOC Diskominfo\nallowed_from: 10.0.0.0/8\n")
    dry = runner.invoke(app, ["provision", "run", "--purpose", "snmp", "--device", "core-sampit", "--vars",
                              str(vars_file), "--dry-run", "--diff"])
    assert dry.exit_code == 0, dry.output
    assert "dry_run" in dry.output and "+/snmp set enabled=yes" in dry.output and "k0mun1tas" not in dry.output

    applied = runner.invoke(app, ["provision", "run", "--purpose", "snmp", "--device", "core-sampit", "--vars",
                                  str(vars_file)])
    assert applied.exit_code == 0, applied.output
    assert "changed" in applied.output and "succeeded" in applied.output

    backup = runner.invoke(app, ["provision", "backup", "core-sampit"])
    assert backup.exit_code == 0 and "backed up" in backup.output, backup.output
    diff = runner.invoke(app, ["provision", "diff", "core-sampit"])
    assert diff.exit_code == 0 and "no change between the two newest backups" in diff.output, diff.output

    listing = runner.invoke(app, ["provision", "templates"])
    assert listing.exit_code == 0 and "mikrotik_routeros" in listing.output and "hotspot" in listing.output


def test_cli_refuses_bad_variables_with_the_field_name(env: None, router: tuple[SimulatorHandle, int],
                                                       tmp_path: Path) -> None:
    vars_file = tmp_path / "hotspot.yaml"
    vars_file.write_text("ssid: Sampit Free WiFi\nvlan_id: 9999\n")
    result = CliRunner().invoke(app, ["provision", "run", "--purpose", "hotspot", "--device", "core-sampit",
                                      "--vars", str(vars_file)])
    assert result.exit_code == 1
    assert "vlan_id" in result.output and "interface: Field required" in result.output


def test_tasks_take_ids_and_run_the_services(env: None, session: Session,
                                             router: tuple[SimulatorHandle, int]) -> None:
    _, device_id = router
    backed_up = tasks.backup_device_task(device_id)
    assert backed_up is not None and len(backed_up["sha256"]) == 64
    assert tasks.backup_device_task(999_999) is None  # the row is gone: return quietly
    job = create_job(session, SYSTEM, JobCreate(purpose="snmp", targets=Targets(devices=["core-sampit"]),
                                                variables={}, dry_run=True))
    session.commit()
    outcome = tasks.run_job_task(job.id)
    assert outcome is not None and outcome["status"] == "succeeded"
    assert [r["status"] for r in outcome["results"]] == ["dry_run"]
    assert tasks.run_job_task(999_999) is None
