"""Fixtures for provisioning: a real OpenSSH server with a temp user, and targets pointing at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from provisioning.connections import DeviceTarget, NetmikoConnector
from tests.provisioning.api_support import ap_fleet, ap_ids, people, runner, task_env  # noqa: F401 - fixtures
from tests.servers.sshd import SshServer, sshd_server


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshServer]:
    with sshd_server() as server:
        yield server


@pytest.fixture
def connector() -> NetmikoConnector:
    return NetmikoConnector(conn_timeout=5, auth_timeout=10)


def linux_target(server: SshServer, *, name: str = "gw-taman-kota", password: str | None = None,
                 port: int | None = None, context: dict[str, object] | None = None) -> DeviceTarget:
    return DeviceTarget(
        device_id=1, name=name, platform="linux", host=server.host, port=port or server.port,
        username=server.username, password=server.password if password is None else password,
        context=context or {
            "device": {"name": name}, "site": {"name": "Taman Kota Sampit"},
            "inventory": {"device_name": name, "site_name": "Taman Kota Sampit", "snmp_community": "k0mun1tas",
                          "timezone": "Asia/Jakarta"},
        },
    )
