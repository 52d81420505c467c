"""/readyz: the database, the broker and InfluxDB checked one by one, each failure saying what to do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from netmgr.entrypoints.capabilities import create_app
from netmgr.settings import Settings
from netmgr.state import AppState
from tests.conftest import make_settings
from tests.servers.app import migrated_sqlite_url
from tests.servers.influx import InfluxServer, influx_server
from tests.servers.process import free_port
from tests.servers.redis import redis_url


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer]:
    with influx_server() as server:
        yield server


@pytest.fixture(scope="module")
def broker() -> Iterator[str]:
    with redis_url() as url:
        yield url


def _ready(settings: Settings) -> tuple[int, dict[str, Any]]:
    state = AppState.build(settings)
    try:
        with TestClient(create_app(settings, state=state)) as client:
            answer = client.get("/readyz")
            assert client.get("/healthz").status_code == 200  # liveness does not depend on the others
            return answer.status_code, answer.json()
    finally:
        state.engine.dispose()


def _settings(tmp_path: Path, *, database_url: str, broker: str, influx_url: str) -> Settings:
    base = make_settings(tmp_path / "data", database_url)
    return base.model_copy(update={"celery": base.celery.model_copy(update={"broker_url": broker}),
                                   "influx": base.influx.model_copy(update={"url": influx_url})})


def test_everything_up_is_ready(tmp_path: Path, influx: InfluxServer, broker: str) -> None:
    status, body = _ready(_settings(tmp_path, database_url=migrated_sqlite_url(tmp_path), broker=broker,
                                    influx_url=influx.url))
    assert status == 200 and body["status"] == "ready"
    assert {name: c["status"] for name, c in body["checks"].items()} == {
        "database": "ok", "broker": "ok", "influxdb": "ok"}


def test_influxdb_down_is_reported_but_metrics_wait_in_the_spool(tmp_path: Path, broker: str) -> None:
    status, body = _ready(_settings(tmp_path, database_url=migrated_sqlite_url(tmp_path), broker=broker,
                                    influx_url=f"http://127.0.0.1:{free_port()}"))
    assert status == 200
    influx = body["checks"]["influxdb"]
    assert influx["status"] == "failing" and not influx["required"] and "spool" in influx["detail"]


def test_a_dead_broker_makes_netmgr_not_ready(tmp_path: Path, influx: InfluxServer) -> None:
    status, body = _ready(_settings(tmp_path, database_url=migrated_sqlite_url(tmp_path),
                                    broker=f"redis://:hunter2@127.0.0.1:{free_port()}/0", influx_url=influx.url))
    assert status == 503 and body["status"] == "not ready"
    broker = body["checks"]["broker"]
    assert broker["status"] == "failing" and "NETMGR_CELERY__BROKER_URL" in broker["detail"]
    assert "hunter2" not in str(body)
    assert body["checks"]["database"]["status"] == "ok"


def test_a_database_that_is_down_or_behind_makes_netmgr_not_ready(tmp_path: Path, broker: str,
                                                                  influx: InfluxServer) -> None:
    down = f"postgresql+psycopg://netmgr:secret@127.0.0.1:{free_port()}/netmgr?connect_timeout=2"
    status, body = _ready(_settings(tmp_path / "down", database_url=down, broker=broker, influx_url=influx.url))
    assert status == 503
    assert "NETMGR_DATABASE_URL" in body["checks"]["database"]["detail"] and "secret" not in str(body)

    empty = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    status, body = _ready(_settings(tmp_path / "behind", database_url=empty, broker=broker, influx_url=influx.url))
    assert status == 503 and "netmgr db upgrade" in body["checks"]["database"]["detail"]
