"""Pure parts of provisioning: variables, template lookup and rendering, masking, noise, diffs, the registry."""

from __future__ import annotations

import pytest

from netmgr.errors import NotFound, ValidationFailed
from netmgr.security.secrets import SecretBox
from provisioning.diff import quiet_diff
from provisioning.drivers import CiscoIosDriver, LinuxDriver, MikrotikRouterosDriver, default_drivers
from provisioning.render import TemplateRenderError, TemplateSource, find_template, render, shipped_templates
from provisioning.variables import PURPOSES, complete, dump_for_storage, load_from_storage, validate_variables

INVENTORY = {"device_name": "core-diskominfo", "site_name": "Diskominfo", "snmp_community": "k0mun1tas",
             "radius_secret": "rad-s3cret", "portal_url": "http://netmgr.example/portal", "timezone": "Asia/Jakarta"}
EXAMPLES = {
    "basics": {"syslog_host": "10.0.0.5"},
    "snmp": {},
    "hotspot": {"ssid": "Sampit Free WiFi", "vlan_id": 20, "interface": "ether2", "gateway": "10.20.0.1/22",
                "radius_server": "10.0.0.2"},
    "queues": {"wan_interface": "ether1", "lan_interface": "ether2", "total_down_mbps": 500, "total_up_mbps": 500,
               "allocations": [{"name": "DISDIK", "target": "10.10.0.0/24", "cir_mbps": 20, "mir_mbps": 50,
                                "priority": 4}]},
}


def test_every_platform_ships_every_purpose() -> None:
    shipped = set(shipped_templates())
    for platform in ("mikrotik_routeros", "cisco_ios", "linux"):
        for purpose in PURPOSES:
            assert (platform, purpose) in shipped


@pytest.mark.parametrize("platform", ["mikrotik_routeros", "cisco_ios", "linux"])
@pytest.mark.parametrize("purpose", sorted(PURPOSES))
def test_shipped_templates_render_with_inventory_defaults(platform: str, purpose: str) -> None:
    variables = validate_variables(purpose, EXAMPLES[purpose])
    context = {"device": {"name": "core-diskominfo"}, "site": {"name": "Diskominfo"},
               **complete(variables, INVENTORY)}
    text = render(find_template(None, platform=platform, purpose=purpose), context)
    assert text.strip() and "None" not in text
    if purpose == "snmp":
        assert "k0mun1tas" in text
    if purpose == "basics" and platform != "linux":
        assert "10.0.0.5" in text


@pytest.mark.parametrize(("tz", "ios_clock"), [("Asia/Jakarta", "clock timezone WIB 7 0"),
                                               ("Asia/Makassar", "clock timezone WITA 8 0"),
                                               ("Asia/Jayapura", "clock timezone WIT 9 0")])
def test_device_clocks_follow_the_installations_zone_unless_a_job_names_one(tz: str, ios_clock: str) -> None:
    device = {"device": {"name": "core-diskominfo"}, "site": {"name": "Diskominfo"}}
    context = {**device, **complete(validate_variables("basics", {}), {**INVENTORY, "timezone": tz})}
    assert ios_clock in render(find_template(None, platform="cisco_ios", purpose="basics"), context).splitlines()
    assert f"### file timezone\n{tz}\n" in render(find_template(None, platform="linux", purpose="basics"), context)
    chosen = {**device, **complete(validate_variables("basics", {"timezone": "Asia/Jayapura"}),
                                   {**INVENTORY, "timezone": tz})}
    assert "clock timezone WIT 9 0" in render(find_template(None, platform="cisco_ios", purpose="basics"), chosen)
    with pytest.raises(ValidationFailed, match="is not an IANA time zone"):
        validate_variables("basics", {"timezone": "WITA"})


def test_routeros_queue_template_uses_pcq_and_rates() -> None:
    variables = validate_variables("queues", EXAMPLES["queues"])
    text = render(find_template(None, platform="mikrotik_routeros", purpose="queues"), complete(variables, {}))
    assert "kind=pcq" in text
    assert "name=DISDIK target=10.10.0.0/24 parent=netmgr-total max-limit=50M/50M limit-at=20M/20M priority=4/4" \
        in text


def test_variables_are_checked_before_rendering_and_name_the_field() -> None:
    with pytest.raises(ValidationFailed, match=r"vlan_id: Input should be less than or equal to 4094"):
        validate_variables("hotspot", {**EXAMPLES["hotspot"], "vlan_id": 5000})
    with pytest.raises(ValidationFailed, match="more than the 100 Mbps uplink"):
        validate_variables("queues", {**EXAMPLES["queues"], "total_down_mbps": 100, "allocations": [
            {"name": "A", "target": "10.0.0.0/24", "cir_mbps": 80, "mir_mbps": 90},
            {"name": "B", "target": "10.0.1.0/24", "cir_mbps": 30, "mir_mbps": 90}]})
    with pytest.raises(ValidationFailed, match="unknown purpose 'vpn'; known: basics, hotspot, queues, snmp"):
        validate_variables("vpn", {})


def test_missing_secret_with_no_inventory_value_is_a_clear_error() -> None:
    variables = validate_variables("snmp", {})
    with pytest.raises(ValidationFailed, match="community is not given and the device has no snmp community"):
        complete(variables, {"site_name": "x"})


def test_secret_variables_are_encrypted_for_storage() -> None:
    box = SecretBox(["aL7BqzEYOa5c4dcr2yT1bYx1m0kDVyCZ2q9j2eQy1lM="])
    variables = validate_variables("hotspot", {**EXAMPLES["hotspot"], "radius_secret": "very-secret"})
    stored = dump_for_storage(variables, box)
    assert "very-secret" not in str(stored)
    restored = load_from_storage("hotspot", stored, box)
    assert complete(restored, INVENTORY)["radius_secret"] == "very-secret"


def test_template_errors_name_the_template_and_line() -> None:
    broken = TemplateSource(name="db:taman v2", body="hostname {{ hostname }}\n{% for x in %}\n")
    with pytest.raises(TemplateRenderError, match=r"template db:taman v2, line 2"):
        render(broken, {"hostname": "a"})
    undefined = TemplateSource(name="cisco_ios/custom.j2", body="hostname {{ hostname }}\nntp server {{ ntp }}\n")
    with pytest.raises(TemplateRenderError, match=r"cisco_ios/custom.j2, line 2: 'ntp' is undefined"):
        render(undefined, {"hostname": "a"})


def test_templates_run_in_a_sandbox() -> None:
    evil = TemplateSource(name="evil.j2", body="{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(TemplateRenderError, match="evil.j2"):
        render(evil, {})


def test_unknown_template_or_platform_lists_what_exists() -> None:
    with pytest.raises(NotFound, match="shipped for it: basics, hotspot, queues, snmp"):
        find_template(None, platform="linux", purpose="vpn")
    with pytest.raises(NotFound, match="known: cisco_ios, linux, mikrotik_routeros"):
        default_drivers().get("huawei")


def test_secrets_are_masked_per_platform() -> None:
    ros = MikrotikRouterosDriver().mask_secrets(
        "/radius add address=10.0.0.2 secret=rad-s3cret service=hotspot\n"
        "/snmp community add addresses=0.0.0.0/0 name=k0mun1tas\n"
        '/interface wireless security-profiles add name=p wpa2-pre-shared-key="a b c"\n')
    assert "rad-s3cret" not in ros and "k0mun1tas" not in ros and "a b c" not in ros
    assert "secret=********" in ros and "name=********" in ros and "name=p " in ros
    ios = CiscoIosDriver().mask_secrets("enable secret 9 $9$abc\nusername admin privilege 15 secret 5 $1$xyz\n"
                                        "line vty 0 4\n password 7 0822455D0A16\nsnmp-server community k0mun RO\n"
                                        "radius server netmgr\n key rad-s3cret\n")
    for leaked in ("$9$abc", "$1$xyz", "0822455D0A16", "k0mun", "rad-s3cret"):
        assert leaked not in ios
    assert "enable secret 9 ********" in ios and "snmp-server community ******** RO" in ios
    linux = LinuxDriver().mask_secrets("rocommunity k0mun 0.0.0.0/0\nsecret rad-s3cret\nserver 10.0.0.2\n")
    assert "k0mun" not in linux and "rad-s3cret" not in linux and "server 10.0.0.2" in linux


def test_quiet_diff_ignores_export_dates_and_ios_timestamps() -> None:
    ros = MikrotikRouterosDriver()
    a = "# 2026-11-01 10:00:00 by RouterOS 7.14\n# software id = AB12\n/ip dns set servers=1.1.1.1\n"
    b = "# 2026-11-22 13:00:00 by RouterOS 7.14\n# software id = AB12\n/ip dns set servers=1.1.1.1\n"
    assert quiet_diff(ros, a, b) == ""
    assert "+/ip dns set servers=9.9.9.9" in quiet_diff(ros, a, b.replace("1.1.1.1", "9.9.9.9"))
    ios = CiscoIosDriver()
    c = "Building configuration...\n\nCurrent configuration : 900 bytes\n!\n! Last configuration change at 10:00\n" \
        "ntp clock-period 17179\nhostname R1\n"
    d = "Building configuration...\n\nCurrent configuration : 950 bytes\n!\n! Last configuration change at 13:00\n" \
        "ntp clock-period 17180\nhostname R1\n"
    assert quiet_diff(ios, c, d) == ""


def test_routeros_compliance_ignores_parameter_order_and_extra_defaults() -> None:
    driver = MikrotikRouterosDriver()
    running = ("/interface vlan add interface=ether2 mtu=1500 name=vlan20 vlan-id=20\n"
               '/system identity set name="core router"\n')
    desired = '/interface vlan add name=vlan20 vlan-id=20 interface=ether2\n/system identity set name="core router"\n'
    assert driver.commands_for(running, desired) == []
    changed = desired.replace("vlan-id=20", "vlan-id=30")
    assert driver.commands_for(running, changed) == [
        "/interface vlan set [ find name=vlan20 ] vlan-id=30 interface=ether2"]


def test_cisco_commands_enter_and_leave_parent_blocks() -> None:
    driver = CiscoIosDriver()
    running = "hostname R1\ninterface Gi0/1\n ip address 10.0.0.1 255.255.255.0\n!\nend\n"
    desired = "interface Gi0/1\n description uplink\n ip address 10.0.0.1 255.255.255.0\nntp server 1.2.3.4\n"
    assert driver.commands_for(running, desired) == ["interface Gi0/1", " description uplink", "exit",
                                                     "ntp server 1.2.3.4"]
    assert driver.missing_lines(running, desired) == ["interface Gi0/1 / description uplink", "ntp server 1.2.3.4"]


@pytest.mark.parametrize("platform", ["mikrotik_routeros", "linux"])
def test_hotspot_gateways_advertise_the_captive_portal_api_in_dhcp_option_114(platform: str) -> None:
    """RFC 8910: with the hotspot's portal address the gateway hands phones the RFC 8908 API URI."""
    api = "https://portal.kotimkab.go.id/portal/api/captive/taman-kota-sampit"
    variables = validate_variables("hotspot", {**EXAMPLES["hotspot"], "hotspot_slug": "taman-kota-sampit"})
    inventory = {**INVENTORY, "portal_url": "https://portal.kotimkab.go.id/portal/"}
    text = render(find_template(None, platform=platform, purpose="hotspot"), complete(variables, inventory))
    if platform == "mikrotik_routeros":
        assert f"/ip dhcp-server option add name=captive-20 code=114 value=\"'{api}'\"" in text.splitlines()
        assert ("/ip dhcp-server network add address=10.20.0.0/22 gateway=10.20.0.1 dns-server=10.20.0.1 "
                "dhcp-option=captive-20") in text.splitlines()
    else:
        conf = text.split("### file dnsmasq-hotspot.conf\n")[1].split("### file")[0]
        assert f'dhcp-option=114,"{api}"' in conf.splitlines()
        assert f'dhcp-option=option6:103,"{api}"' in conf.splitlines()
        assert "dhcp-range=10.20.0.2,10.20.3.254,255.255.252.0,1h" in conf.splitlines()
    without = render(find_template(None, platform=platform, purpose="hotspot"),
                     complete(validate_variables("hotspot", EXAMPLES["hotspot"]), inventory))
    assert "114" not in without
    with pytest.raises(ValidationFailed, match="hotspot_slug"):
        validate_variables("hotspot", {**EXAMPLES["hotspot"], "hotspot_slug": "Taman Kota"})


def test_linux_gateways_advertise_the_captive_portal_api_in_the_ipv6_ra_option_37() -> None:
    """RFC 8910's RA option through radvd's ``AdvCaptivePortalAPI``; RouterOS's ``/ipv6 nd`` has no such setting,
    so the RouterOS template carries the IPv4 option 114 only (see docs/captive-portal.md)."""
    api = "https://portal.kotimkab.go.id/portal/api/captive/taman-kota-sampit"
    inventory = {**INVENTORY, "portal_url": "https://portal.kotimkab.go.id/portal/"}
    variables = validate_variables("hotspot", {**EXAMPLES["hotspot"], "hotspot_slug": "taman-kota-sampit",
                                               "ipv6_prefix": "2001:db8:20::/64"})
    text = render(find_template(None, platform="linux", purpose="hotspot"), complete(variables, inventory))
    radvd = text.split("### file radvd-hotspot.conf\n")[1].split("### file")[0]
    assert "interface ether2.20 {" in radvd.splitlines()
    assert f'    AdvCaptivePortalAPI "{api}";' in radvd.splitlines()
    assert "    prefix 2001:db8:20::/64 {" in radvd.splitlines() and radvd.rstrip().endswith("};")
    assert "ip -6 addr replace 2001:db8:20::1/64 dev ether2.20" in text.splitlines()
    no_slug = validate_variables("hotspot", {**EXAMPLES["hotspot"], "ipv6_prefix": "2001:db8:20::/64"})
    plain = render(find_template(None, platform="linux", purpose="hotspot"), complete(no_slug, inventory))
    assert "### file radvd-hotspot.conf" in plain and "AdvCaptivePortalAPI" not in plain
    routeros = render(find_template(None, platform="mikrotik_routeros", purpose="hotspot"),
                      complete(variables, inventory))
    assert "/ipv6" not in routeros
    with pytest.raises(ValidationFailed, match="/64"):
        validate_variables("hotspot", {**EXAMPLES["hotspot"], "ipv6_prefix": "2001:db8:20::/56"})
