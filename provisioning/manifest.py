"""What provisioning adds to netmgr: its API and pages, ``request_job`` for the core's bandwidth plans, its Celery
tasks, nightly backups and the ``netmgr`` provisioning commands.

Imported only by ``netmgr.entrypoints``; adding a router, a task module or a periodic task is one line here.
Each loader imports its modules when its process starts (the worker never imports the pages, nor the CLI the tasks).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import typer

from netmgr.capabilities import Manifest, WebParts
from netmgr.jobs import PeriodicTask


def web() -> WebParts:
    from provisioning import api, jobs, pages

    return WebParts(
        routers=(api.router, pages.router),
        services={"request_provision_job": jobs.request_job},  # netmgr.services.plans.JobRequester
    )


def task_modules() -> Sequence[ModuleType]:
    from provisioning import tasks

    return (tasks,)


def register_cli(app: typer.Typer) -> None:
    from provisioning import cli

    cli.register(app)


MANIFEST = Manifest(
    name="provisioning",
    web=web,
    task_modules=task_modules,
    periodic_tasks=(
        # Nightly config backups of every device with a provisioning driver (one backup_device task each).
        PeriodicTask("backup-device-configs", "provisioning.backup_all", lambda s: 86400.0),
    ),
    register_cli=register_cli,
)
