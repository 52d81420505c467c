"""The linux driver and the per-device runner against a real OpenSSH server and a real shell."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from netmgr.errors import DeviceAuthFailed, DeviceUnreachable
from netmgr.models.provisioning import ResultStatus
from provisioning.connections import NetmikoConnector
from provisioning.drivers.linux import LinuxDriver
from provisioning.render import find_template
from provisioning.runner import Plan, run_device
from provisioning.variables import validate_variables
from tests.provisioning.conftest import linux_target
from tests.servers.process import free_port
from tests.servers.sshd import SshServer

QUEUES = {
    "wan_interface": "eth0", "lan_interface": "nm-no-such-if0", "total_down_mbps": 100, "total_up_mbps": 100,
    "allocations": [{"name": "DISDIK", "target": "10.10.0.0/24", "cir_mbps": 20, "mir_mbps": 50}],
}


def _plan(purpose: str, **variables: object) -> Plan:
    return Plan(purpose=purpose, template=find_template(None, platform="linux", purpose=purpose),
                variables=validate_variables(purpose, variables), revert_after_s=60)


def _basics(**variables: object) -> Plan:
    return _plan("basics", **{"ntp_servers": ["0.id.pool.ntp.org"], "dns_servers": ["1.1.1.1"], **variables})


def _config_dir(sshd: SshServer, name: str, files: dict[str, str] | None = None) -> Path:
    """A config dir in the device user's home, optionally with files the user owns."""
    path = sshd.home / name
    shutil.rmtree(path, ignore_errors=True)
    if files is not None:
        path.mkdir()
        for fname, text in files.items():
            (path / fname).write_text(text)
        for p in [path, *path.iterdir()]:
            shutil.chown(p, sshd.username, sshd.username)
    return path


def test_dry_run_shows_the_exact_diff_and_changes_nothing(sshd: SshServer, connector: NetmikoConnector) -> None:
    config_dir = _config_dir(sshd, "dry", {"hostname": "old-name\n", "keep.conf": "untouched\n"})
    driver = LinuxDriver(config_dir=str(config_dir))
    result = run_device(linux_target(sshd), _basics(), driver=driver, connect=connector, dry_run=True)
    assert result.status == ResultStatus.DRY_RUN, result.log
    assert not result.changed and not result.failed
    assert "-old-name\n+gw-taman-kota\n" in result.diff
    assert "+nameserver 1.1.1.1\n" in result.diff
    assert "untouched" not in result.diff.replace(" untouched", "")  # context only, never removed
    assert sorted(p.name for p in config_dir.iterdir()) == ["hostname", "keep.conf"]
    assert (config_dir / "hostname").read_text() == "old-name\n"


def test_push_applies_files_verifies_and_a_rerun_reports_no_change(sshd: SshServer,
                                                                      connector: NetmikoConnector) -> None:
    config_dir = _config_dir(sshd, "push", {"hostname": "old-name\n", "keep.conf": "untouched\n"})
    driver = LinuxDriver(config_dir=str(config_dir))
    target = linux_target(sshd)
    first = run_device(target, _basics(syslog_host="10.0.0.5"), driver=driver, connect=connector, dry_run=False)
    assert first.status == ResultStatus.CHANGED, first.log
    assert first.changed and not first.failed and not first.rolled_back
    assert (config_dir / "hostname").read_text() == "gw-taman-kota\n"
    assert (config_dir / "syslog.conf").read_text() == "*.* @10.0.0.5:514\n"
    assert (config_dir / "keep.conf").read_text() == "untouched\n"
    assert first.after is not None and "### file resolv.conf" in first.after
    assert not Path(f"{config_dir}.netmgr-revert.pid").exists(), "the self-revert must be disarmed"

    again = run_device(target, _basics(syslog_host="10.0.0.5"), driver=driver, connect=connector, dry_run=False)
    assert again.status == ResultStatus.NO_CHANGE, again.log
    assert not again.changed and again.diff == ""


def test_failing_apply_script_is_rolled_back_with_the_devices_message(sshd: SshServer,
                                                                         connector: NetmikoConnector) -> None:
    config_dir = _config_dir(sshd, "reject", {"hostname": "before\n"})
    driver = LinuxDriver(config_dir=str(config_dir))
    result = run_device(linux_target(sshd), _plan("queues", **QUEUES), driver=driver, connect=connector,
                        dry_run=False)
    assert result.status == ResultStatus.ROLLED_BACK, result.log
    assert result.failed and result.rolled_back and not result.changed
    assert result.error is not None
    assert "refused" in result.error and "queues.sh: exit status" in result.error
    assert "rolled back" in result.error
    # tc's own words reach the operator (e.g. "Cannot find device" or "command not found")
    assert result.error.split("exit status", 1)[1].strip(" 0123456789:")
    assert "pre-push config" in "\n".join(result.log)
    assert sorted(p.name for p in config_dir.iterdir()) == ["hostname"]
    assert (config_dir / "hostname").read_text() == "before\n"


def test_armed_revert_restores_the_backup_when_netmgr_does_not_disarm(sshd: SshServer,
                                                                         connector: NetmikoConnector) -> None:
    config_dir = _config_dir(sshd, "revert", {"hostname": "before\n"})
    driver = LinuxDriver(config_dir=str(config_dir))
    target = linux_target(sshd)
    running = None
    with connector(target, "linux") as conn:
        backup = driver.backup(conn)
        driver.arm_revert(conn, backup, 2)
        running = driver.get_running_config(conn)
        desired = "### file hostname\nchanged\n### file extra.conf\nnew\n"
        assert driver.push(conn, driver.commands_for(running, desired)).ok
        assert (config_dir / "hostname").read_text() == "changed\n"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and (config_dir / "hostname").read_text() != "before\n":
        time.sleep(0.2)
    assert (config_dir / "hostname").read_text() == "before\n"
    assert not (config_dir / "extra.conf").exists()


def test_disarmed_revert_does_not_fire(sshd: SshServer, connector: NetmikoConnector) -> None:
    config_dir = _config_dir(sshd, "disarm", {"hostname": "before\n"})
    driver = LinuxDriver(config_dir=str(config_dir))
    target = linux_target(sshd)
    with connector(target, "linux") as conn:
        backup = driver.backup(conn)
        driver.arm_revert(conn, backup, 1)
        assert driver.push(conn, driver.commands_for(backup.text, "### file hostname\nchanged\n")).ok
    with connector(target, "linux") as conn:
        driver.disarm_revert(conn)
    time.sleep(2.5)
    assert (config_dir / "hostname").read_text() == "changed\n"


def test_verify_lists_lines_the_device_does_not_have(sshd: SshServer, connector: NetmikoConnector) -> None:
    config_dir = _config_dir(sshd, "verify", {"ntp.conf": "server a iburst\n"})
    driver = LinuxDriver(config_dir=str(config_dir))
    with connector(linux_target(sshd), "linux") as conn:
        missing = driver.verify(conn, ["### file ntp.conf", "server a iburst", "server b iburst"])
    assert missing == ["### file ntp.conf", "server b iburst"]


def test_wrong_password_is_reported_as_auth_failure(sshd: SshServer, connector: NetmikoConnector) -> None:
    with pytest.raises(DeviceAuthFailed, match="gw-taman-kota"), \
            connector(linux_target(sshd, password="wrong-password"), "linux"):
        pass


def test_unreachable_device_gives_a_failed_result_not_an_exception(sshd: SshServer) -> None:
    target = linux_target(sshd, port=free_port())
    result = run_device(target, _basics(), driver=LinuxDriver(), connect=NetmikoConnector(conn_timeout=2),
                        dry_run=False)
    assert result.status == ResultStatus.FAILED and result.failed
    assert result.error is not None and "gw-taman-kota" in result.error
    with pytest.raises(DeviceUnreachable):
        with NetmikoConnector(conn_timeout=2)(target, "linux"):
            pass
