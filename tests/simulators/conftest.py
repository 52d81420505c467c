"""Fixtures for driving the simulators with real netmiko sessions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from netmiko import ConnectHandler
from netmiko.base_connection import BaseConnection

from netmgr.demo.simulators.sshsim import SimulatorHandle, run_in_thread

PASSWORD = "Sim-pass-1"
SECRET = "En-secret-1"


@pytest.fixture
def mikrotik() -> Iterator[SimulatorHandle]:
    with run_in_thread("mikrotik_routeros", password=PASSWORD, hostname="core-sampit") as handle:
        yield handle


@pytest.fixture
def cisco() -> Iterator[SimulatorHandle]:
    with run_in_thread("cisco_ios", password=PASSWORD, enable_secret=SECRET, hostname="R1",
                       seconds_per_minute=0.5) as handle:
        yield handle


def connect(handle: SimulatorHandle, **overrides: Any) -> BaseConnection:
    return ConnectHandler(**handle.netmiko_params(**overrides))
