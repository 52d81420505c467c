"""The Cisco IOS simulator driven by netmiko's cisco_ios driver: modes, show run, errors, archive and revert timer."""

from __future__ import annotations

import time

import pytest

from netmgr.demo.simulators.sshsim import SimulatorHandle
from tests.servers.process import wait_until
from tests.simulators.conftest import SECRET, connect

PUSH = [
    "interface GigabitEthernet0/1",
    "description Uplink Telkom Astinet",
    "ip address 10.1.1.2 255.255.255.252",
    "no shutdown",
    "int lo0",
    "ip address 10.255.0.1 255.255.255.255",
    "ip access-list extended MGMT",
    "permit tcp 10.0.0.0 0.255.255.255 any eq 22",
    "deny ip any any log",
    "line vty 0 4",
    "access-class MGMT in",
    "exec-timeout 10 0",
    "snmp-server community netmgr-ro RO",
    "snmp-server location Diskominfo Sampit",
    "ntp server 10.0.0.1",
]


def test_login_lands_in_user_exec_and_enable_needs_the_secret(cisco: SimulatorHandle) -> None:
    with connect(cisco) as conn:
        assert conn.find_prompt() == "R1>"
        assert conn.send_command("show privilege") == "Current privilege level is 1"
        conn.enable()
        assert conn.find_prompt() == "R1#"
        assert conn.check_enable_mode()


def test_config_set_is_reflected_in_show_running_config(cisco: SimulatorHandle) -> None:
    with connect(cisco) as conn:
        conn.enable()
        output = conn.send_config_set(PUSH)
        assert "% Invalid" not in output
        assert "R1(config-if)#" in output and "R1(config-ext-nacl)#" in output and "R1(config-line)#" in output
        running = conn.send_command("show running-config")
        brief = conn.send_command("show ip interface brief")
    assert running.startswith("Building configuration...\n\nCurrent configuration : ")
    assert running.rstrip().endswith("end")
    assert ("interface GigabitEthernet0/1\n description Uplink Telkom Astinet\n ip address 10.1.1.2 255.255.255.252\n"
            " duplex auto") in running
    assert "interface Loopback0\n ip address 10.255.0.1 255.255.255.255\n!" in running
    assert "ip access-list extended MGMT\n permit tcp 10.0.0.0 0.255.255.255 any eq 22\n deny ip any any log" in running
    assert "line vty 0 4\n login local\n transport input ssh\n access-class MGMT in\n exec-timeout 10 0" in running
    assert "snmp-server community netmgr-ro RO\nsnmp-server location Diskominfo Sampit" in running
    assert "ntp server 10.0.0.1" in running
    assert "GigabitEthernet0/1     10.1.1.2        YES manual up                    up" in brief
    assert "GigabitEthernet0/2     unassigned      YES unset  administratively down down" in brief


def test_no_form_removes_lines_and_a_repeated_setting_replaces_the_old_one(cisco: SimulatorHandle) -> None:
    with connect(cisco) as conn:
        conn.enable()
        conn.send_config_set(["ntp server 10.0.0.1", "ntp server 10.0.0.2", "snmp-server location A",
                              "snmp-server location B", "no ntp server 10.0.0.1", "interface Gi0/2",
                              "description spare", "no description"])
        running = conn.send_command("show running-config")
    assert "ntp server 10.0.0.1" not in running and "ntp server 10.0.0.2" in running
    assert "snmp-server location B" in running and "snmp-server location A" not in running
    assert "description spare" not in running


@pytest.mark.parametrize(("command", "expected"), [
    ("show foo", "         ^\n% Invalid input detected at '^' marker."),
    ("show runing-config", "           ^\n% Invalid input detected at '^' marker."),
    ("show ip", "% Incomplete command."),
    ("co", '% Ambiguous command:  "co"'),
])
def test_bad_commands_get_the_ios_error_messages(cisco: SimulatorHandle, command: str, expected: str) -> None:
    with connect(cisco) as conn:
        conn.enable()
        assert conn.send_command(command, strip_command=True).strip("\n") == expected


def test_config_mode_errors_put_the_caret_under_the_bad_word(cisco: SimulatorHandle) -> None:
    with connect(cisco) as conn:
        conn.enable()
        output = conn.send_config_set(["interface Gi0/1", "ip adress 10.0.0.1 255.255.255.0"])
    caret = " " * len("R1(config-if)#ip ad") + "^"
    assert f"R1(config-if)#ip adress 10.0.0.1 255.255.255.0\n{caret}\n% Invalid input detected at '^' marker." in output


def test_a_global_command_in_a_submode_returns_to_global_config(cisco: SimulatorHandle) -> None:
    with connect(cisco) as conn:
        conn.enable()
        output = conn.send_config_set(["interface Gi0/3", "snmp-server contact noc@kotimkab.go.id", "description x"])
    assert "R1(config-if)#snmp-server contact noc@kotimkab.go.id\nR1(config)#description x" in output
    assert "% Invalid input detected" in output


def test_write_memory_saves_startup_config(cisco: SimulatorHandle) -> None:
    with connect(cisco) as conn:
        conn.enable()
        assert conn.send_command("show startup-config") == "startup-config is not present"
        conn.send_config_set(["hostname R1", "ip domain name kotimkab.go.id"])
        assert "Building configuration...\n[OK]" in conn.save_config()
        conn.send_config_set(["ip domain name changed.example"])
        startup = conn.send_command("show startup-config")
    assert startup.startswith("Using ")
    assert "ip domain name kotimkab.go.id" in startup and "changed.example" not in startup


def test_paging_stops_at_more_until_terminal_length_is_zero(cisco: SimulatorHandle) -> None:
    with connect(cisco) as conn:
        conn.enable()
        conn.send_command("terminal length 10")
        first = conn.send_command("show running-config", expect_string=r"--More--", strip_prompt=False)
        assert len(first.splitlines()) <= 10
        conn.write_channel("q")
        conn.read_until_pattern(pattern=r"R1#")
        conn.send_command("terminal length 0")
        assert conn.send_command("show running-config").rstrip().endswith("end")


def test_unconfirmed_change_rolls_back_when_the_revert_timer_expires(cisco: SimulatorHandle) -> None:
    # seconds_per_minute=0.5 in the fixture: "revert timer 2" lasts one second.
    with connect(cisco) as conn:
        conn.enable()
        conn.send_config_set(["archive", "path flash:netmgr", "maximum 5"])
        output = conn.send_config_set(["ip domain name pushed.example", "ntp server 10.9.9.9"],
                                      config_mode_command="configure terminal revert timer 2")
        assert "Rollback Confirmed Change: Backing up current running config to flash:netmgr-1" in output
        assert "ntp server 10.9.9.9" in conn.send_command("show running-config")
        assert "flash:netmgr-1 <- Most Recent" in conn.send_command("show archive")
    wait_until(lambda: "pushed.example" not in cisco.call(cisco.device.running_config), timeout=10,
               what="IOS rollback")
    with connect(cisco) as conn:
        conn.enable()
        running = conn.send_command("show running-config")
    assert "ip domain name lab.local" in running and "ntp server 10.9.9.9" not in running


def test_confirmed_change_survives_the_revert_timer(cisco: SimulatorHandle) -> None:
    with connect(cisco) as conn:
        conn.enable()
        conn.send_config_set(["archive", "path flash:netmgr"])
        conn.send_config_set(["ip domain name kept.example"], config_mode_command="configure terminal revert timer 2")
        assert conn.send_command("configure confirm") == ""
        time.sleep(1.5)
        assert "ip domain name kept.example" in conn.send_command("show running-config")
        assert conn.send_command("configure confirm") == "% No Rollback Confirmed Change pending"


def test_revert_timer_needs_an_archive_path(cisco: SimulatorHandle) -> None:
    with connect(cisco) as conn:
        conn.enable()
        output = conn.send_command("configure terminal revert timer 5")
        assert "archive path is not configured" in output
        assert conn.find_prompt() == "R1#"


def test_configure_replace_restores_a_saved_copy(cisco: SimulatorHandle) -> None:
    with connect(cisco) as conn:
        conn.enable()
        question = conn.send_command("copy running-config flash:before.cfg", expect_string=r"\?")
        assert question == "Destination filename [before.cfg]? "
        assert "bytes copied" in conn.send_command("\n", expect_string=r"#")
        conn.send_config_set(["ip domain name after.example", "interface Loopback9", "description temp"])
        assert "before.cfg" in conn.send_command("dir flash:")
        assert "Rollback Done" in conn.send_command("configure replace flash:before.cfg force")
        running = conn.send_command("show running-config")
    assert "after.example" not in running and "Loopback9" not in running
    assert "ip domain name lab.local" in running


def test_wrong_enable_secret_is_refused(cisco: SimulatorHandle) -> None:
    with connect(cisco, secret="nope") as conn:
        conn.write_channel("enable\n")
        conn.read_until_pattern(pattern=r"Password:")
        for _ in range(3):
            conn.write_channel("nope\n")
        output = conn.read_until_pattern(pattern=r"R1>")
        assert "% Bad secrets" in output
        assert SECRET not in output
