"""Shared fixtures: settings in a temp dir, databases (SQLite and PostgreSQL), sessions and an app client."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from netmgr.db import make_session_factory
from netmgr.entrypoints.capabilities import create_app
from netmgr.migrate import upgrade
from netmgr.models import Base
from netmgr.settings import Environment, Settings
from netmgr.state import AppState
from tests.servers.kannel import Kannel, kannel_server
from tests.servers.postgres import postgres_admin_url, temporary_database

TEST_ENCRYPTION_KEY = "aL7BqzEYOa5c4dcr2yT1bYx1m0kDVyCZ2q9j2eQy1lM="


def make_settings(data_dir: Path, database_url: str = "", **overrides: object) -> Settings:
    return Settings(
        environment=Environment.TEST,
        data_dir=data_dir,
        database_url=database_url,
        secret_key="test-secret-key-for-signing-cookies",
        encryption_keys=TEST_ENCRYPTION_KEY,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is much faster)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    engine = sa.create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this test session (tables emptied after each test)."""
    with postgres_admin_url() as admin, temporary_database(admin) as url:
        engine = sa.create_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


def _truncate_all(engine: sa.Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """Every test that touches the database runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "netmgr.sqlite3"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    engine = sa.create_engine(url)
    _truncate_all(engine)
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url)


@pytest.fixture
def app_state(settings: Settings) -> Iterator[AppState]:
    state = AppState.build(settings)
    yield state
    state.engine.dispose()


@pytest.fixture
def session_factory(app_state: AppState) -> sessionmaker[Session]:
    return app_state.session_factory


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture
def client(settings: Settings, app_state: AppState) -> Iterator[TestClient]:
    app = create_app(settings, state=app_state)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def kannel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kannel]:
    """Kannel's bearerbox and smsbox with a fake SMSC, shared by the session (it starts in about 0.4 s)."""
    with kannel_server(tmp_path_factory.mktemp("kannel")) as k:
        yield k


__all__ = ["make_session_factory", "make_settings"]
