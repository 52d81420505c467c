"""Samples → rates → points → a real influxd, and the usage buckets: rates on the second poll only, gaps spread."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from collectors.pipeline import DeviceContext, agency_tag, process_sample
from collectors.poller import DeviceSample, Extras, InterfaceSample, QueueSample
from collectors.rates import CounterSample, Rate, counter_rate
from collectors.scheduler import BatchResult, poll_batch
from collectors.snmp import MultiVersionClient
from collectors.state import DeviceState
from netmgr.metrics import make_metrics_store
from netmgr.models import Interface, Traffic5m, TrafficMeter
from netmgr.settings import SnmpSettings
from tests import factories
from tests.collectors.traffic_sim import recording_rate, sim_device, traffic_sim
from tests.conftest import make_settings
from tests.servers.influx import InfluxServer, influx_server
from tests.servers.snmp import Agent

__all__ = ["traffic_sim"]

SNMP = SnmpSettings(timeout_s=1.0, retries=1, poll_interval_s=60, poll_deadline_s=10)


def sample(t: float, uptime_cs: int, octets_in: int, octets_out: int, *, queue: int | None = None) -> DeviceSample:
    iface = InterfaceSample(if_index=1, name="ether1", oper_status="up", speed_bps=1e9, in_octets=octets_in,
                            out_octets=octets_out, in_errors=0, out_errors=0)
    queues = [QueueSample(1, "DISDIK", queue, queue)] if queue is not None else []
    return DeviceSample(wall_time=t, uptime_cs=uptime_cs, interfaces=[iface], queues=queues, extras=Extras())


CTX = DeviceContext(device_id=1, name="core-1", site="POP Diskominfo", role="core_router", agency="diskominfo",
                    agencies_by_code={"DISDIK": (7, "disdik")})


def test_rates_appear_on_the_second_poll_only() -> None:
    first = process_sample(CTX, sample(1000.0, 10_000, 5_000, 1_000, queue=0), DeviceState(), poll_interval_s=60)
    assert [p.measurement for p in first.points] == ["device_health"]
    assert first.usage == [] and first.views[0].reason == "first_poll"
    second = process_sample(CTX, sample(1060.0, 16_000, 5_000 + 60 * 125_000, 1_000 + 60 * 1000, queue=600),
                            first.state, poll_interval_s=60)
    traffic = [p for p in second.points if p.measurement == "interface_traffic"]
    assert len(traffic) == 1
    assert traffic[0].fields["in_bps"] == pytest.approx(1_000_000.0)
    assert traffic[0].fields["out_octets"] == 60_000 and traffic[0].fields["interval_s"] == 60.0
    assert dict(traffic[0].tags) == {"agency": "diskominfo", "site": "POP Diskominfo", "device": "core-1",
                                     "role": "core_router", "interface": "ether1"}
    assert traffic[0].time_ns == 1060 * 10**9
    (queue_point,) = [p for p in second.points if p.measurement == "queue_traffic"]
    assert queue_point.tags["agency"] == "disdik" and queue_point.fields["in_octets"] == 600
    assert {u.name: u.agency_id for u in second.usage} == {"ether1": None, "DISDIK": 7}


def test_missed_polls_are_spread_over_one_point_per_interval_without_losing_octets() -> None:
    first = process_sample(CTX, sample(1000.0, 10_000, 0, 0), DeviceState(), poll_interval_s=60)
    late = process_sample(CTX, sample(1300.0, 40_000, 3_000_001, 300), first.state, poll_interval_s=60)
    traffic = [p for p in late.points if p.measurement == "interface_traffic"]
    assert len(traffic) == 5
    assert sum(int(p.fields["in_octets"]) for p in traffic) == 3_000_001
    assert [p.time_ns // 10**9 for p in traffic] == [1060, 1120, 1180, 1240, 1300]
    assert len({round(float(p.fields["in_bps"])) for p in traffic}) <= 2  # the same rate (±1 octet rounding)


def test_reboot_between_polls_writes_no_spike() -> None:
    first = process_sample(CTX, sample(1000.0, 10_000_000, 9_000_000_000, 0), DeviceState(), poll_interval_s=60)
    rebooted = process_sample(CTX, sample(1060.0, 3_000, 1_000, 10), first.state, poll_interval_s=60)
    assert [p.measurement for p in rebooted.points] == ["device_health"]
    assert rebooted.views[0].reason == "reboot"
    after = process_sample(CTX, sample(1120.0, 9_000, 61_000, 10), rebooted.state, poll_interval_s=60)
    assert [p for p in after.points if p.measurement == "interface_traffic"][0].fields["in_octets"] == 60_000


def test_agency_tag_is_the_lowercase_code() -> None:
    assert agency_tag("KEC-BAAMANG") == "kec-baamang" and agency_tag("RSUD Murjani") == "rsud-murjani"


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer]:
    with influx_server() as server:
        yield server


def run_batch(ids: list[int], factory: sessionmaker[Session], store: object) -> BatchResult:
    async def work() -> BatchResult:
        async with MultiVersionClient() as snmp:
            return await poll_batch(ids, session_factory=factory, snmp=snmp, store=store,  # type: ignore[arg-type]
                                    settings=SNMP, timezone="Asia/Jakarta")

    return asyncio.run(work())


def test_polled_traffic_reaches_real_influxd_with_documented_tags(
        session: Session, session_factory: sessionmaker[Session], traffic_sim: Agent, influx: InfluxServer,
        tmp_path: Path) -> None:
    disdik = factories.agency(session, code="DISDIK")
    pop = factories.site(session, agency_id=factories.agency(session, code="DISKOMINFO").id, name="POP Diskominfo")
    core = sim_device(session, traffic_sim, "core-diskominfo", site_id=pop.id, name="core-diskominfo")
    session.add(Interface(device_id=core.id, name="ether1", if_index=3, agency_id=disdik.id))
    factories.uplink(session, name="Telkom Astinet", device_id=core.id, interface_name="sfp-sfpplus1")
    session.commit()
    database = f"t_{int(time.time() * 1000)}"
    store = make_metrics_store(make_settings(tmp_path / "data", influx={
        "url": influx.url, "api": "v1", "bucket": database, "spool_dir": tmp_path / "spool"}))
    try:
        first = run_batch([core.id], session_factory, store)
        assert first.count("ok") == 1
        time.sleep(3.0)
        second = run_batch([core.id], session_factory, store)
        assert second.count("ok") == 1
    finally:
        store.close()

    def series(measurement: str) -> list[dict[str, object]]:
        result = influx.query(f'SELECT * FROM "{measurement}"', db=database)  # noqa: S608 - test names
        (statement,) = result["results"]  # type: ignore[misc]
        rows = []
        for s in statement.get("series", []):
            cols = s["columns"]
            rows += [dict(zip(cols, values, strict=True)) for values in s["values"]]
        return rows

    traffic = series("interface_traffic")
    by_interface = {r["interface"]: r for r in traffic}
    assert len(traffic) == 12  # one point per interface, from the second poll only
    uplink = by_interface["sfp-sfpplus1"]
    assert (uplink["agency"], uplink["site"], uplink["device"], uplink["role"]) == (
        "diskominfo", "POP Diskominfo", "core-diskominfo", "core_router")
    assert by_interface["ether1"]["agency"] == "disdik"  # the interface's own attribution wins
    expected_bps = recording_rate("1.3.6.1.2.1.31.1.1.1.6.1") * 8
    # snmpsim computes sysUpTime and each counter at slightly different moments: allow 10 % on a 3-s interval.
    assert abs(float(uplink["in_bps"]) - expected_bps) < 0.10 * expected_bps  # type: ignore[arg-type]
    queues = {r["queue"]: r for r in series("queue_traffic")}
    assert len(queues) == 16 and queues["DISDIK"]["agency"] == "disdik"
    assert series("device_health")[0]["cpu_load_pct"] == 21.0

    meters = {m.name: m for m in session.scalars(select(TrafficMeter).where(TrafficMeter.device_id == core.id))}
    assert meters["sfp-sfpplus1"].billing is True and meters["ether1"].billing is False
    assert meters["DISDIK"].billing is True and meters["DISDIK"].agency_id == disdik.id
    in_octets = session.scalar(select(func.sum(Traffic5m.in_octets)).where(
        Traffic5m.meter_id == meters["sfp-sfpplus1"].id))
    assert in_octets == int(uplink["in_octets"])  # type: ignore[call-overload]


counter_values = st.integers(0, 2**64 - 1)


@settings(max_examples=400, deadline=None)
@given(prev=st.tuples(counter_values, counter_values, st.sampled_from([32, 64])),
       cur=st.tuples(counter_values, counter_values, st.sampled_from([32, 64])),
       elapsed_s=st.floats(-10, 400), uptime=st.one_of(st.none(), st.tuples(st.integers(0, 2**32 - 1),
                                                                            st.integers(0, 2**32 - 1))),
       speed_bps=st.sampled_from([None, 1e6, 1e9, 1e11]))
def test_pipeline_rates_are_exactly_counter_rate_of_each_counter(
        prev: tuple[int, int, int], cur: tuple[int, int, int], elapsed_s: float,
        uptime: tuple[int, int] | None, speed_bps: float | None) -> None:
    # process_sample works out the interval once per device; whatever the counters do, the result must be
    # what counter_rate gives for each counter on its own.
    t0 = 1_700_000_000.0
    u0, u1 = uptime if uptime is not None else (None, None)
    (in0, out0, w0), (in1, out1, w1) = prev, cur
    in0, out0, in1, out1 = in0 % 2**w0, out0 % 2**w0, in1 % 2**w1, out1 % 2**w1
    state = DeviceState(wall_time=t0, uptime_cs=u0, counters={"if:ether1:in": (in0, w0), "if:ether1:out": (out0, w0)})
    iface = InterfaceSample(if_index=1, name="ether1", oper_status="up", speed_bps=speed_bps, in_octets=in1,
                            out_octets=out1, width=w1)
    now = DeviceSample(wall_time=t0 + elapsed_s, uptime_cs=u1, interfaces=[iface], queues=[], extras=Extras())
    result = process_sample(CTX, now, state, poll_interval_s=60)
    (view,) = result.views
    for got_bps, got_octets, before, after in ((view.in_bps, view.in_octets, in0, in1),
                                               (view.out_bps, view.out_octets, out0, out1)):
        expected = counter_rate(CounterSample(before, t0, u0, w0), CounterSample(after, t0 + elapsed_s, u1, w1),
                                speed_bps=speed_bps, poll_interval_s=60)
        if isinstance(expected, Rate):
            assert (got_bps, got_octets) == (expected.bits_per_second, expected.octets)
        else:
            assert got_bps is None and expected.reason.value in view.reason
    for usage in result.usage:
        expected = counter_rate(CounterSample(in0, t0, u0, w0), CounterSample(in1, t0 + elapsed_s, u1, w1),
                                speed_bps=speed_bps, poll_interval_s=60)
        other = counter_rate(CounterSample(out0, t0, u0, w0), CounterSample(out1, t0 + elapsed_s, u1, w1),
                             speed_bps=speed_bps, poll_interval_s=60)
        known = expected if isinstance(expected, Rate) else other
        assert isinstance(known, Rate) and (usage.start, usage.end) == (known.start, known.end)
