"""``netmgr serve``: run the web app (``netmgr worker`` and ``beat`` are in ``netmgr.entrypoints.processes``)."""

from __future__ import annotations

import typer

from netmgr.commands.context import console, settings


def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="TCP port"),
    reload: bool = typer.Option(False, "--reload", help="restart when the code changes (development)"),
    workers: int = typer.Option(1, help="worker processes (ignored with --reload)"),
) -> None:
    """Run the web application (API, admin UI, captive portal) with uvicorn."""
    import uvicorn

    console.print(f"netmgr web on [bold]http://{host}:{port}/[/]")
    uvicorn.run("netmgr.entrypoints.asgi:app", host=host, port=port, reload=reload,
                workers=None if reload else workers, proxy_headers=True, log_level=settings().log_level.lower())


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
