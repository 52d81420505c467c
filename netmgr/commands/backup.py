"""``netmgr backup`` and ``netmgr restore``: one archive of the whole installation, and back."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from netmgr.commands.context import console, err_console, fail, settings
from netmgr.db import make_engine
from netmgr.errors import NetmgrError
from netmgr.services import archive


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=True)


def backup(
    target: Path = typer.Argument(None, help="archive to write (default: ./netmgr-backup-<UTC time>.tar.gz)"),
    with_keys: bool = typer.Option(False, "--with-keys",
                                   help="also store the encryption keys (the archive is then a secret, mode 0600)"),
) -> None:
    """Write the database (every table) and the metrics spool into one archive. The encryption keys are NOT in it
    unless --with-keys is given: keep NETMGR_ENCRYPTION_KEYS safe separately, a restore needs them."""
    cfg = settings()
    path = target or Path(archive.default_archive_name())
    if with_keys:
        err_console.print("[yellow]warning:[/] the archive will hold the encryption keys: anyone who has it can read "
                          "every stored device and RADIUS secret. Keep it as safe as the keys themselves.")
    engine = make_engine(cfg)
    try:
        with _bar() as bar:
            task = bar.add_task("backing up", total=None)
            summary = archive.backup(cfg, engine, path,
                                     progress=lambda _step, done, total: bar.update(task, completed=done, total=total),
                                     with_keys=with_keys)
    except NetmgrError as exc:
        raise fail(exc) from exc
    finally:
        engine.dispose()
    keys = " (with the encryption keys, mode 0600)" if with_keys else ""
    console.print(f"wrote [bold]{summary.path}[/]{keys}: {summary.rows:,} rows in {len(summary.tables)} tables, "
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
    if summary.with_keys:
        console.print("the archive's encryption keys read its secrets; they are re-encrypted under this "
                      "installation's NETMGR_ENCRYPTION_KEYS")
    console.print(f"restored {summary.rows:,} rows in {len(summary.tables)} tables and {summary.files} spool files "
                  f"into {engine.url.render_as_string(hide_password=True)}")


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
