"""Every task gets its database and metrics store from one per-process holder (``netmgr.task_resources``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.signals import worker_process_init

from captive_portal import tasks as portal_tasks
from collectors import tasks as collector_tasks
from netmgr import task_resources as resources
from netmgr import tasks as core_tasks
from netmgr.settings import get_settings
from netmgr.state import AppState
from provisioning import tasks as provisioning_tasks
from tests.conftest import TEST_ENCRYPTION_KEY


@pytest.fixture
def env_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Iterator[list[AppState]]:
    """Settings from the environment, as a worker reads them; yields every AppState the holder builds."""
    for key, value in {"NETMGR_ENVIRONMENT": "test", "NETMGR_DATA_DIR": str(tmp_path),
                       "NETMGR_DATABASE_URL": database_url, "NETMGR_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
                       "NETMGR_INFLUX__ENABLED": "false"}.items():
        monkeypatch.setenv(key, value)
    built: list[AppState] = []
    real_build = AppState.build

    def build(settings: object) -> AppState:
        state = real_build(settings)  # type: ignore[arg-type]
        built.append(state)
        return state

    monkeypatch.setattr(resources.AppState, "build", build)
    get_settings.cache_clear()
    resources.release()
    try:
        yield built
    finally:
        resources.release()
        get_settings.cache_clear()


def test_tasks_of_every_package_share_one_engine_in_a_process(env_settings: list[AppState]) -> None:
    assert core_tasks.flush_task_outbox.run() == {"sent": 0, "waiting": 0}
    assert portal_tasks.close_stale_sessions.run() == {"closed": 0, "session_ids": []}
    assert provisioning_tasks.backup_all_task.run() == {"queued": 0}
    assert collector_tasks.rollup_traffic_task.run()["hours"] == 0
    assert len(env_settings) == 1
    assert resources.task_resources().state is env_settings[0]


def test_other_settings_replace_what_is_held_and_dispose_its_engine(env_settings: list[AppState]) -> None:
    first = resources.task_resources()
    assert resources.task_resources() is first
    get_settings.cache_clear()
    second = resources.task_resources()
    assert second is not first and second.settings is get_settings()
    assert first.state.engine.pool.checkedout() == 0
    assert len(env_settings) == 2


def test_a_forked_worker_process_builds_its_own(env_settings: list[AppState]) -> None:
    inherited = resources.task_resources()
    worker_process_init.send(sender=None)
    assert resources.task_resources() is not inherited
