"""The Celery application: broker, queues, routing by task name, and the beat schedule, all from settings.

Data flow: a caller sends a task by its dotted name → ``route_for`` picks its queue → a worker that
consumes that queue runs it. Nothing here connects to anything at import; ``make_celery`` is a factory.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery import Celery
from kombu.entity import Exchange, Queue

from netmgr.settings import Settings

DEFAULT_QUEUE = "default"
POLL_QUEUE = "poll"
METRICS_QUEUE = "metrics"
PROVISIONING_QUEUE = "provisioning"
REPORTS_QUEUE = "reports"
PORTAL_QUEUE = "portal"

# One queue per kind of work, so a flood of one (e.g. 5,000 polls) never starves another (a config push).
QUEUES = (DEFAULT_QUEUE, POLL_QUEUE, METRICS_QUEUE, PROVISIONING_QUEUE, REPORTS_QUEUE, PORTAL_QUEUE)

# Task-name prefixes → queue, first match wins (so the specific ``collectors.write_`` precedes ``collectors.``).
ROUTES: tuple[tuple[str, str], ...] = (
    ("collectors.write_", METRICS_QUEUE),
    ("metrics.", METRICS_QUEUE),
    ("collectors.", POLL_QUEUE),
    ("provisioning.", PROVISIONING_QUEUE),
    ("reports.", REPORTS_QUEUE),
    ("captive_portal.", PORTAL_QUEUE),
)

# Modules holding tasks, included when they exist (each capability package writes its own).
TASK_MODULES = ("netmgr.tasks", "netmgr.reports_tasks", "collectors.tasks", "provisioning.tasks",
                "captive_portal.tasks")


@dataclass(frozen=True)
class PeriodicTask:
    """A task beat sends by name every ``interval_s(settings)`` seconds, if its module is installed."""

    name: str
    task: str
    module: str
    interval_s: Callable[[Settings], float]
    kwargs: dict[str, Any] = field(default_factory=dict)


PERIODIC_TASKS: tuple[PeriodicTask, ...] = (
    # Tasks a broker refused while it was down wait in the outbox (netmgr.db.send_after_commit); send them.
    PeriodicTask("flush-task-outbox", "netmgr.flush_task_outbox", "netmgr.tasks", lambda s: 60.0),
    # Nightly config backups of every device with a provisioning driver (one backup_device task each).
    PeriodicTask("backup-device-configs", "provisioning.backup_all", "provisioning.tasks", lambda s: 86400.0),
    # Interfaces of devices added since the last run (cheap when there are none), and of every device daily.
    PeriodicTask("discover-new-devices", "collectors.discover_devices", "collectors.tasks", lambda s: 300.0,
                 {"only_new": True}),
    PeriodicTask("rediscover-all-devices", "collectors.discover_devices", "collectors.tasks", lambda s: 86400.0,
                 {"only_new": False}),
    PeriodicTask("check-availability", "collectors.check_availability", "collectors.tasks",
                 lambda s: float(s.celery.availability_interval_s)),
    PeriodicTask("ping-targets", "collectors.ping_targets", "collectors.tasks", lambda s: float(s.ping.interval_s)),
    PeriodicTask("evaluate-alerts", "collectors.evaluate_alerts", "collectors.tasks",
                 lambda s: float(s.alerts.evaluate_interval_s)),
    PeriodicTask("schedule-polls", "collectors.schedule_polls", "collectors.tasks",
                 lambda s: float(s.snmp.poll_interval_s)),
    PeriodicTask("rollup-traffic", "collectors.rollup_traffic", "collectors.tasks",
                 lambda s: float(s.snmp.rollup_interval_s)),
    PeriodicTask("close-stale-hotspot-sessions", "captive_portal.close_stale_sessions", "captive_portal.tasks",
                 lambda s: float(s.radius.interim_interval_s)),
    PeriodicTask("enforce-hotspot-quotas", "captive_portal.enforce_quotas", "captive_portal.tasks",
                 lambda s: 60.0),
    PeriodicTask("purge-expired-portal-data", "captive_portal.purge_expired_data", "captive_portal.tasks",
                 lambda s: 86400.0),
    # Daily; the task itself sends only on ``finance.statement_day``.
    PeriodicTask("monthly-statements", "reports.monthly_statements", "netmgr.reports_tasks", lambda s: 86400.0),
    PeriodicTask("contract-reminders", "reports.contract_reminders", "netmgr.reports_tasks", lambda s: 7 * 86400.0),
)


def queue_for(task_name: str) -> str:
    """The queue a task named ``task_name`` goes to (``default`` when no prefix matches)."""
    for prefix, queue in ROUTES:
        if task_name.startswith(prefix):
            return queue
    return DEFAULT_QUEUE


def route_for(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any) -> dict[str, str]:
    """Celery router (``task_routes`` entry) that applies :data:`ROUTES`."""
    queue = queue_for(name)
    return {"queue": queue, "routing_key": queue}


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # the parent package is missing
        return False


def installed_task_modules() -> list[str]:
    return [name for name in TASK_MODULES if _module_exists(name)]


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """The periodic tasks whose modules are installed, with intervals taken from settings."""
    return {
        p.name: {"task": p.task, "schedule": p.interval_s(settings), "kwargs": p.kwargs}
        for p in PERIODIC_TASKS
        if _module_exists(p.module)
    }


def _queue(name: str) -> Queue:
    exchange = Exchange(name, type="direct")  # type: ignore[no-untyped-call]  # kombu is untyped
    return Queue(name, exchange, routing_key=name)  # type: ignore[no-untyped-call]


def send_once(app: Celery) -> Callable[..., object]:
    """A ``send(name, kwargs={...})`` for tasks sent on a person's behalf (a job, a backup): one publish attempt,
    no result kept. A refusing broker fails it at once instead of holding the request for Celery's reconnect
    retries (about 20 s); ``netmgr.db.send_after_commit`` keeps the task in the outbox and sends it again."""

    def send(name: str, *, kwargs: dict[str, Any]) -> object:
        return app.send_task(name, kwargs=kwargs, ignore_result=True, retry=False)

    return send


def make_celery(settings: Settings) -> Celery:
    """A configured Celery app for ``settings``; connects to nothing until used."""
    app = Celery("netmgr", broker=settings.resolved_broker_url, backend=settings.resolved_result_backend,
                 include=installed_task_modules(), set_as_current=False)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_concurrency=settings.celery.worker_concurrency,
        broker_connection_retry_on_startup=True,
        task_default_queue=DEFAULT_QUEUE,
        task_queues=[_queue(q) for q in QUEUES],
        task_routes=(route_for,),
        task_create_missing_queues=False,
        result_expires=24 * 3600,
        timezone=settings.timezone,  # crontab entries (monthly statements) fire at local times
        enable_utc=True,
        beat_schedule=beat_schedule(settings),
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        worker_hijack_root_logger=False,
    )
    return app
