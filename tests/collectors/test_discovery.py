"""Discovery checked against LibreNMS's own results for the shared recordings (served by snmpsim), against
snmpd over v2c and v3, and storing interfaces into the inventory (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.discovery import DiscoveredInterface, DiscoveryResult, apply_discovery, discover
from collectors.snmp import MultiVersionClient, SnmpTarget
from collectors.snmp.codecs import IF_TYPE_NAMES
from netmgr.models import AuditLog, Interface
from netmgr.models.enums import SnmpVersion
from netmgr.security.permissions import SYSTEM
from tests import factories
from tests.servers.snmp import SNMPD_SYS_NAME, SNMPREC_DIR, Agent

RECORDINGS = sorted(p.stem for p in SNMPREC_DIR.glob("*.snmprec"))
EXPECTED_DIR = SNMPREC_DIR / "expected"

# Identification for every recording (vendor, platform, model). Where LibreNMS's JSON has os data the
# test below also checks version/serial/hardware against it.
IDENTITY = {
    "airos": ("ubiquiti", "ubiquiti_airos", "Rocket Prism 5AC Gen2"),
    "epmp": ("cambium", "generic", "ePMP"),
    "ios": ("cisco", "cisco_ios", "C2950"),
    "linux": ("net-snmp", "linux", ""),
    "routeros": ("mikrotik", "mikrotik_routeros", "RB952Ui-5ac2nD"),
    "routeros_station": ("mikrotik", "mikrotik_routeros", "RBDynaDishG-5HacD"),
    "ruckuswireless": ("ruckus", "generic", "ZD1200"),
    "ruijie": ("ruijie", "ruijie_os", "S6220-48XS4QXS"),
    "swos": ("mikrotik", "generic", "RB260GS"),
    "tplink": ("tp-link", "tplink_jetstream", "8-Port Gigabit Smart PoE Switch with 2 SFP Slots"),
    "unifi": ("ubiquiti", "ubiquiti_unifi", "UAP"),
    "vrp": ("huawei", "huawei", "AR1220"),
}


def discover_recording(agent: Agent, name: str) -> DiscoveryResult:
    async def work() -> DiscoveryResult:
        async with MultiVersionClient() as snmp:
            return await discover(SnmpTarget(agent.host, agent.port, community=name, timeout=2, retries=1),
                                  snmp=snmp)

    return asyncio.run(work())


def expected(name: str) -> dict[str, Any] | None:
    path = EXPECTED_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def test_every_recording_has_an_identity_row() -> None:
    assert sorted(IDENTITY) == RECORDINGS


@pytest.mark.parametrize("name", RECORDINGS)
def test_discovery_identifies_vendor_platform_and_model(snmpsim: Agent, name: str) -> None:
    result = discover_recording(snmpsim, name)
    assert (result.vendor, result.platform, result.model) == IDENTITY[name]
    oracle = expected(name)
    device = oracle["os"]["discovery"]["devices"][0] if oracle and "os" in oracle else None
    if device is None:
        return
    assert result.sys_object_id == device["sysObjectID"].lstrip(".")
    assert result.sys_descr == device["sysDescr"]
    poller = oracle["os"]["poller"]  # type: ignore[index]
    final = device if poller == "matches discovery" else poller["devices"][0]
    if final.get("serial"):
        assert result.serial == final["serial"]
    if final.get("version"):
        assert result.os_version == final["version"]
    if final.get("hardware") and name != "epmp":
        # On purpose: our model has no vendor prefix (LibreNMS: "Huawei AR1220"); vendor is its own field.
        assert result.model == final["hardware"].removeprefix("Huawei ")
    if name == "epmp":
        # On purpose: LibreNMS maps the radio's operating mode into "hardware" ("ePTP Master"); we report the
        # product family from sysDescr, because the mode is configuration, not the device model.
        assert final["hardware"] == "ePTP Master" and result.model == "ePMP"


def _oracle_ports(name: str) -> dict[int, tuple[dict[str, Any], dict[str, Any]]]:
    oracle = expected(name)
    assert oracle is not None
    discovery = {p["ifIndex"]: p for p in oracle["ports"]["discovery"]["ports"]}
    poller_doc = oracle["ports"]["poller"]
    poller = discovery if poller_doc == "matches discovery" else {p["ifIndex"]: p for p in poller_doc["ports"]}
    return {i: (discovery[i], poller[i]) for i in discovery}


@pytest.mark.parametrize("name", [n for n in RECORDINGS if (expected(n) or {}).get("ports")])
def test_ports_agree_with_librenms(snmpsim: Agent, name: str) -> None:
    result = discover_recording(snmpsim, name)
    ours = {i.if_index: i for i in result.interfaces}
    oracle = _oracle_ports(name)
    both = sorted(set(ours) & set(oracle))
    assert both, "no port in common with LibreNMS"
    for index in both:
        mine, (disc, poll) = ours[index], oracle[index]
        assert mine.name == disc["ifName"]
        assert mine.descr == disc["ifDescr"]
        assert IF_TYPE_NAMES[mine.type or 0] == disc["ifType"]
        assert mine.oper_status == poll["ifOperStatus"]
        assert mine.admin_status == poll["ifAdminStatus"]
        if poll["ifPhysAddress"] and poll["ifPhysAddress"] != "000000000000":
            assert mine.mac.replace(":", "") == poll["ifPhysAddress"]
        # On purpose: LibreNMS fills an empty ifAlias with ifDescr; we keep what the agent said (empty), so an
        # admin's alias in netmgr is never confused with the port's name.
        assert disc["ifAlias"] == disc["ifDescr"] and mine.alias == ""
        if name == "epmp":
            # On purpose: ePMP reports ifHighSpeed in bit/s (1000000000 on its gigabit LAN port); LibreNMS shows
            # that port at 10^15 bit/s. We read an impossible ifHighSpeed as bit/s: 1000 Mbit/s. For the radio
            # (220000000) both end at 220 Mbit/s.
            assert poll["ifSpeed"] == {1: 10**15, 2: 220_000_000}[index]
            assert mine.speed_mbps == {1: 1000, 2: 220}[index]
        else:
            assert (mine.speed_mbps * 1_000_000 if mine.speed_mbps else None) == poll["ifSpeed"]
    missing_in_oracle = sorted(set(ours) - set(oracle))
    if name == "routeros":
        # On purpose: LibreNMS leaves the dynamic pppoe-out1 (ifIndex 11, ppp) out; netmgr keeps it, because a
        # PPPoE client is how many offices get their ISP uplink, and its traffic is what finance pays for.
        assert missing_in_oracle == [11]
        assert (ours[11].name, ours[11].type, ours[11].speed_mbps) == ("pppoe-out1", 23, 10)
    else:
        assert missing_in_oracle == []
    assert sorted(set(oracle) - set(ours)) == []


def test_recordings_without_if_mib_discover_no_interfaces(snmpsim: Agent) -> None:
    # routeros_station has only MIKROTIK-MIB wireless tables: no ifTable must mean an empty list, not an error.
    assert discover_recording(snmpsim, "routeros_station").interfaces == []


def test_ruijie_switch_yields_all_57_ports_with_short_names_and_10g_speeds(snmpsim: Agent) -> None:
    result = discover_recording(snmpsim, "ruijie")
    assert len(result.interfaces) == 57
    first = result.interfaces[0]
    assert (first.name, first.descr, first.speed_mbps, first.type) == ("Te0/1", "TenGigabitEthernet 0/1", 10000, 6)
    assert len({i.name for i in result.interfaces}) == 57


@pytest.mark.parametrize("version", ["v2c", "v3"])
def test_discovery_against_snmpd_finds_linux_and_loopback(snmpd: Agent, version: str) -> None:
    if version == "v2c":
        target = SnmpTarget(snmpd.host, snmpd.port, community=snmpd.community, timeout=2)
    else:
        target = SnmpTarget(snmpd.host, snmpd.port, version=SnmpVersion.V3, v3_user=snmpd.v3_user,
                            auth_key=snmpd.auth_key, priv_key=snmpd.priv_key, timeout=2)

    async def work() -> DiscoveryResult:
        async with MultiVersionClient() as snmp:
            return await discover(target, snmp=snmp)

    result = asyncio.run(work())
    assert (result.vendor, result.platform, result.sys_name) == ("net-snmp", "linux", SNMPD_SYS_NAME)
    assert result.uptime_s is not None and result.uptime_s >= 0
    lo = next(i for i in result.interfaces if i.name == "lo")
    assert (lo.type, lo.oper_status, lo.mac) == (24, "up", "")


def test_discovery_json_has_exactly_the_documented_keys(snmpsim: Agent) -> None:
    doc = discover_recording(snmpsim, "swos").to_json()
    assert list(doc) == ["vendor", "platform", "model", "sys_name", "sys_descr", "sys_object_id", "uptime_s",
                         "interfaces"]
    assert list(doc["interfaces"][0]) == ["if_index", "name", "descr", "alias", "type", "speed_mbps", "mac",
                                          "admin_status", "oper_status"]
    json.dumps(doc)


# --- apply_discovery -----------------------------------------------------------------------------------------

def _iface(index: int, name: str, **kw: Any) -> DiscoveredInterface:
    values: dict[str, Any] = {"if_index": index, "name": name, "descr": name, "alias": "", "type": 6,
                              "speed_mbps": 1000, "mac": "6c:3b:6b:a2:00:f6", "admin_status": "up",
                              "oper_status": "up", **kw}
    return DiscoveredInterface(**values)


def _result(*interfaces: DiscoveredInterface) -> DiscoveryResult:
    return DiscoveryResult(vendor="mikrotik", platform="mikrotik_routeros", model="RB952Ui-5ac2nD",
                           sys_name="r1", sys_descr="RouterOS RB952Ui-5ac2nD", sys_object_id="1.3.6.1.4.1.14988.1",
                           uptime_s=100, interfaces=list(interfaces), os_version="6.40.5", serial="71B1060EE89D")


def _rows(session: Session, device_id: int) -> dict[str, Interface]:
    session.expire_all()
    return {i.name: i for i in session.scalars(select(Interface).where(Interface.device_id == device_id))}


def test_apply_discovery_creates_interfaces_and_refreshes_device_facts(session: Session) -> None:
    device = factories.device(session, site_id=factories.site(session).id)
    outcome = apply_discovery(session, SYSTEM, device.id, _result(_iface(1, "ether1"), _iface(2, "wlan1", type=71)))
    session.commit()
    assert sorted(outcome.created) == ["ether1", "wlan1"]
    rows = _rows(session, device.id)
    assert (rows["wlan1"].if_index, rows["wlan1"].if_type, rows["wlan1"].speed_mbps) == (2, 71, 1000)
    session.refresh(device)
    assert (device.vendor, device.model, device.os_version, device.serial) == (
        "mikrotik", "RB952Ui-5ac2nD", "6.40.5", "71B1060EE89D")
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "discover")).one()
    assert entry.entity_id == str(device.id) and "2 new" in entry.summary


def test_renumbered_interface_keeps_its_id_agency_and_admin_alias(session: Session) -> None:
    agency = factories.agency(session)
    device = factories.device(session, site_id=factories.site(session).id)
    apply_discovery(session, SYSTEM, device.id, _result(_iface(1, "ether1"), _iface(2, "ether2")))
    session.commit()
    before = _rows(session, device.id)["ether2"]
    before.agency_id, before.alias, before.monitored = agency.id, "Uplink Telkom", False
    ids = {name: row.id for name, row in _rows(session, device.id).items()}
    session.commit()

    # After a reboot the device renumbers: ether2 is now ifIndex 7, and its own ifAlias says something else.
    outcome = apply_discovery(session, SYSTEM, device.id,
                              _result(_iface(1, "ether1"), _iface(7, "ether2", alias="to-core", oper_status="down")))
    session.commit()
    after = _rows(session, device.id)["ether2"]
    assert outcome.updated == ["ether2"] and outcome.unchanged == ["ether1"]
    assert (after.id, after.if_index, after.oper_status) == (ids["ether2"], 7, "down")
    assert (after.agency_id, after.alias, after.monitored) == (agency.id, "Uplink Telkom", False)


def test_vanished_interface_is_kept_and_marked_then_revived(session: Session) -> None:
    device = factories.device(session, site_id=factories.site(session).id)
    apply_discovery(session, SYSTEM, device.id, _result(_iface(1, "ether1"), _iface(11, "pppoe-out1", type=23)))
    session.commit()
    outcome = apply_discovery(session, SYSTEM, device.id, _result(_iface(1, "ether1")))
    session.commit()
    gone = _rows(session, device.id)["pppoe-out1"]
    assert outcome.vanished == ["pppoe-out1"]
    assert (gone.if_index, gone.oper_status) == (None, "notPresent")
    # A second run does not report it again.
    assert apply_discovery(session, SYSTEM, device.id, _result(_iface(1, "ether1"))).vanished == []
    back = apply_discovery(session, SYSTEM, device.id, _result(_iface(1, "ether1"), _iface(12, "pppoe-out1", type=23)))
    session.commit()
    assert back.updated == ["pppoe-out1"]
    assert (_rows(session, device.id)["pppoe-out1"].if_index, _rows(session, device.id)["pppoe-out1"].id) == (
        12, gone.id)


def test_apply_discovery_needs_inventory_write(session: Session) -> None:
    from netmgr.errors import PermissionDenied
    from netmgr.models.enums import Role
    from netmgr.services.users import actor_for

    device = factories.device(session, site_id=factories.site(session).id)
    finance = actor_for(factories.user(session, role=Role.FINANCE))
    with pytest.raises(PermissionDenied):
        apply_discovery(session, finance, device.id, _result(_iface(1, "ether1")))

