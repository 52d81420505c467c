"""Redis for the tests: the machine's server if it answers, else a private one on a free port."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers.process import Daemon, free_port, need_binary, wait_until


def _ping(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_url() -> Iterator[str]:
    """A Redis URL whose databases 10-15 the tests may flush."""
    configured = os.environ.get("NETMGR_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    if _ping("127.0.0.1", 6379):
        yield "redis://127.0.0.1:6379/12"
        return
    with private_redis() as port:
        yield f"redis://127.0.0.1:{port}/12"


@contextmanager
def private_redis(port: int | None = None) -> Iterator[int]:
    """A redis-server of this test alone on ``port`` (a free one when None), stopped afterwards; yields the port.

    For tests that stop the broker (the machine's shared server must keep running for the others).
    """
    binary = need_binary("redis-server", "redis-server")
    root = Path(tempfile.mkdtemp(prefix="netmgr-redis-"))
    port = port or free_port()
    daemon = Daemon([binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                     "--dir", str(root)], log=root / "redis.log")
    try:
        wait_until(lambda: _ping("127.0.0.1", port), timeout=15, what="redis-server", proc=daemon.proc,
                   log=root / "redis.log")
        yield port
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)
