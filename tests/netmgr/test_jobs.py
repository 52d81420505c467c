"""Celery wiring: routing by task name, the beat schedule, and a real worker answering netmgr.ping."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

import collectors.tasks
from netmgr.capabilities import Manifest
from netmgr.entrypoints import capabilities
from netmgr.jobs import QUEUES, PeriodicTask, UnknownPeriodicTask, beat_schedule, make_celery, queue_for
from netmgr.settings import CelerySettings, Settings
from tests.conftest import make_settings
from tests.servers.process import Daemon, wait_until
from tests.servers.redis import redis_url

NETMGR = str(Path(sys.executable).parent / "netmgr")


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("collectors.poll_batch", "poll"),
        ("collectors.check_availability", "poll"),
        ("collectors.write_points", "metrics"),
        ("metrics.flush_spool", "metrics"),
        ("provisioning.push_config", "provisioning"),
        ("reports.close_period", "reports"),
        ("captive_portal.disconnect_session", "portal"),
        ("netmgr.ping", "default"),
        ("something.else", "default"),
    ],
)
def test_task_names_route_to_their_queue(task: str, queue: str) -> None:
    assert queue_for(task) == queue


def test_every_queue_is_declared_so_a_worker_can_consume_it(tmp_path: Path) -> None:
    app = make_celery(make_settings(tmp_path))
    declared = {q.name for q in app.conf.task_queues}
    assert declared == set(QUEUES)
    assert app.conf.task_default_queue == "default"
    assert app.amqp.router.route({}, "provisioning.push_config")["queue"].name == "provisioning"


def test_make_celery_uses_the_embedded_broker_and_touches_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    app = make_celery(make_settings(data))
    assert app.conf.broker_url == f"sqla+sqlite:///{(data / 'celery-broker.sqlite3').resolve()}"
    assert app.conf.task_serializer == "json" and app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert not data.exists()  # a factory, no I/O


def test_beat_schedules_the_availability_check_from_settings(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, celery=CelerySettings(availability_interval_s=7))
    schedule = beat_schedule(settings, capabilities.MANIFESTS)
    assert schedule["check-availability"] == {"task": "collectors.check_availability", "schedule": 7.0, "kwargs": {}}
    assert schedule["rediscover-all-devices"]["kwargs"] == {"only_new": False}


def test_the_worker_runs_every_manifests_tasks_and_schedules_each_periodic_one(tmp_path: Path) -> None:
    app = capabilities.make_celery(make_settings(tmp_path))
    assert {"netmgr.tasks", "netmgr.reports_tasks", "collectors.tasks", "provisioning.tasks",
            "captive_portal.tasks"} <= set(app.conf.include)
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"provisioning.backup_all", "collectors.schedule_polls", "captive_portal.enforce_quotas",
            "reports.monthly_statements"} <= scheduled
    assert scheduled <= set(app.tasks)


def test_a_misspelled_periodic_task_stops_the_worker_from_starting(tmp_path: Path) -> None:
    typo = PeriodicTask("check-availability", "collectors.chek_availability", lambda s: 60.0)
    manifest = Manifest(name="collectors", task_modules=lambda: (collectors.tasks,), periodic_tasks=(typo,))
    with pytest.raises(UnknownPeriodicTask) as failed:
        make_celery(make_settings(tmp_path), [manifest])
    assert "'collectors.chek_availability'" in str(failed.value)
    assert "collectors.check_availability" in str(failed.value)  # the known names, to spot the typo


def _run_worker(settings: Settings, env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    name = f"t{uuid.uuid4().hex[:8]}@jobs-test"
    log = tmp_path / "worker.log"
    worker = Daemon([NETMGR, "worker", "-c", "1", "-P", "solo", "-n", name, "-Q", "default"], log=log,
                    env={"NETMGR_DATA_DIR": str(settings.data_dir), "NETMGR_ENVIRONMENT": "test", **env})
    try:
        wait_until(lambda: " ready." in log.read_text(errors="replace"), timeout=60, what="celery worker",
                   proc=worker.proc, log=log)
        yield name
    finally:
        worker.stop(timeout=20)


def test_worker_on_the_embedded_broker_answers_ping(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    app = make_celery(settings)
    for name in _run_worker(settings, {}, tmp_path):
        result = app.send_task("netmgr.ping", args=["sampit"]).get(timeout=60)
        assert result == {"pong": "sampit", "worker": name}


def test_worker_on_redis_answers_ping_and_poll_tasks_wait_in_their_own_queue(tmp_path: Path) -> None:
    with redis_url() as base:
        url = base.rsplit("/", 1)[0] + "/14"
        client = redis.Redis.from_url(url)
        client.flushdb()
        settings = make_settings(tmp_path / "data", celery=CelerySettings(broker_url=url))
        app = make_celery(settings)
        try:
            # No worker consumes "poll" here: the message must sit in that queue, not in "default".
            app.send_task("collectors.poll_batch", args=[[1, 2, 3]])
            assert client.llen("poll") == 1
            assert client.llen("default") == 0
            for name in _run_worker(settings, {"NETMGR_CELERY__BROKER_URL": url}, tmp_path):
                result = app.send_task("netmgr.ping", args=[{"x": 1}]).get(timeout=30)
                assert result == {"pong": {"x": 1}, "worker": name}
                assert client.llen("poll") == 1  # a default-queue worker leaves poll work alone
        finally:
            client.flushdb()
            client.close()
            app.close()


@pytest.fixture(autouse=True)
def _no_inherited_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker subprocess must use the broker the test chose, not one from the caller's environment."""
    for key in list(os.environ):
        if key.startswith("NETMGR_CELERY__"):
            monkeypatch.delenv(key)


@pytest.mark.parametrize("tz", ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"])
def test_celery_keeps_its_schedule_in_the_installations_zone(tmp_path: Path, tz: str) -> None:
    app = make_celery(make_settings(tmp_path, timezone=tz))
    assert app.conf.timezone == tz and app.conf.enable_utc is True
