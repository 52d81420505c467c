"""Shared by the provisioning API, page and demo tests: people with roles, a RouterOS fleet, and a task runner.

``TaskRunner`` is the app's ``task_dispatch``: it runs the real Celery task bodies (``provisioning.run_job``,
``provisioning.backup_device``) in a thread of this process instead of sending them to a broker, so a
test sees the same progress rows a worker would write. The benchmark measures the real worker path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.demo.simulators.sshsim import SimulatorHandle, SimulatorThread
from netmgr.models.enums import DeviceRole, Platform, Role
from netmgr.services import users
from netmgr.settings import Settings, get_settings
from provisioning import tasks
from tests import factories
from tests.conftest import TEST_ENCRYPTION_KEY

PASSWORD = "Sim-pass-1"
API = "/api/v1/provisioning"
TASKS: dict[str, Callable[..., Any]] = {
    "provisioning.run_job": tasks.run_job_task,
    "provisioning.backup_device": tasks.backup_device_task,
}


class TaskRunner:
    """A ``send_task``-like dispatch running provisioning task bodies in background threads."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.results: list[Any] = []
        self._threads: list[threading.Thread] = []

    def __call__(self, name: str, *, kwargs: dict[str, Any]) -> object:
        self.sent.append((name, kwargs))
        task = TASKS[name]

        def run() -> None:
            self.results.append(task(**kwargs))

        thread = threading.Thread(target=run, name=f"task-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread

    def wait(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.1, deadline - time.monotonic()))
            assert not thread.is_alive(), f"{thread.name} still running after {timeout} s"


@pytest.fixture
def task_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[None]:
    """The task bodies build their own AppState from the environment, as a worker does."""
    monkeypatch.setenv("NETMGR_ENVIRONMENT", "test")
    monkeypatch.setenv("NETMGR_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("NETMGR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("NETMGR_ENCRYPTION_KEYS", TEST_ENCRYPTION_KEY)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def runner(client: TestClient, task_env: None) -> TaskRunner:
    dispatch = TaskRunner()
    client.app.state.task_dispatch = dispatch  # type: ignore[attr-defined]
    return dispatch


@dataclass
class People:
    """One user per role (two operators, for maker-checker), each with an API token."""

    tokens: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def people(session: Session) -> People:
    out = People()
    agency = factories.agency(session, code="DISDIK")
    for who, role in (("admin", Role.ADMIN), ("op1", Role.OPERATOR), ("op2", Role.OPERATOR),
                      ("finance", Role.FINANCE), ("viewer", Role.AGENCY_VIEWER)):
        user = factories.user(session, role=role, username=f"p2-{who}",
                              agency_id=agency.id if role == Role.AGENCY_VIEWER else None)
        _, plain = users.create_api_token(session, users.actor_for(user), name="tests")
        session.commit()
        out.tokens[who], out.names[who] = plain, user.username
    return out


@pytest.fixture
def ap_fleet() -> Iterator[list[SimulatorHandle]]:
    """Two RouterOS access points on their own loopback addresses."""
    sims = SimulatorThread()
    try:
        yield [sims.start("mikrotik_routeros", password=PASSWORD, host=f"127.0.0.{20 + n}", hostname=f"ap-{n}")
               for n in (1, 2)]
    finally:
        sims.stop()


@pytest.fixture
def ap_ids(session: Session, ap_fleet: list[SimulatorHandle]) -> list[int]:
    site = factories.site(session, name="Taman Kota Sampit")
    return [factories.device(session, site_id=site.id, name=f"ap-taman-{n}", mgmt_address=h.host, ssh_port=h.port,
                             ssh_username="admin", ssh_password=PASSWORD, snmp_community="k0mun1tas",
                             platform=Platform.MIKROTIK_ROUTEROS, role=DeviceRole.ACCESS_POINT,
                             tags=["taman"]).id
            for n, h in enumerate(ap_fleet, start=1)]


def wait_for_job(client: TestClient, job_id: int, headers: dict[str, str], timeout: float = 120) -> dict[str, Any]:
    """Poll the job like the UI does until it is done; returns the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"{API}/jobs/{job_id}", headers=headers).json()
        if body["done"]:
            return body
        assert time.monotonic() < deadline, f"job {job_id} not done after {timeout} s: {body['status']}"
        time.sleep(0.3)
