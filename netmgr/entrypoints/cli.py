"""The ``netmgr`` command: one Typer app assembled from the command modules of each package."""

from __future__ import annotations

import importlib
import sys

import typer
from sqlalchemy.exc import DBAPIError

from netmgr.db import explain_database_error
from netmgr.settings import get_settings

app = typer.Typer(
    name="netmgr",
    help="netmgr: network management for regency and city governments.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

# Modules exposing register(app). Capability packages register their own commands here, at the entry point.
COMMAND_MODULES = [
    "netmgr.commands.db",
    "netmgr.commands.users",
    "netmgr.commands.inventory",
    "netmgr.commands.secrets",
    "netmgr.commands.backup",
    "netmgr.commands.serve",
    "netmgr.commands.demo",
    "collectors.cli",
    "provisioning.cli",
    "captive_portal.cli",
]


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # capability not built yet
            raise
        module.register(app)


_register_all()


def main() -> None:
    try:
        app()
    except DBAPIError as exc:  # a missing schema or an unreachable server: one line, not a traceback
        print(f"error: {explain_database_error(exc, get_settings())}", file=sys.stderr)
        sys.exit(1)
