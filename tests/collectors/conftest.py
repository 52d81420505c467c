"""SNMP agents for the collector tests: one snmpd and one snmpsim (all shared recordings) per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.snmp import Agent, snmpd_agent, snmpsim_agent


@pytest.fixture(scope="session")
def snmpd() -> Iterator[Agent]:
    with snmpd_agent() as agent:
        yield agent


@pytest.fixture(scope="session")
def snmpsim() -> Iterator[Agent]:
    """snmpsim serving every ../shared/snmprec recording; the community is the file name (``routeros``)."""
    with snmpsim_agent() as agent:
        yield agent
