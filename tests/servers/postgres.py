"""PostgreSQL for the tests: the machine's server if it answers, else a private cluster in a temp dir."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from tests.servers.process import Daemon, ServerUnavailable, free_port, wait_until

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _can_connect(url: str) -> bool:
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        return False


@contextmanager
def _private_cluster() -> Iterator[str]:
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        raise ServerUnavailable("PostgreSQL is not installed: apt-get install postgresql (./dev test does this)")
    bindir = Path(bins[-1])
    root = Path(tempfile.mkdtemp(prefix="netmgr-pg-"))
    data = root / "data"
    user = "postgres" if os.geteuid() == 0 else None
    if user:
        shutil.chown(root, user)
    run = ["runuser", "-u", user, "--"] if user else []
    subprocess.run([*run, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    port = free_port()
    daemon = Daemon([str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root),
                     "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"], log=root / "pg.log", preexec_user=user)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    try:
        wait_until(lambda: _can_connect(url), timeout=30, what="private PostgreSQL", proc=daemon.proc,
                   log=root / "pg.log")
        yield url
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def postgres_admin_url() -> Iterator[str]:
    url = os.environ.get("NETMGR_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)
    if _can_connect(url):
        yield url
        return
    with _private_cluster() as private:
        yield private


@contextmanager
def temporary_database(admin_url: str) -> Iterator[str]:
    """A fresh, uniquely named database, dropped afterwards."""
    name = f"netmgr_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
