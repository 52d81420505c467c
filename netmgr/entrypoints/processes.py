"""``netmgr worker`` and ``netmgr beat``: run the Celery processes of the worker entry point (every manifest's
tasks and periodic tasks); the web app's ``netmgr serve`` is in ``netmgr.commands.serve``."""

from __future__ import annotations

import typer

from netmgr.commands.context import fail, settings
from netmgr.jobs import QUEUES


def worker(
    queues: str = typer.Option(",".join(QUEUES), "--queues", "-Q",
                               help="comma-separated queues to consume: " + ", ".join(QUEUES)),
    concurrency: int | None = typer.Option(None, "--concurrency", "-c",
                                           help="processes (default: NETMGR_CELERY__WORKER_CONCURRENCY)"),
    beat: bool = typer.Option(False, "--beat", "-B", help="also run the periodic scheduler in this worker"),
    hostname: str | None = typer.Option(None, "--hostname", "-n", help="worker name, e.g. poll@%h"),
    pool: str = typer.Option("prefork", "--pool", "-P", help="prefork, solo or threads"),
) -> None:
    """Run a Celery worker. Give each kind of work its own worker in production, e.g. ``-Q poll``."""
    from netmgr.entrypoints.worker import celery_app  # builds the app and configures logging: only when run

    wanted = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = sorted(set(wanted) - set(QUEUES))
    if unknown:
        raise fail(f"unknown queue(s) {', '.join(unknown)}; known: {', '.join(QUEUES)}")
    cfg = settings()
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    argv = ["worker", "--loglevel", cfg.log_level.upper(), "-Q", ",".join(wanted), "-P", pool,
            "-c", str(concurrency or cfg.celery.worker_concurrency)]
    if hostname:
        argv += ["-n", hostname]
    if beat:
        argv += ["-B", "--schedule", str(cfg.data_dir / "celerybeat-schedule")]
    celery_app.worker_main(argv)


def beat() -> None:
    """Run the periodic scheduler alone (exactly one per installation)."""
    from netmgr.entrypoints.worker import celery_app  # builds the app and configures logging: only when run

    cfg = settings()
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    celery_app.start(["beat", "--loglevel", cfg.log_level.upper(),
                      "--schedule", str(cfg.data_dir / "celerybeat-schedule")])


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("beat")(beat)
