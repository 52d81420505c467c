"""What collectors adds to netmgr: its Celery tasks, their periodic schedule and the ``netmgr`` SNMP commands.

Imported only by ``netmgr.entrypoints``; adding a task module, a periodic task or a router is one line here.
Each loader imports its modules when its process starts (the worker never imports the CLI, nor the CLI the tasks).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import typer

from netmgr.capabilities import Manifest, WebParts
from netmgr.jobs import PeriodicTask


def web() -> WebParts:
    from collectors.edge import api as edge_api
    from collectors.notify import transports

    # netmgr.services.alert_transports sends a test message through a transport set up in the UI.
    return WebParts(routers=(edge_api.router,), services={"send_alert_test": transports.send_through})


def task_modules() -> Sequence[ModuleType]:
    from collectors import tasks

    return (tasks,)


def register_cli(app: typer.Typer) -> None:
    from collectors import cli
    from collectors.edge import cli as edge_cli

    cli.register(app)
    edge_cli.register(app)


MANIFEST = Manifest(
    name="collectors",
    web=web,
    task_modules=task_modules,
    periodic_tasks=(
        # Interfaces of devices added since the last run (cheap when there are none), and of every device daily.
        PeriodicTask("discover-new-devices", "collectors.discover_devices", lambda s: 300.0, {"only_new": True}),
        PeriodicTask("rediscover-all-devices", "collectors.discover_devices", lambda s: 86400.0,
                     {"only_new": False}),
        PeriodicTask("check-availability", "collectors.check_availability",
                     lambda s: float(s.celery.availability_interval_s)),
        PeriodicTask("ping-targets", "collectors.ping_targets", lambda s: float(s.ping.interval_s)),
        PeriodicTask("evaluate-alerts", "collectors.evaluate_alerts", lambda s: float(s.alerts.evaluate_interval_s)),
        PeriodicTask("schedule-polls", "collectors.schedule_polls", lambda s: float(s.snmp.poll_interval_s)),
        PeriodicTask("rollup-traffic", "collectors.rollup_traffic", lambda s: float(s.snmp.rollup_interval_s)),
    ),
    register_cli=register_cli,
)
