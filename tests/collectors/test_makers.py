"""Discovery recognises the makers a regency network and its ISPs have (issue 14 §3), served by snmpsim.

The recordings in tests/collectors/snmprec_makers are small and made for these tests: the system group and the
vendor values come from LibreNMS's own test recordings and expected results (librenms/librenms
``tests/snmpsim/<os>.snmprec`` and ``tests/data/<os>.json``; files and commits in SOURCES.md there), the vendor
OIDs from the makers' MIBs as LibreNMS's OS definitions (``includes/definitions/<os>.yaml``) read them.
"""

from __future__ import annotations

import asyncio

import pytest

from collectors.discovery import DiscoveryResult, discover
from collectors.snmp import MultiVersionClient, SnmpTarget
from tests.collectors.conftest import MAKERS_DIR
from tests.servers.snmp import Agent

RECORDINGS = sorted(p.stem for p in MAKERS_DIR.glob("*.snmprec"))

# recording → (vendor, platform, model, OS version, serial). Where LibreNMS's expected results exist they agree
# (panos, sophos-xg, fiberhome), except on purpose: arubaos-cx's model is the product number and model from
# sysDescr ("JL635A 8325"; LibreNMS: "Aruba 8325 1-slot Chassis" from ENTITY-MIB), and no model carries the
# vendor's name; versions drop a leading "v" (FortiOS "v6.0.4,build0231,…", airFiber "v4.0.3").
IDENTITY = {
    "fortigate": ("fortinet", "fortinet", "FGT_1500D", "6.0.4", "FG1K5D3I10000000"),
    "pfsense": ("pfsense", "generic", "", "2.3.2-RELEASE", ""),
    "opnsense": ("opnsense", "generic", "", "18.1.1-a5575d7bd", ""),
    "opnsense_netsnmp": ("opnsense", "generic", "", "23.7.12", ""),
    "freebsd_netsnmp": ("net-snmp", "generic", "", "", ""),
    "zxa10": ("zte", "zte_zxros", "ZXA10 C320", "V2.1.0", ""),
    "cdata": ("c-data", "generic", "", "", ""),
    "fiberhome": ("fiberhome", "generic", "AN5516-01", "RP0700", ""),
    "smartax": ("huawei", "huawei_olt", "", "", ""),
    "procurve": ("aruba", "hp_procurve", "Stack", "KA.15.03.3004", ""),
    "arubaos-cx": ("aruba", "aruba_aoscx", "JL635A 8325", "GL.10.04.2000", "DEVICESERL"),
    "panos": ("paloalto", "paloalto_panos", "PA-VM", "9.0.7", "015351000009999"),
    "sophos-xg": ("sophos", "sophos_sfos", "SFVH_SO01_SFOS", "18.0.1 MR-1-Build396", "C01001GF24TPDE1"),
    "airos-af": ("ubiquiti", "generic", "airFiber", "4.0.3", ""),
    "edgeswitch": ("ubiquiti", "ubiquiti_edgeswitch", "EdgeSwitch 24-Port 250W", "1.0.1.4720839", ""),
    "unifi-switch": ("ubiquiti", "ubiquiti_unifiswitch", "USW-24-PoE", "4.0.66.10832", ""),
    "unifi-switch_netsnmp": ("ubiquiti", "ubiquiti_unifiswitch", "US-8-60W", "", ""),
    "broadcom_other": ("unknown", "generic", "", "", ""),
    "cnpilote": ("cambium", "generic", "cnPilot E500", "", ""),
    "unknown_maker": ("unknown", "generic", "", "", ""),
}


def discover_recording(agent: Agent, name: str) -> DiscoveryResult:
    async def work() -> DiscoveryResult:
        async with MultiVersionClient() as snmp:
            return await discover(SnmpTarget(agent.host, agent.port, community=name, timeout=2, retries=1),
                                  snmp=snmp)

    return asyncio.run(work())


def test_every_maker_recording_has_an_identity_row() -> None:
    assert sorted(IDENTITY) == RECORDINGS


@pytest.mark.parametrize("name", RECORDINGS)
def test_discovery_identifies_the_maker(snmpsim_makers: Agent, name: str) -> None:
    result = discover_recording(snmpsim_makers, name)
    assert (result.vendor, result.platform, result.model, result.os_version, result.serial) == IDENTITY[name]


def test_huawei_olt_and_vrp_router_are_told_apart(snmpsim_makers: Agent) -> None:
    # Both are under Huawei's .2011; the router keeps the VRP profile (shared recording "vrp" checks it too).
    assert discover_recording(snmpsim_makers, "smartax").platform == "huawei_olt"


def test_firewall_interfaces_are_read_like_any_other(snmpsim_makers: Agent) -> None:
    # FortiGate leaves ifDescr empty: names come from ifName; a VLAN's ifDescr is what the admin typed.
    ports = {i.if_index: i for i in discover_recording(snmpsim_makers, "fortigate").interfaces}
    assert [(p.name, p.speed_mbps, p.oper_status) for p in ports.values()] == [
        ("ha", 1000, "up"), ("mgmt", 1000, "up"), ("port1", None, "down"), ("vl4092", None, "up")]
    assert (ports[26].descr, ports[26].type, ports[1].mac) == ("Uplink VDOM", 135, "70:4c:a5:ea:70:d5")


def test_olt_ports_keep_their_large_ifindex(snmpsim_makers: Agent) -> None:
    ports = discover_recording(snmpsim_makers, "cdata").interfaces
    assert [(p.if_index, p.name, p.type, p.oper_status) for p in ports] == [
        (16778496, "ge0/0/5-uplink", 117, "up"), (16780544, "pon0/0/1", 117, "down")]


def test_unknown_maker_keeps_its_interfaces(snmpsim_makers: Agent) -> None:
    result = discover_recording(snmpsim_makers, "unknown_maker")
    assert (result.vendor, result.sys_descr) == ("unknown", "Acme NetBox 9000 firmware 1.2")
    assert [(i.name, i.speed_mbps, i.mac, i.oper_status) for i in result.interfaces] == [
        ("eth0", 100, "02:00:00:00:00:01", "up"), ("eth1", 100, "02:00:00:00:00:02", "down")]


def test_airfiber_radio_ports_come_from_if_mib(snmpsim_makers: Agent) -> None:
    result = discover_recording(snmpsim_makers, "airos-af")
    assert [(i.name, i.type) for i in result.interfaces] == [("lo", 24), ("eth0", 6), ("air0", 6)]
