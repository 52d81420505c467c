"""The AAA hot path: batched accounting gives the same sessions as one request at a time through the ORM,
the worker commits before it answers and isolates a failing request, and the NAS cache expires.
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
from captive_portal.fastpath import AaaWorker, AccountingItem, apply_accounting_batch
from netmgr.metrics import Point
from netmgr.models import Hotspot, HotspotSession
from netmgr.models.hotspot import SessionStatus
from tests.captive_portal.hotspot_data import add_voucher, seed_hotspot

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
CFG = aaa.AaaConfig()
COMPARED = ("status", "input_octets", "output_octets", "session_time_s", "ip", "interim_interval_s",
            "allowance_bytes", "allowance_time_s", "terminate_cause", "close_reason", "stopped_at",
            "last_update_at", "started_at", "subscriber_id", "voucher_id", "policy_id")


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
        req = aaa.parse_accounting_request(body, now=now)
        assert req is not None
        nas = sessions.find_nas(session, nas_ip=req.nas_ip, nas_identifier=req.nas_identifier)
        assert nas is not None
        items.append(AccountingItem(nas=nas, rec=req.rec, now=now))
    return items


def _point_fields(points: list[Point]) -> list[tuple[str, dict[str, Any]]]:
    return [(p.measurement, dict(p.fields)) for p in points]


@pytest.mark.parametrize("batch_size", [1, 3, len(SCRIPT)])
def test_batched_accounting_leaves_the_same_sessions_and_points_as_the_orm_path(session: Session,
                                                                                batch_size: int) -> None:
    orm_bed = seed_hotspot(session, nas_address="10.1.0.1")
    fast_bed = seed_hotspot(session, nas_address="10.2.0.1")
    add_voucher(session, orm_bed.batch, "ORMPATH1")
    add_voucher(session, fast_bed.batch, "FASTPAT1")

    orm_outcomes = []
    for now, body in _requests("10.1.0.1", "ORMPATH1"):
        orm_outcomes.append(aaa.accounting(session, CFG, body, store=None, now=now))
        session.commit()
    items = _items(session, _requests("10.2.0.1", "FASTPAT1"))
    fast_outcomes = []
    for start in range(0, len(items), batch_size):
        fast_outcomes.extend(apply_accounting_batch(session, items[start:start + batch_size]))
        session.commit()
    session.expire_all()

    orm_rows, fast_rows = _rows(session, orm_bed.nas.id), _rows(session, fast_bed.nas.id)
    assert set(fast_rows) == {"a", "b", "c"}
    for sid in ("a", "b", "c"):
        orm_row = dict(zip(COMPARED, orm_rows[sid], strict=True))
        fast_row = dict(zip(COMPARED, fast_rows[sid], strict=True))
        orm_row.pop("voucher_id"), fast_row.pop("voucher_id")  # each bed has its own voucher
        orm_row.pop("subscriber_id"), fast_row.pop("subscriber_id")
        orm_row.pop("policy_id"), fast_row.pop("policy_id")
        assert fast_row == orm_row, sid
    assert fast_rows["a"][COMPARED.index("status")] == SessionStatus.CLOSED
    assert [_point_fields(o.points) for o in fast_outcomes] == [_point_fields(o.points) for o in orm_outcomes]
    # The last interim crossed the allowance: both paths order a Disconnect-Request for session b.
    assert orm_outcomes[-1].disconnect is not None and fast_outcomes[-1].disconnect is not None
    assert fast_outcomes[-1].disconnect.acct_session_id == "b"
    assert all(o.disconnect is None for o in fast_outcomes[:-1])


def test_worker_answers_every_request_of_a_batch_after_one_commit(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as s:
        seed_hotspot(s)
    worker = AaaWorker(session_factory, max_batch=64)
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
        rest = [worker.accounting(req) for req in _acct_requests(20)]
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
        seed_hotspot(s)
    worker = AaaWorker(session_factory)
    gate = threading.Event()

    def hold(_: Session) -> None:
        gate.wait(10)

    def broken(_: Session) -> None:
        raise RuntimeError("boom")

    async def scenario() -> list[Any]:
        first = asyncio.ensure_future(worker.run(hold))
        await asyncio.sleep(0.2)
        batch = asyncio.gather(*(worker.accounting(r) for r in _acct_requests(3)), worker.run(broken),
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
    assert cache.find(session, nas_ip="127.0.0.1", nas_identifier=None) is not None

    hotspot = session.get(Hotspot, seeded.hotspot.id)
    assert hotspot is not None
    hotspot.enabled = False
    session.commit()

    cached = cache.find(session, nas_ip="127.0.0.1", nas_identifier=None)
    clock[0] += 10.5
    fresh = cache.find(session, nas_ip="127.0.0.1", nas_identifier=None)
    assert cached is not None and cached.enabled
    assert fresh is not None and not fresh.enabled


def _acct_requests(n: int) -> list[Any]:
    out = []
    for i in range(n):
        req = aaa.parse_accounting_request(_body("Start", f"w-{i}", "127.0.0.1"), now=T0)
        assert req is not None
        out.append(req)
    return out
