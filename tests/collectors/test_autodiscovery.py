"""Auto-discovery: devices added to the inventory get their interfaces without anyone running a command."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from collectors.autodiscovery import AutoDiscoveryResult, devices_to_discover, discover_inventory
from collectors.snmp import MultiVersionClient
from netmgr.models import AuditLog, Interface
from netmgr.settings import SnmpSettings
from tests import factories
from tests.servers.process import free_port
from tests.servers.snmp import Agent

FAST = SnmpSettings(timeout_s=0.5, retries=0)


def run(factory: sessionmaker[Session], *, only_new: bool) -> AutoDiscoveryResult:
    async def work() -> AutoDiscoveryResult:
        async with MultiVersionClient() as snmp:
            return await discover_inventory(factory, snmp=snmp, settings=FAST, only_new=only_new, deadline_s=20)
    return asyncio.run(work())


def interface_count(session: Session, device_id: int) -> int:
    return session.scalar(select(func.count()).where(Interface.device_id == device_id)) or 0


def test_new_devices_get_their_interfaces_and_a_silent_one_does_not_hold_them_up(
        session: Session, session_factory: sessionmaker[Session], snmpsim: Agent) -> None:
    site = factories.site(session)
    router = factories.device(session, site_id=site.id, name="rb-kecamatan", mgmt_address="127.0.0.1",
                              snmp_port=snmpsim.port, snmp_community="routeros")
    silent = factories.device(session, site_id=site.id, name="ap-mati", mgmt_address="127.0.0.2",
                              snmp_port=free_port(), snmp_community="routeros")

    first = run(session_factory, only_new=True)

    assert first.discovered == ["rb-kecamatan"]
    assert "ap-mati" in first.failed and "no answer" in first.failed["ap-mati"]
    session.expire_all()
    assert interface_count(session, router.id) == 12  # the recording's ifTable, pppoe-out1 included
    assert interface_count(session, silent.id) == 0
    assert session.scalar(select(func.count()).where(AuditLog.action == "discover")) == 1

    # Only devices still without interfaces are tried again; the daily run covers every device.
    assert devices_to_discover(session, only_new=True) == [silent.id]
    assert set(devices_to_discover(session, only_new=False)) == {router.id, silent.id}
    again = run(session_factory, only_new=False)
    assert again.discovered == ["rb-kecamatan"] and list(again.failed) == ["ap-mati"]
    session.expire_all()
    assert interface_count(session, router.id) == 12
