"""Poll workers: heartbeats, a dead worker's leases taken over early, once per cycle, status, CLI and alert."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from collectors.alerts import evaluate_alerts
from collectors.scheduler import BatchResult, acquire_leases, poll_batch
from collectors.snmp import MultiVersionClient
from collectors.workers import Heartbeat, cycle_id, dead_before, heartbeat, poll_status, record_batch
from netmgr.entrypoints.cli import app
from netmgr.metrics import DisabledMetricsStore
from netmgr.models import Alert, PollState, PollWorker
from netmgr.models.alerts import AlertKind
from netmgr.models.base import utcnow
from netmgr.settings import Settings, SnmpSettings, get_settings
from tests import factories
from tests.conftest import TEST_ENCRYPTION_KEY, make_settings
from tests.servers.process import wait_until
from tests.servers.snmp import SNMPD_COMMUNITY, Agent, snmpd_agent

FAST = SnmpSettings(worker_heartbeat_s=0.5, poll_interval_s=3, timeout_s=1, retries=1, poll_deadline_s=5)
"""Dead after 1.5 s without a heartbeat, 3-s cycles."""

ADDRESSES = ("127.0.2.1", "127.0.2.2")


@pytest.fixture(scope="module")
def snmpd() -> Iterator[Agent]:
    with snmpd_agent(ADDRESSES) as agent:
        yield agent


def test_a_dead_workers_leases_are_taken_over_before_they_expire(session: Session) -> None:
    site = factories.site(session)
    a, b = (factories.device(session, site_id=site.id) for _ in range(2))
    t0 = utcnow()
    heartbeat(session, holder="poll@a/1", node="poll@a", now=t0)
    assert acquire_leases(session, [a.id, b.id], holder="poll@a/1", ttl_s=85, now=t0) == sorted([a.id, b.id])
    # One second later poll@a/1 still counts as alive: its leases hold.
    soon = t0 + timedelta(seconds=1)
    assert (
        acquire_leases(session, [a.id], holder="poll@b/2", ttl_s=85, now=soon, dead_before=dead_before(soon, FAST))
        == []
    )
    # Three heartbeats missed: dead, and its lease on ``a`` goes to the next worker that asks, 83 s before expiry.
    later = t0 + timedelta(seconds=2)
    assert acquire_leases(
        session, [a.id], holder="poll@b/2", ttl_s=85, now=later, dead_before=dead_before(later, FAST)
    ) == [a.id]
    # A holder that never beats (``netmgr collector run``) keeps its lease until it expires.
    c = factories.device(session, site_id=site.id)
    assert acquire_leases(session, [c.id], holder="cli", ttl_s=85, now=later) == [c.id]
    much_later = later + timedelta(seconds=60)
    assert (
        acquire_leases(
            session, [c.id], holder="poll@b/2", ttl_s=85, now=much_later, dead_before=dead_before(much_later, FAST)
        )
        == []
    )


def test_a_worker_beats_while_it_runs_and_leaves_the_status_when_it_stops(
    session: Session, session_factory: sessionmaker[Session]
) -> None:
    beat = Heartbeat(session_factory, holder="poll@a/1", node="poll@a", settings=FAST)
    beat.start()
    try:
        first = session.get(PollWorker, "poll@a/1")
        assert first is not None
        seen = first.seen_at

        def beat_again() -> bool:
            session.expire_all()
            row = session.get(PollWorker, "poll@a/1")
            return row is not None and row.seen_at > seen

        wait_until(beat_again, timeout=10, what="a second heartbeat")
    finally:
        beat.stop()
    session.expire_all()
    assert session.get(PollWorker, "poll@a/1") is None


def _batch(ids: list[int], factory: sessionmaker[Session], cycle: int) -> BatchResult:
    async def work() -> BatchResult:
        async with MultiVersionClient() as snmp:
            return await poll_batch(
                ids,
                session_factory=factory,
                snmp=snmp,
                store=DisabledMetricsStore(),
                settings=FAST,
                timezone="Asia/Jakarta",
                holder="poll@a/1",
                cycle=cycle,
            )

    return asyncio.run(work())


def test_a_device_is_polled_once_per_cycle_even_when_its_batch_comes_twice(
    session: Session, session_factory: sessionmaker[Session], snmpd: Agent
) -> None:
    site = factories.site(session)
    ids = [
        factories.device(
            session, site_id=site.id, mgmt_address=a, snmp_port=snmpd.port, snmp_community=SNMPD_COMMUNITY
        ).id
        for a in ADDRESSES
    ]
    first = cycle_id(utcnow())
    assert [p.status for p in _batch(ids, session_factory, first).polls] == ["ok", "ok"]
    # The same batch again (a redelivered or retried task): nothing is polled twice in the cycle.
    assert [p.status for p in _batch(ids, session_factory, first).polls] == ["done", "done"]
    assert [p.status for p in _batch(ids, session_factory, first + 3000).polls] == ["ok", "ok"]
    assert {s.cycle for s in session.scalars(select(PollState))} == {first + 3000}


def test_a_worker_taken_for_dead_stores_nothing_for_the_devices_taken_over(
    session: Session, session_factory: sessionmaker[Session], snmpd: Agent
) -> None:
    site = factories.site(session)
    ids = [
        factories.device(
            session, site_id=site.id, mgmt_address=a, snmp_port=snmpd.port, snmp_community=SNMPD_COMMUNITY
        ).id
        for a in ADDRESSES
    ]
    heartbeat(session, holder="poll@a/1", node="poll@a", now=utcnow())
    calls = []

    def clock() -> datetime:
        calls.append(1)
        if len(calls) == 2:  # polled, about to store: meanwhile another worker took it for dead
            with session_factory() as other:
                assert acquire_leases(
                    other, ids, holder="poll@b/2", ttl_s=85, now=utcnow(), dead_before=utcnow() + timedelta(hours=1)
                ) == sorted(ids)
        return utcnow()

    async def work() -> BatchResult:
        async with MultiVersionClient() as snmp:
            return await poll_batch(
                ids,
                session_factory=session_factory,
                snmp=snmp,
                store=DisabledMetricsStore(),
                settings=FAST,
                timezone="Asia/Jakarta",
                holder="poll@a/1",
                cycle=1,
                clock=clock,
            )

    assert [p.status for p in asyncio.run(work()).polls] == ["lost", "lost"]
    assert session.scalars(select(PollState)).all() == []


def _two_workers_one_dead(session: Session) -> tuple[list[int], int]:
    """poll@a/1 and poll@b/2 polled cycle c0; then poll@a/1 died and poll@b/2 polled only one device in c1."""
    site = factories.site(session)
    ids = [factories.device(session, site_id=site.id, snmp_community="public").id for _ in range(3)]
    now = utcnow()
    c0 = cycle_id(now - timedelta(seconds=7))
    c1 = c0 + 3000
    heartbeat(session, holder="poll@a/1", node="poll@a", now=now - timedelta(seconds=5))
    record_batch(
        session,
        holder="poll@a/1",
        node="poll@a",
        cycle=c0,
        devices=2,
        finished=now - timedelta(seconds=6),
        interval_s=3,
    )
    heartbeat(session, holder="poll@b/2", node="poll@b", now=now)
    record_batch(
        session,
        holder="poll@b/2",
        node="poll@b",
        cycle=c1,
        devices=1,
        finished=now - timedelta(seconds=2),
        interval_s=3,
    )
    for device_id, cycle in zip(ids, (c0, c0, c1), strict=True):
        session.add(PollState(device_id=device_id, data="{}", last_error="", cycle=cycle))
    session.commit()
    return ids, c1


def test_status_shows_the_missing_worker_and_the_devices_the_cycle_missed(session: Session) -> None:
    ids, c1 = _two_workers_one_dead(session)
    status = poll_status(session, ids, settings=FAST, now=utcnow())
    assert [(w.holder, w.alive, w.devices) for w in status.workers] == [("poll@a/1", False, 2), ("poll@b/2", True, 1)]
    assert status.last_cycle == c1 and status.missed == 2 and status.late


def test_a_cycle_late_with_a_worker_missing_opens_one_alert(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    _two_workers_one_dead(session)
    rules = make_settings(settings.data_dir, settings.database_url, snmp=FAST, alerts={"hold_down_s": 0})
    evaluate_alerts(session_factory, store=None, notifiers=[], settings=rules)
    result = evaluate_alerts(session_factory, store=None, notifiers=[], settings=rules)
    assert result.opened == []  # one alert, not one per round
    alert = session.scalars(select(Alert).where(Alert.kind == AlertKind.POLL_LATE)).one()
    assert "POLLING TERLAMBAT" in alert.message and "2 dari 3 perangkat" in alert.message
    assert "poll@a/1" in alert.message


def test_a_cycle_late_with_every_worker_alive_is_no_missing_worker_alert(
    session: Session, session_factory: sessionmaker[Session], settings: Settings
) -> None:
    _two_workers_one_dead(session)
    heartbeat(session, holder="poll@a/1", node="poll@a", now=utcnow())  # it was only slow
    rules = make_settings(settings.data_dir, settings.database_url, snmp=FAST, alerts={"hold_down_s": 0})
    evaluate_alerts(session_factory, store=None, notifiers=[], settings=rules)
    assert session.scalars(select(Alert).where(Alert.kind == AlertKind.POLL_LATE)).all() == []


def test_collector_status_prints_workers_and_exits_1_when_late(
    session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _two_workers_one_dead(session)
    for key, value in {
        "NETMGR_ENVIRONMENT": "test",
        "NETMGR_DATA_DIR": str(tmp_path / "cli"),
        "NETMGR_DATABASE_URL": database_url,
        "NETMGR_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
        "NETMGR_SNMP__WORKER_HEARTBEAT_S": "0.5",
        "NETMGR_SNMP__POLL_INTERVAL_S": "3",
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        runner = CliRunner(env={"COLUMNS": "200"})
        result = runner.invoke(app, ["collector", "status", "--json"])
        table = runner.invoke(app, ["collector", "status"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert (doc["alive"], doc["missing"], doc["devices"], doc["missed"], doc["late"]) == (1, 1, 3, 2, True)
    assert [w["devices"] for w in doc["workers"]] == [2, 1]
    assert "missing" in table.stdout and "1 poll worker(s) alive, 1 missing" in table.stdout
