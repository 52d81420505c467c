"""Celery entry point: ``celery -A netmgr.entrypoints.worker:celery_app worker`` (or ``netmgr worker``)."""

from netmgr import selfmetrics
from netmgr.entrypoints.capabilities import make_celery
from netmgr.logging import configure_logging
from netmgr.settings import get_settings

settings = get_settings()
configure_logging(settings)
selfmetrics.configure(settings)  # the pool's processes inherit it: /metrics adds their figures up
celery_app = make_celery(settings)
