"""No template line is silently dropped: each is pushed (and judged by the device) or refused with its line number."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from netmgr.demo.simulators.sshsim import SimulatorHandle, run_in_thread
from netmgr.models.provisioning import ResultStatus
from provisioning.connections import DeviceTarget, NetmikoConnector
from provisioning.diff import quiet_diff
from provisioning.drivers import CiscoIosDriver, LinuxDriver, MikrotikRouterosDriver, default_drivers
from provisioning.messages import translate
from provisioning.pages import catalog
from provisioning.render import (
    TemplateLinesRefused,
    TemplateSource,
    check_template,
    render_checked,
    shipped_template,
    shipped_templates,
)
from provisioning.runner import Plan, run_device
from provisioning.variables import validate_variables

PASSWORD = "Sim-pass-1"
MISTYPED_VERB = "/ip address ad address=10.1.1.1/24 interface=ether1"
UNKNOWN_COMMAND = "/snmp bogus-command foo=bar"


@pytest.fixture
def routeros() -> Iterator[SimulatorHandle]:
    with run_in_thread("mikrotik_routeros", password=PASSWORD, hostname="ap-taman-01") as handle:
        yield handle


@pytest.fixture
def ios() -> Iterator[SimulatorHandle]:
    with run_in_thread("cisco_ios", password=PASSWORD, hostname="sw-taman-01", seconds_per_minute=3) as handle:
        yield handle


def _target(handle: SimulatorHandle, platform: str) -> DeviceTarget:
    return DeviceTarget(device_id=1, name="ap-taman-01", platform=platform, host=handle.host, port=handle.port,
                        username="admin", password=PASSWORD, enable_secret=PASSWORD,
                        context={"device": {"name": "ap-taman-01"}, "inventory": {"device_name": "ap-taman-01",
                                                                                    "timezone": "Asia/Jakarta"}})


def _plan(body: str) -> Plan:
    return Plan(purpose="basics", template=TemplateSource(name="db:edited v2", body=body),
                variables=validate_variables("basics", {}), revert_after_s=600)


def _running(handle: SimulatorHandle, platform: str) -> str:
    driver = MikrotikRouterosDriver() if platform == "mikrotik_routeros" else CiscoIosDriver()
    with NetmikoConnector()(_target(handle, platform), platform) as conn:
        return driver.get_running_config(conn)


# --- RouterOS ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("line", [MISTYPED_VERB, UNKNOWN_COMMAND])
def test_routeros_line_with_an_unknown_verb_is_in_the_dry_runs_push_list(routeros: SimulatorHandle,
                                                                         line: str) -> None:
    body = f"/system identity set name=ap-taman-01\n{line}\n/ip dns set servers=1.1.1.1\n"
    result = run_device(_target(routeros, "mikrotik_routeros"), _plan(body), driver=MikrotikRouterosDriver(),
                        connect=NetmikoConnector(), dry_run=True)
    assert result.status == ResultStatus.DRY_RUN, result.log
    assert "dry run: 2 command(s) would be pushed" in result.log
    assert f"+{line}" in result.diff.splitlines()


@pytest.mark.parametrize(("line", "device_says"), [
    (MISTYPED_VERB, "bad command name ad (line 1 column 13)"),
    (UNKNOWN_COMMAND, "bad command name bogus-command (line 1 column 7)"),
    ("/snmp set bogus-key=1", "expected end of command (line 1 column 11)"),
])
def test_routeros_line_the_device_rejects_fails_the_push_and_rolls_back(routeros: SimulatorHandle, line: str,
                                                                         device_says: str) -> None:
    driver = MikrotikRouterosDriver()
    before = _running(routeros, "mikrotik_routeros")
    body = f"/ip dns set servers=9.9.9.9\n{line}\n"
    result = run_device(_target(routeros, "mikrotik_routeros"), _plan(body), driver=driver,
                        connect=NetmikoConnector(), dry_run=False, reconnect_delay_s=0.5)
    assert result.status == ResultStatus.ROLLED_BACK, result.log
    assert result.error is not None and device_says in result.error, result.error
    assert "servers=9.9.9.9" not in _running(routeros, "mikrotik_routeros")
    assert quiet_diff(driver, before, _running(routeros, "mikrotik_routeros")) == ""


def test_routeros_command_outside_any_menu_is_refused_at_job_time_with_its_line() -> None:
    body = "/ip dns set servers=1.1.1.1\nadd address=10.1.1.1/24 interface=ether1\n"
    target = DeviceTarget(device_id=1, name="ap-taman-01", platform="mikrotik_routeros", host="127.0.0.1", port=1,
                          username="admin", password=PASSWORD,
                          context={"inventory": {"device_name": "x", "timezone": "Asia/Jakarta"}})

    def no_connection(*args: object) -> object:
        raise AssertionError("a refused template must not reach the device")

    result = run_device(target, _plan(body), driver=MikrotikRouterosDriver(), connect=no_connection,  # type: ignore[arg-type]
                        dry_run=True)
    assert result.status == ResultStatus.FAILED
    assert result.error is not None
    assert "line 2: a command outside any menu" in result.error
    assert "`add address=10.1.1.1/24 interface=ether1`" in result.error


# --- Cisco IOS -----------------------------------------------------------------------------------------------

def test_ios_line_the_device_rejects_is_in_the_dry_run_and_rolls_back_the_push(ios: SimulatorHandle) -> None:
    driver = CiscoIosDriver()
    before = _running(ios, "cisco_ios")
    body = "ntp server 10.9.9.9\nsnmp-server bogus-thing foo\n"
    dry = run_device(_target(ios, "cisco_ios"), _plan(body), driver=driver, connect=NetmikoConnector(), dry_run=True)
    assert dry.status == ResultStatus.DRY_RUN, dry.log
    assert "+snmp-server bogus-thing foo" in dry.diff.splitlines()
    pushed = run_device(_target(ios, "cisco_ios"), _plan(body), driver=driver, connect=NetmikoConnector(),
                        dry_run=False, reconnect_delay_s=0.5)
    assert pushed.status == ResultStatus.ROLLED_BACK, pushed.log
    assert pushed.error is not None and "% Invalid input detected at '^' marker." in pushed.error
    after = _running(ios, "cisco_ios")
    assert "ntp server 10.9.9.9" not in after and "bogus" not in after
    assert [line for line in quiet_diff(driver, before, after).splitlines() if line.startswith("+")
            and not line.startswith(("+++", "+archive", "+ path", "+ maximum", "+!"))] == []


def test_ios_end_in_a_template_is_refused_not_skipped() -> None:
    body = "hostname sw-taman-01\nend\nntp server 10.9.9.9\n"
    with pytest.raises(TemplateLinesRefused, match=r"line 2: 'end' leaves config mode"):
        render_checked(CiscoIosDriver(), TemplateSource(name="editor", body=body), {})


# --- Linux ---------------------------------------------------------------------------------------------------

def test_linux_line_outside_any_file_is_refused_not_skipped() -> None:
    body = "server 10.0.0.1 iburst\n### file ntp.conf\nserver 10.0.0.2 iburst\n"
    with pytest.raises(TemplateLinesRefused, match=r"line 1: a line outside any file") as caught:
        render_checked(LinuxDriver(), TemplateSource(name="editor", body=body), {})
    assert [p.number for p in caught.value.problems] == [1]


def test_linux_bad_file_name_is_refused_with_its_line() -> None:
    body = "### file ntp.conf\nserver 10.0.0.2 iburst\n### file ../../etc/passwd\nroot::0:0::/:/bin/sh\n"
    with pytest.raises(TemplateLinesRefused, match=r"line 3: bad file name"):
        render_checked(LinuxDriver(), TemplateSource(name="editor", body=body), {})


def test_a_refused_template_reads_in_indonesian_and_quotes_the_line_as_written() -> None:
    body = "/ip dns set servers=1.1.1.1\nadd address=10.1.1.1/24\n"
    with pytest.raises(TemplateLinesRefused) as caught:
        render_checked(MikrotikRouterosDriver(), TemplateSource(name="editor", body=body), {})
    assert translate(caught.value.message, catalog("id").gettext) == (
        "templat editor ditolak, baris 2: perintah di luar menu mana pun: awali baris dengan menunya, "
        "mis. /ip address add …: `add address=10.1.1.1/24`")
    device_error = "error: ap-1 refused /ip address ad: bad command name ad (line 1 column 13); rolled back to the " \
                   "pre-push config"
    assert translate(device_error, catalog("id").gettext) == (
        "galat: ap-1 menolak /ip address ad: bad command name ad (line 1 column 13); dikembalikan ke konfigurasi "
        "sebelum pengiriman")


def test_every_shipped_template_passes_the_save_time_line_check() -> None:
    drivers = default_drivers()
    for platform, purpose in shipped_templates():
        source = shipped_template(platform, purpose)
        assert source is not None
        assert check_template(drivers.get(platform), source), f"{source.name} could not be checked at save"
