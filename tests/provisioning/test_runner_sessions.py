"""How many SSH sessions a device costs, and how a job spreads its logins (RouterOS simulator, real netmiko)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import pytest

from netmgr.demo.simulators.sshsim import SimulatorHandle, run_in_thread
from netmgr.errors import DeviceUnreachable
from netmgr.models.provisioning import ResultStatus
from provisioning.connections import DeviceTarget, NetmikoConnector
from provisioning.drivers import CiscoIosDriver, LinuxDriver, MikrotikRouterosDriver
from provisioning.orchestrator import login_delays
from provisioning.runner import may_cut_management, run_device
from tests.provisioning.test_runner_simulators import HOTSPOT, PASSWORD, plan, running, target

ROS = "mikrotik_routeros"


@pytest.fixture
def routeros() -> Iterator[SimulatorHandle]:
    with run_in_thread(ROS, password=PASSWORD, hostname="ap-taman-01") as handle:
        yield handle


@dataclass
class CountingConnector:
    """The real connector, counting sessions; after ``reachable_sessions`` it acts as if the link went down."""

    reachable_sessions: int = 1000
    opened: int = 0
    inner: NetmikoConnector = field(default_factory=NetmikoConnector)

    def __call__(self, target: DeviceTarget, device_type: str) -> AbstractContextManager[Any]:
        self.opened += 1
        if self.opened > self.reachable_sessions:
            raise DeviceUnreachable(f"{target.name} ({target.host}:{target.port}): connection timed out")
        return self.inner(target, device_type)


def test_change_that_cannot_cut_management_takes_one_session(routeros: SimulatorHandle) -> None:
    connect = CountingConnector()
    result = run_device(target(routeros, ROS), plan(ROS, "snmp", contact="NOC"), driver=MikrotikRouterosDriver(),
                        connect=connect, dry_run=False)
    assert result.status == ResultStatus.CHANGED, result.log
    assert connect.opened == 1
    config = running(routeros, ROS)
    assert "name=k0mun1tas-rahasia" in config and "/snmp set contact=NOC enabled=yes" in config
    assert "/system scheduler" not in config, "the self-revert must be disarmed"
    assert result.after is not None and "k0mun1tas-rahasia" in result.after


def test_compliant_device_takes_one_session_and_no_backup_on_the_device(routeros: SimulatorHandle) -> None:
    job = plan(ROS, "snmp", contact="NOC")
    assert run_device(target(routeros, ROS), job, driver=MikrotikRouterosDriver(), connect=NetmikoConnector(),
                      dry_run=False).status == ResultStatus.CHANGED
    connect = CountingConnector()
    again = run_device(target(routeros, ROS), job, driver=MikrotikRouterosDriver(), connect=connect, dry_run=False)
    assert again.status == ResultStatus.NO_CHANGE, again.log
    assert connect.opened == 1
    assert not any("backed up" in line for line in again.log)


def test_change_that_may_cut_management_reconnects_once_before_disarming(routeros: SimulatorHandle) -> None:
    connect = CountingConnector()
    result = run_device(target(routeros, ROS), plan(ROS, "hotspot", **HOTSPOT), driver=MikrotikRouterosDriver(),
                        connect=connect, dry_run=False)
    assert result.status == ResultStatus.CHANGED, result.log
    assert connect.opened == 2
    assert "reconnected after the push" in result.log
    assert "/system scheduler" not in running(routeros, ROS)


def test_unreachable_after_a_risky_change_leaves_the_self_revert_armed(routeros: SimulatorHandle) -> None:
    connect = CountingConnector(reachable_sessions=1)
    result = run_device(target(routeros, ROS), plan(ROS, "hotspot", revert_after_s=600, **HOTSPOT),
                        driver=MikrotikRouterosDriver(), connect=connect, dry_run=False, reconnect_attempts=2,
                        reconnect_delay_s=0.1)
    assert result.status == ResultStatus.FAILED, result.log
    assert result.error is not None and "restores its pre-push config by itself within 600 s" in result.error
    assert connect.opened == 3  # the push session, then two reconnect attempts
    config = running(routeros, ROS)
    assert "/system scheduler add interval=600s name=netmgr-revert" in config
    assert "vlan20-hotspot" in config  # pushed, not disarmed: the device itself will undo it


def test_only_listed_commands_count_as_unable_to_cut_management() -> None:
    ros = MikrotikRouterosDriver()
    assert not may_cut_management(ros, ["/snmp set enabled=yes", "/system identity set name=ap-1"])
    assert may_cut_management(ros, ["/snmp set enabled=yes", "/ip address add address=10.0.0.2/24 interface=e1"])
    assert not may_cut_management(CiscoIosDriver(), ["snmp-server contact NOC"])
    assert may_cut_management(CiscoIosDriver(), ["interface Vlan20", " ip address 10.20.0.1 255.255.252.0"])
    assert may_cut_management(LinuxDriver(), ["echo ok"]), "a driver without a safe list always reconnects"


def test_only_the_first_wave_of_logins_waits_within_a_window_scaled_by_concurrency() -> None:
    delays = login_delays(200, 50, 0.02, rng=lambda low, high: high)
    assert delays[:50] == [pytest.approx(1.0)] * 50
    assert delays[50:] == [0.0] * 150
    assert max(login_delays(200, 10, 0.02)) <= 0.2
    assert login_delays(3, 50, 0.02, rng=lambda low, high: high) == [pytest.approx(0.06)] * 3
    assert login_delays(5, 5, 0) == [0.0] * 5
