"""Fixtures for the metrics store: real influxd servers (shared or private) and settings pointing at them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from netmgr.settings import Settings
from tests.conftest import make_settings
from tests.servers.influx import InfluxServer, NginxShim, influx_server, nginx_shim

StoreSettings = Callable[..., Settings]


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer]:
    """One influxd for the module's tests; each test writes to its own database."""
    with influx_server() as server:
        yield server


@pytest.fixture(scope="module")
def shim(influx: InfluxServer) -> Iterator[NginxShim]:
    with nginx_shim(influx) as proxy:
        yield proxy


@pytest.fixture
def private_influx() -> Iterator[InfluxServer]:
    """An influxd of the test's own, which the test may stop and start again."""
    with influx_server() as server:
        yield server


@pytest.fixture
def database() -> str:
    return f"t_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def store_settings(tmp_path: Path) -> StoreSettings:
    """Settings for a store: ``store_settings(url=..., api="v1", bucket=..., **influx_overrides)``."""

    def build(**influx: object) -> Settings:
        values: dict[str, object] = {"timeout_ms": 2000, "spool_dir": tmp_path / "spool"}
        values.update(influx)
        return make_settings(tmp_path / "data", influx=values)

    return build
