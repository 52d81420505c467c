"""The packages this installation runs, as their manifests, and the factories that wire them into the core.

The one place that imports ``collectors``, ``provisioning`` and ``captive_portal``: ``asgi``, ``worker`` and
``cli`` build their process from here, and tests build the whole app the same way. A new capability is one import
and one entry in :data:`MANIFESTS`.
"""

from __future__ import annotations

from celery import Celery

import captive_portal.manifest
import collectors.manifest
import netmgr.manifest
import provisioning.manifest
from netmgr.capabilities import DemoSeeder, Manifest, NetmgrApp
from netmgr.jobs import make_celery as make_core_celery
from netmgr.settings import Settings
from netmgr.state import AppState

MANIFESTS: tuple[Manifest, ...] = (
    netmgr.manifest.MANIFEST,
    collectors.manifest.MANIFEST,
    provisioning.manifest.MANIFEST,
    captive_portal.manifest.MANIFEST,
)


def create_app(settings: Settings, state: AppState | None = None) -> NetmgrApp:
    """The whole web application: the core with every capability's routers and lanes (tests may inject state)."""
    from netmgr.app import build_app  # the ``netmgr`` command imports this module: no web stack until asked

    return build_app(settings, state, capabilities=MANIFESTS)


def make_celery(settings: Settings) -> Celery:
    """The Celery app that runs every capability's tasks and schedules their periodic ones."""
    return make_core_celery(settings, MANIFESTS)


def demo_seeders() -> list[DemoSeeder]:
    """The capabilities' demo seeding hooks, in manifest order."""
    return [m.seed_demo for m in MANIFESTS if m.seed_demo is not None]
