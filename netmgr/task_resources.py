"""The one way a Celery task gets its resources: a per-process holder of the AppState and the MetricsStore.

Every task of every package calls ``task_resources()``. What it holds is built on the first task a process runs
(never at import, so never in a prefork parent before it forks), then reused by every later task of that process:
one engine and connection pool, one metrics store with its spool, instead of a new engine per call. A different
``Settings`` object (``get_settings.cache_clear()`` in tests, a CLI run with other settings) replaces what is held,
disposing the old engine. A forked worker process forgets what its parent held; a stopping one flushes and closes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from celery.signals import worker_process_init, worker_process_shutdown

from netmgr.metrics import MetricsStore, make_metrics_store
from netmgr.settings import Settings, get_settings
from netmgr.state import AppState


@dataclass
class TaskResources:
    """What a task works with: settings, engine and session factory (``state``), and the metrics store."""

    state: AppState
    _store: MetricsStore | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        return self.state.settings

    @property
    def store(self) -> MetricsStore:
        """The metrics store, made on first use (most tasks never write metrics)."""
        if self._store is None:
            self._store = make_metrics_store(self.settings)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        self.state.engine.dispose()


_lock = threading.Lock()
_held: TaskResources | None = None
_pinned = False


def task_resources(settings: Settings | None = None) -> TaskResources:
    """This process's resources for ``settings`` (default: ``get_settings()``), built once and then reused."""
    global _held
    wanted = settings if settings is not None else get_settings()
    with _lock:
        if _held is not None and (_pinned or _held.settings is wanted):
            return _held
        old, _held = _held, TaskResources(AppState.build(wanted))
        if old is not None:
            old.close()
        return _held


def release() -> None:
    """Flush and close what this process holds (worker shutdown, tests); the next task builds anew."""
    global _held
    with _lock:
        old, _held = _held, None
    if old is not None:
        old.close()


@contextmanager
def holding(resources: TaskResources) -> Iterator[TaskResources]:
    """Run tasks in this process with ``resources`` whatever the settings (a test's tuned settings and store)."""
    global _held, _pinned
    with _lock:
        previous, _held, _pinned = _held, resources, True
    try:
        yield resources
    finally:
        with _lock:
            _held, _pinned = previous, False


@worker_process_init.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _forget_after_fork(**_: Any) -> None:
    """A forked pool process must not share its parent's pooled connections: drop them without closing them."""
    global _held
    with _lock:
        if _held is not None:
            _held.state.engine.dispose(close=False)
        _held = None


@worker_process_shutdown.connect  # type: ignore[untyped-decorator]  # celery is untyped
def _close_at_shutdown(**_: Any) -> None:
    release()
