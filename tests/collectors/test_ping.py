"""Ping with the real fping: loopback, a veth link taken down in a namespace, delay and loss from a TUN responder.

Each round writes ``ping`` points (to a real influxd, spooled while it is away), the ping status of the device
or uplink, and the hourly rollup whose down seconds the SLA report turns into outage minutes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collectors.ping import Fping, PingResult, parse_fping, ping_round
from netmgr.errors import ConfigError
from netmgr.metrics import MetricsStore, make_metrics_store
from netmgr.models import Device, PingHourly, Uplink
from netmgr.models.enums import DeviceStatus
from netmgr.settings import PingSettings
from tests import factories
from tests.conftest import make_settings
from tests.servers.icmp import EchoResponder, VethLink, echo_responder, veth_link
from tests.servers.influx import InfluxServer, influx_server
from tests.servers.process import ServerUnavailable, needed

FAST = PingSettings(count=3, period_ms=50, timeout_ms=200, interval_s=60)
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


@pytest.fixture
def link() -> Iterator[VethLink]:
    try:
        with veth_link() as bed:
            yield bed
    except ServerUnavailable as exc:
        needed(str(exc))


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer]:
    with influx_server() as server:
        yield server


@pytest.fixture
def store(influx: InfluxServer, tmp_path: Path) -> Iterator[MetricsStore]:
    database = f"p_{int(time.time() * 1000)}"
    built = make_metrics_store(make_settings(tmp_path / "data", influx={
        "url": influx.url, "api": "v1", "bucket": database, "spool_dir": tmp_path / "spool"}))
    yield built
    built.close()


def test_fping_on_loopback_answers_every_request_in_well_under_a_millisecond_or_so() -> None:
    results = Fping(FAST).ping(["127.0.0.1", "127.0.0.1"])
    assert list(results) == ["127.0.0.1"]  # duplicates are pinged once
    loop = results["127.0.0.1"]
    assert loop.up and loop.sent == 3 and loop.received == 3 and loop.loss_percent == 0
    assert loop.rtt_min_ms is not None and loop.rtt_max_ms is not None and 0 < loop.rtt_min_ms <= loop.rtt_max_ms < 50


def test_parse_fping_counts_lost_replies_and_reports_unknown_names() -> None:
    output = ("10.0.0.1 : 0.52 - 0.47\n10.0.0.2 : - - -\n"
              "nosuch.invalid: Name or service not known\n")
    parsed = parse_fping(output, ["10.0.0.1", "10.0.0.2", "nosuch.invalid", "10.0.0.9"], 3)
    assert parsed["10.0.0.1"] == PingResult("10.0.0.1", 3, (0.52, 0.47))
    assert round(parsed["10.0.0.1"].loss_percent, 1) == 33.3 and parsed["10.0.0.1"].rtt_avg_ms == pytest.approx(0.495)
    assert not parsed["10.0.0.2"].up and parsed["10.0.0.2"].loss_percent == 100
    assert "Name or service not known" in parsed["nosuch.invalid"].error
    assert not parsed["10.0.0.9"].up and parsed["10.0.0.9"].error


def test_missing_fping_is_a_config_error_that_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="install the Debian package fping"):
        Fping(PingSettings(fping_path=str(tmp_path / "fping"))).ping(["127.0.0.1"])


@pytest.mark.netns
def test_a_downed_link_counts_outage_minutes_to_the_ping_interval(
        session: Session, session_factory: sessionmaker[Session], link: VethLink, store: MetricsStore,
        influx: InfluxServer) -> None:
    site = factories.site(session)
    router = factories.device(session, site_id=site.id, name="router-far", mgmt_address=link.far)
    uplink = factories.uplink(session, name="Telkom Astinet", probe_address=link.far, sla_availability_percent=99.0)
    # A round every minute: up, up, link down, down, down, link up, up.
    plan = [True, True, False, False, False, True, True]
    for minute, link_up in enumerate(plan):
        if minute and link_up != plan[minute - 1]:
            (link.link_up if link_up else link.link_down)()
        result = ping_round(session_factory, pinger=Fping(FAST), store=store, settings=FAST,
                            now=T0 + timedelta(minutes=minute))
        assert {t.target.name: t.result.up for t in result.targets} == {"router-far": link_up,
                                                                        "Telkom Astinet": link_up}, minute
    session.expire_all()
    (hour,) = session.scalars(select(PingHourly).where(PingHourly.subject_type == "uplink"))
    assert (hour.rounds, hour.up_rounds, hour.down_s, hour.up_s) == (7, 4, 180.0, 240.0)
    assert hour.loss_sum_percent == 300.0 and hour.rtt_min_ms is not None and hour.rtt_min_ms > 0
    row = session.get(Uplink, uplink.id)
    assert row is not None and row.ping_status == DeviceStatus.UP and row.ping_loss_percent == 0
    device = session.get(Device, router.id)
    assert device is not None and device.ping_status == DeviceStatus.UP and device.ping_rtt_ms is not None

    points = store.query('SELECT "up", loss_percent, rtt_avg_ms, "uplink", "address" FROM ping '
                         'WHERE "kind" = \'uplink\'')
    assert [int(p["up"]) for p in sorted(points, key=lambda p: p["time"])] == [1, 1, 0, 0, 0, 1, 1]
    assert all(p["rtt_avg_ms"] is None for p in points if p["up"] == 0)
    assert {(p["uplink"], p["address"]) for p in points} == {("Telkom Astinet", link.far)}


@pytest.mark.netns
def test_points_written_while_influxdb_is_down_arrive_after_it_returns(
        session: Session, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    site = factories.site(session)
    factories.device(session, site_id=site.id, name="loop", mgmt_address="127.0.0.1")
    with influx_server() as server:
        store = make_metrics_store(make_settings(tmp_path / "data", influx={
            "url": server.url, "api": "v1", "bucket": "pingspool", "spool_dir": tmp_path / "spool"}))
        try:
            server.stop()
            ping_round(session_factory, pinger=Fping(FAST), store=store, settings=FAST, now=T0)
            assert store.stats().points_spooled == 1
            server.start()
            ping_round(session_factory, pinger=Fping(FAST), store=store, settings=FAST,
                       now=T0 + timedelta(minutes=1))
            rows = store.query("SELECT * FROM ping")
        finally:
            store.close()
    assert len(rows) == 2 and all(r["up"] == 1 and r["device"] == "loop" for r in rows)


@pytest.fixture
def slow_far_end() -> Iterator[EchoResponder]:
    try:
        with echo_responder(delay_ms=40, drop_every=4) as responder:
            yield responder
    except ServerUnavailable as exc:
        needed(str(exc))


@pytest.mark.netns
def test_delay_and_loss_on_the_path_show_in_rtt_and_loss(slow_far_end: EchoResponder) -> None:
    settings = PingSettings(count=8, period_ms=60, timeout_ms=1500)
    result = Fping(settings).ping([slow_far_end.far])[slow_far_end.far]
    assert result.sent == 8 and result.received == 6 and result.loss_percent == 25.0
    assert result.rtt_min_ms is not None and result.rtt_min_ms >= 40 and result.rtt_avg_ms is not None
    assert result.rtt_avg_ms < 200
