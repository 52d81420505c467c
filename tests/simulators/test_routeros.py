"""The RouterOS simulator driven by netmiko's mikrotik_routeros driver, as the provisioning code will drive it."""

from __future__ import annotations

import time

import pytest

from netmgr.demo.simulators.sshsim import SimulatorHandle, run_in_thread
from tests.servers.process import wait_until
from tests.simulators.conftest import PASSWORD, connect

PUSH = [
    "/ip address add address=10.20.0.1/24 interface=ether2 comment=dinkes",
    "/interface vlan add name=vlan20 vlan-id=20 interface=ether2",
    "/ip dns set servers=1.1.1.1,8.8.8.8 allow-remote-requests=yes",
    "/system ntp client set enabled=yes servers=id.pool.ntp.org",
    "/snmp set enabled=yes location=\"Taman Kota Sampit\" contact=noc@kotimkab.go.id",
    "/snmp community add name=netmgr-ro addresses=10.0.0.0/8",
    "/interface wireless security-profiles add name=pemkot mode=dynamic-keys authentication-types=wpa2-psk "
    "wpa2-pre-shared-key=Rahasia-123",
    "/interface wireless set [find default-name=wlan1] ssid=\"Sampit Free WiFi\" security-profile=pemkot "
    "mode=ap-bridge disabled=no",
    "/radius add service=hotspot address=10.0.0.5 secret=radius-secret",
    "/ip pool add name=hs-pool ranges=10.30.0.10-10.30.0.250",
    "/ip hotspot profile add name=hsprof hotspot-address=10.30.0.1 use-radius=yes",
    "/ip hotspot add name=hs1 interface=vlan20 address-pool=hs-pool profile=hsprof",
    "/queue type add name=pcq-down kind=pcq pcq-rate=2M pcq-classifier=dst-address",
    "/queue simple add name=dinkes target=10.20.0.0/24 max-limit=20M/50M queue=pcq-down/pcq-down",
    "/queue tree add name=hotspot-down parent=global packet-mark=hs max-limit=100M queue=pcq-down",
    "/system logging action add name=netmgr target=remote remote=10.0.0.9",
    "/ip firewall filter add chain=input action=accept protocol=tcp dst-port=22 comment=\"allow ssh\"",
    "/system script add name=hello source=\":log info hello\"",
]


def test_netmiko_logs_in_with_terminal_suffix_and_reads_identity(mikrotik: SimulatorHandle) -> None:
    with connect(mikrotik) as conn:
        assert conn.base_prompt == "[admin@core-sampit]"
        assert conn.send_command("/system identity print") == "name: core-sampit"


def test_wrong_password_is_refused(mikrotik: SimulatorHandle) -> None:
    from netmiko.exceptions import NetmikoAuthenticationException

    with pytest.raises(NetmikoAuthenticationException):
        connect(mikrotik, password="wrong")


def test_pushed_config_appears_in_export(mikrotik: SimulatorHandle) -> None:
    with connect(mikrotik) as conn:
        output = conn.send_config_set(PUSH)
        assert "failure" not in output and "bad command" not in output and "expected" not in output
        export = conn.send_command("/export show-sensitive terse")
        hidden = conn.send_command("/export")
    lines = export.splitlines()
    assert lines[0].startswith("# ") and lines[0].endswith("by RouterOS 7.14")
    for expected in [
        "/ip address add address=10.20.0.1/24 comment=dinkes interface=ether2 network=10.20.0.0",
        "/interface vlan add interface=ether2 name=vlan20 vlan-id=20",
        "/ip dns set allow-remote-requests=yes servers=1.1.1.1,8.8.8.8",
        "/system ntp client set enabled=yes servers=id.pool.ntp.org",
        '/snmp set contact=noc@kotimkab.go.id enabled=yes location="Taman Kota Sampit"',
        "/snmp community add addresses=10.0.0.0/8 name=netmgr-ro",
        '/interface wireless set [ find default-name=wlan1 ] disabled=no mode=ap-bridge security-profile=pemkot '
        'ssid="Sampit Free WiFi"',
        "/radius add address=10.0.0.5 secret=radius-secret service=hotspot",
        "/ip hotspot add address-pool=hs-pool interface=vlan20 name=hs1 profile=hsprof",
        "/queue type add kind=pcq name=pcq-down pcq-classifier=dst-address pcq-rate=2M",
        "/queue simple add max-limit=20M/50M name=dinkes queue=pcq-down/pcq-down target=10.20.0.0/24",
        "/queue tree add max-limit=100M name=hotspot-down packet-mark=hs parent=global queue=pcq-down",
        "/system logging action add name=netmgr remote=10.0.0.9 target=remote",
        '/ip firewall filter add action=accept chain=input comment="allow ssh" dst-port=22 protocol=tcp',
        '/system script add name=hello source=":log info hello"',
        "/system identity set name=core-sampit",
    ]:
        assert expected in lines, f"{expected!r} missing from export:\n{export}"
    # RouterOS 7 hides secrets unless asked, and folds long lines with backslashes.
    assert "radius-secret" not in hidden and "Rahasia-123" not in hidden
    assert "/radius\nadd address=10.0.0.5 service=hotspot" in hidden
    assert any(line.endswith(" \\") for line in hidden.splitlines())


def test_print_shows_items_with_numbers_and_flags(mikrotik: SimulatorHandle) -> None:
    with connect(mikrotik) as conn:
        conn.send_config_set(["/ip address add address=10.1.0.1/24 interface=ether3",
                              "/ip address add address=10.2.0.1/24 interface=ether4 disabled=yes"])
        table = conn.send_command("/ip address print")
        detail = conn.send_command("/ip address print detail where interface=ether4")
        count = conn.send_command("/ip address print count-only")
    assert "Columns: ADDRESS, NETWORK, INTERFACE" in table
    assert any(line.split()[:4] == ["1", "X", "10.2.0.1/24", "10.2.0.0"] for line in table.splitlines())
    assert "address=10.2.0.1/24 network=10.2.0.0 interface=ether4" in detail
    assert "10.1.0.1" not in detail
    assert count == "2"


@pytest.mark.parametrize(("command", "message"), [
    ("/foo", "bad command name foo (line 1 column 2)"),
    ("/ip address frobnicate", "bad command name frobnicate (line 1 column 13)"),
    ("/ip address add address=10.9.9.1/24 interfac=ether1", "expected end of command (line 1 column 37)"),
    ("/ip address add address=10.9.9.1/24 interface=ether9", "input does not match any value of interface"),
    ("/ip address set 7 comment=x", "no such item"),
    ("/interface add name=eth9", "bad command name add (line 1 column 12)"),
])
def test_rejected_commands_answer_with_routeros_messages(mikrotik: SimulatorHandle, command: str,
                                                         message: str) -> None:
    with connect(mikrotik) as conn:
        assert conn.send_command(command) == message


def test_duplicate_address_fails_and_set_by_find_changes_item(mikrotik: SimulatorHandle) -> None:
    with connect(mikrotik) as conn:
        conn.send_command("/ip address add address=10.9.9.1/24 interface=ether2")
        assert conn.send_command("/ip address add address=10.9.9.1/24 interface=ether3") == \
            "failure: already have such address"
        conn.send_command('/ip address set [find where address="10.9.9.1/24"] comment="uplink dinkes"')
        conn.send_command("/ip address set 0 interface=ether5")
        export = conn.send_command("/ip address export terse")
        conn.send_command("/ip address remove [find comment~\"dinkes\"]")
        after = conn.send_command("/ip address print count-only")
    assert '/ip address add address=10.9.9.1/24 comment="uplink dinkes" interface=ether5 network=10.9.9.0' in export
    assert after == "0"


def test_menu_context_navigation_changes_prompt_and_target(mikrotik: SimulatorHandle) -> None:
    with connect(mikrotik) as conn:
        out = conn.send_command("/ip address", expect_string=r"/ip/address> $")
        assert out == ""
        conn.send_command("add address=192.168.50.1/24 interface=ether4", expect_string=r"/ip/address> $")
        printed = conn.send_command("print terse", expect_string=r"/ip/address> $")
        conn.send_command("/", expect_string=r"\] > $")
    assert "address=192.168.50.1/24" in printed


def test_identity_change_changes_prompt(mikrotik: SimulatorHandle) -> None:
    with connect(mikrotik) as conn:
        conn.send_command("/system identity set name=ap-taman-kota", expect_string=r"\] > ")
        conn.set_base_prompt()
        assert conn.base_prompt == "[admin@ap-taman-kota]"
        assert conn.send_command("/system identity print") == "name: ap-taman-kota"


def test_export_to_file_and_backup_show_in_file_print(mikrotik: SimulatorHandle) -> None:
    with connect(mikrotik) as conn:
        assert conn.send_command("/system backup save name=before-push") == "Configuration backup saved"
        assert conn.send_command("/export file=before-push") == ""
        files = conn.send_command("/file print")
        detail = conn.send_command('/file print detail where name="before-push.rsc"')
    assert "before-push.backup" in files and "before-push.rsc" in files
    assert "size=" in detail and "type=script" in detail


def test_import_applies_a_script_file(mikrotik: SimulatorHandle) -> None:
    with connect(mikrotik) as conn:
        conn.send_command('/file add name=apply.rsc contents="/ip address\\r\\nadd address=10.7.0.1/24 '
                          'interface=ether3\\r\\n/queue simple add name=q1 target=10.7.0.0/24 max-limit=5M/10M"')
        assert conn.send_command("/import file-name=apply.rsc") == "Script file loaded and executed successfully"
        assert conn.send_command("/queue simple print count-only") == "1"
        assert "10.7.0.1/24" in conn.send_command("/ip address print")
        failed = conn.send_command("/import file-name=apply.rsc")
    assert failed == "failure: already have such address (line 2)"


def test_scheduler_revert_restores_config_when_not_disarmed(mikrotik: SimulatorHandle) -> None:
    with connect(mikrotik) as conn:
        conn.send_command("/ip address add address=10.20.0.1/24 interface=ether2")
        conn.send_command("/export show-sensitive file=pre-push")
        # The revert: wipe and re-apply the saved export; RouterOS's own reset-configuration does both.
        conn.send_command('/file add name=revert.rsc contents="/system reset-configuration no-defaults=yes '
                          'skip-backup=yes run-after-reset=pre-push.rsc"')
        conn.send_command('/system scheduler add name=netmgr-revert interval=1s '
                          'on-event="/import file-name=revert.rsc\\r\\n/system scheduler remove netmgr-revert"')
        conn.send_command("/ip address add address=10.99.0.1/24 interface=ether3")
        conn.send_command("/system identity set name=pushed", expect_string=r"\] > ")
    before = time.monotonic()
    wait_until(lambda: mikrotik.call(lambda: mikrotik.device.identity) == "core-sampit", timeout=10,
               what="scheduler revert")
    assert time.monotonic() - before < 5
    with connect(mikrotik) as conn:
        addresses = conn.send_command("/ip address print terse")
        schedulers = conn.send_command("/system scheduler print count-only")
    assert "10.20.0.1/24" in addresses and "10.99.0.1/24" not in addresses
    assert schedulers == "0"


def test_disarmed_scheduler_never_fires(mikrotik: SimulatorHandle) -> None:
    with connect(mikrotik) as conn:
        conn.send_command('/system scheduler add name=netmgr-revert interval=1s on-event="/ip address add '
                          'address=10.66.0.1/24 interface=ether2"')
        conn.send_command("/system scheduler remove [find name=netmgr-revert]")
        time.sleep(1.5)
        assert conn.send_command("/ip address print count-only") == "0"


def test_state_file_keeps_config_across_restart(tmp_path: pytest.TempPathFactory) -> None:
    state = tmp_path / "core.json"  # type: ignore[operator]
    with run_in_thread("mikrotik_routeros", password=PASSWORD, hostname="core", state_file=state) as handle, \
            connect(handle) as conn:
        conn.send_command("/ip address add address=10.5.0.1/24 interface=ether2")
    with run_in_thread("mikrotik_routeros", password=PASSWORD, hostname="ignored", state_file=state) as handle, \
            connect(handle) as conn:
        assert conn.base_prompt == "[admin@core]"
        assert "10.5.0.1/24" in conn.send_command("/ip address print")


CAPTIVE_API = "https://portal.kotimkab.go.id/portal/api/captive/taman-kota-sampit"


def test_dhcp_server_option_114_network_and_server_are_added_and_exported(mikrotik: SimulatorHandle) -> None:
    """RFC 8910's option 114 the way the hotspot template pushes it (``/ip dhcp-server option``)."""
    with connect(mikrotik) as conn:
        output = conn.send_config_set([
            "/ip pool add name=hs-pool-20 ranges=10.20.0.2-10.20.3.254",
            f"/ip dhcp-server option add name=captive-20 code=114 value=\"'{CAPTIVE_API}'\"",
            "/ip dhcp-server network add address=10.20.0.0/22 gateway=10.20.0.1 dns-server=10.20.0.1 "
            "dhcp-option=captive-20",
            "/ip dhcp-server add name=dhcp-hs-20 interface=ether2 address-pool=hs-pool-20 lease-time=1h disabled=no",
        ])
        assert "failure" not in output and "expected" not in output and "invalid" not in output, output
        export = conn.send_command("/export terse")
        printed = conn.send_command("/ip dhcp-server option print")
    assert f"/ip dhcp-server option add code=114 name=captive-20 value=\"'{CAPTIVE_API}'\"" in export.splitlines()
    assert ("/ip dhcp-server network add address=10.20.0.0/22 dhcp-option=captive-20 dns-server=10.20.0.1 "
            "gateway=10.20.0.1") in export.splitlines()
    assert ("/ip dhcp-server add address-pool=hs-pool-20 disabled=no interface=ether2 lease-time=1h "
            "name=dhcp-hs-20") in export.splitlines()
    assert CAPTIVE_API.encode().hex() in printed  # raw-value: the bytes phones get, the URL as ASCII
    lines = export.splitlines()
    assert lines.index(next(x for x in lines if x.startswith("/ip dhcp-server option"))) < \
        lines.index(next(x for x in lines if x.startswith("/ip dhcp-server network")))


@pytest.mark.parametrize(("command", "message"), [
    ("/ip dhcp-server option add name=x code=255 value=0x01", "value of code out of range (1..254)"),
    ("/ip dhcp-server option add name=x value=0x01", "failure: code not specified"),
    ("/ip dhcp-server option add name=x code=114 value=0x123", "invalid value for argument value"),
    ("/ip dhcp-server option add name=x code=114 value=portal", "invalid value for argument value"),
    ("/ip dhcp-server network add address=10.20.0.0/22 dhcp-option=nothing",
     "input does not match any value of dhcp-option"),
    ("/ip dhcp-server add name=d interface=ether9", "input does not match any value of interface"),
    ("/ip dhcp-server add name=d interface=ether2 address-pool=nowhere",
     "input does not match any value of address-pool"),
])
def test_dhcp_server_menus_refuse_what_routeros_refuses(mikrotik: SimulatorHandle, command: str, message: str) -> None:
    with connect(mikrotik) as conn:
        assert conn.send_command(command) == message
