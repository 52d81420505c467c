"""Poll many devices: shards for the workers, a lease per device, a hard deadline per device.

Inventory → ``shard`` (batches for ``collectors.poll_batch``) → ``poll_batch``: lease the devices (a
``poll_leases`` row with an expiry; a device leased elsewhere is skipped, so polls never overlap) → poll
all of them at once, each under ``asyncio.wait_for`` (a stuck device only loses its own cycle) → rates,
points to the MetricsStore, usage and state to the database in one transaction → leases released.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from collectors.edge.centre import edge_device_ids
from collectors.pipeline import (
    CounterView,
    DeviceContext,
    load_contexts,
    process_sample,
    record_usage,
    update_oper_status,
)
from collectors.poller import DeviceSample, poll_device, vendor_slug
from collectors.snmp.client import has_snmp, target_for_device
from collectors.snmp.types import SnmpClient, SnmpTarget
from collectors.state import DeviceState, load_states, save_state
from netmgr import localtime
from netmgr.errors import NetmgrError
from netmgr.metrics import MetricsStore
from netmgr.models import Device, PollLease
from netmgr.models.base import utcnow
from netmgr.services.devices import device_credentials
from netmgr.settings import SnmpSettings

log = logging.getLogger(__name__)

LEASE_MARGIN_S = 60.0
"""A lease outlives the poll deadline by this much, to cover storing the results."""


def shard(device_ids: Sequence[int], size: int) -> list[list[int]]:
    """Split device ids into batches of at most ``size`` (one ``collectors.poll_batch`` each)."""
    step = max(1, size)
    ids = list(device_ids)
    return [ids[i:i + step] for i in range(0, len(ids), step)]


def pollable_device_ids(session: Session) -> list[int]:
    """Devices with SNMP credentials, in id order, except those an edge collector polls at their site."""
    behind_edges = edge_device_ids(session)
    return [d.id for d in session.scalars(select(Device).order_by(Device.id))
            if has_snmp(d) and d.id not in behind_edges]


def lease_holder() -> str:
    """A name unique to this acquisition: host, process and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def acquire_leases(session: Session, device_ids: Sequence[int], *, holder: str, ttl_s: float,
                   now: datetime | None = None) -> list[int]:
    """Claim the devices not leased by anyone else (or whose lease expired); returns the ones claimed. Commits.

    One ``INSERT … ON CONFLICT DO UPDATE … WHERE expires_at < now`` per batch: atomic on PostgreSQL (row
    locks) and on SQLite (one writer), so two workers can never both win the same device.
    """
    if not device_ids:
        return []
    moment = now or utcnow()
    table: Any = PollLease.__table__
    rows = [{"device_id": i, "holder": holder, "expires_at": moment + timedelta(seconds=ttl_s)} for i in device_ids]
    dialect = session.get_bind().dialect.name
    insert_fn: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert_fn(table).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["device_id"],
        set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
        where=table.c.expires_at < moment,
    )
    session.execute(stmt)
    won = list(session.scalars(select(PollLease.device_id).where(PollLease.device_id.in_(list(device_ids)),
                                                                 PollLease.holder == holder)))
    session.commit()
    return sorted(won)


def release_leases(session: Session, device_ids: Sequence[int], *, holder: str) -> None:
    """Give the devices back (only the leases this holder still has). Commits."""
    if device_ids:
        session.execute(delete(PollLease).where(PollLease.device_id.in_(list(device_ids)), PollLease.holder == holder))
        session.commit()


@dataclass
class DevicePoll:
    """What happened to one device in a batch: ``status`` is ok, failed, timeout, busy or skipped."""

    device_id: int
    name: str
    status: str
    error: str = ""
    duration_s: float = 0.0
    points: int = 0
    interfaces: int = 0
    views: list[CounterView] = field(default_factory=list)
    first: bool = False
    """The device's first successful poll: no rates yet, a second poll soon will give them."""


@dataclass
class BatchResult:
    polls: list[DevicePoll]
    points: int
    duration_s: float

    def count(self, status: str) -> int:
        return sum(1 for p in self.polls if p.status == status)


async def _poll_one(target: SnmpTarget, ctx: DeviceContext, state: DeviceState, *, snmp: SnmpClient,
                    deadline_s: float) -> DeviceSample | DevicePoll:
    started = time.perf_counter()
    try:
        return await asyncio.wait_for(
            poll_device(target, snmp=snmp, vendor=vendor_slug(ctx.platform, ctx.vendor), hints=state.hints),
            timeout=deadline_s)
    except TimeoutError:
        return DevicePoll(ctx.device_id, ctx.name, "timeout", f"no complete answer within {deadline_s:g}s",
                          time.perf_counter() - started)
    except NetmgrError as exc:
        return DevicePoll(ctx.device_id, ctx.name, "failed", exc.message, time.perf_counter() - started)


async def poll_batch(device_ids: Sequence[int], *, session_factory: sessionmaker[Session], snmp: SnmpClient,
                     store: MetricsStore, settings: SnmpSettings, timezone: str, holder: str | None = None,
                     clock: Callable[[], datetime] = utcnow) -> BatchResult:
    """Poll these devices once: lease, poll concurrently under the deadline, store, release.

    Per-device outcomes are returned; a failing or stuck device never stops the batch. Points go to
    ``store`` (flushed at the end); usage and poll state are committed together, so a crash between
    polls loses no traffic and a retried batch counts nothing twice.
    """
    started = time.perf_counter()
    holder = holder or lease_holder()
    deadline = settings.poll_deadline_s
    tz = localtime.zone(timezone)
    with session_factory() as session:
        leased = acquire_leases(session, device_ids, holder=holder, ttl_s=deadline + LEASE_MARGIN_S, now=clock())
    results: list[DevicePoll] = []
    busy = sorted(set(device_ids) - set(leased))
    try:
        targets: dict[int, SnmpTarget] = {}
        with session_factory() as session:
            contexts = load_contexts(session, leased)
            states = load_states(session, list(contexts))
            for device in session.scalars(select(Device).where(Device.id.in_(list(contexts)))):
                try:
                    targets[device.id] = target_for_device(device, device_credentials(session, device), settings)
                except NetmgrError as exc:
                    results.append(DevicePoll(device.id, device.name, "skipped", exc.message))
        ids = sorted(targets)
        outcomes = await asyncio.gather(*(_poll_one(targets[i], contexts[i], states[i], snmp=snmp,
                                                    deadline_s=deadline) for i in ids))
        points = 0
        with session_factory() as session:
            moment = clock()
            for device_id, outcome in zip(ids, outcomes, strict=True):
                ctx = contexts[device_id]
                if isinstance(outcome, DevicePoll):
                    save_state(session, device_id, None, polled_at=moment, error=outcome.error)
                    results.append(outcome)
                    continue
                processed = process_sample(ctx, outcome, states[device_id],
                                           poll_interval_s=float(settings.poll_interval_s))
                store.write(processed.points)
                points += len(processed.points)
                record_usage(session, device_id, processed.usage, tz=tz, now=moment)
                update_oper_status(session, ctx, outcome)
                save_state(session, device_id, processed.state, polled_at=moment)
                results.append(DevicePoll(device_id, ctx.name, "ok", duration_s=outcome.duration_s,
                                          points=len(processed.points), interfaces=len(outcome.interfaces),
                                          views=processed.views, first=states[device_id].wall_time is None))
            session.commit()
        store.flush()
    finally:
        with session_factory() as session:
            release_leases(session, leased, holder=holder)
    for device_id in busy:
        results.append(DevicePoll(device_id, f"#{device_id}", "busy", "polled by another worker right now"))
    for poll in results:
        if poll.status in ("failed", "timeout"):
            log.info("poll of %s %s: %s", poll.name, poll.status, poll.error)
    return BatchResult(sorted(results, key=lambda p: p.device_id), points, time.perf_counter() - started)


__all__ = ["BatchResult", "DevicePoll", "acquire_leases", "poll_batch", "pollable_device_ids", "release_leases",
           "shard"]
