"""``netmgr backup`` and ``netmgr restore``: one archive of the whole installation, and back."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from netmgr.commands.context import console, fail, settings
from netmgr.db import make_engine
from netmgr.errors import NetmgrError
from netmgr.services import archive


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=True)


def backup(
    target: Path = typer.Argument(None, help="archive to write (default: ./netmgr-backup-<UTC time>.tar.gz)"),
) -> None:
    """Write the database (every table) and the metrics spool into one archive. The encryption keys are NOT in it:
    keep NETMGR_ENCRYPTION_KEYS safe separately, a restore needs them."""
    cfg = settings()
    path = target or Path(archive.default_archive_name())
    engine = make_engine(cfg)
    try:
        with _bar() as bar:
            task = bar.add_task("backing up", total=None)
            summary = archive.backup(cfg, engine, path,
                                     progress=lambda _step, done, total: bar.update(task, completed=done, total=total))
    except NetmgrError as exc:
        raise fail(exc) from exc
    finally:
        engine.dispose()
    console.print(f"wrote [bold]{summary.path}[/]: {summary.rows:,} rows in {len(summary.tables)} tables, "
                  f"{summary.files} spool files, revision {summary.revision}")


def restore(archive_path: Path = typer.Argument(..., help="an archive made by `netmgr backup`")) -> None:
    """Bring a backup into this installation, whose database must be empty; then upgrade it to this version."""
    cfg = settings()
    engine = make_engine(cfg)
    try:
        manifest = archive.read_manifest(archive_path)
        console.print(f"archive of {manifest['created_at']} (netmgr {manifest['netmgr_version']}, "
                      f"{manifest['database']}, revision {manifest['revision']})")
        with _bar() as bar:
            task = bar.add_task("restoring", total=None)
            summary = archive.restore(cfg, engine, archive_path,
                                      progress=lambda _step, done, total: bar.update(task, completed=done, total=total))
    except NetmgrError as exc:
        raise fail(exc) from exc
    finally:
        engine.dispose()
    console.print(f"restored {summary.rows:,} rows in {len(summary.tables)} tables and {summary.files} spool files "
                  f"into {engine.url.render_as_string(hide_password=True)}")


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
