"""captive_portal.management's rules: opening hours in the installation's zone, and what a tightened policy
does to the sessions online under it (devices at once, closing time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from captive_portal import coa, management
from captive_portal.schemas import PolicyUpdate
from netmgr.models import HotspotPolicy, HotspotSession, Subscriber
from netmgr.models.hotspot import LoginMethod, NasDialect, SessionStatus
from netmgr.security.permissions import SYSTEM
from tests.captive_portal.hotspot_data import NAS_SECRET, Seeded, seed_hotspot
from tests.servers.freeradius import fake_nas
from tests.zones import ZONES


@pytest.mark.parametrize(("start", "end", "local_hour", "open_"), [
    ("06:00", "22:00", 5, False), ("06:00", "22:00", 6, True), ("06:00", "22:00", 21, True),
    ("06:00", "22:00", 22, False), ("22:00", "06:00", 23, True), ("22:00", "06:00", 3, True),
    ("22:00", "06:00", 12, False), (None, None, 3, True),
])
@pytest.mark.parametrize("tz", ZONES)
def test_opening_hours_are_local_and_may_run_overnight(start: str | None, end: str | None, local_hour: int,
                                                       open_: bool, tz: str) -> None:
    from zoneinfo import ZoneInfo

    policy = HotspotPolicy(name="p", opening_start=start, opening_end=end)
    now = datetime(2026, 6, 1, local_hour, 30, tzinfo=ZoneInfo(tz)).astimezone(UTC)
    assert management.is_open(policy, now=now, timezone=tz) is open_


def _online(session: Session, seeded: Seeded, n: int, *, subscriber_id: int | None, minutes_ago: int) -> None:
    hotspot = seeded.hotspot
    session.add(HotspotSession(hotspot_id=hotspot.id, nas_device_id=hotspot.gateway_device_id,
                               acct_session_id=f"S{n}", mac=f"02:00:00:00:00:0{n}", status=SessionStatus.ACTIVE,
                               policy_id=hotspot.default_policy_id, subscriber_id=subscriber_id,
                               started_at=datetime.now(UTC) - timedelta(minutes=minutes_ago)))


def test_fewer_devices_at_once_disconnects_the_newest_devices(session: Session) -> None:
    seeded = seed_hotspot(session, max_devices=3)
    person = Subscriber(identity="voucher:ABCD1234", kind=LoginMethod.VOUCHER)
    session.add(person)
    session.flush()
    for n, ago in enumerate((30, 20, 10)):
        _online(session, seeded, n, subscriber_id=person.id, minutes_ago=ago)
    session.commit()

    change = management.update_policy(session, SYSTEM, seeded.policy.id, PolicyUpdate(max_devices=1),
                                      now=datetime.now(UTC), timezone="Asia/Jakarta", default_coa_port=3799)

    assert sorted(o.acct_session_id for o in change.orders) == ["S1", "S2"]  # the first device stays online
    assert change.affected == 2 and all(o.reason == "too_many_devices" for o in change.orders)


def test_closing_the_hotspot_now_disconnects_everyone_under_the_policy(session: Session) -> None:
    seeded = seed_hotspot(session)
    _online(session, seeded, 1, subscriber_id=None, minutes_ago=5)
    session.commit()
    now = datetime.now(UTC)
    local = management.localtime.to_local(now, "Asia/Jakarta")
    closed_from = (local + timedelta(hours=1)).strftime("%H:%M")  # opens in an hour, closes in two
    closed_until = (local + timedelta(hours=2)).strftime("%H:%M")

    change = management.update_policy(session, SYSTEM, seeded.policy.id,
                                      PolicyUpdate(opening_start=closed_from, opening_end=closed_until), now=now,
                                      timezone="Asia/Jakarta", default_coa_port=3799)

    assert [(o.acct_session_id, o.reason) for o in change.orders] == [("S1", "closed_hours")]
    row = session.scalar(select(HotspotSession).where(HotspotSession.acct_session_id == "S1"))
    assert row is not None and row.disconnect_result == "pending"


def test_at_closing_time_the_periodic_check_disconnects_sessions_under_the_policy(session: Session) -> None:
    seeded = seed_hotspot(session)
    _online(session, seeded, 1, subscriber_id=None, minutes_ago=5)
    other = seed_hotspot(session, nas_address="127.0.0.2")  # no opening hours: never closed
    _online(session, other, 2, subscriber_id=None, minutes_ago=5)
    policy = session.get_one(HotspotPolicy, seeded.policy.id)
    policy.opening_start, policy.opening_end = "06:00", "22:00"
    session.commit()
    open_at = datetime(2026, 6, 1, 14, 0, tzinfo=UTC)  # 21:00 WIB
    closed_at = datetime(2026, 6, 1, 15, 1, tzinfo=UTC)  # 22:01 WIB

    assert management.close_for_opening_hours(session, now=open_at, timezone="Asia/Jakarta",
                                              default_coa_port=3799) == []
    orders = management.close_for_opening_hours(session, now=closed_at, timezone="Asia/Jakarta",
                                                default_coa_port=3799)
    assert [(o.acct_session_id, o.reason) for o in orders] == [("S1", "closed_hours")]
    again = management.close_for_opening_hours(session, now=closed_at + timedelta(seconds=5),
                                               timezone="Asia/Jakarta", default_coa_port=3799)
    assert again == []  # asked once; repeated only after the retry interval


@pytest.mark.parametrize(("dialect", "expected"), [
    (NasDialect.MIKROTIK, {"Mikrotik-Rate-Limit": ["1000k/2000k"]}),
    (NasDialect.COOVACHILLI, {"WISPr-Bandwidth-Max-Down": [2_000_000], "WISPr-Bandwidth-Max-Up": [1_000_000]}),
])
def test_slower_rates_reach_sessions_online_as_a_coa_request(session: Session, dialect: NasDialect,
                                                            expected: dict[str, list[object]]) -> None:
    """The CoA-Request goes to a pyrad NAS over UDP, as a gateway would receive it."""
    with fake_nas(NAS_SECRET) as nas:
        seeded = seed_hotspot(session, dialect=dialect, coa_port=nas.port)
        _online(session, seeded, 1, subscriber_id=None, minutes_ago=5)
        session.commit()

        change = management.update_policy(session, SYSTEM, seeded.policy.id,
                                          PolicyUpdate(rate_down_kbps=2000, rate_up_kbps=1000),
                                          now=datetime.now(UTC), timezone="Asia/Jakarta", default_coa_port=3799)
        assert change.orders == [] and len(change.rate_changes) == 1
        rate = change.rate_changes[0]
        result = coa.change_rates(rate.order, rate.attributes, timeout_s=2, retries=1)

        assert result.acked
        received = nas.wait_for(1)
        assert [r["kind"] for r in received] == ["coa"]
        attributes = received[0]["attributes"]
        assert attributes["Acct-Session-Id"] == ["S1"]
        assert {k: attributes[k] for k in expected} == expected
        assert "Session-Timeout" not in attributes
