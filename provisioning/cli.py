"""``netmgr provision``: run template jobs, back up and diff device configs, list templates.

Each command parses options, calls one service in ``provisioning.jobs`` / ``provisioning.backups``, and
prints with rich. Jobs run in this process (use the Celery task ``provisioning.run_job`` for the web UI).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from netmgr.commands.context import CLI_ACTOR, console, db_session, fail, settings
from netmgr.errors import NetmgrError
from netmgr.models import Device
from netmgr.models.provisioning import JobPolicy, ResultStatus
from netmgr.services.devices import get_device_by_name
from netmgr.state import AppState
from provisioning import backups, jobs
from provisioning.connections import NetmikoConnector
from provisioning.drivers import default_drivers
from provisioning.render import list_templates, shipped_templates
from provisioning.runner import ProvisionResult
from provisioning.variables import PURPOSES

provision_app = typer.Typer(help="Provisioning: template jobs, config backups and diffs.", no_args_is_help=True)

STYLE = {
    ResultStatus.CHANGED: "green", ResultStatus.NO_CHANGE: "dim", ResultStatus.DRY_RUN: "cyan",
    ResultStatus.FAILED: "bold red", ResultStatus.ROLLED_BACK: "bold yellow", ResultStatus.SKIPPED: "magenta",
}


def _load_vars(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise fail(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise fail(f"{path} must hold a mapping of variable names to values")
    return data


@provision_app.command("run")
def run(
    purpose: str = typer.Option(..., help=f"what to configure: {', '.join(sorted(PURPOSES))}"),
    template: str = typer.Option("", help="a stored template name (default: the shipped one per platform)"),
    device: list[str] = typer.Option([], "--device", help="device name (repeatable)"),
    site: list[str] = typer.Option([], "--site", help="site name (repeatable)"),
    agency: list[str] = typer.Option([], "--agency", help="agency code (repeatable)"),
    role: list[str] = typer.Option([], "--role", help="device role (repeatable)"),
    tag: list[str] = typer.Option([], "--tag", help="device tag (repeatable)"),
    vars_file: Path | None = typer.Option(None, "--vars", help="YAML file with the purpose's variables"),
    dry_run: bool = typer.Option(False, "--dry-run", help="render and diff only; change nothing"),
    canary: int = typer.Option(0, help="run this many devices first and stop if too many fail"),
    threshold: float = typer.Option(0.0, help="failure rate of the canary that halts the job (0-1)"),
    policy: JobPolicy = typer.Option(JobPolicy.CONTINUE, help="after a failed device: continue or halt"),
    concurrency: int = typer.Option(10, help="devices configured at the same time"),
    show_diff: bool = typer.Option(False, "--diff", help="print each device's diff"),
) -> None:
    """Render a template for each target device, diff it, and (unless --dry-run) push, verify and save."""
    data = jobs.JobCreate(
        purpose=purpose, template_name=template, variables=_load_vars(vars_file), dry_run=dry_run,
        targets=jobs.Targets(devices=device, sites=site, agencies=agency, roles=role, tags=tag),
        canary_size=canary, failure_threshold=threshold, policy=policy, concurrency=concurrency,
    )
    state = AppState.build(settings())
    try:
        with state.session_factory() as session:
            job = jobs.create_job(session, CLI_ACTOR, data)
            if not dry_run:
                jobs.approve_job(session, CLI_ACTOR, job.id)
            total = len(job.results)
            session.commit()
            job_id = job.id
        console.print(f"job [bold]{job_id}[/]: {purpose} on {total} device(s){' (dry run)' if dry_run else ''}")
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=console) as progress:
            bar = progress.add_task("provisioning", total=total)

            def advance(result: ProvisionResult) -> None:
                progress.update(bar, advance=1, description=f"{result.device_name}: {result.status.value}")

            outcome = jobs.run_job(state.session_factory, CLI_ACTOR, job_id, drivers=default_drivers(),
                                   connect=NetmikoConnector(), settings=state.settings, on_progress=advance)
    except NetmgrError as exc:
        raise fail(exc) from exc
    finally:
        state.engine.dispose()
    table = Table(title=f"job {job_id}: {outcome.status.value}")
    for column in ("device", "status", "detail"):
        table.add_column(column)
    for r in outcome.results:
        style = STYLE.get(r.status, "")
        table.add_row(r.device_name, f"[{style}]{r.status.value}[/]", r.error or "")
    console.print(table)
    if show_diff:
        for r in outcome.results:
            if r.diff:
                console.rule(r.device_name)
                console.print(r.diff, markup=False, highlight=False)
    if any(r.failed for r in outcome.results):
        raise typer.Exit(1)


@provision_app.command("backup")
def backup(
    device: str | None = typer.Argument(None, help="device name"),
    all_devices: bool = typer.Option(False, "--all", help="every device with a supported platform"),
) -> None:
    """Back up running configs now (stored de-duplicated, secrets masked)."""
    if not device and not all_devices:
        raise fail("name a device or pass --all")
    drivers, connect = default_drivers(), NetmikoConnector()
    state = AppState.build(settings())
    failures = 0
    try:
        with state.session_factory() as session:
            if all_devices:
                ids = list(session.scalars(select(Device.id).where(Device.platform.in_(drivers.names()))
                                           .order_by(Device.name)))
            else:
                ids = [get_device_by_name(session, CLI_ACTOR, device or "").id]
            for device_id in ids:
                name = session.get(Device, device_id).name  # type: ignore[union-attr]
                try:
                    row = backups.take_backup(session, state.session_factory, CLI_ACTOR, device_id,
                                              drivers=drivers, connect=connect)
                    session.commit()
                    console.print(f"[green]backed up[/] {name}: sha256 {row.sha256[:12]}")
                except NetmgrError as exc:
                    session.rollback()
                    failures += 1
                    console.print(f"[red]failed[/] {name}: {exc.message}")
    except NetmgrError as exc:
        raise fail(exc) from exc
    finally:
        state.engine.dispose()
    if failures:
        raise typer.Exit(1)


@provision_app.command("diff")
def diff(device: str = typer.Argument(..., help="device name")) -> None:
    """Show what changed between a device's two newest backups."""
    try:
        with db_session() as session:
            row = get_device_by_name(session, CLI_ACTOR, device)
            text = backups.device_diff(session, CLI_ACTOR, row.id, tz=settings().timezone)
            history = backups.backup_history(session, CLI_ACTOR, row.id, limit=2)
    except NetmgrError as exc:
        raise fail(exc) from exc
    if len(history) < 2:
        console.print(f"{device} has {len(history)} backup(s); run `netmgr provision backup {device}` first")
    elif not text:
        console.print(f"{device}: no change between the two newest backups")
    else:
        console.print(text, markup=False, highlight=False)


@provision_app.command("templates")
def templates() -> None:
    """List the shipped templates and the ones stored in the database."""
    table = Table(title="config templates")
    for column in ("platform", "purpose", "source", "version"):
        table.add_column(column)
    for platform, purpose in shipped_templates():
        table.add_row(platform, purpose, f"provisioning/templates/{platform}/{purpose}.j2", "-")
    try:
        with db_session() as session:
            for row in list_templates(session, CLI_ACTOR):
                table.add_row(row.platform, row.purpose, f"db: {row.name}", str(row.version))
    except NetmgrError as exc:
        raise fail(exc) from exc
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(provision_app, name="provision")
