"""The real netmgr app for browser tests: a migrated SQLite database, uvicorn on a free port, Chromium."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
import uvicorn
from starlette.types import ASGIApp

from netmgr.migrate import upgrade
from tests.servers.process import free_port, needed, tcp_open, wait_until

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def need_chromium() -> None:
    missing = f"{CHROMIUM} is missing: apt-get install chromium (./dev test does this)"
    needed(None if shutil.which(CHROMIUM) else missing)


def migrated_sqlite_url(directory: Path) -> str:
    """A SQLite database at the newest schema, in ``directory``."""
    url = f"sqlite:///{directory / 'netmgr.sqlite3'}"
    engine = sa.create_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@contextmanager
def serve_app(app: ASGIApp, port: int | None = None, *, host: str = "127.0.0.1",
              tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """Run ``app`` with uvicorn in a background thread; yields its base URL and stops it afterwards.

    ``tls`` is (certificate, key): the app is then served over https.
    """
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", ws="none",
                                           lifespan="off", ssl_certfile=tls[0] if tls else None,
                                           ssl_keyfile=tls[1] if tls else None))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    try:
        wait_until(lambda: tcp_open(host, port), timeout=20, what="uvicorn with the netmgr app")
        yield f"{'https' if tls else 'http'}://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
