"""Accounting (``captive_portal.accounting``, one implementation for a request alone and for a batch) and the AAA
hot path: a day of a gateway's updates leaves the right sessions in batches of any size, a replay changes
nothing, the worker commits before it answers and isolates a failing request, and the NAS cache expires.
On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from captive_portal import aaa, sessions
from captive_portal.accounting import AccountingItem, AccountingSettings, apply_accounting_batch
from captive_portal.fastpath import AaaWorker
from netmgr.models import Hotspot, HotspotSession
from netmgr.models.hotspot import SessionStatus
from tests.captive_portal.hotspot_data import add_voucher, client_at, seed_hotspot

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
CFG = aaa.AaaConfig(timezone="Asia/Jakarta")
COMPARED = ("status", "input_octets", "output_octets", "session_time_s", "ip", "interim_interval_s",
            "allowance_bytes", "allowance_time_s", "terminate_cause", "close_reason", "stopped_at",
            "last_update_at", "started_at", "subscriber_id", "voucher_id", "policy_id")

SETTINGS = AccountingSettings(timezone="Asia/Jakarta")


def _body(status: str, sid: str, nas_ip: str, user: str = "", ip: str = "", **counters: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Acct-Status-Type": {"type": "integer", "value": [status]},
        "Acct-Session-Id": {"type": "string", "value": [sid]},
        "NAS-IP-Address": {"type": "ipaddr", "value": [nas_ip]},
        "Calling-Station-Id": {"type": "string", "value": ["46-12-1F-20-79-D7"]},
    }
    if user:
        body["User-Name"] = {"type": "string", "value": [user]}
    if ip:
        body["Framed-IP-Address"] = {"type": "ipaddr", "value": [ip]}
    for key, value in counters.items():
        body[key.replace("_", "-")] = {"type": "integer", "value": [value]}
    return body


# A day of one gateway: two sessions, gigawords, a reordered interim, a Stop, a late interim after the Stop,
# an interim for a session netmgr never saw start, and an update that uses up the 6 GiB allowance.
SCRIPT: list[tuple[int, str, str, dict[str, Any]]] = [
    (0, "Start", "a", {"ip": "192.168.201.10"}),
    (1, "Start", "b", {}),
    (60, "Interim-Update", "a", {"Acct_Input_Octets": 500, "Acct_Input_Gigawords": 1, "Acct_Session_Time": 60}),
    (61, "Interim-Update", "b", {"Acct_Output_Octets": 7000, "Acct_Session_Time": 60, "ip": "192.168.201.11"}),
    (62, "Interim-Update", "a", {"Acct_Input_Octets": 100, "Acct_Session_Time": 30}),
    (120, "Interim-Update", "b", {"Acct_Output_Octets": 9000, "Acct_Session_Time": 119,
                                   "Acct_Interim_Interval": 120}),
    (121, "Interim-Update", "c", {"Acct_Input_Octets": 10, "Acct_Session_Time": 300}),
    (180, "Stop", "a", {"Acct_Input_Octets": 900, "Acct_Input_Gigawords": 1, "Acct_Session_Time": 180,
                        "Acct_Terminate_Cause": 1}),
    (181, "Interim-Update", "a", {"Acct_Input_Octets": 999, "Acct_Input_Gigawords": 1, "Acct_Session_Time": 181}),
    (240, "Interim-Update", "b", {"Acct_Output_Octets": 2**31 + 1, "Acct_Output_Gigawords": 1,
                                   "Acct_Session_Time": 240}),
]


def _requests(nas_ip: str, user: str) -> list[tuple[datetime, dict[str, Any]]]:
    out = []
    for offset, status, sid, extra in SCRIPT:
        extra = dict(extra)
        ip = extra.pop("ip", "")
        out.append((T0 + timedelta(seconds=offset), _body(status, sid, nas_ip, user=user, ip=ip, **extra)))
    return out


def _rows(session: Session, nas_device_id: int) -> dict[str, tuple[Any, ...]]:
    rows = session.scalars(select(HotspotSession).where(HotspotSession.nas_device_id == nas_device_id))
    return {r.acct_session_id: tuple(getattr(r, name) for name in COMPARED) for r in rows}


def _items(session: Session, requests: list[tuple[datetime, dict[str, Any]]]) -> list[AccountingItem]:
    items = []
    for now, body in requests:
        client = client_at(session, body["NAS-IP-Address"]["value"][0])
        req = aaa.parse_accounting_request(body, now=now, client=client)
        assert req is not None
        nas = sessions.find_nas(session, client=req.client, nas_ip=req.nas_ip, nas_identifier=req.nas_identifier)
        assert nas is not None
        items.append(AccountingItem(nas=nas, rec=req.rec, now=now))
    return items


@pytest.mark.parametrize("batch_size", [1, 3, len(SCRIPT)])
def test_a_day_of_accounting_leaves_the_same_sessions_in_batches_of_any_size(session: Session,
                                                                              batch_size: int) -> None:
    bed = seed_hotspot(session, nas_address="10.2.0.1")
    add_voucher(session, bed.batch, "FASTPAT1")

    items = _items(session, _requests("10.2.0.1", "FASTPAT1"))
    outcomes = []
    for start in range(0, len(items), batch_size):
        outcomes.extend(apply_accounting_batch(session, items[start:start + batch_size], SETTINGS))
        session.commit()
    session.expire_all()

    rows = {sid: dict(zip(COMPARED, row, strict=True)) for sid, row in _rows(session, bed.nas.id).items()}
    assert set(rows) == {"a", "b", "c"}
    a, b, c = rows["a"], rows["b"], rows["c"]
    # a: the reordered interim and the interim after the Stop changed nothing.
    assert (a["status"], a["close_reason"], a["terminate_cause"]) == (SessionStatus.CLOSED, "stop", "1")
    assert (a["input_octets"], a["output_octets"], a["session_time_s"]) == (2**32 + 900, 0, 180)
    assert a["stopped_at"] == a["last_update_at"] == T0 + timedelta(seconds=180)
    assert a["ip"] == "192.168.201.10"
    # b: the interim interval and address it reported, and 6 GiB + 1 byte: over its allowance.
    assert (b["status"], b["output_octets"], b["session_time_s"]) == (SessionStatus.ACTIVE, 2**32 + 2**31 + 1, 240)
    assert (b["ip"], b["interim_interval_s"], b["allowance_bytes"]) == ("192.168.201.11", 120, 6 * 2**30)
    # c: never seen starting; it started when its session time says.
    assert c["started_at"] == T0 + timedelta(seconds=121 - 300)
    assert (c["input_octets"], c["voucher_id"] is not None) == (10, True)
    # Usage points carry each update's increase once: per session they add up to its counters.
    for sid, row in rows.items():
        sent = [p.fields for o in outcomes for p in o.points
                if p.measurement == "hotspot_session" and p.fields["session"] == sid]
        assert sum(int(f["input_octets"]) for f in sent) == row["input_octets"], sid
        assert sum(int(f["output_octets"]) for f in sent) == row["output_octets"], sid
    assert [o.disconnect.acct_session_id for o in outcomes if o.disconnect is not None] == ["b"]
    assert outcomes[-1].disconnect is not None


def test_a_replayed_batch_changes_nothing_and_writes_no_usage(session: Session) -> None:
    bed = seed_hotspot(session, nas_address="10.2.0.2")
    add_voucher(session, bed.batch, "REPLAY01")
    items = _items(session, _requests("10.2.0.2", "REPLAY01"))
    apply_accounting_batch(session, items, SETTINGS)
    session.commit()
    session.expire_all()
    before = _rows(session, bed.nas.id)

    again = apply_accounting_batch(session, items, SETTINGS)
    session.commit()
    session.expire_all()

    assert _rows(session, bed.nas.id) == before
    moved = [p for o in again for p in o.points if p.measurement == "hotspot_usage"
             and (p.fields["input_octets"] or p.fields["output_octets"])]
    assert moved == []


@pytest.mark.parametrize("path", ["one-by-one", "batched"])
def test_a_session_over_its_allowance_gets_one_disconnect_per_retry_interval(session: Session, path: str) -> None:
    bed = seed_hotspot(session, nas_address="10.2.0.3", person_daily_bytes=1000, coa_port=3799)
    script = [(0, _body("Start", "q", "10.2.0.3")),
              (60, _body("Interim-Update", "q", "10.2.0.3", Acct_Input_Octets=2000, Acct_Session_Time=60)),
              (61, _body("Interim-Update", "q", "10.2.0.3", Acct_Input_Octets=3000, Acct_Session_Time=61)),
              (200, _body("Interim-Update", "q", "10.2.0.3", Acct_Input_Octets=4000, Acct_Session_Time=200))]
    outcomes = _apply(path, session, bed.nas.name, script)

    assert [o.disconnect is not None for o in outcomes] == [False, True, False, True]
    row = _session(session, "q")
    assert (row.input_octets, row.disconnect_result) == (4000, "pending")
    assert row.disconnect_requested_at == T0 + timedelta(seconds=200)


def test_worker_answers_every_request_of_a_batch_after_one_commit(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s:
        client = seed_hotspot(s).nas.name
    worker = AaaWorker(session_factory, max_batch=64, settings=SETTINGS)
    gate = threading.Event()
    seen_by_another_session: list[int] = []

    def hold(_: Session) -> str:
        gate.wait(10)
        return "held"

    def count_rows(_: Session) -> int:
        with session_factory() as other:  # outside the batch's transaction: sees only committed rows
            seen_by_another_session.append(len(list(other.scalars(select(HotspotSession)))))
        return 0

    async def scenario() -> list[Any]:
        first = asyncio.ensure_future(worker.run(hold))
        await asyncio.sleep(0.2)  # the worker is now inside the first batch, holding it
        rest = [worker.accounting(req) for req in _acct_requests(20, client)]
        later = asyncio.gather(*rest, worker.run(count_rows))
        await asyncio.sleep(0.2)
        gate.set()
        return [await first, *(await later)]

    try:
        results = asyncio.run(scenario())
    finally:
        worker.stop()

    assert results[0] == "held"
    assert all(r.session_id is not None for r in results[1:21])
    assert seen_by_another_session == [0]  # the batch's 20 new sessions were not committed yet
    assert worker.stats.batches == 2 and worker.stats.largest_batch == 21
    with session_factory() as s:
        assert len(list(s.scalars(select(HotspotSession)))) == 20


def test_a_failing_request_gets_its_error_and_the_rest_of_its_batch_commits(
        session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s:
        client = seed_hotspot(s).nas.name
    worker = AaaWorker(session_factory, settings=SETTINGS)
    gate = threading.Event()

    def hold(_: Session) -> None:
        gate.wait(10)

    def broken(_: Session) -> None:
        raise RuntimeError("boom")

    async def scenario() -> list[Any]:
        first = asyncio.ensure_future(worker.run(hold))
        await asyncio.sleep(0.2)
        batch = asyncio.gather(*(worker.accounting(r) for r in _acct_requests(3, client)), worker.run(broken),
                               return_exceptions=True)
        await asyncio.sleep(0.2)
        gate.set()
        await first
        return list(await batch)

    try:
        results = asyncio.run(scenario())
    finally:
        worker.stop()

    assert isinstance(results[3], RuntimeError)
    assert all(r.session_id is not None for r in results[:3])
    assert worker.stats.retried_batches == 1
    with session_factory() as s:
        assert sorted(r.acct_session_id for r in s.scalars(select(HotspotSession))) == ["w-0", "w-1", "w-2"]


def test_nas_cache_sees_a_disabled_hotspot_only_after_its_ttl(session: Session) -> None:
    seeded = seed_hotspot(session)
    clock = [100.0]
    cache = sessions.NasCache(ttl_s=10, clock=lambda: clock[0])
    assert cache.find(session, client=seeded.nas.name, nas_ip="127.0.0.1", nas_identifier=None) is not None

    hotspot = session.get(Hotspot, seeded.hotspot.id)
    assert hotspot is not None
    hotspot.enabled = False
    session.commit()

    cached = cache.find(session, client=seeded.nas.name, nas_ip="127.0.0.1", nas_identifier=None)
    clock[0] += 10.5
    fresh = cache.find(session, client=seeded.nas.name, nas_ip="127.0.0.1", nas_identifier=None)
    assert cached is not None and cached.enabled
    assert fresh is not None and not fresh.enabled


def _acct_requests(n: int, client: str) -> list[Any]:
    out = []
    for i in range(n):
        req = aaa.parse_accounting_request(_body("Start", f"w-{i}", "127.0.0.1"), now=T0, client=client)
        assert req is not None
        out.append(req)
    return out


def _apply(path: str, session: Session, nas_name: str,
           script: list[tuple[int, dict[str, Any]]]) -> list[sessions.AccountingOutcome]:
    """``script`` one request per transaction (as ``aaa.accounting``), or the Start alone and the rest in one batch."""
    if path == "one-by-one":
        outcomes = []
        for offset, body in script:
            outcomes.append(aaa.accounting(session, CFG, body, client=nas_name, store=None,
                                           now=T0 + timedelta(seconds=offset)))
            session.commit()
        return outcomes
    items = []
    for offset, body in script:
        req = aaa.parse_accounting_request(body, now=T0 + timedelta(seconds=offset), client=nas_name)
        assert req is not None
        nas = sessions.find_nas(session, client=nas_name, nas_ip=req.nas_ip, nas_identifier=None)
        assert nas is not None
        items.append(AccountingItem(nas=nas, rec=req.rec, now=req.now))
    outcomes = apply_accounting_batch(session, items[:1], SETTINGS)
    session.commit()
    outcomes += apply_accounting_batch(session, items[1:], SETTINGS)
    session.commit()
    return outcomes


def _session(session: Session, sid: str) -> HotspotSession:
    session.expire_all()
    row = session.scalar(select(HotspotSession).where(HotspotSession.acct_session_id == sid))
    assert row is not None
    return row


@pytest.mark.parametrize("path", ["one-by-one", "batched"])
def test_a_32_bit_counter_that_wraps_without_gigawords_is_counted(session: Session, path: str) -> None:
    bed = seed_hotspot(session, nas_address="10.3.0.1", person_daily_bytes=None)
    _apply(path, session, bed.nas.name, [
        (0, _body("Start", "w", "10.3.0.1")),
        (60, _body("Interim-Update", "w", "10.3.0.1", Acct_Input_Octets=4_000_000_000, Acct_Output_Octets=7)),
        (61, _body("Interim-Update", "w", "10.3.0.1", Acct_Input_Octets=3_999_000_000)),  # reordered
        (120, _body("Interim-Update", "w", "10.3.0.1", Acct_Input_Octets=100_000_000, Acct_Output_Octets=9)),
        (121, _body("Interim-Update", "w", "10.3.0.1", Acct_Input_Octets=4_100_000_000)),  # from before the wrap
    ])

    row = _session(session, "w")
    assert (row.input_octets, row.output_octets) == (2**32 + 100_000_000, 9)


@pytest.mark.parametrize("path", ["one-by-one", "batched"])
def test_an_interim_update_after_the_stop_leaves_the_closed_session_alone(session: Session, path: str) -> None:
    bed = seed_hotspot(session, nas_address="10.4.0.1", person_daily_bytes=None)
    _apply(path, session, bed.nas.name, [
        (0, _body("Start", "s", "10.4.0.1")),
        (60, _body("Stop", "s", "10.4.0.1", Acct_Input_Octets=900, Acct_Session_Time=60)),
        (90, _body("Interim-Update", "s", "10.4.0.1", ip="192.168.201.99", Acct_Input_Octets=999,
                   Acct_Session_Time=90, Acct_Interim_Interval=600)),
    ])

    row = _session(session, "s")
    assert row.status == SessionStatus.CLOSED
    assert (row.input_octets, row.session_time_s, row.ip, row.interim_interval_s) == (900, 60, "", 60)
    assert row.last_update_at == T0 + timedelta(seconds=60)


@pytest.mark.parametrize("path", ["one-by-one", "batched"])
def test_gigawords_from_2_31_and_unsigned_32_bit_times_are_stored(session: Session, path: str) -> None:
    bed = seed_hotspot(session, nas_address="10.5.0.1", person_daily_bytes=None, person_daily_time_s=None)
    _apply(path, session, bed.nas.name, [
        (0, _body("Start", "g", "10.5.0.1")),
        (60, _body("Interim-Update", "g", "10.5.0.1", Acct_Input_Octets=5, Acct_Input_Gigawords=1,
                   Acct_Output_Octets=2**31 + 5, Acct_Output_Gigawords=0, Acct_Session_Time=60)),
        (120, _body("Interim-Update", "g", "10.5.0.1", Acct_Input_Octets=2**32 - 1, Acct_Input_Gigawords=2**32 - 1,
                    Acct_Output_Octets=2**31 + 5, Acct_Output_Gigawords=2**31, Acct_Session_Time=2**32 - 1,
                    Acct_Interim_Interval=2**32 - 1)),
    ])

    row = _session(session, "g")
    # Beyond any real session: saturated where every sum of a day's sessions still fits 64 bits.
    assert (row.input_octets, row.output_octets) == (sessions.MAX_SESSION_OCTETS, sessions.MAX_SESSION_OCTETS)
    assert (row.session_time_s, row.interim_interval_s) == (2**32 - 1, 2**32 - 1)


def test_nas_cache_answers_each_radius_client_for_itself(session: Session) -> None:
    first = seed_hotspot(session, nas_address="10.6.0.1")
    second = seed_hotspot(session, nas_address="10.7.0.1")
    cache = sessions.NasCache(ttl_s=60)

    own = cache.find(session, client=second.nas.name, nas_ip="10.7.0.1", nas_identifier=None)
    spoofed = cache.find(session, client=first.nas.name, nas_ip="10.7.0.1", nas_identifier=None)
    natted = cache.find(session, client=first.nas.name, nas_ip="192.168.88.1", nas_identifier=None)

    assert own is not None and own.device_id == second.nas.id
    assert spoofed is None
    assert natted is not None and natted.device_id == first.nas.id
