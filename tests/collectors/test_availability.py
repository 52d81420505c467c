"""Availability: real probes against snmpsim and a dead address, stored as device status and up/down events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collectors.availability import DeviceCheck, check_availability, probe
from collectors.snmp import MultiVersionClient, SnmpTarget
from netmgr.models import Device, DeviceEvent
from netmgr.models.enums import DeviceStatus
from netmgr.schemas.inventory import DeviceUpdate
from netmgr.security.permissions import SYSTEM
from netmgr.services import devices
from netmgr.settings import SnmpSettings
from tests import factories
from tests.servers.process import free_port
from tests.servers.snmp import Agent

FAST = SnmpSettings(timeout_s=0.3, retries=0)


def run_check(factory: sessionmaker[Session], when: datetime) -> dict[str, DeviceCheck]:
    async def work() -> list[DeviceCheck]:
        async with MultiVersionClient() as snmp:
            return await check_availability(factory, snmp=snmp, settings=FAST, tries=2, now=when)

    return {r.name: r for r in asyncio.run(work())}


def test_probe_measures_latency_and_loss(snmpsim: Agent) -> None:
    async def work() -> tuple[object, object]:
        async with MultiVersionClient() as snmp:
            up = await probe(SnmpTarget(snmpsim.host, snmpsim.port, community="routeros", timeout=1), snmp=snmp)
            down = await probe(SnmpTarget("127.0.0.2", free_port(), community="x", timeout=0.2), snmp=snmp, tries=2)
            return up, down

    up, down = asyncio.run(work())
    assert up.up and up.answered == 3 and up.loss_percent == 0 and up.uptime_s == 20204  # type: ignore[attr-defined]
    assert up.latency_ms is not None and 0 < up.latency_ms < 1000  # type: ignore[attr-defined]
    assert not down.up and down.loss_percent == 100 and "no answer from 127.0.0.2" in down.error  # type: ignore[attr-defined]


def test_status_changes_are_stored_once_with_events(session: Session, session_factory: sessionmaker[Session],
                                                   snmpsim: Agent) -> None:
    site = factories.site(session)
    up = factories.device(session, site_id=site.id, name="router-up", mgmt_address="127.0.0.1",
                          snmp_port=snmpsim.port, snmp_community="routeros")
    factories.device(session, site_id=site.id, name="router-dead", mgmt_address="127.0.0.2", snmp_port=free_port(),
                     snmp_community="routeros")
    t1 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

    first = run_check(session_factory, t1)
    assert (first["router-up"].status, first["router-up"].changed) == (DeviceStatus.UP, True)
    assert (first["router-dead"].status, first["router-dead"].changed) == (DeviceStatus.DOWN, True)
    assert "wrong community or agent down?" in first["router-dead"].error

    second = run_check(session_factory, datetime(2026, 11, 22, 8, 1, tzinfo=UTC))
    assert not second["router-up"].changed and not second["router-dead"].changed

    session.expire_all()
    row = session.get(Device, up.id)
    assert row is not None and row.status == DeviceStatus.UP and row.last_latency_ms is not None
    assert row.status_changed_at is not None and row.status_changed_at.replace(tzinfo=UTC) == t1
    events = list(session.scalars(select(DeviceEvent).order_by(DeviceEvent.id)))
    assert [(e.device_id == up.id, e.kind) for e in events] == [(True, "up"), (False, "down")]
    assert events[1].latency_ms is None and "no answer from 127.0.0.2" in events[1].detail

    # The community is changed on the device but not in netmgr: it goes down with the reason recorded.
    devices.update_device(session, SYSTEM, up.id, DeviceUpdate.model_validate({"snmp_community": "wrong"}))
    session.commit()
    third = run_check(session_factory, datetime(2026, 11, 22, 8, 2, tzinfo=UTC))
    assert (third["router-up"].status, third["router-up"].changed) == (DeviceStatus.DOWN, True)
    session.expire_all()
    last = session.scalars(select(DeviceEvent).order_by(DeviceEvent.id.desc())).first()
    assert last is not None and (last.device_id, last.kind) == (up.id, "down")
    row = session.get(Device, up.id)
    assert row is not None and row.last_latency_ms is None and row.last_seen_at is not None


def test_devices_without_snmp_credentials_are_not_probed(session: Session,
                                                          session_factory: sessionmaker[Session]) -> None:
    row = factories.device(session, site_id=factories.site(session).id, name="no-snmp")
    row.snmp_community_encrypted = None  # e.g. a row written before SNMP was configured
    session.commit()
    assert run_check(session_factory, datetime(2026, 11, 22, tzinfo=UTC)) == {}


def test_celery_task_checks_every_device_by_name(session: Session, snmpsim: Agent, database_url: str,
                                                 tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from collectors.tasks import check_availability_task
    from netmgr.settings import get_settings
    from tests.conftest import TEST_ENCRYPTION_KEY

    factories.device(session, site_id=factories.site(session).id, name="ap-taman", mgmt_address="127.0.0.1",
                     snmp_port=snmpsim.port, snmp_community="unifi")
    for key, value in {"NETMGR_ENVIRONMENT": "test", "NETMGR_DATA_DIR": str(tmp_path),
                       "NETMGR_DATABASE_URL": database_url, "NETMGR_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
                       "NETMGR_SNMP__TIMEOUT_S": "0.5"}.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        assert check_availability_task.name == "collectors.check_availability"
        outcome = check_availability_task.run(tries=1)
    finally:
        get_settings.cache_clear()
    assert outcome == {"checked": 1, "up": 1, "down": 0,
                       "changed": [{"device_id": outcome["changed"][0]["device_id"], "name": "ap-taman",
                                    "status": "up", "error": ""}]}
