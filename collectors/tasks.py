"""Celery tasks of the collectors: thin wrappers that build the SNMP client and call the collector functions.

Beat sends ``collectors.check_availability`` by name (see collectors.manifest).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from celery import shared_task
from celery.signals import worker_process_init, worker_process_shutdown, worker_ready
from sqlalchemy.exc import SQLAlchemyError

from collectors.alerts import evaluate_alerts
from collectors.autodiscovery import discover_inventory
from collectors.availability import DEFAULT_TRIES, DeviceCheck, check_availability
from collectors.notify import build_notifiers
from collectors.ping import Fping, ping_round
from collectors.rollups import prune_5m, rollup_pending
from collectors.runtime import tune_gc, tune_gc_after_first_poll
from collectors.scheduler import BatchResult, poll_batch, pollable_device_ids, shard
from collectors.snmp.client import MultiVersionClient
from collectors.workers import DEAD_AFTER_HEARTBEATS, Heartbeat, cycle_id, cycle_start, holder_name, record_batch
from netmgr import localtime, selfmetrics
from netmgr.jobs import POLL_QUEUE
from netmgr.metrics import MetricsStore
from netmgr.models.base import utcnow
from netmgr.state import AppState
from netmgr.task_resources import task_resources


async def _check(state: AppState, tries: int) -> list[DeviceCheck]:
    async with MultiVersionClient(max_in_flight=state.settings.snmp.max_in_flight) as snmp:
        return await check_availability(state.session_factory, snmp=snmp, settings=state.settings.snmp, tries=tries)


@shared_task(name="collectors.check_availability", ignore_result=False)  # type: ignore[untyped-decorator]
def check_availability_task(tries: int = DEFAULT_TRIES) -> dict[str, Any]:
    """Probe every SNMP device and record up/down; returns counts and the devices whose status changed."""
    results = asyncio.run(_check(task_resources().state, tries))
    return {
        "checked": len(results),
        "up": sum(1 for r in results if r.status == "up"),
        "down": sum(1 for r in results if r.status == "down"),
        "changed": [{"device_id": r.device_id, "name": r.name, "status": r.status.value, "error": r.error}
                    for r in results if r.changed],
    }


async def _discover(state: AppState, only_new: bool) -> dict[str, Any]:
    async with MultiVersionClient(max_in_flight=state.settings.snmp.max_in_flight) as snmp:
        result = await discover_inventory(state.session_factory, snmp=snmp, settings=state.settings.snmp,
                                          only_new=only_new)
    return {"discovered": result.discovered, "failed": result.failed}


@shared_task(name="collectors.discover_devices", ignore_result=False)  # type: ignore[untyped-decorator]
def discover_devices_task(only_new: bool = True) -> dict[str, Any]:
    """Discover interfaces of devices that have none yet (``only_new``), or of every device (daily)."""
    return asyncio.run(_discover(task_resources().state, only_new))


@shared_task(name="collectors.ping_targets", ignore_result=False)  # type: ignore[untyped-decorator]
def ping_targets_task() -> dict[str, Any]:
    """Ping every device and uplink far end once with fping; store points, ping status and hourly rollups."""
    held = task_resources()
    settings = held.settings.ping
    if not settings.enabled:
        return {"targets": 0, "disabled": True}
    result = ping_round(held.state.session_factory, pinger=Fping(settings), store=held.store, settings=settings)
    return {"targets": len(result.targets), "up": result.count(True), "down": result.count(False),
            "points": result.points,
            "changed": [{"kind": t.target.subject_type, "id": t.target.subject_id, "name": t.target.name,
                         "up": t.result.up} for t in result.targets if t.changed]}


# --- polling and rollups (beat: collectors.schedule_polls → collectors.poll_batch per shard) ---------------------

_worker: dict[str, Any] = {}
"""In a process that polls, its heartbeat (started with its first poll; the rest is ``task_resources``)."""


def _heartbeat(state: AppState, node: str) -> Heartbeat:
    """This process's heartbeat, started with its first poll: from then on it counts as a poll worker."""
    if "heartbeat" not in _worker:
        beat = Heartbeat(state.session_factory, holder=holder_name(node), node=node, settings=state.settings.snmp)
        beat.start()
        _worker["heartbeat"] = beat
    heartbeat: Heartbeat = _worker["heartbeat"]
    return heartbeat


@shared_task(name="collectors.schedule_polls", bind=True, ignore_result=False)  # type: ignore[untyped-decorator]
def schedule_polls_task(self: Any) -> dict[str, int]:
    """Start a poll cycle: split the SNMP devices into shards and send one ``collectors.poll_batch`` per shard.

    Any poll worker takes any shard, so adding a worker takes load at the next cycle, and a dead worker's shards
    go to the others. Each batch expires at the cycle's end: when workers fall behind, stale polls are dropped
    rather than piling up (the next poll's rate covers the gap, so no traffic is lost).
    """
    state = task_resources().state
    snmp = state.settings.snmp
    with state.session_factory() as session:
        ids = pollable_device_ids(session)
    batches = shard(ids, snmp.poll_batch_size)
    cycle = cycle_id(utcnow())
    for batch in batches:
        self.app.send_task("collectors.poll_batch", args=[batch], kwargs={"cycle": cycle},
                           expires=float(snmp.poll_interval_s))
    return {"devices": len(ids), "batches": len(batches), "cycle": cycle}


async def _poll(state: AppState, store: MetricsStore, device_ids: list[int], holder: str,
                cycle: int | None) -> BatchResult:
    async with MultiVersionClient(max_in_flight=state.settings.snmp.max_in_flight) as snmp:
        return await poll_batch(device_ids, session_factory=state.session_factory, snmp=snmp, store=store,
                                settings=state.settings.snmp, timezone=state.settings.timezone, holder=holder,
                                cycle=cycle)


POLL_OUTCOMES = ("ok", "failed", "timeout", "busy", "done", "lost", "skipped")

FIRST_FOLLOW_UP_S = 10
"""Devices polled for the first time are polled again this soon, so their rates (two samples) show at once
(when the poll interval is much longer: otherwise the next cycle comes as soon)."""


@shared_task(name="collectors.poll_batch", bind=True, ignore_result=False)  # type: ignore[untyped-decorator]
def poll_batch_task(self: Any, device_ids: list[int], cycle: int | None = None) -> dict[str, Any]:
    """Poll these devices once in ``cycle`` (leased, each under the poll deadline) and store points, usage and
    state; devices busy with a worker that may have died are tried again before the cycle ends."""
    held = task_resources()
    state = held.state
    snmp = state.settings.snmp
    node = str(self.request.hostname or "")
    heartbeat = _heartbeat(state, node)
    result = asyncio.run(_poll(state, held.store, [int(i) for i in device_ids], heartbeat.holder, cycle))
    selfmetrics.record_poll_batch(result.duration_s, {s: result.count(s) for s in POLL_OUTCOMES})
    tune_gc_after_first_poll()
    polled = [p.device_id for p in result.polls if p.status in ("ok", "failed", "timeout")]
    interval = float(snmp.poll_interval_s)
    if cycle is not None:
        finished = utcnow()
        with state.session_factory() as session:
            record_batch(session, holder=heartbeat.holder, node=node, cycle=cycle, devices=len(polled),
                         finished=finished, interval_s=interval)
        left_s = interval - (finished - cycle_start(cycle)).total_seconds()
        busy = [p.device_id for p in result.polls if p.status == "busy"]
        retry_in = DEAD_AFTER_HEARTBEATS * snmp.worker_heartbeat_s
        if busy and retry_in < left_s:
            # Held by a worker still polling them, or by one that died: once it is dead its leases are free.
            self.app.send_task("collectors.poll_batch", args=[busy], kwargs={"cycle": cycle}, countdown=retry_in,
                               expires=left_s)
    first = [p.device_id for p in result.polls if p.first]
    if first and interval > 2 * FIRST_FOLLOW_UP_S:
        self.app.send_task("collectors.poll_batch", args=[first], countdown=FIRST_FOLLOW_UP_S, expires=interval)
    return {"devices": len(result.polls), "points": result.points, "seconds": round(result.duration_s, 3),
            "cycle": cycle, "holder": heartbeat.holder, "polled": polled,
            **{status: result.count(status) for status in POLL_OUTCOMES}}


@shared_task(name="collectors.rollup_traffic", ignore_result=False)  # type: ignore[untyped-decorator]
def rollup_traffic_task() -> dict[str, int]:
    """Recompute hourly and daily usage for the hours polls touched; prune expired 5-minute rows."""
    state = task_resources().state
    snmp = state.settings.snmp
    tz = localtime.zone(state.settings.timezone)
    with state.session_factory() as session:
        result = rollup_pending(session, tz=tz)
        pruned = prune_5m(session, today=datetime.now(tz).date(), keep_days=snmp.keep_5m_days,
                          keep_billing_days=snmp.keep_5m_billing_days)
    return {"hours": result.hours, "days": result.days, "hourly_rows": result.hourly_rows,
            "daily_rows": result.daily_rows, "pruned": pruned}


@shared_task(name="collectors.evaluate_alerts", ignore_result=False)  # type: ignore[untyped-decorator]
def evaluate_alerts_task() -> dict[str, Any]:
    """Run every alert rule once, open/resolve alerts and send notifications; returns what changed."""
    held = task_resources()
    settings = held.settings
    result = evaluate_alerts(held.state.session_factory, store=held.store, notifiers=build_notifiers(settings.notify),
                             settings=settings)
    return {
        "evaluated": result.evaluated,
        "opened": [{"alert_id": c.alert_id, "kind": c.kind.value, "text": c.message.text} for c in result.opened],
        "resolved": [{"alert_id": c.alert_id, "kind": c.kind.value} for c in result.resolved],
        "sent": result.sent,
        "failed": result.failed,
        "suppressed": result.suppressed,
        "metrics_error": result.metrics_error,
    }


@worker_process_init.connect  # type: ignore[untyped-decorator]
def _tune_worker_process(**_: Any) -> None:
    """Each worker process: keep the GC off the polling hot path (see collectors.runtime)."""
    tune_gc()


@worker_process_shutdown.connect  # type: ignore[untyped-decorator]
def _retire_poll_worker(**_: Any) -> None:
    """A poll worker process stopping cleanly leaves the status (a killed one stays there, missing)."""
    heartbeat = _worker.pop("heartbeat", None)
    if heartbeat is not None:
        try:
            heartbeat.stop()
        except SQLAlchemyError:
            pass  # the database is away: the worker shows as missing until it is forgotten


@worker_ready.connect  # type: ignore[untyped-decorator]
def _poll_when_ready(sender: Any = None, **_: Any) -> None:
    """Discover new devices and poll as soon as a worker starts, instead of one interval later (beat's first tick)."""
    app = getattr(sender, "app", None)
    if app is None:
        return
    consuming = getattr(app.amqp.queues, "consume_from", None)
    if consuming and POLL_QUEUE not in consuming:
        return  # this worker does other work (-Q default …); a poll worker will start the polls
    app.send_task("collectors.discover_devices", kwargs={"only_new": True})
    app.send_task("collectors.schedule_polls")
