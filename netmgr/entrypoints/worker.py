"""Celery entry point: ``celery -A netmgr.entrypoints.worker:celery_app worker`` (or ``netmgr worker``)."""

from netmgr.entrypoints.capabilities import make_celery
from netmgr.logging import configure_logging
from netmgr.settings import get_settings

settings = get_settings()
configure_logging(settings)
celery_app = make_celery(settings)
