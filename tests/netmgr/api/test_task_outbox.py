"""A job is never left ``queued`` without its task: a task the broker refused waits in the outbox and is sent
once the broker answers again (a real Redis on loopback, first absent, then started on the same port)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.db import OutboxFlush, flush_outbox
from netmgr.entrypoints import capabilities
from netmgr.jobs import PROVISIONING_QUEUE, beat_schedule, make_celery, send_once
from netmgr.models import OutboxTask, ProvisionJob
from netmgr.models.enums import Role
from netmgr.models.provisioning import JobStatus
from netmgr.settings import CelerySettings, Settings
from netmgr.state import AppState
from tests.conftest import make_settings
from tests.netmgr.api.conftest import World
from tests.servers.process import free_port
from tests.servers.redis import private_redis


@pytest.fixture
def broker_port() -> int:
    return free_port()  # nothing listens there until the test starts Redis on it


@pytest.fixture
def settings(tmp_path: Path, database_url: str, broker_port: int) -> Settings:
    return make_settings(tmp_path / "data", database_url,
                         celery=CelerySettings(broker_url=f"redis://127.0.0.1:{broker_port}/0"))


@pytest.fixture
def celery_sender(settings: Settings) -> Iterator[object]:
    """The sender the app and the sweep use, on a Celery app of ``settings``."""
    app = make_celery(settings)
    yield send_once(app)
    app.close()


def _tasks_in(queue: list[bytes]) -> list[tuple[str, dict[str, object]]]:
    found = []
    for raw in queue:
        message = json.loads(raw)
        _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], kwargs))
    return found


def test_a_job_whose_task_the_broker_refused_is_sent_once_the_broker_is_back(
        client: TestClient, session: Session, world: World, app_state: AppState, settings: Settings,
        broker_port: int, celery_sender: object) -> None:
    job = session.get(ProvisionJob, world.job)
    assert job is not None
    job.dry_run = True  # a dry run needs no approval: "run" queues it and sends provisioning.run_job
    session.commit()

    began = time.monotonic()
    started = client.post(f"/api/v1/provisioning/jobs/{world.job}/run", headers=world.headers(Role.ADMIN))
    assert started.status_code == 202, started.text
    # not held for Celery's publish retries nor kombu's connection retries (2 s + 4 s before this was fixed)
    assert time.monotonic() - began < 5
    session.expire_all()
    assert session.get(ProvisionJob, world.job).status == JobStatus.QUEUED  # type: ignore[union-attr]
    waiting = session.scalars(sa.select(OutboxTask)).all()
    assert [(t.name, t.kwargs, t.attempts) for t in waiting] == [("provisioning.run_job", {"job_id": world.job}, 1)]
    assert "refused" in waiting[0].last_error.lower() or "error" in waiting[0].last_error.lower()

    with private_redis(broker_port):
        assert flush_outbox(app_state.engine, celery_sender, older_than_s=0) == OutboxFlush(sent=1, waiting=0)  # type: ignore[arg-type]
        broker = redis.Redis(port=broker_port)
        try:
            assert _tasks_in(broker.lrange(PROVISIONING_QUEUE, 0, -1)) == [("provisioning.run_job",
                                                                             {"job_id": world.job})]
        finally:
            broker.close()
    session.expire_all()
    assert session.scalars(sa.select(OutboxTask)).all() == []


def test_a_sweep_with_the_broker_still_down_keeps_the_task_and_counts_the_attempt(
        session: Session, app_state: AppState, celery_sender: object) -> None:
    session.add(OutboxTask(name="provisioning.run_job", kwargs={"job_id": 7}))
    session.commit()
    assert flush_outbox(app_state.engine, celery_sender, older_than_s=0) == OutboxFlush(sent=0, waiting=1)  # type: ignore[arg-type]
    session.expire_all()
    [task] = session.scalars(sa.select(OutboxTask)).all()
    assert task.attempts == 1 and task.last_error and task.last_attempt_at is not None


def test_beat_sweeps_the_outbox_every_minute(settings: Settings) -> None:
    entry = beat_schedule(settings, capabilities.MANIFESTS)["flush-task-outbox"]
    assert entry["task"] == "netmgr.flush_task_outbox" and entry["schedule"] == 60.0
