"""The ``netmgr`` command: one Typer app assembled from the core's command modules and each manifest's CLI."""

from __future__ import annotations

import sys

import typer
from sqlalchemy.exc import DBAPIError

from netmgr.commands import backup, db, demo, inventory, secrets, serve, users
from netmgr.db import explain_database_error
from netmgr.entrypoints import processes
from netmgr.entrypoints.capabilities import MANIFESTS, demo_seeders
from netmgr.settings import get_settings

app = typer.Typer(
    name="netmgr",
    help="netmgr: network management for regency and city governments.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _register_all() -> None:
    for module in (db, users, inventory, secrets, backup):
        module.register(app)
    serve.register(app)
    processes.register(app)
    demo.register(app, seeders=demo_seeders())
    for manifest in MANIFESTS:
        if manifest.register_cli is not None:
            manifest.register_cli(app)


_register_all()


def main() -> None:
    try:
        app()
    except DBAPIError as exc:  # a missing schema or an unreachable server: one line, not a traceback
        print(f"error: {explain_database_error(exc, get_settings())}", file=sys.stderr)
        sys.exit(1)
