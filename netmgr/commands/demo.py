"""``netmgr demo``: run the live demo regency (Kabupaten Kotawaringin Timur) on this machine."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import typer

from netmgr.capabilities import DemoSeeder
from netmgr.commands.context import console, settings


def register(app: typer.Typer, *, seeders: Sequence[DemoSeeder]) -> None:
    """Add ``netmgr demo``, which seeds the core's data and then each capability's (``seeders``)."""

    @app.command("demo")
    def demo(
        host: str = typer.Option("127.0.0.1", help="address of the web app"),
        port: int = typer.Option(8000, help="TCP port of the web app"),
        data_dir: Path | None = typer.Option(None, help="where the demo keeps its data (default ./var/demo)"),
        ssh: bool = typer.Option(True, "--ssh/--no-ssh", help="start SSH simulators for RouterOS and IOS devices"),
        influx: bool = typer.Option(True, "--influx/--no-influx", help="start a local InfluxDB when installed"),
        worker: bool = typer.Option(True, "--worker/--no-worker", help="start a Celery worker with beat"),
        browser: bool = typer.Option(False, "--browser/--no-browser", help="open the web app in a browser"),
    ) -> None:
        """Seed a demo regency and run everything it needs, with devices that answer SNMP on loopback."""
        from netmgr.demo.runner import DemoOptions, DemoRunner, demo_settings

        cfg = demo_settings(settings(), data_dir, Path.cwd())
        options = DemoOptions(host=host, port=port, ssh=ssh, influx=influx, worker=worker, browser=browser)
        # Children inherit this process's environment (PATH, locale, NETMGR_*), plus what the runner adds.
        runner = DemoRunner(cfg, options, console, env=dict(os.environ), seeders=seeders)
        raise typer.Exit(runner.main())
