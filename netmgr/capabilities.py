"""What a capability package adds to netmgr, declared once in its ``manifest.py`` as a :class:`Manifest`.

A manifest names, by ordinary imports, the package's web part (routers, ASGI mounts, services for the core), task
modules, periodic tasks, CLI commands and demo seeding hook. Only ``netmgr.entrypoints`` imports the manifests
and hands them to the core's factories (``netmgr.app.build_app``, ``netmgr.jobs.make_celery``), so the core
names no feature.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter, FastAPI
    from sqlalchemy.orm import Session
    from starlette.datastructures import State

    from netmgr.jobs import PeriodicTask
    from netmgr.security.permissions import Actor


@dataclass(frozen=True)
class AsgiMount:
    """An ASGI lane served by path in front of the core app, ahead of its middleware and routing.

    ``lane`` is built once with the core app as its argument: it answers the requests under ``prefixes`` it
    knows and hands anything else to that app. A ``bare`` lane runs outside even the core's body-size cap and
    security headers (it applies its own, e.g. the AAA fast lane FreeRADIUS calls thousands of times a second);
    any other lane gets both, as every route of the core app does.
    """

    prefixes: tuple[str, ...]
    lane: Callable[[ASGIApp], ASGIApp]
    bare: bool = False


@dataclass(frozen=True)
class DemoSeeded:
    """What a capability's demo seeding hook made that the demo's panel shows (empty when nothing)."""

    portal_path: str = ""
    sample_voucher: str = ""
    hotspot_id: int | None = None
    """The demo hotspot, whose gateway the demo's RADIUS client stands in for."""


DemoSeeder = Callable[["Session", "Actor"], DemoSeeded]
"""Seeds a capability's demo data after the core's (idempotent); runs inside the seeding transaction."""


@dataclass(frozen=True)
class WebParts:
    """What a capability adds to the web app: routers (they carry their own prefixes), lanes served by path ahead
    of the core app, and service functions the core's transports inject into a core seam by name (e.g.
    ``request_provision_job`` for ``netmgr.services.plans.JobRequester``)."""

    routers: Sequence[APIRouter] = ()
    asgi_mounts: Sequence[AsgiMount] = ()
    services: Mapping[str, Callable[..., Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Manifest:
    """Everything one package wires into netmgr. For example, captive_portal's: the AAA and portal routers and
    their fast lanes, ``captive_portal.tasks``, three periodic clean-ups, ``netmgr radius …`` and the demo hotspot.

    Each process loads only its part: ``web`` is called by the web app, ``task_modules`` by the worker,
    ``register_cli`` by the ``netmgr`` command, so a worker never imports the pages nor the CLI the routers.
    The loaders import their modules with ordinary imports: a misspelled one fails that process's start-up.
    """

    name: str
    web: Callable[[], WebParts] | None = None
    task_modules: Callable[[], Sequence[ModuleType]] | None = None
    periodic_tasks: Sequence[PeriodicTask] = ()
    register_cli: Callable[[typer.Typer], None] | None = None
    seed_demo: DemoSeeder | None = None


class NetmgrApp:
    """The core FastAPI app with the capabilities' ASGI lanes mounted by path in front of it.

    Request → the first lane whose prefix the path starts with (the core app is put in ``scope["app"]``, as for
    its own routes) → else the core app, which also gets every lifespan and websocket event.
    """

    def __init__(self, core: FastAPI, mounts: Sequence[AsgiMount] = (),
                 wrap: Callable[[ASGIApp], ASGIApp] = lambda lane: lane) -> None:
        """``wrap`` puts the core's edge middleware (body-size cap, security headers) around non-bare lanes."""
        self.core = core
        self._lanes = [(m.prefixes, m.lane(core) if m.bare else wrap(m.lane(core))) for m in mounts]

    @property
    def state(self) -> State:
        """The core app's state (``state.netmgr`` is the AppState)."""
        return self.core.state

    def openapi(self) -> dict[str, Any]:
        return self.core.openapi()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            for prefixes, lane in self._lanes:
                if path.startswith(prefixes):
                    scope["app"] = self.core
                    await lane(scope, receive, send)
                    return
        await self.core(scope, receive, send)
