"""Polling spread over real Celery poll workers on Redis, one added and one killed (SIGKILL) mid-run.

50 devices (one snmpd answering on 50 loopback addresses), PostgreSQL, InfluxDB 1.x, a private Redis, 3-s cycles
started by the test as beat would start them (``collectors.schedule_polls``). Every finished batch's result (in
the Redis result store) says which devices it polled in which cycle: no device is polled twice in a cycle, every
device is polled in every cycle that starts after the kill, and each device's ``device_health`` series in InfluxDB
never misses more than one cycle.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from celery import Celery
from sqlalchemy import select

from collectors.scheduler import pollable_device_ids
from collectors.workers import poll_status
from netmgr.jobs import make_celery
from netmgr.models import PollLease
from netmgr.models.base import utcnow
from netmgr.settings import CelerySettings, SnmpSettings
from netmgr.state import AppState
from tests import factories
from tests.conftest import TEST_ENCRYPTION_KEY, _truncate_all, make_settings
from tests.servers.influx import InfluxServer, influx_server
from tests.servers.process import Daemon, wait_until
from tests.servers.redis import private_redis
from tests.servers.snmp import SNMPD_COMMUNITY, snmpd_agent

NETMGR = str(Path(sys.executable).parent / "netmgr")
INTERVAL_S = 3
DEVICES = 50
ADDRESSES = [f"127.0.3.{n}" for n in range(1, DEVICES + 1)]
SNMP = SnmpSettings(
    poll_interval_s=INTERVAL_S, worker_heartbeat_s=0.5, poll_batch_size=5, timeout_s=1, retries=1, poll_deadline_s=2.5
)


class Run:
    """The servers, the worker processes and the cycles the test started."""

    def __init__(
        self, tmp_path: Path, database_url: str, broker: str, results: str, influx: InfluxServer, database: str
    ) -> None:
        self.tmp_path = tmp_path
        self.influx, self.database = influx, database
        self.env = {
            "NETMGR_ENVIRONMENT": "test",
            "NETMGR_DATA_DIR": str(tmp_path / "data"),
            "NETMGR_DATABASE_URL": database_url,
            "NETMGR_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
            "NETMGR_CELERY__BROKER_URL": broker,
            "NETMGR_CELERY__RESULT_BACKEND": results,
            "NETMGR_INFLUX__URL": influx.url,
            "NETMGR_INFLUX__API": "v1",
            "NETMGR_INFLUX__DATABASE": database,
            "NETMGR_PING__ENABLED": "false",
            "NETMGR_LOG_LEVEL": "info",
            **{f"NETMGR_SNMP__{k.upper()}": str(v) for k, v in SNMP.model_dump().items()},
        }
        self.workers: dict[str, Daemon] = {}
        self.cycles: list[int] = []
        self.results = redis.Redis.from_url(results)
        self._stop = threading.Event()
        self._driver: threading.Thread | None = None
        settings = make_settings(
            tmp_path / "sender", database_url, celery=CelerySettings(broker_url=broker, result_backend=results)
        )
        self.app: Celery = make_celery(settings)

    def start_worker(self, name: str) -> None:
        self.workers[name] = Daemon(
            [NETMGR, "worker", "-Q", "poll", "-c", "1", "-n", f"{name}@failover"],
            log=self.tmp_path / f"{name}.log",
            env=self.env,
        )

    def wait_ready(self, name: str) -> None:
        log = self.tmp_path / f"{name}.log"
        wait_until(
            lambda: " ready." in log.read_text(errors="replace"),
            timeout=90,
            what=f"worker {name}",
            proc=self.workers[name].proc,
            log=log,
        )

    def kill(self, name: str) -> None:
        """SIGKILL the worker and its pool process, as a container or machine dies (no shutdown at all)."""
        os.killpg(self.workers[name].proc.pid, signal.SIGKILL)
        self.workers[name].proc.wait(10)

    def drive_cycles(self) -> None:
        """Start a cycle every INTERVAL_S, as beat does, and keep each cycle's number."""

        def loop() -> None:
            while not self._stop.is_set():
                started = time.monotonic()
                cycle = self.app.send_task("collectors.schedule_polls").get(timeout=30)["cycle"]
                self.cycles.append(int(cycle))
                self._stop.wait(max(0.0, started + INTERVAL_S - time.monotonic()))

        self._driver = threading.Thread(target=loop, daemon=True)
        self._driver.start()

    def stop_cycles(self) -> None:
        self._stop.set()
        if self._driver is not None:
            self._driver.join(40)

    def batches(self) -> list[dict[str, Any]]:
        """Every finished ``collectors.poll_batch`` of a cycle: holder, cycle and the devices it polled."""
        out = []
        for key in self.results.scan_iter("celery-task-meta-*"):
            raw = self.results.get(key)
            meta = json.loads(raw) if raw else {}
            result = meta.get("result")
            if meta.get("status") == "SUCCESS" and isinstance(result, dict) and "polled" in result:
                out.append(result)
        return out

    def polls(self) -> Counter[tuple[int, int]]:
        """How often each (device, cycle) was polled."""
        return Counter((device, b["cycle"]) for b in self.batches() for device in b["polled"])

    def complete(self, cycles: list[int], devices: set[int]) -> Callable[[], bool]:
        def check() -> bool:
            polled = self.polls()
            return all({d for d in devices if polled[(d, c)]} == devices for c in cycles)

        return check

    def close(self) -> None:
        self.stop_cycles()
        with ThreadPoolExecutor(len(self.workers) or 1) as pool:  # warm shutdowns side by side
            list(pool.map(lambda worker: worker.stop(timeout=20), self.workers.values()))
        self.results.close()
        self.app.close()


@pytest.fixture
def run(tmp_path: Path, postgres_url: str) -> Iterator[Run]:
    with private_redis() as port, influx_server() as influx:
        database = f"t_{uuid.uuid4().hex[:10]}"
        influx.create_database(database)
        broker, results = f"redis://127.0.0.1:{port}/0", f"redis://127.0.0.1:{port}/1"
        run = Run(tmp_path, postgres_url, broker, results, influx, database)
        try:
            yield run
        finally:
            run.close()
            engine = sa.create_engine(postgres_url)
            _truncate_all(engine)
            engine.dispose()


def _health_times(influx: InfluxServer, database: str) -> dict[str, list[float]]:
    doc: Any = influx.query('SELECT "poll_ms" FROM "device_health" GROUP BY "device"', db=database, epoch="ms")
    series = doc["results"][0].get("series", [])
    return {s["tags"]["device"]: [row[0] / 1000 for row in s["values"]] for s in series}


def test_three_workers_share_the_devices_and_a_killed_ones_are_polled_by_the_others(
    run: Run, postgres_url: str
) -> None:
    state = AppState.build(make_settings(run.tmp_path / "t", postgres_url))
    with state.session_factory() as session:
        site = factories.site(session)
        with snmpd_agent(ADDRESSES) as agent:
            for address in ADDRESSES:
                factories.device(
                    session, site_id=site.id, mgmt_address=address, snmp_port=agent.port, snmp_community=SNMPD_COMMUNITY
                )
            devices = set(pollable_device_ids(session))
            assert len(devices) == DEVICES

            run.start_worker("poll1")
            run.start_worker("poll2")
            run.wait_ready("poll1")
            run.wait_ready("poll2")
            run.drive_cycles()
            run.start_worker("poll3")  # added while the others poll: no restart, no new configuration
            # Warm-up: the workers' start-up discovery is done once two cycles in a row poll every device.
            wait_until(
                lambda: any(run.complete(run.cycles[i : i + 2], devices)() for i in range(len(run.cycles) - 1)),
                timeout=60,
                what="two complete cycles",
            )
            warm = next(c for i, c in enumerate(run.cycles) if run.complete(run.cycles[i : i + 2], devices)())
            run.wait_ready("poll3")
            wait_until(
                lambda: any(b["holder"].startswith("poll3@") and b["polled"] for b in run.batches()),
                timeout=30,
                what="the added worker polling",
            )

            wait_until(lambda: len(run.cycles) >= 3, timeout=30, what="three cycles before the kill")
            # Kill poll1 while it holds device leases if we catch it polling (a few seconds), else as it is.
            deadline = time.monotonic() + 2 * INTERVAL_S
            while (
                time.monotonic() < deadline
                and not session.scalars(select(PollLease).where(PollLease.holder.startswith("poll1@"))).first()
            ):
                session.rollback()
                time.sleep(0.01)
            run.kill("poll1")
            killed_at = utcnow().timestamp() * 1000
            count_at_kill = len(run.cycles)
            wait_until(
                lambda: len([c for c in run.cycles if c > killed_at]) >= 3,
                timeout=60,
                what="three cycles after the kill",
            )
            after = [c for c in run.cycles if c > killed_at][:3]
            wait_until(
                run.complete(after, devices), timeout=30, what="every device polled in the cycles after the kill"
            )
            run.stop_cycles()

            status = poll_status(session, sorted(devices), settings=SNMP, now=utcnow())
            session.rollback()

    polls = run.polls()
    twice = {k: n for k, n in polls.items() if n > 1}
    assert twice == {}, f"polled more than once in a cycle: {twice}"
    holders = Counter(b["holder"].split("@")[0] for b in run.batches() for _ in b["polled"])
    assert holders["poll1"] and holders["poll2"] and holders["poll3"], holders  # all three took load
    # No device missed two cycles in a row, from the warm-up on (the kill costs at most the cycle it hit).
    cycles = [c for c in run.cycles if c >= warm and c <= after[-1]]
    for device in devices:
        missed = [polls[(device, c)] == 0 for c in cycles]
        assert not any(a and b for a, b in zip(missed, missed[1:], strict=False)), (device, missed)
    assert count_at_kill >= 3
    # The dead worker shows as missing, the two others alive.
    assert sorted((w.node.split("@")[0], w.alive) for w in status.workers) == [
        ("poll1", False),
        ("poll2", True),
        ("poll3", True),
    ]
    # Metrics: each device's series has a point for every poll, none more than one cycle apart beyond one.
    times = _health_times(run.influx, run.database)
    assert len(times) == DEVICES
    first, last = warm / 1000, after[-1] / 1000
    for name, stamps in times.items():
        window = [t for t in stamps if first <= t <= last + INTERVAL_S]
        gaps = [b - a for a, b in zip(window, window[1:], strict=False)]
        assert gaps and max(gaps) < 3 * INTERVAL_S, (name, gaps)
    state.engine.dispose()
