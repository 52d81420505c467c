"""The ``netmgr`` command: one Typer app assembled from the command modules of each package."""

from __future__ import annotations

import importlib

import typer

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
    app()
