"""The runner against the RouterOS and Cisco IOS simulators, driven by real netmiko sessions."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from netmgr.demo.simulators.sshsim import SimulatorHandle, run_in_thread
from netmgr.errors import DeviceUnreachable
from netmgr.models.provisioning import ResultStatus
from provisioning.connections import DeviceTarget, NetmikoConnector
from provisioning.diff import quiet_diff
from provisioning.drivers import CiscoIosDriver, MikrotikRouterosDriver
from provisioning.render import find_template
from provisioning.runner import Plan, run_device
from provisioning.variables import validate_variables

PASSWORD = "Sim-pass-1"
HOTSPOT = {"ssid": "Sampit Free WiFi", "vlan_id": 20, "interface": "ether2", "gateway": "10.20.0.1/22",
           "radius_server": "10.0.0.2", "radius_secret": "rad-s3cret-xyz"}
INVENTORY = {"device_name": "ap-taman-01", "site_name": "Taman Kota Sampit", "snmp_community": "k0mun1tas-rahasia",
             "radius_secret": "rad-s3cret-xyz", "portal_url": "http://127.0.0.1:8000/portal",
             "timezone": "Asia/Jakarta"}


@pytest.fixture
def routeros() -> Iterator[SimulatorHandle]:
    with run_in_thread("mikrotik_routeros", password=PASSWORD, hostname="ap-taman-01") as handle:
        yield handle


@pytest.fixture
def ios() -> Iterator[SimulatorHandle]:
    # One IOS "minute" lasts 3 s here, so a revert timer can fire within a test.
    with run_in_thread("cisco_ios", password=PASSWORD, hostname="sw-taman-01", seconds_per_minute=3) as handle:
        yield handle


def target(handle: SimulatorHandle, platform: str) -> DeviceTarget:
    return DeviceTarget(device_id=1, name="ap-taman-01", platform=platform, host=handle.host, port=handle.port,
                        username="admin", password=PASSWORD, enable_secret=PASSWORD,
                        context={"device": {"name": "ap-taman-01"}, "inventory": INVENTORY})


def plan(platform: str, purpose: str, revert_after_s: int = 600, **variables: object) -> Plan:
    return Plan(purpose=purpose, template=find_template(None, platform=platform, purpose=purpose),
                variables=validate_variables(purpose, variables), revert_after_s=revert_after_s)


def running(handle: SimulatorHandle, platform: str) -> str:
    driver = MikrotikRouterosDriver() if platform == "mikrotik_routeros" else CiscoIosDriver()
    with NetmikoConnector()(target(handle, platform), platform) as conn:
        return driver.get_running_config(conn)


# --- RouterOS ------------------------------------------------------------------------------------------

def test_routeros_dry_run_shows_the_exact_diff_and_changes_nothing(routeros: SimulatorHandle) -> None:
    driver = MikrotikRouterosDriver()
    before = running(routeros, "mikrotik_routeros")
    result = run_device(target(routeros, "mikrotik_routeros"), plan("mikrotik_routeros", "hotspot", **HOTSPOT),
                        driver=driver, connect=NetmikoConnector(), dry_run=True)
    assert result.status == ResultStatus.DRY_RUN, result.log
    added = [line[1:] for line in result.diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == [
        "/interface vlan add name=vlan20-hotspot vlan-id=20 interface=ether2",
        "/ip address add address=10.20.0.1/22 interface=vlan20-hotspot",
        "/ip pool add name=hs-pool-20 ranges=10.20.0.2-10.20.3.254",
        "/ip hotspot profile add name=netmgr-20 hotspot-address=10.20.0.1 dns-name=login.wifi.id "
        "html-directory=netmgr-portal login-by=http-pap use-radius=yes",
        "/ip hotspot add name=hs-20 interface=vlan20-hotspot address-pool=hs-pool-20 profile=netmgr-20",
        "/radius add service=hotspot address=10.0.0.2 secret=********",
        '/interface wireless set [ find default-name=wlan1 ] ssid="Sampit Free WiFi" mode=ap-bridge disabled=no',
    ]
    assert not [line for line in result.diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert "rad-s3cret-xyz" not in result.diff
    assert quiet_diff(driver, before, running(routeros, "mikrotik_routeros")) == ""


def test_routeros_push_then_rerun_reports_no_change(routeros: SimulatorHandle) -> None:
    job = plan("mikrotik_routeros", "hotspot", **HOTSPOT)
    first = run_device(target(routeros, "mikrotik_routeros"), job, driver=MikrotikRouterosDriver(),
                       connect=NetmikoConnector(), dry_run=False)
    assert first.status == ResultStatus.CHANGED, first.log
    config = running(routeros, "mikrotik_routeros")
    assert "/ip hotspot add address-pool=hs-pool-20" in config
    assert "/system scheduler" not in config, "the self-revert must be disarmed after reconnecting"
    again = run_device(target(routeros, "mikrotik_routeros"), job, driver=MikrotikRouterosDriver(),
                       connect=NetmikoConnector(), dry_run=False)
    assert again.status == ResultStatus.NO_CHANGE and again.diff == "", again.log


def test_routeros_a_revert_left_armed_by_a_dead_run_is_replaced_not_doubled(routeros: SimulatorHandle) -> None:
    driver = MikrotikRouterosDriver()
    with NetmikoConnector()(target(routeros, "mikrotik_routeros"), "mikrotik_routeros") as conn:
        driver.arm_revert(conn, driver.backup(conn), 600)  # a worker that died between arm and disarm
    assert "name=netmgr-revert" in running(routeros, "mikrotik_routeros")
    result = run_device(target(routeros, "mikrotik_routeros"), plan("mikrotik_routeros", "hotspot", **HOTSPOT),
                        driver=driver, connect=NetmikoConnector(), dry_run=False)
    assert result.status == ResultStatus.CHANGED, result.log
    assert "/system scheduler" not in running(routeros, "mikrotik_routeros"), "no revert may stay armed"


def test_routeros_rejected_command_rolls_back_with_the_devices_message(routeros: SimulatorHandle) -> None:
    driver = MikrotikRouterosDriver()
    with NetmikoConnector()(target(routeros, "mikrotik_routeros"), "mikrotik_routeros") as conn:
        assert driver.push(conn, ["/ip address add address=10.20.0.1/22 interface=ether3"]).ok
    before = running(routeros, "mikrotik_routeros")
    result = run_device(target(routeros, "mikrotik_routeros"), plan("mikrotik_routeros", "hotspot", **HOTSPOT),
                        driver=driver, connect=NetmikoConnector(), dry_run=False, reconnect_delay_s=0.5)
    assert result.status == ResultStatus.ROLLED_BACK, result.log
    assert result.error is not None
    assert "/ip address add address=10.20.0.1/22 interface=vlan20-hotspot" in result.error
    assert "failure: already have such address" in result.error
    assert "rolled back" in result.error and "WARNING" not in result.error
    after = running(routeros, "mikrotik_routeros")
    assert quiet_diff(driver, before, after) == ""
    assert "vlan20-hotspot" not in after


def test_routeros_revert_fires_when_netmgr_does_not_disarm(routeros: SimulatorHandle) -> None:
    driver = MikrotikRouterosDriver()
    before = running(routeros, "mikrotik_routeros")
    with NetmikoConnector()(target(routeros, "mikrotik_routeros"), "mikrotik_routeros") as conn:
        backup = driver.backup(conn)
        driver.arm_revert(conn, backup, 2)
        assert driver.push(conn, ["/system identity set name=changed-by-mistake"]).ok
    assert "name=changed-by-mistake" in running(routeros, "mikrotik_routeros")
    deadline = time.monotonic() + 15
    after = ""
    while time.monotonic() < deadline:
        time.sleep(1)
        try:
            after = running(routeros, "mikrotik_routeros")
        except DeviceUnreachable:  # the device may be rebooting into the backup
            continue  # noqa: S112
        if "changed-by-mistake" not in after:
            break
    assert quiet_diff(driver, before, after) == ""


# --- Cisco IOS -------------------------------------------------------------------------------------------

def test_cisco_dry_run_shows_the_exact_diff_and_changes_nothing(ios: SimulatorHandle) -> None:
    driver = CiscoIosDriver()
    before = running(ios, "cisco_ios")
    result = run_device(target(ios, "cisco_ios"), plan("cisco_ios", "snmp", contact="NOC"), driver=driver,
                        connect=NetmikoConnector(), dry_run=True)
    assert result.status == ResultStatus.DRY_RUN, result.log
    added = [line[1:] for line in result.diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == ["snmp-server community ******** RO", "snmp-server location Taman Kota Sampit",
                     "snmp-server contact NOC"]
    assert "k0mun1tas-rahasia" not in result.diff
    assert quiet_diff(driver, before, running(ios, "cisco_ios")) == ""


def test_cisco_push_confirms_the_revert_and_a_rerun_reports_no_change(ios: SimulatorHandle) -> None:
    job = plan("cisco_ios", "snmp", contact="NOC")
    first = run_device(target(ios, "cisco_ios"), job, driver=CiscoIosDriver(), connect=NetmikoConnector(),
                       dry_run=False)
    assert first.status == ResultStatus.CHANGED, first.log
    time.sleep(3.5)  # longer than the armed revert (1 IOS minute): it was confirmed, so nothing reverts
    config = running(ios, "cisco_ios")
    assert "snmp-server community k0mun1tas-rahasia RO" in config
    again = run_device(target(ios, "cisco_ios"), job, driver=CiscoIosDriver(), connect=NetmikoConnector(),
                       dry_run=False)
    assert again.status == ResultStatus.NO_CHANGE, again.log


def test_cisco_rejected_command_rolls_back_with_the_devices_message(ios: SimulatorHandle) -> None:
    driver = CiscoIosDriver()
    before = running(ios, "cisco_ios")
    job = plan("cisco_ios", "hotspot", **{**HOTSPOT, "interface": "Foo0/9"})
    result = run_device(target(ios, "cisco_ios"), job, driver=driver, connect=NetmikoConnector(), dry_run=False)
    assert result.status == ResultStatus.ROLLED_BACK, result.log
    assert result.error is not None and "interface Foo0/9" in result.error
    assert "% Invalid input detected" in result.error
    after = running(ios, "cisco_ios")
    assert "vlan 20" not in after and "archive" not in before
    assert result.before is not None and " path flash:netmgr-archive" in result.before  # set up for the revert
    assert quiet_diff(driver, result.before, after) == ""


def test_cisco_revert_timer_fires_when_netmgr_does_not_confirm(ios: SimulatorHandle) -> None:
    driver = CiscoIosDriver()
    with NetmikoConnector()(target(ios, "cisco_ios"), "cisco_ios") as conn:
        backup = driver.backup(conn)
        driver.arm_revert(conn, backup, 60)  # 1 IOS minute = 3 s here
        assert driver.push(conn, ["ntp server 10.9.9.9"]).ok
        assert "ntp server 10.9.9.9" in driver.get_running_config(conn)
    deadline = time.monotonic() + 15
    config = running(ios, "cisco_ios")
    while time.monotonic() < deadline and "ntp server 10.9.9.9" in config:
        time.sleep(0.5)
        config = running(ios, "cisco_ios")
    assert "ntp server 10.9.9.9" not in config
    assert quiet_diff(driver, backup.text, config) == ""
