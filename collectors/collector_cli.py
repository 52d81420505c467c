"""``netmgr collector run`` (the whole collector in one process, no Celery) and the rates of ``netmgr poll``.

Each command parses options and calls ``collectors.scheduler.poll_batch`` / ``collectors.rollups``; rich
renders the live summary.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime

import typer
from rich.console import Group
from rich.live import Live
from rich.table import Table

from collectors.pipeline import CounterView, load_contexts, process_sample
from collectors.poller import poll_device, vendor_slug
from collectors.rollups import prune_5m, rollup_pending
from collectors.runtime import tune_gc_after_first_poll
from collectors.scheduler import BatchResult, DevicePoll, poll_batch, pollable_device_ids, shard
from collectors.snmp.client import MultiVersionClient, target_for_device
from collectors.state import load_states
from collectors.workers import cycle_start, poll_status, status_json
from netmgr import localtime
from netmgr.commands.context import CLI_ACTOR, console, db_session, fail, settings
from netmgr.errors import NetmgrError
from netmgr.metrics import MetricsStore, make_metrics_store
from netmgr.models.base import utcnow
from netmgr.services.devices import device_credentials, get_device_by_name
from netmgr.state import AppState


def _bps(value: float | None) -> str:
    if value is None:
        return ""
    for unit, size in (("Gbit/s", 1e9), ("Mbit/s", 1e6), ("kbit/s", 1e3)):
        if value >= size:
            return f"{value / size:.2f} {unit}"
    return f"{value:.0f} bit/s"


def _rates_table(views: list[CounterView]) -> Table:
    table = Table("kind", "name", "oper", "in", "out", "note")
    for v in views:
        table.add_row(str(v.kind), v.name, v.oper_status, _bps(v.in_bps), _bps(v.out_bps), v.reason)
    return table


def show_rates(device: str) -> None:
    """Poll ``device`` now and print rates against the collector's last sample (read-only: state is not saved)."""
    snmp_settings = settings().snmp
    try:
        with db_session() as session:
            row = get_device_by_name(session, CLI_ACTOR, device)
            target = target_for_device(row, device_credentials(session, row), snmp_settings)
            ctx = load_contexts(session, [row.id])[row.id]
            state = load_states(session, [row.id])[row.id]

        async def main() -> list[CounterView]:
            async with MultiVersionClient() as snmp:
                sample = await poll_device(target, snmp=snmp, vendor=vendor_slug(ctx.platform, ctx.vendor),
                                           hints=state.hints)
            return process_sample(ctx, sample, state, poll_interval_s=float(snmp_settings.poll_interval_s)).views

        views = asyncio.run(main())
    except NetmgrError as exc:
        raise fail(exc) from exc
    if state.wall_time is None:
        console.print("no earlier sample of this device: rates appear once the collector has polled it")
        return
    console.print(f"rates since the collector's last poll, {time.time() - state.wall_time:.0f} s ago:")
    console.print(_rates_table(views))


def _summary(cycle: int, result: BatchResult | None, interval: int, rolled: str) -> Group:
    head = Table.grid(padding=(0, 2))
    if result is None:
        head.add_row(f"cycle {cycle}: polling…")
        return Group(head)
    head.add_row(f"[bold]cycle {cycle}[/]", f"{len(result.polls)} devices", f"[green]{result.count('ok')} ok[/]",
                 f"[red]{result.count('failed') + result.count('timeout')} failed[/]",
                 f"{result.count('busy')} busy", f"{result.points} points", f"{result.duration_s:.1f} s",
                 f"every {interval} s", rolled)
    table = Table("device", "status", "interfaces", "points", "ms", "busiest interface (in / out)", "error")
    for poll in result.polls:
        top = max((v for v in poll.views if v.in_bps is not None),
                  key=lambda v: (v.in_bps or 0) + (v.out_bps or 0), default=None)
        busiest = f"{top.name} {_bps(top.in_bps)} / {_bps(top.out_bps)}" if top else ""
        style = {"ok": "green", "busy": "yellow"}.get(poll.status, "red")
        table.add_row(poll.name, f"[{style}]{poll.status}[/]", str(poll.interfaces or ""), str(poll.points or ""),
                      f"{poll.duration_s * 1000:.0f}" if poll.duration_s else "", busiest, poll.error[:60])
    return Group(head, table)


async def _cycle(state: AppState, store: MetricsStore, snmp: MultiVersionClient) -> BatchResult:
    snmp_settings = state.settings.snmp
    with state.session_factory() as session:
        ids = pollable_device_ids(session)
    started = time.perf_counter()
    batches = await asyncio.gather(*(poll_batch(batch, session_factory=state.session_factory, snmp=snmp, store=store,
                                                settings=snmp_settings, timezone=state.settings.timezone)
                                     for batch in shard(ids, snmp_settings.poll_batch_size)))
    polls: list[DevicePoll] = sorted((p for b in batches for p in b.polls), key=lambda p: p.name)
    return BatchResult(polls, sum(b.points for b in batches), time.perf_counter() - started)


def run_command(
    interval: int = typer.Option(0, help="seconds between cycles (default: NETMGR_SNMP__POLL_INTERVAL_S)"),
    once: bool = typer.Option(False, "--once", help="poll every device once, roll up, and exit"),
) -> None:
    """Poll every SNMP device each interval in this one process (no Celery), with a live summary."""
    app_settings = settings()
    every = interval or app_settings.snmp.poll_interval_s
    tz = localtime.zone(app_settings.timezone)
    state = AppState.build(app_settings)
    store = make_metrics_store(app_settings)

    async def main() -> int:
        failures = 0
        last_rollup = 0.0
        async with MultiVersionClient(max_in_flight=app_settings.snmp.max_in_flight) as snmp:
            with Live(_summary(1, None, every, ""), console=console, refresh_per_second=2,
                      transient=False) as live:
                cycle = 0
                while True:
                    cycle += 1
                    started = time.monotonic()
                    result = await _cycle(state, store, snmp)
                    tune_gc_after_first_poll()
                    failures = result.count("failed") + result.count("timeout")
                    rolled = ""
                    if once or time.monotonic() - last_rollup >= app_settings.snmp.rollup_interval_s:
                        with state.session_factory() as session:
                            r = rollup_pending(session, tz=tz)
                            prune_5m(session, today=datetime.now(tz).date(), keep_days=app_settings.snmp.keep_5m_days,
                                     keep_billing_days=app_settings.snmp.keep_5m_billing_days)
                        last_rollup = time.monotonic()
                        rolled = f"rolled up {r.hours} h / {r.days} d"
                    live.update(_summary(cycle, result, every, rolled))
                    if once:
                        return failures
                    await asyncio.sleep(max(0.0, started + every - time.monotonic()))

    try:
        failures = asyncio.run(main())
    except KeyboardInterrupt:
        failures = 0
    finally:
        store.close()
        state.engine.dispose()
    if once and failures:
        raise typer.Exit(1)


def _ago(moment: datetime, now: datetime) -> str:
    return f"{max(0.0, (now - moment).total_seconds()):.0f} s ago"


def status_command(as_json: bool = typer.Option(False, "--json", help="print the status as JSON")) -> None:
    """Show the poll workers (alive or missing), the devices each polled in its latest cycle, and whether the
    latest cycle was late. Exits 1 when it was late."""
    now = utcnow()
    with db_session() as session:
        status = poll_status(session, pollable_device_ids(session), settings=settings().snmp, now=now)
    if as_json:
        typer.echo(json.dumps(status_json(status), indent=2))
    else:
        table = Table("worker", "state", "last heartbeat", "devices (latest cycle)", "cycle started", "late by")
        for w in status.workers:
            table.add_row(w.holder, "[green]alive[/]" if w.alive else "[red]missing[/]", _ago(w.seen_at, now),
                          str(w.devices), f"{cycle_start(w.cycle):%H:%M:%S} UTC" if w.cycle is not None else "-",
                          f"{w.lateness_s:.1f} s")
        console.print(table)
        started = f"{cycle_start(status.last_cycle):%H:%M:%S} UTC" if status.last_cycle is not None else "none yet"
        console.print(f"{len(status.alive)} poll worker(s) alive, {len(status.missing)} missing; "
                      f"{status.devices} pollable devices; latest ended cycle {started}: "
                      f"{status.missed} device(s) not polled, late by {status.lateness_s:.1f} s")
    if status.late:
        raise typer.Exit(1)


def register_collector(app: typer.Typer) -> None:
    collector = typer.Typer(help="Run the SNMP collector in this process (small sites and the demo), or see the "
                                 "poll workers of a Celery installation.", no_args_is_help=True)
    collector.command("run")(run_command)
    collector.command("status")(status_command)
    app.add_typer(collector, name="collector")
