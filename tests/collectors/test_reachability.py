"""SNMP silent vs unreachable: snmpsim with a wrong community against an address nothing answers, end to end.

Real SNMP probes (snmpsim), real fping (loopback and a namespace link), the alert rules with notifications
to a local Bot API, and the device pages in Indonesian.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from collectors.alerts import evaluate_alerts
from collectors.availability import check_availability
from collectors.notify.telegram import TelegramNotifier
from collectors.ping import Fping, ping_round
from collectors.snmp import MultiVersionClient
from netmgr.metrics import DisabledMetricsStore
from netmgr.models import Device
from netmgr.models.alerts import AlertKind
from netmgr.models.enums import DeviceStatus, Role
from netmgr.security.permissions import SYSTEM
from netmgr.services import devices, monitoring
from netmgr.services.reachability import Reachability, combine, device_reachability
from netmgr.settings import PingSettings, SnmpSettings
from tests import factories
from tests.conftest import make_settings
from tests.netmgr.web.helpers import login
from tests.servers.icmp import VethLink, veth_link
from tests.servers.process import ServerUnavailable, free_port, needed
from tests.servers.snmp import Agent
from tests.servers.telegram import BotApi, bot_api_server

T0 = datetime(2026, 3, 2, 7, 5, tzinfo=UTC)  # 14:05 WIB
TOKEN = "42:test-token"  # noqa: S105 - fake token for the local Bot API
PING = PingSettings(count=2, period_ms=50, timeout_ms=200)
SNMP = SnmpSettings(timeout_s=0.3, retries=0)


@pytest.mark.parametrize(("snmp", "ping", "expected"), [
    ("up", "unknown", Reachability.UP), ("up", "down", Reachability.UP),
    ("down", "up", Reachability.SNMP_SILENT), ("down", "down", Reachability.UNREACHABLE),
    ("down", "unknown", Reachability.UNREACHABLE), ("unknown", "up", Reachability.UP),
    ("unknown", "down", Reachability.UNREACHABLE), ("unknown", "unknown", Reachability.UNKNOWN)])
def test_reachability_combines_snmp_and_ping(snmp: str, ping: str, expected: Reachability) -> None:
    assert combine(snmp, ping) == expected


@pytest.fixture
def link() -> Iterator[VethLink]:
    try:
        with veth_link() as bed:
            yield bed
    except ServerUnavailable as exc:
        needed(str(exc))


@pytest.fixture
def bot() -> Iterator[BotApi]:
    with bot_api_server(TOKEN, {"-100"}) as api:
        yield api


def _round(factory: sessionmaker[Session], at: datetime) -> None:
    async def snmp_round() -> None:
        async with MultiVersionClient() as snmp:
            await check_availability(factory, snmp=snmp, settings=SNMP, tries=1, now=at)

    asyncio.run(snmp_round())
    ping_round(factory, pinger=Fping(PING), store=DisabledMetricsStore(), settings=PING, now=at)


@pytest.mark.netns
def test_wrong_community_is_snmp_silent_and_a_dead_address_is_unreachable_in_alerts_and_pages(
        session: Session, session_factory: sessionmaker[Session], client: TestClient, snmpsim: Agent,
        link: VethLink, bot: BotApi, tmp_path: Path) -> None:
    site = factories.site(session, name="Kantor Bupati")
    silent = factories.device(session, site_id=site.id, name="router-silent", mgmt_address="127.0.0.1",
                              snmp_port=snmpsim.port, snmp_community="wrong-community")
    dead = factories.device(session, site_id=site.id, name="router-dead", mgmt_address=link.silent,
                            snmp_port=free_port(), snmp_community="routeros")
    rules = make_settings(tmp_path / "rules", influx={"enabled": False})
    notifier = TelegramNotifier(token=TOKEN, chat_ids=["-100"], api_url=bot.url)

    _round(session_factory, T0)
    session.expire_all()
    silent_row, dead_row = session.get(Device, silent.id), session.get(Device, dead.id)
    assert silent_row is not None and dead_row is not None
    assert (silent_row.status, silent_row.ping_status) == (DeviceStatus.DOWN, DeviceStatus.UP)
    assert (dead_row.status, dead_row.ping_status) == (DeviceStatus.DOWN, DeviceStatus.DOWN)
    assert device_reachability(silent_row) == Reachability.SNMP_SILENT
    assert device_reachability(dead_row) == Reachability.UNREACHABLE

    evaluate_alerts(session_factory, store=None, notifiers=[notifier], settings=rules, now=T0 + timedelta(seconds=30))
    _round(session_factory, T0 + timedelta(seconds=60))
    result = evaluate_alerts(session_factory, store=None, notifiers=[notifier], settings=rules,
                             now=T0 + timedelta(seconds=120))
    assert sorted((c.kind, c.message.text.split(":")[1].split("(")[0].strip()) for c in result.opened) == [
        (AlertKind.DEVICE_DOWN, "router-dead"), (AlertKind.SNMP_SILENT, "router-silent")]
    dead_text, silent_text = sorted(bot.texts())
    assert dead_text.split("\n")[0] == "🔴 PERANGKAT MATI: router-dead (Kantor Bupati) tidak merespons sejak 14:05 WIB"
    assert silent_text.split("\n")[0] == ("🟠 SNMP TIDAK MENJAWAB: router-silent (Kantor Bupati) menjawab ping tetapi "
                                          "tidak SNMP sejak 14:05 WIB (periksa community, kredensial v3 atau ACL)")
    # each message carries its reason: the real fping round and the real SNMP client's error
    assert re.fullmatch(rf"Alasan: ping 0/3 balasan dari {re.escape(dead.mgmt_address)} pukul \d\d:\d\d WIB; "
                        rf"SNMP: no answer from {re.escape(dead.mgmt_address)}:\d+ .* pukul 14:05 WIB",
                        dead_text.split("\n")[1])
    assert re.fullmatch(r"Alasan: ping 3/3 balasan dari 127\.0\.0\.1 pukul \d\d:\d\d WIB; SNMP: no answer from "
                        r"127\.0\.0\.1:\d+ .* pukul 14:05 WIB; SNMP tidak menjawab padahal ping menjawab: community, "
                        r"kredensial v3 atau ACL ditolak\?", silent_text.split("\n")[1])

    factories.user(session, username="noc", role=Role.OPERATOR)
    login(client, "noc")
    silent_page = client.get(f"/devices/{silent.id}").text
    assert "SNMP tidak menjawab (periksa community, kredensial v3 atau ACL)" in silent_page
    assert 'class="badge partial reach-snmp_silent"' in silent_page
    dead_page = client.get(f"/devices/{dead.id}").text
    assert 'class="badge down reach-unreachable"' in dead_page and "tidak terjangkau" in dead_page
    listing = client.get("/devices").text
    overview = client.get("/").text  # the "devices down" list tells the silent one apart
    down_list = overview[overview.index('id="devices-down"'):]
    assert down_list.count("reach-snmp_silent") == 1 and down_list.count("reach-unreachable") == 1
    assert "reach-snmp_silent" in listing and "reach-unreachable" in listing
    read = devices.to_read(silent_row)  # what the API returns
    assert (read.reachability, read.status, read.ping_status) == ("snmp_silent", "down", "up")


def test_a_site_whose_device_answers_ping_but_not_snmp_is_not_down_on_the_status_map(session: Session) -> None:
    silent_site = factories.site(session, name="Kantor Camat")
    dead_site = factories.site(session, name="Puskesmas Baamang")
    silent = factories.device(session, site_id=silent_site.id, name="rb-camat")
    dead = factories.device(session, site_id=dead_site.id, name="rb-puskesmas")
    silent.status, silent.ping_status = DeviceStatus.DOWN, DeviceStatus.UP
    dead.status, dead.ping_status = DeviceStatus.DOWN, DeviceStatus.DOWN
    session.commit()
    states = {s.name: s for s in monitoring.site_states(session, SYSTEM)}
    assert (states["Kantor Camat"].health, states["Kantor Camat"].snmp_silent) == ("up", 1)
    assert (states["Puskesmas Baamang"].health, states["Puskesmas Baamang"].down) == ("down", 1)
