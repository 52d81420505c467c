"""The uplink SLA report from ping: a veth link taken down for ten hourly rounds, a far end with delay and loss.

Outage minutes are counted to the ping interval, latency and loss are compared with the contract's promises,
and the restitution is the monthly price in proportion to outage beyond the SLA, up to the contract's cap.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from collectors.ping import Fping, ping_round
from netmgr.metrics import DisabledMetricsStore
from netmgr.models import Uplink
from netmgr.models.enums import Role
from netmgr.security.permissions import SYSTEM
from netmgr.services import budget, monitoring
from netmgr.settings import PingSettings
from tests import factories
from tests.netmgr.web.helpers import login
from tests.servers.icmp import EchoResponder, VethLink, echo_responder, veth_link
from tests.servers.process import ServerUnavailable, needed

HOURLY = PingSettings(count=4, period_ms=60, timeout_ms=1000, interval_s=3600)
NOVEMBER = date(2026, 11, 1)
START = datetime(2026, 11, 10, 0, 0, tzinfo=UTC)


@pytest.fixture
def link() -> Iterator[VethLink]:
    try:
        with veth_link() as bed:
            yield bed
    except ServerUnavailable as exc:
        needed(str(exc))


@pytest.fixture
def lossy() -> Iterator[EchoResponder]:
    try:
        with echo_responder(delay_ms=30, drop_every=4) as responder:
            yield responder
    except ServerUnavailable as exc:
        needed(str(exc))


def test_restitution_is_pro_rata_beyond_the_sla_and_stops_at_the_cap() -> None:
    uplink = Uplink(monthly_price_idr=27_500_000, sla_restitution_cap_percent=10.0)
    assert budget.restitution(uplink, 168, 43_200) == 106_944  # 27.5 M x 168 / 43,200 = 106,944.4
    assert budget.restitution(uplink, 20_000, 43_200) == 2_750_000  # 46 % of the month, capped at 10 %
    assert budget.restitution(uplink, 0, 43_200) == 0
    assert budget.restitution(Uplink(monthly_price_idr=1, sla_restitution_cap_percent=None), 99, 43_200) is None


@pytest.mark.netns
@pytest.mark.slow
def test_sla_report_uses_ping_outage_latency_and_loss_with_restitution(
        session: Session, session_factory: sessionmaker[Session], client: TestClient, link: VethLink,
        lossy: EchoResponder) -> None:
    telkom = factories.uplink(session, name="Telkom Astinet", probe_address=link.far, sla_availability_percent=99.0,
                              sla_max_latency_ms=20, sla_max_loss_percent=1, sla_restitution_cap_percent=100)
    icon = factories.uplink(session, name="Icon+", probe_address=lossy.far, sla_availability_percent=99.0,
                            sla_max_latency_ms=20, sla_max_loss_percent=1, sla_restitution_cap_percent=100)
    unprobed = factories.uplink(session, name="Biznet", sla_availability_percent=99.5)
    # Hourly rounds: 5 up, the link down for 10 (600 minutes), 5 up again.
    for hour in range(20):
        if hour == 5:
            link.link_down()
        elif hour == 15:
            link.link_up()
        ping_round(session_factory, pinger=Fping(HOURLY), store=DisabledMetricsStore(), settings=HOURLY,
                   now=START + timedelta(hours=hour))

    entries = {e.uplink_id: e for e in budget.sla_report(session, SYSTEM, NOVEMBER, tz="Asia/Jakarta",
                                                        now=datetime(2026, 12, 5, tzinfo=UTC))}
    t = entries[telkom.id]
    assert (t.source, t.measured, t.minutes_in_month) == ("ping", True, 43_200)
    assert (t.minutes_down, t.allowed_minutes_down, t.excess_minutes_down) == (600.0, 432.0, 168.0)
    assert t.breached and t.availability_percent == pytest.approx(98.611, abs=0.001)
    assert t.restitution_idr == 106_944
    assert t.avg_latency_ms is not None and t.avg_latency_ms < 20 and not t.latency_breached
    assert t.avg_loss_percent == 50.0 and t.loss_breached  # 10 of 20 rounds lost every request

    i = entries[icon.id]
    assert (i.source, i.minutes_down, i.breached, i.restitution_idr) == ("ping", 0.0, False, 0)
    assert i.avg_latency_ms is not None and i.avg_latency_ms >= 30 and i.latency_breached
    # The far end drops every fourth request; a reply delayed past the timeout on a loaded machine adds a little.
    assert i.avg_loss_percent is not None and 25.0 <= i.avg_loss_percent <= 30.0 and i.loss_breached

    # The availability API measures the same way: 20 hourly rounds, 10 of them down.
    window = monitoring.uplink_availability(session, SYSTEM, telkom.id, start=START, end=START + timedelta(days=1))
    assert (window.source, window.minutes_up, window.minutes_down, window.minutes_unknown) == (
        "ping", 600.0, 600.0, 240.0)
    assert window.percent == 50.0
    router = monitoring.uplink_availability(session, SYSTEM, unprobed.id, start=START, end=START + timedelta(days=1))
    assert router.source == "router" and router.percent is None

    b = entries[unprobed.id]
    assert (b.source, b.measured, b.restitution_idr) == ("none", False, None)

    factories.user(session, username="keu", role=Role.FINANCE)
    login(client, "keu")
    html = client.get("/reports?month=2026-11").text
    row = html[html.index(f'<tr data-uplink="{telkom.id}">'):]
    row = row[:row.index("</tr>")]
    assert "Rp 106.944" in row and "ping ke ujung jauh" in row and "600" in row
