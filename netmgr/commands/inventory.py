"""``netmgr inventory``: bulk import and export of agencies, sites, devices and uplinks (CSV or YAML)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from netmgr.commands.context import CLI_ACTOR, console, db_session, err_console, fail
from netmgr.errors import NetmgrError
from netmgr.services.inventory_io import (
    DataFormat,
    ImportKind,
    ImportReport,
    detect_format,
    export_inventory,
    import_inventory,
)

inventory_app = typer.Typer(help="Bulk import and export of the inventory.", no_args_is_help=True)


def _summary(report: ImportReport, source: str) -> Table:
    if report.applied:
        outcome = "[green]imported[/]"
    elif report.dry_run:
        outcome = "[green]dry run: every row is good[/]" if report.ok else "[red]dry run: bad rows found[/]"
    else:
        outcome = "[red]nothing imported[/]"
    title = f"Import of {report.kind.value} from {source}"
    table = Table(title=title, show_header=False, min_width=len(title) + 4)
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    table.add_row("rows", str(report.total_rows))
    table.add_row("to create" if report.dry_run else "created", str(report.created))
    table.add_row("to update" if report.dry_run else "updated", str(report.updated))
    table.add_row("bad rows", str(len({e.row for e in report.errors})))
    table.add_row("outcome", outcome)
    return table


def _errors(report: ImportReport) -> Table:
    table = Table(title="Problems (nothing was written)", title_style="bold red")
    table.add_column("row", justify="right")
    table.add_column("field")
    table.add_column("reason", overflow="fold")
    for error in report.errors:
        table.add_row(str(error.row), error.field or "", error.reason)
    return table


@inventory_app.command("import")
def import_command(
    kind: ImportKind = typer.Argument(..., help="agencies, sites, devices or uplinks"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="a .csv, .yaml or .yml file"),
    dry_run: bool = typer.Option(False, "--dry-run", help="check every row and report; write nothing"),
    fmt: DataFormat | None = typer.Option(None, "--format", help="csv or yaml (default: from the file name)"),
) -> None:
    """Import rows from a file: all of them, or none if any row is bad.

    Rows name related things (a device's site by name, a site's agency by code). A row whose name
    (an agency's code) already exists updates that object; the others are created.
    """
    try:
        data_format = fmt or detect_format(file.name)
        content = file.read_bytes()
        with db_session() as session, Progress(
            TextColumn("[bold]checking rows"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=err_console, transient=True,
        ) as bar:
            task = bar.add_task("import", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = import_inventory(session, CLI_ACTOR, kind=kind, fmt=data_format, content=content,
                                      dry_run=dry_run, progress=progress)
    except NetmgrError as exc:
        raise fail(exc) from exc
    console.print(_summary(report, file.name))
    if not report.ok:
        console.print(_errors(report))
        raise typer.Exit(1)


@inventory_app.command("export")
def export_command(
    kind: ImportKind = typer.Argument(..., help="agencies, sites, devices or uplinks"),
    fmt: DataFormat = typer.Option(DataFormat.CSV, "--format", help="csv or yaml"),
    output: Path | None = typer.Option(None, "--output", "-o", dir_okay=False, help="file to write (default: stdout)"),
) -> None:
    """Write every row in the format the import reads. Secrets are never exported."""
    try:
        with db_session() as session:
            text = export_inventory(session, CLI_ACTOR, kind=kind, fmt=fmt)
    except NetmgrError as exc:
        raise fail(exc) from exc
    if output is None:
        typer.echo(text, nl=False)
        return
    # The BOM lets Excel open the CSV as UTF-8; the import skips it.
    output.write_text(text, encoding="utf-8-sig" if fmt == DataFormat.CSV else "utf-8", newline="")
    rows = len(list(csv.reader(io.StringIO(text)))) - 1 if fmt == DataFormat.CSV else text.count("\n- ")
    err_console.print(f"wrote {rows} {kind.value} to [bold]{output}[/]")


def register(app: typer.Typer) -> None:
    app.add_typer(inventory_app, name="inventory")
