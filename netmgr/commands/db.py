"""``netmgr db``: schema migrations."""

from __future__ import annotations

import typer

from netmgr import migrate
from netmgr.commands.context import console, settings
from netmgr.db import make_engine

db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="target revision")) -> None:
    """Create or upgrade the database schema to the newest version."""
    cfg = settings()
    engine = make_engine(cfg)
    try:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine, revision)
        after = migrate.current_revision(engine)
    finally:
        engine.dispose()
    url = engine.url.render_as_string(hide_password=True)
    if before == after:
        console.print(f"database {url} is already at revision [bold]{after}[/]")
    else:
        console.print(f"database {url} upgraded from {before or 'empty'} to [bold]{after}[/]")


@db_app.command("current")
def current() -> None:
    """Show the schema revision of the database and the newest one this version knows."""
    engine = make_engine(settings())
    try:
        console.print(f"database: {migrate.current_revision(engine) or 'empty'}; newest: {migrate.head_revision()}")
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
