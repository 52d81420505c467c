"""ASGI entry point for uvicorn/gunicorn: ``uvicorn netmgr.entrypoints.asgi:app``."""

from netmgr.entrypoints.capabilities import create_app
from netmgr.logging import configure_logging
from netmgr.runtime import tune_gc
from netmgr.settings import get_settings

settings = get_settings()
configure_logging(settings)
app = create_app(settings)
tune_gc()  # the app, its routes and the ORM mappings live as long as the process: keep the GC off them
