"""The core's own share of the wiring, in the same shape as a capability's manifest: its task modules and the
periodic report tasks. Imported only by ``netmgr.entrypoints`` (the core's routers and commands are built there
and in ``netmgr.app``)."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

from netmgr.capabilities import Manifest
from netmgr.jobs import PeriodicTask


def task_modules() -> Sequence[ModuleType]:
    from netmgr import reports_tasks, tasks

    return (tasks, reports_tasks)


MANIFEST = Manifest(
    name="netmgr",
    task_modules=task_modules,
    periodic_tasks=(
        # Tasks a broker refused while it was down wait in the outbox (netmgr.db.send_after_commit); send them.
        PeriodicTask("flush-task-outbox", "netmgr.flush_task_outbox", lambda s: 60.0),
        # Daily; the task itself sends only on ``finance.statement_day``.
        PeriodicTask("monthly-statements", "reports.monthly_statements", lambda s: 86400.0),
        PeriodicTask("contract-reminders", "reports.contract_reminders", lambda s: 7 * 86400.0),
    ),
)
