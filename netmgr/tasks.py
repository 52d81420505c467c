"""Core Celery tasks: thin wrappers that take IDs or plain values and call services (see netmgr.jobs).

``netmgr.ping`` is a health check: it proves a worker consumes the default queue and results come back.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task


@shared_task(name="netmgr.ping", bind=True)  # type: ignore[untyped-decorator]  # celery is untyped
def ping(self: Task[Any, Any], payload: Any = None) -> dict[str, Any]:
    """Answer with ``payload`` and the name of the worker that ran it."""
    return {"pong": payload, "worker": self.request.hostname}
