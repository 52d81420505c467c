"""What every CLI command needs: settings, a database session, an actor, and rich output."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from netmgr.db import session_scope
from netmgr.errors import NetmgrError
from netmgr.models.enums import Role
from netmgr.security.permissions import Actor
from netmgr.settings import Settings, get_settings
from netmgr.state import AppState

console = Console()
err_console = Console(stderr=True)

CLI_ACTOR = Actor(user_id=None, username="cli", role=Role.ADMIN)


def settings() -> Settings:
    return get_settings()


@contextmanager
def db_session() -> Iterator[Session]:
    state = AppState.build(get_settings())
    try:
        with session_scope(state.session_factory) as session:
            yield session
    finally:
        state.engine.dispose()


def fail(exc: NetmgrError | str, code: int = 1) -> typer.Exit:
    """Print the error for a person and return the Exit to raise."""
    err_console.print(f"[bold red]error:[/] {exc if isinstance(exc, str) else exc.message}")
    return typer.Exit(code)
