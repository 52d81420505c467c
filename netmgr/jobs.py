"""The Celery application: broker, queues, routing by task name, and the beat schedule, all from settings.

Data flow: a caller sends a task by its dotted name → ``route_for`` picks its queue → a worker that
consumes that queue runs it. Nothing here connects to anything at import; ``make_celery`` is a factory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from celery import Celery
from kombu.entity import Exchange, Queue

from netmgr.settings import Settings

if TYPE_CHECKING:
    from netmgr.capabilities import Manifest

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

@dataclass(frozen=True)
class PeriodicTask:
    """A task beat sends by name every ``interval_s(settings)`` seconds; declared in a manifest's
    ``periodic_tasks`` beside the module that defines the task."""

    name: str
    task: str
    interval_s: Callable[[Settings], float]
    kwargs: dict[str, Any] = field(default_factory=dict)


class UnknownPeriodicTask(ValueError):
    """A periodic task names a task no manifest's task modules define (a typo would otherwise never run)."""


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


def beat_schedule(settings: Settings, capabilities: Sequence[Manifest] = ()) -> dict[str, dict[str, Any]]:
    """The periodic tasks of ``capabilities``, with intervals taken from settings."""
    return {
        p.name: {"task": p.task, "schedule": p.interval_s(settings), "kwargs": p.kwargs}
        for manifest in capabilities
        for p in manifest.periodic_tasks
    }


def _check_periodic_tasks(app: Celery, capabilities: Sequence[Manifest]) -> None:
    """Every periodic task sends a task that one of the included task modules defines."""
    modules = set(app.conf.include)
    known = {name for name, task in app.tasks.items() if task.__module__ in modules}
    for manifest in capabilities:
        for p in manifest.periodic_tasks:
            if p.task not in known:
                raise UnknownPeriodicTask(
                    f"periodic task {p.name!r} of {manifest.name} sends {p.task!r}, which no task module defines; "
                    f"known: {', '.join(sorted(known))}")


def _queue(name: str) -> Queue:
    exchange = Exchange(name, type="direct")  # type: ignore[no-untyped-call]  # kombu is untyped
    return Queue(name, exchange, routing_key=name)  # type: ignore[no-untyped-call]


def send_once(app: Celery) -> Callable[..., object]:
    """A ``send(name, kwargs={...})`` for tasks sent on a person's behalf (a job, a backup): one publish attempt,
    no result kept. A refusing broker fails it at once instead of holding the request for Celery's reconnect
    retries (about 20 s); ``netmgr.db.send_after_commit`` keeps the task in the outbox and sends it again."""

    def send(name: str, *, kwargs: dict[str, Any]) -> object:
        # retry=False stops Celery retrying the publish; kombu would still retry opening the connection
        # (2 s, then 4 s: a request held 6 s or more): max_retries=0 makes a refusing broker fail at once.
        with app.connection_for_write(transport_options={"max_retries": 0}) as connection:
            return app.send_task(name, kwargs=kwargs, ignore_result=True, retry=False, connection=connection)

    return send


def make_celery(settings: Settings, capabilities: Sequence[Manifest] = ()) -> Celery:
    """A configured Celery app for ``settings`` running the tasks of ``capabilities`` (the entry points pass the
    installed manifests; a sender needs none); connects to nothing until used.

    Raises:
        UnknownPeriodicTask: a periodic task sends a task name that none of the task modules defines.
    """
    include = [module.__name__ for manifest in capabilities if manifest.task_modules is not None
               for module in manifest.task_modules()]
    app = Celery("netmgr", broker=settings.resolved_broker_url, backend=settings.resolved_result_backend,
                 include=include, set_as_current=False)
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
        beat_schedule=beat_schedule(settings, capabilities),
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        worker_hijack_root_logger=False,
    )
    if capabilities:
        _check_periodic_tasks(app, capabilities)
    return app
