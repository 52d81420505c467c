"""SNMP agents for the collector tests: one snmpd, one snmpsim with all shared recordings and one with the
makers' recordings kept in this repository (tests/collectors/snmprec_makers), per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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


MAKERS_DIR = Path(__file__).resolve().parent / "snmprec_makers"


@pytest.fixture(scope="session")
def snmpsim_makers() -> Iterator[Agent]:
    """snmpsim serving tests/collectors/snmprec_makers/*.snmprec (sources: SOURCES.md there); community = file name."""
    with snmpsim_agent(sorted(MAKERS_DIR.glob("*.snmprec"))) as agent:
        yield agent
