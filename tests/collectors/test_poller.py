"""The poller against real agents: the demo core router and RouterOS recordings in snmpsim, and Debian snmpd."""

from __future__ import annotations

import asyncio
import time

from collectors.poller import DeviceSample, PollHints, poll_device
from collectors.snmp import SnmpTarget, UdpSnmpClient
from tests.collectors.traffic_sim import CORE, recording_rate, traffic_sim
from tests.servers.snmp import SNMPREC_DIR, Agent, snmpd_agent

__all__ = ["traffic_sim"]


def poll(agent: Agent, community: str, vendor: str = "", hints: PollHints | None = None,
         times: int = 1, pause: float = 0.0) -> list[DeviceSample]:
    async def work() -> list[DeviceSample]:
        out = []
        async with UdpSnmpClient() as snmp:
            target = SnmpTarget(agent.host, agent.port, community=community, timeout=2)
            for n in range(times):
                if n:
                    await asyncio.sleep(pause)
                out.append(await poll_device(target, snmp=snmp, vendor=vendor, hints=hints))
        return out

    return asyncio.run(work())


def test_core_router_counters_interfaces_and_simple_queues_move(traffic_sim: Agent) -> None:
    first, second = poll(traffic_sim, "core-diskominfo", "mikrotik", times=2, pause=1.0)
    names = [i.name for i in first.interfaces]
    assert names[:3] == ["sfp-sfpplus1", "sfp-sfpplus2", "ether1"]
    uplink1 = first.interfaces[0]
    assert uplink1.width == 64 and uplink1.speed_bps == 10e9 and uplink1.oper_status == "up"
    assert uplink1.in_errors is not None and uplink1.in_ucast_pkts is not None
    queues = {q.name: q for q in second.queues}
    assert {"DISKOMINFO", "DISDIK", "HOTSPOT-PUBLIK"} <= set(queues)
    assert len(queues) == 16
    moved = second.interfaces[0].in_octets - first.interfaces[0].in_octets  # type: ignore[operator]
    elapsed = (second.uptime_cs - first.uptime_cs) / 100  # type: ignore[operator]
    assert abs(moved / elapsed - recording_rate("1.3.6.1.2.1.31.1.1.1.6.1")) < 0.05 * recording_rate(
        "1.3.6.1.2.1.31.1.1.1.6.1")
    disdik_moved = queues["DISDIK"].out_octets - {q.name: q for q in first.queues}["DISDIK"].out_octets  # type: ignore[operator]
    assert disdik_moved > 0
    assert first.extras.cpu_load_pct == 21.0  # hrProcessorLoad in the recording
    assert first.extras.memory_total_bytes == 65536 * 1024 and first.extras.memory_used_bytes == 27196 * 1024


def test_routeros_wireless_registrations_give_client_count_and_mean_signal(traffic_sim: Agent) -> None:
    expected = [int(line.rsplit("|", 1)[1]) for line in (SNMPREC_DIR / "routeros.snmprec").read_text().splitlines()
                if line.startswith("1.3.6.1.4.1.14988.1.1.1.2.1.3.")]
    (sample,) = poll(traffic_sim, "routeros", "mikrotik")
    assert sample.extras.wireless_clients == len(expected) == 11
    assert sample.extras.wireless_signal_dbm is not None
    assert abs(sample.extras.wireless_signal_dbm - sum(expected) / len(expected)) < 1e-9
    assert sample.queues == []  # this RouterOS has no queue MIB


def test_device_without_ifxtable_falls_back_to_32_bit_counters(traffic_sim: Agent) -> None:
    hints = PollHints()
    (sample,) = poll(traffic_sim, "old32", hints=hints)
    assert hints.fallback is True  # remembered, so the next poll asks for the old columns at once
    port1 = sample.interfaces[0]
    assert (port1.name, port1.width, port1.oper_status, port1.in_errors) == ("port1", 32, "up", 3)
    assert port1.in_octets is not None and port1.in_octets < 2**32
    assert [i.name for i in sample.interfaces] == ["port1", "port2"]


def test_hints_shrink_the_walks_after_the_first_poll(traffic_sim: Agent) -> None:
    hints = PollHints()
    poll(traffic_sim, "core-diskominfo", "mikrotik", hints=hints)
    assert hints.rows == 12 and hints.has_hr is True
    old = PollHints()
    poll(traffic_sim, "old32", hints=old)
    assert old.has_hr is False  # no HOST-RESOURCES: not asked again until the next re-probe


def test_snmpd_counters_and_host_resources(snmpd: Agent) -> None:
    started = time.time()
    first, second = poll(snmpd, snmpd.community, times=2, pause=0.5)
    names = [i.name for i in first.interfaces]
    assert "lo" in names
    lo_first = next(i for i in first.interfaces if i.name == "lo")
    lo_second = next(i for i in second.interfaces if i.name == "lo")
    assert lo_first.width == 64 and lo_first.in_octets is not None
    assert lo_second.in_octets >= lo_first.in_octets  # type: ignore[operator]
    assert first.uptime_cs is not None and second.uptime_cs is not None and second.uptime_cs >= first.uptime_cs
    assert first.extras.memory_total_bytes and first.extras.memory_total_bytes > 0
    assert first.wall_time >= started
    assert CORE.exists()


def test_a_poll_with_hints_is_one_get_and_one_getbulk_for_the_whole_interface_table() -> None:
    """An snmpd of its own: the shared one keeps the interfaces earlier tests removed (network namespaces) in its
    ifTable for five minutes (``interface_fadeout``), without their 64-bit counters, which rightly sends the
    poller to its fallback columns. The test polls again until the table held still between two polls, so the
    hints the first poll learnt fit the second."""
    with snmpd_agent() as snmpd:
        first, second, requests = asyncio.run(_two_polls(snmpd))
    assert requests == 2  # sysUpTime GET + one GETBULK of all 11 columns (snmpd has a handful of interfaces)
    assert [i.name for i in second.interfaces] == [i.name for i in first.interfaces]
    assert all(i.in_octets is not None and i.in_errors is not None for i in second.interfaces)


async def _two_polls(snmpd: Agent) -> tuple[DeviceSample, DeviceSample, int]:
    async with UdpSnmpClient() as snmp:
        target = SnmpTarget(snmpd.host, snmpd.port, community=snmpd.community, timeout=2)
        hints = PollHints(has_hr=False, has_vendor=False)
        first = await poll_device(target, snmp=snmp, hints=hints)
        for _ in range(5):
            before = snmp.requests_sent
            second = await poll_device(target, snmp=snmp, hints=hints)
            if [i.name for i in second.interfaces] == [i.name for i in first.interfaces]:
                break
            first = second
        return first, second, snmp.requests_sent - before
