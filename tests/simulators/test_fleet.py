"""Many simulated devices in one simulator process, driven concurrently, as a provisioning job fans out."""

from __future__ import annotations

import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from netmiko import ConnectHandler

from tests.servers.process import Daemon, wait_until
from tests.simulators.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
DEVICES = 20


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _push(port: int) -> str:
    params = {"device_type": "mikrotik_routeros", "host": "127.0.0.1", "port": port, "username": "admin",
              "password": PASSWORD, "ssh_config_file": None, "allow_agent": False, "use_keys": False,
              "fast_cli": True}
    with ConnectHandler(**params) as conn:
        conn.send_config_set([
            f"/ip address add address=10.{port % 250}.0.1/24 interface=ether2 comment=netmgr",
            "/queue simple add name=opd target=ether2 max-limit=10M/20M",
            "/snmp set enabled=yes location=\"Taman Kota\"",
        ])
        return conn.send_command("/export terse")


@pytest.mark.slow
def test_twenty_concurrent_sessions_against_one_simulator_process(tmp_path: Path) -> None:
    log = tmp_path / "sshsim.log"
    daemon = Daemon([sys.executable, "-m", "netmgr.demo.simulators.sshsim", "--platform", "mikrotik_routeros",
                     "--port", "0", "--count", str(DEVICES), "--password", PASSWORD, "--hostname", "ap",
                     "--state-file", str(tmp_path / "ap.json")], log=log, cwd=ROOT)
    try:
        ports: list[int] = []

        def all_listening() -> bool:
            ports[:] = [int(p) for p in re.findall(r"listening on 127\.0\.0\.1:(\d+)", log.read_text())]
            return len(ports) == DEVICES

        wait_until(all_listening, timeout=30, what="sshsim fleet", proc=daemon.proc, log=log)
        cpu_before = _cpu_seconds(daemon.proc.pid)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=DEVICES) as pool:
            exports = list(pool.map(_push, ports))
        elapsed = time.monotonic() - started
        cpu = _cpu_seconds(daemon.proc.pid) - cpu_before
        print(f"\n{DEVICES} concurrent netmiko sessions: {elapsed:.2f}s wall, simulator CPU {cpu:.2f}s "
              f"({cpu / DEVICES * 1000:.0f} ms per session)")
        for n, (port, export) in enumerate(zip(ports, exports, strict=True), start=1):
            assert f"/system identity set name=ap-{n:03d}" in export
            assert f"/ip address add address=10.{port % 250}.0.1/24 comment=netmgr interface=ether2" in export
            assert "/queue simple add max-limit=10M/20M name=opd target=ether2" in export
        assert elapsed < 30
    finally:
        daemon.stop()
    # SIGTERM saved every device's state to its own file.
    saved = sorted(p.name for p in tmp_path.glob("ap-*.json"))
    assert len(saved) == DEVICES and saved[0] == "ap-001.json"
    assert "netmgr" in (tmp_path / "ap-001.json").read_text()
