"""Accounting, stale-session cleanup, quota enforcement and retention, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from captive_portal import aaa, decisions, sessions
from netmgr.models import HotspotSession, LoginAttempt
from netmgr.models.hotspot import SessionStatus
from tests.captive_portal.hotspot_data import add_voucher, client_at, seed_hotspot

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # 10:00 WIB
CFG = aaa.AaaConfig(timezone="Asia/Jakarta")


def _body(status: str, sid: str, user: str = "", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Acct-Status-Type": {"type": "integer", "value": [status]},
        "Acct-Session-Id": {"type": "string", "value": [sid]},
        "NAS-IP-Address": {"type": "ipaddr", "value": ["127.0.0.1"]},
        "Calling-Station-Id": {"type": "string", "value": ["46-12-1F-20-79-D7"]},
    }
    if user:
        body["User-Name"] = {"type": "string", "value": [user]}
    for key, value in extra.items():
        body[key.replace("_", "-")] = {"type": "integer", "value": [value]}
    return body


def _accounting(session: Session, body: dict[str, Any], **kwargs: Any) -> sessions.AccountingOutcome:
    """``aaa.accounting`` from the RADIUS client at the body's NAS-IP-Address, as FreeRADIUS would call it."""
    return aaa.accounting(session, CFG, body, client=client_at(session, body["NAS-IP-Address"]["value"][0]),
                          **kwargs)


def _row(session: Session, sid: str) -> HotspotSession:
    row = session.scalar(select(HotspotSession).where(HotspotSession.acct_session_id == sid))
    assert row is not None
    return row


def test_interim_without_start_creates_the_session_backdated_by_its_session_time(session: Session) -> None:
    seed_hotspot(session)

    _accounting(session, _body("Interim-Update", "s-1", Acct_Session_Time=120, Acct_Input_Octets=10),
                   store=None, now=T0)

    row = _row(session, "s-1")
    assert row.status == SessionStatus.ACTIVE and row.input_octets == 10
    assert row.started_at == T0 - timedelta(seconds=120)


def test_counters_never_go_back_on_a_reordered_interim(session: Session) -> None:
    seed_hotspot(session)
    _accounting(session, _body("Start", "s-2"), store=None, now=T0)
    _accounting(session, _body("Interim-Update", "s-2", Acct_Input_Octets=500, Acct_Input_Gigawords=1),
                   store=None, now=T0 + timedelta(seconds=60))

    _accounting(session, _body("Interim-Update", "s-2", Acct_Input_Octets=100), store=None,
                   now=T0 + timedelta(seconds=61))

    assert _row(session, "s-2").input_octets == 2**32 + 500


def test_session_silent_for_two_and_a_half_intervals_is_closed_as_stale(session: Session) -> None:
    seed_hotspot(session)
    _accounting(session, _body("Start", "s-old", Acct_Interim_Interval=60), store=None, now=T0)
    _accounting(session, _body("Start", "s-fresh", Acct_Interim_Interval=60), store=None,
                   now=T0 + timedelta(seconds=100))

    closed = sessions.close_stale_sessions(session, now=T0 + timedelta(seconds=151), factor=2.5)

    assert closed == [_row(session, "s-old").id]
    old = _row(session, "s-old")
    assert (old.status, old.close_reason) == (SessionStatus.CLOSED, "stale")
    assert old.stopped_at == T0  # it ended when it was last heard of
    assert _row(session, "s-fresh").status == SessionStatus.ACTIVE


def test_session_just_inside_its_grace_is_kept(session: Session) -> None:
    seed_hotspot(session)
    _accounting(session, _body("Start", "s-3", Acct_Interim_Interval=300), store=None, now=T0)

    assert sessions.close_stale_sessions(session, now=T0 + timedelta(seconds=749), factor=2.5) == []
    assert sessions.close_stale_sessions(session, now=T0 + timedelta(seconds=750), factor=2.5) != []


def test_accounting_off_closes_only_that_nas_sessions(session: Session) -> None:
    seed_hotspot(session)
    other = seed_hotspot(session, nas_address="10.20.0.1")
    _accounting(session, _body("Start", "mine"), store=None, now=T0)
    theirs = _body("Start", "theirs")
    theirs["NAS-IP-Address"]["value"] = [other.nas.mgmt_address]
    _accounting(session, theirs, store=None, now=T0)

    outcome = _accounting(session, _body("Accounting-Off", "0"), store=None, now=T0)

    assert outcome.closed_sessions == 1
    assert _row(session, "mine").close_reason == "nas_reboot"
    assert _row(session, "theirs").status == SessionStatus.ACTIVE


def test_accounting_off_claiming_another_gateways_address_closes_nothing(session: Session) -> None:
    seed_hotspot(session)
    other = seed_hotspot(session, nas_address="10.21.0.1")
    theirs = _body("Start", "theirs")
    theirs["NAS-IP-Address"]["value"] = [other.nas.mgmt_address]
    _accounting(session, theirs, store=None, now=T0)
    spoofed = _body("Accounting-Off", "0")
    spoofed["NAS-IP-Address"]["value"] = [other.nas.mgmt_address]

    outcome = aaa.accounting(session, CFG, spoofed, client=client_at(session, "127.0.0.1"), store=None, now=T0)

    assert outcome.closed_sessions == 0
    assert _row(session, "theirs").status == SessionStatus.ACTIVE


def test_person_over_daily_quota_on_two_devices_is_disconnected_by_enforcement(session: Session) -> None:
    seeded = seed_hotspot(session, max_devices=2, person_daily_bytes=1000, person_daily_time_s=None)
    add_voucher(session, seeded.batch, "TWODEV01")
    for sid, mac in (("d-1", "46-12-1F-20-79-D7"), ("d-2", "AA-BB-CC-DD-EE-02")):
        body = _body("Start", sid, "TWODEV01")
        body["Calling-Station-Id"]["value"] = [mac]
        _accounting(session, body, store=None, now=T0)
    # Each session alone stays within the 1000 octets it was allowed at start; together they do not.
    for sid, mac in (("d-1", "46-12-1F-20-79-D7"), ("d-2", "AA-BB-CC-DD-EE-02")):
        body = _body("Interim-Update", sid, "TWODEV01", Acct_Output_Octets=600)
        body["Calling-Station-Id"]["value"] = [mac]
        assert _accounting(session, body, store=None, now=T0 + timedelta(seconds=60)).disconnect is None

    orders = sessions.enforce_quotas(session, now=T0 + timedelta(seconds=61), timezone="Asia/Jakarta",
                                     default_coa_port=3799)

    assert sorted(o.acct_session_id for o in orders) == ["d-1", "d-2"]
    assert {o.nas_address for o in orders} == {"127.0.0.1"}
    assert all(o.reason == "person_data_used" for o in orders)
    # Asking again within a minute does not repeat the Disconnect-Requests.
    assert sessions.enforce_quotas(session, now=T0 + timedelta(seconds=90), timezone="Asia/Jakarta",
                                   default_coa_port=3799) == []


def test_purge_deletes_personal_data_past_retention_only(session: Session) -> None:
    seed_hotspot(session)
    _accounting(session, _body("Start", "ancient"), store=None, now=T0 - timedelta(days=100))
    _accounting(session, _body("Stop", "ancient"), store=None, now=T0 - timedelta(days=100))
    _accounting(session, _body("Start", "recent"), store=None, now=T0)
    for name, at in (("x", T0 - timedelta(days=8)), ("y", T0)):
        decisions.record_attempt(session, hotspot_id=None, username=name, mac="", ip="", success=False, now=at)

    counts = sessions.purge_expired_data(session, now=T0, session_retention_days=90, attempt_retention_days=7)

    assert counts["sessions"] == 1 and counts["login_attempts"] == 1
    assert [r.acct_session_id for r in session.scalars(select(HotspotSession))] == ["recent"]
    assert [a.username for a in session.scalars(select(LoginAttempt))] == ["y"]


@given(st.lists(st.integers(0, 2**31 - 1), min_size=1, max_size=40))
def test_32_bit_counters_without_gigawords_add_up_to_the_true_total_despite_wraps_and_late_copies(
        increments: list[int]) -> None:
    true_total = stored = previous = 0
    for step in increments:  # less than 2 GiB between two reports: a wrap is never ambiguous
        true_total += step
        stored = sessions.advance_octets(stored, true_total % 2**32, wraps=True)
        # The previous report arriving again, late, changes nothing.
        assert sessions.advance_octets(stored, previous % 2**32, wraps=True) == stored
        previous = true_total

    assert stored == min(true_total, sessions.MAX_SESSION_OCTETS)


@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
def test_counters_with_gigawords_never_go_back_and_stay_storable(stored: int, reported: int) -> None:
    stored = min(stored, sessions.MAX_SESSION_OCTETS)

    total = sessions.advance_octets(stored, reported, wraps=False)

    assert stored <= total <= sessions.MAX_SESSION_OCTETS
