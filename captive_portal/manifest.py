"""What captive_portal adds to netmgr: the AAA endpoint and the citizens' portal (routers and their fast lanes,
mounted by path ahead of the core app), the admin pages, its Celery tasks and clean-ups, the ``netmgr radius``
commands and the demo hotspot.

Imported only by ``netmgr.entrypoints``; adding a router, a lane, a task module or a periodic task is one line here.
Each loader imports its modules when its process starts (the worker never imports the pages, nor the CLI the tasks).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import typer
from sqlalchemy.orm import Session

from netmgr.capabilities import AsgiMount, DemoSeeded, Manifest, WebParts
from netmgr.jobs import PeriodicTask
from netmgr.security.permissions import Actor


def web() -> WebParts:
    from captive_portal import admin_api, admin_pages, api, pages, sms_pages

    return WebParts(
        routers=(api.router, pages.router, admin_pages.router, admin_api.router, sms_pages.router),
        asgi_mounts=(
            # FreeRADIUS's rest calls: raw ASGI, outside even the body cap and headers (the lane applies its own).
            AsgiMount((api.PREFIX,), api.AaaFastLane, bare=True),
            # A citizen's pages and the OS connectivity probes, without the admin app's routing and middleware.
            AsgiMount(("/portal", *pages.PROBE_SUCCESS), pages.PortalFastLane),
        ),
    )


def task_modules() -> Sequence[ModuleType]:
    from captive_portal import tasks

    return (tasks,)


def register_cli(app: typer.Typer) -> None:
    from captive_portal import cli

    cli.register(app)


def seed_demo(session: Session, actor: Actor) -> DemoSeeded:
    """The demo hotspot and its vouchers; the portal URL a phone is sent to and one voucher for the panel."""
    from captive_portal.portal import seed_demo_hotspot
    from netmgr.demo.seed import portal_entry

    hotspot = seed_demo_hotspot(session, actor)
    if hotspot is None:
        return DemoSeeded()
    portal_path, voucher = portal_entry(session, hotspot)
    return DemoSeeded(portal_path=portal_path, sample_voucher=voucher, hotspot_id=hotspot.id)


MANIFEST = Manifest(
    name="captive_portal",
    web=web,
    task_modules=task_modules,
    periodic_tasks=(
        PeriodicTask("close-stale-hotspot-sessions", "captive_portal.close_stale_sessions",
                     lambda s: float(s.radius.interim_interval_s)),
        PeriodicTask("enforce-hotspot-quotas", "captive_portal.enforce_quotas", lambda s: 60.0),
        PeriodicTask("purge-expired-portal-data", "captive_portal.purge_expired_data", lambda s: 86400.0),
    ),
    register_cli=register_cli,
    seed_demo=seed_demo,
)
