"""``netmgr discover``, ``discover-device`` and ``poll`` run end to end against snmpsim."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from netmgr.entrypoints.cli import app
from netmgr.models import Interface
from netmgr.settings import get_settings
from tests import factories
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.servers.snmp import Agent

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Iterator[None]:
    """The CLI reads settings from NETMGR_* like in production; point it at the test database."""
    for key, value in {"NETMGR_ENVIRONMENT": "test", "NETMGR_DATA_DIR": str(tmp_path / "cli"),
                       "NETMGR_DATABASE_URL": database_url, "NETMGR_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
                       "NETMGR_SNMP__TIMEOUT_S": "1", "NETMGR_SNMP__RETRIES": "1"}.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_discover_json_prints_the_documented_document(snmpsim: Agent) -> None:
    result = runner.invoke(app, ["discover", "127.0.0.1", "--port", str(snmpsim.port), "--community", "routeros",
                                 "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["vendor"], doc["platform"], doc["model"]) == ("mikrotik", "mikrotik_routeros", "RB952Ui-5ac2nD")
    assert doc["interfaces"][2] == {"if_index": 3, "name": "WAN", "descr": "WAN", "alias": "", "type": 6,
                                    "speed_mbps": 100, "mac": "6c:3b:6b:a2:00:f6", "admin_status": "up",
                                    "oper_status": "up"}


def test_discover_over_v3_with_a_context_prints_a_table(snmpsim: Agent) -> None:
    result = runner.invoke(app, ["discover", "127.0.0.1", "--port", str(snmpsim.port), "--v3-user", snmpsim.v3_user,
                                 "--auth-key", snmpsim.auth_key, "--priv-key", snmpsim.priv_key, "--context", "swos"])
    assert result.exit_code == 0, result.output
    assert "RB260GS" in result.stdout and "Port1" in result.stdout and "ethernetCsmacd" in result.stdout


def test_discover_with_wrong_community_fails_with_the_reason(snmpsim: Agent) -> None:
    result = runner.invoke(app, ["discover", "127.0.0.1", "--port", str(snmpsim.port), "--community", "nope",
                                 "--timeout", "0.2", "--retries", "0"])
    assert result.exit_code == 1
    assert "wrong community or agent down?" in result.output


def test_discover_needs_exactly_one_kind_of_credentials() -> None:
    result = runner.invoke(app, ["discover", "127.0.0.1"])
    assert result.exit_code == 1 and "either --community" in result.output


def test_discover_device_stores_interfaces_and_poll_prints_counters(cli_env: None, session: Session,
                                                                    snmpsim: Agent) -> None:
    device = factories.device(session, site_id=factories.site(session).id, name="rb-kantor", mgmt_address="127.0.0.1",
                              snmp_port=snmpsim.port, snmp_community="epmp")
    result = runner.invoke(app, ["discover-device", "rb-kantor"])
    assert result.exit_code == 0, result.output
    assert "2 new" in result.stdout
    session.expire_all()
    names = session.scalars(select(Interface.name).where(Interface.device_id == device.id).order_by(Interface.name))
    assert list(names) == ["LAN interface 1", "WLAN interface"]

    polled = runner.invoke(app, ["poll", "rb-kantor"])
    assert polled.exit_code == 0, polled.output
    assert "uptime 1920143 s" in polled.stdout
    assert "3,377,931,056,550" in polled.stdout  # ifHCInOctets of the LAN port


def test_poll_of_an_unknown_device_says_so(cli_env: None, session: Session) -> None:
    result = runner.invoke(app, ["poll", "no-such-device"])
    assert result.exit_code == 1 and "does not exist" in result.output


def test_poll_reads_a_device_over_snmp_v3_authpriv_from_snmpd(cli_env: None, session: Session, snmpd: Agent) -> None:
    device = factories.device(
        session, site_id=factories.site(session).id, name="gw-v3", mgmt_address="127.0.0.1", snmp_port=snmpd.port,
        snmp_version="v3", snmp_v3_user=snmpd.v3_user, snmp_v3_auth_key=snmpd.auth_key,
        snmp_v3_priv_key=snmpd.priv_key, snmp_v3_auth_protocol="sha", snmp_v3_priv_protocol="aes",
    )
    assert device.snmp_community_encrypted is not None  # the factory sets one; v3 must not use it
    discovered = runner.invoke(app, ["discover-device", "gw-v3"])
    assert discovered.exit_code == 0, discovered.output
    polled = runner.invoke(app, ["poll", "gw-v3"])
    assert polled.exit_code == 0, polled.output
    assert "lo" in polled.stdout and "uptime" in polled.stdout


def test_poll_over_v3_with_a_wrong_key_fails_with_the_agents_reason(cli_env: None, session: Session,
                                                                   snmpd: Agent) -> None:
    factories.device(
        session, site_id=factories.site(session).id, name="gw-badkey", mgmt_address="127.0.0.1",
        snmp_port=snmpd.port, snmp_version="v3", snmp_v3_user=snmpd.v3_user, snmp_v3_auth_key="wrong-auth-key",
        snmp_v3_priv_key=snmpd.priv_key,
    )
    polled = runner.invoke(app, ["poll", "gw-badkey"])
    assert polled.exit_code == 1
    assert "refused SNMPv3 user 'v3user'" in polled.output and "check the user, auth key" in polled.output
