"""Core Celery tasks: thin wrappers that take IDs or plain values and call services (see netmgr.jobs).

``netmgr.ping`` is a health check: it proves a worker consumes the default queue and results come back.
``netmgr.flush_task_outbox`` sends the tasks a broker refused while it was down (see ``netmgr.db.send_after_commit``).
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task

from netmgr.db import flush_outbox
from netmgr.jobs import send_once
from netmgr.task_resources import task_resources


@shared_task(name="netmgr.ping", bind=True)  # type: ignore[untyped-decorator]  # celery is untyped
def ping(self: Task[Any, Any], payload: Any = None) -> dict[str, Any]:
    """Answer with ``payload`` and the name of the worker that ran it."""
    return {"pong": payload, "worker": self.request.hostname}


@shared_task(name="netmgr.flush_task_outbox", bind=True)  # type: ignore[untyped-decorator]  # celery is untyped
def flush_task_outbox(self: Task[Any, Any]) -> dict[str, int]:
    """Send the outbox's waiting tasks (beat sends this every minute; it arrives once the broker is back)."""
    state = task_resources().state
    result = flush_outbox(state.engine, send_once(self.app))
    return {"sent": result.sent, "waiting": result.waiting}
