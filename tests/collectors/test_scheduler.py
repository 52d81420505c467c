"""Scheduling: shards, leases that prevent overlapping polls across workers, a hard deadline per device."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collectors.scheduler import BatchResult, acquire_leases, poll_batch, release_leases, shard
from collectors.snmp import MultiVersionClient
from netmgr.metrics import DisabledMetricsStore
from netmgr.models import PollLease, PollState
from netmgr.models.base import utcnow
from netmgr.settings import SnmpSettings
from tests import factories
from tests.collectors.traffic_sim import sim_device, traffic_sim
from tests.servers.snmp import Agent

__all__ = ["traffic_sim"]


def test_shard_splits_devices_into_batches() -> None:
    assert shard(list(range(1, 8)), 3) == [[1, 2, 3], [4, 5, 6], [7]]
    assert shard([], 50) == []


def test_a_leased_device_is_refused_to_others_until_the_lease_expires(session: Session) -> None:
    site = factories.site(session)
    a, b = (factories.device(session, site_id=site.id) for _ in range(2))
    now = utcnow()
    assert acquire_leases(session, [a.id, b.id], holder="worker-1", ttl_s=60, now=now) == sorted([a.id, b.id])
    assert acquire_leases(session, [a.id, b.id], holder="worker-2", ttl_s=60, now=now + timedelta(seconds=30)) == []
    release_leases(session, [b.id], holder="worker-1")
    assert acquire_leases(session, [a.id, b.id], holder="worker-2", ttl_s=60, now=now + timedelta(seconds=31)) == [b.id]
    # worker-1 died: its lease on ``a`` expires and someone else may poll it.
    assert acquire_leases(session, [a.id], holder="worker-3", ttl_s=60, now=now + timedelta(seconds=61)) == [a.id]
    release_leases(session, [a.id], holder="worker-1")  # a stale holder cannot release the new lease
    assert session.scalars(select(PollLease.holder).where(PollLease.device_id == a.id)).one() == "worker-3"


def run_batch(ids: list[int], factory: sessionmaker[Session], settings: SnmpSettings,
              holder: str | None = None) -> BatchResult:
    async def work() -> BatchResult:
        async with MultiVersionClient() as snmp:
            return await poll_batch(ids, session_factory=factory, snmp=snmp, store=DisabledMetricsStore(),
                                    settings=settings, timezone="Asia/Jakarta", holder=holder)

    return asyncio.run(work())


def test_two_workers_never_poll_the_same_device_at_once(session: Session, session_factory: sessionmaker[Session],
                                                          traffic_sim: Agent) -> None:
    site = factories.site(session)
    ids = [sim_device(session, traffic_sim, "core-diskominfo", site_id=site.id, address=f"127.0.0.{n}").id
           for n in range(1, 5)]
    settings = SnmpSettings(timeout_s=2, retries=1, poll_deadline_s=15)
    barrier = threading.Barrier(2)

    def worker(name: str) -> BatchResult:
        barrier.wait()
        return run_batch(ids, session_factory, settings, holder=name)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(worker, ["w1", "w2"]))
    statuses = {name: [p.status for p in r.polls] for name, r in zip(["w1", "w2"], results, strict=True)}
    ok = [p.device_id for r in results for p in r.polls if p.status == "ok"]
    busy = [p.device_id for r in results for p in r.polls if p.status == "busy"]
    assert sorted(ok) == sorted(ids), statuses  # every device polled exactly once
    assert sorted(busy) == sorted(ids), statuses  # and refused to the other worker
    assert session.scalars(select(PollLease)).all() == []  # all released
    assert len(session.scalars(select(PollState)).all()) == 4


@pytest.fixture
def black_hole() -> Iterator[tuple[str, int]]:
    """A UDP socket that receives SNMP requests and never answers (a device that hangs)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.9", 0))
        yield "127.0.0.9", sock.getsockname()[1]


@pytest.fixture
def stops_mid_poll(traffic_sim: Agent) -> Iterator[tuple[str, int]]:
    """A UDP proxy to the simulator that forwards the first 3 requests and answers nothing after that."""
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(("127.0.0.10", 0))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.bind(("127.0.0.1", 0))
    stop = threading.Event()
    client: list[tuple[str, int]] = []

    def forward() -> None:
        front.settimeout(0.1)
        back.settimeout(0.05)
        forwarded = 0
        while not stop.is_set():
            try:
                data, addr = front.recvfrom(65535)
                client[:] = [addr]
                if forwarded < 3:
                    forwarded += 1
                    back.sendto(data, (traffic_sim.host, traffic_sim.port))
            except OSError:
                pass
            try:
                reply, _ = back.recvfrom(65535)
                front.sendto(reply, client[0])
            except OSError:
                pass

    thread = threading.Thread(target=forward, daemon=True)
    thread.start()
    try:
        yield "127.0.0.10", front.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        front.close()
        back.close()


def test_a_stuck_device_does_not_delay_the_others_beyond_its_deadline(
        session: Session, session_factory: sessionmaker[Session], traffic_sim: Agent,
        black_hole: tuple[str, int], stops_mid_poll: tuple[str, int]) -> None:
    site = factories.site(session)
    good = [sim_device(session, traffic_sim, "core-diskominfo", site_id=site.id, address=f"127.0.0.{n}").id
            for n in range(1, 3)]
    hung = factories.device(session, site_id=site.id, name="hung", mgmt_address=black_hole[0],
                            snmp_port=black_hole[1], snmp_community="core-diskominfo")
    half = factories.device(session, site_id=site.id, name="half", mgmt_address=stops_mid_poll[0],
                            snmp_port=stops_mid_poll[1], snmp_community="core-diskominfo")
    # Client timeouts far longer than the deadline: only the deadline can end these polls in time.
    # (snmpsim needs ~0.3 s of CPU per poll of this recording, so the deadline leaves it room on a busy machine.)
    settings = SnmpSettings(timeout_s=30, retries=3, poll_deadline_s=5)
    started = time.monotonic()
    result = run_batch([*good, hung.id, half.id], session_factory, settings)
    elapsed = time.monotonic() - started
    status = {p.device_id: p.status for p in result.polls}
    assert [status[i] for i in good] == ["ok", "ok"]
    assert status[hung.id] == "timeout" and status[half.id] == "timeout"
    assert elapsed < 5 + 2.5, f"the batch took {elapsed:.1f}s"
    errors = {s.device_id: s.last_error for s in session.scalars(select(PollState))}
    assert "5s" in errors[hung.id] and errors[good[0]] == ""
    assert session.scalars(select(PollLease)).all() == []
