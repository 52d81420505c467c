"""Captive-portal logins and the Captive Portal API under concurrent load, each against a bare-framework peer.

    .venv/bin/python bench/portal.py [--logins 3000] [--concurrency 64] [--workers 2] [--database-url URL]
                                     [--warmup 200]

One login is what a phone does: the gateway's redirect (GET with a fresh MAC → 303), the welcome page
(GET → CSRF token), the terms form (POST → consent record, subscriber, one-time RADIUS grant, 303 to the
router). The peer does three GETs of ``/healthz`` per "login" on the same server: the ceiling of uvicorn +
FastAPI + the app's middleware on this machine. Reported: logins/s, p50/p99 latency of a whole login,
server CPU per login (every uvicorn process, from /proc), the load generator's own CPU per login, and the
server's peak RSS.

The Captive Portal API (RFC 8908) is what every phone that got DHCP option 114 asks when it joins and again
while online: one ``GET /portal/api/captive/<hotspot>`` per request, from an address with an open session (so
the full answer with remaining time and data is built), against one ``GET /healthz`` as its peer. In its two
rows a "login" is one request.

The load generator shares the machine, so it is kept light: raw HTTP/1.1 over keep-alive asyncio streams
(uvloop when installed), the gateway redirects built before the clock starts, only the status line, the
cookie, the Location and the CSRF token parsed. uvicorn runs with uvloop and httptools.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from bench.procstat import cpu_seconds, peak_rss_mb, process_tree  # noqa: E402
from netmgr.migrate import upgrade  # noqa: E402
from netmgr.models import HotspotSession  # noqa: E402
from netmgr.models.hotspot import SessionStatus  # noqa: E402
from netmgr.state import AppState  # noqa: E402
from tests.captive_portal import portal_support as ps  # noqa: E402
from tests.conftest import TEST_ENCRYPTION_KEY, make_settings  # noqa: E402
from tests.servers.process import Daemon, free_port, tcp_open, wait_until  # noqa: E402

CSRF = re.compile(rb'name="csrf_token" value="([^"]+)"')
COOKIE = b"netmgr_session="


@dataclass
class Result:
    name: str
    done: int
    failed: int
    seconds: float
    latencies: list[float]
    cpu_s: float
    client_cpu_s: float
    rss_mb: float

    def row(self) -> str:
        lat = sorted(self.latencies) or [0.0]
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        rate = self.done / self.seconds if self.seconds else 0
        cpu_ms = self.cpu_s / max(1, self.done) * 1000
        client_ms = self.client_cpu_s / max(1, self.done) * 1000
        return (f"| {self.name} | {self.done} ({self.failed} failed) | {rate:,.0f} | {p50:.0f} | {p99:.0f} | "
                f"{cpu_ms:.2f} | {client_ms:.2f} | {self.rss_mb:.0f} |")


class Connection:
    """One keep-alive HTTP/1.1 connection: send a prepared request, read status, a few headers and the body."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def request(self, data: bytes) -> tuple[int, bytes, bytes]:
        """``(status, raw header block, body)`` of the response to ``data``."""
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        start = head.find(b"\r\ncontent-length: ")
        if start < 0:
            start = head.find(b"\r\nContent-Length: ")
        if start >= 0:
            length = int(head[start + 18 : head.index(b"\r\n", start + 2)])
        body = await self.reader.readexactly(length) if length else b""
        return status, head, body

    def close(self) -> None:
        self.writer.close()


def _header(head: bytes, name: bytes) -> bytes:
    start = head.lower().find(b"\r\n" + name + b": ")
    if start < 0:
        return b""
    start += len(name) + 4
    return head[start : head.index(b"\r\n", start)]


def _cookie(head: bytes, current: bytes) -> bytes:
    start = head.find(b"set-cookie: " + COOKIE)
    if start < 0:
        return current
    start += len(b"set-cookie: ")
    return head[start : head.index(b";", start)]


def _get(path: bytes, cookie: bytes = b"") -> bytes:
    extra = b"cookie: " + cookie + b"\r\n" if cookie else b""
    return b"GET " + path + b" HTTP/1.1\r\nhost: 127.0.0.1\r\n" + extra + b"\r\n"


def _post(path: bytes, body: bytes, cookie: bytes) -> bytes:
    return (b"POST " + path + b" HTTP/1.1\r\nhost: 127.0.0.1\r\ncookie: " + cookie
            + b"\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: "
            + str(len(body)).encode() + b"\r\n\r\n" + body)


def _redirects(slug: str, first: int, count: int) -> list[bytes]:
    """The gateways' redirects of ``count`` phones, each with its own MAC and address (built before timing)."""
    out = []
    for n in range(first, first + count):
        mac = f"02:{(n >> 24) & 255:02X}:{(n >> 16) & 255:02X}:{(n >> 8) & 255:02X}:{n & 255:02X}:01"
        query = ps.mikrotik_query(mac=mac, ip=f"10.5.{(n >> 8) & 255}.{n & 255}")
        out.append(_get(f"/portal/{slug}/?{query}".encode()))
    return out


async def _login(conn: Connection, slug: bytes, redirect: bytes) -> bool:
    status, head, _ = await conn.request(redirect)
    if status != 303:
        return False
    cookie = _cookie(head, b"")
    status, head, body = await conn.request(_get(b"/portal/" + slug + b"/", cookie))
    match = CSRF.search(body)
    if status != 200 or not match:
        return False
    cookie = _cookie(head, cookie)
    status, head, _ = await conn.request(_post(b"/portal/" + slug + b"/terms",
                                               b"csrf_token=" + match.group(1) + b"&accept=yes", cookie))
    return status == 303 and _header(head, b"location").startswith(b"http://10.5.50.1/login?")


HEALTHZ = _get(b"/healthz")


async def _peer(conn: Connection, _slug: bytes, _redirect: bytes) -> bool:
    for _ in range(3):
        status, _, _ = await conn.request(HEALTHZ)
        if status != 200:
            return False
    return True


CAPTIVE_API = b""


async def _captive(conn: Connection, _slug: bytes, _redirect: bytes) -> bool:
    status, head, body = await conn.request(CAPTIVE_API)
    return status == 200 and b'"captive": false' in body


async def _peer_once(conn: Connection, _slug: bytes, _redirect: bytes) -> bool:
    status, _, _ = await conn.request(HEALTHZ)
    return status == 200


ACTIONS: dict[str, Callable[[Connection, bytes, bytes], Awaitable[bool]]] = {
    "login": _login, "peer": _peer, "captive": _captive, "peer-once": _peer_once}


async def _run(kind: str, port: int, slug: str, redirects: list[bytes],
               concurrency: int) -> tuple[int, int, float, list[float]]:
    latencies: list[float] = []
    failed = 0
    work = iter(redirects)
    action = ACTIONS[kind]
    slug_bytes = slug.encode()

    async def worker() -> None:
        nonlocal failed
        conn = await Connection.open(port)
        try:
            for redirect in work:
                start = time.perf_counter()
                try:
                    ok = await action(conn, slug_bytes, redirect)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    ok = False
                    conn.close()
                    conn = await Connection.open(port)
                latencies.append(time.perf_counter() - start)
                failed += 0 if ok else 1
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(redirects) - failed, failed, time.perf_counter() - started, latencies


def _event_loop_run(coro: Awaitable[tuple[int, int, float, list[float]]]) -> tuple[int, int, float, list[float]]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)  # type: ignore[arg-type]
    return uvloop.run(coro)  # type: ignore[arg-type, no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--warmup", type=int, default=200, help="logins before the clock starts")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-portal-"))
    url = args.database_url or f"sqlite:///{work / 'netmgr.sqlite3'}"
    engine = sa.create_engine(url)
    upgrade(engine)
    engine.dispose()
    settings = make_settings(work / "data", url)
    state = AppState.build(settings)
    with state.session_factory() as session:
        hotspot = ps.hotspot(session, slug=f"bench-{int(time.time())}", free_logins_per_day=1_000_000)
        slug = hotspot.slug
        # The load generator's address has an open session, as a phone asking the API while online.
        session.add(HotspotSession(hotspot_id=hotspot.id, nas_device_id=hotspot.gateway_device_id,
                                   acct_session_id="bench-api", mac=ps.CLIENT_MAC, ip="127.0.0.1",
                                   status=SessionStatus.ACTIVE, session_time_s=600, allowance_time_s=3600,
                                   allowance_bytes=10**9))
        session.commit()
    state.engine.dispose()
    global CAPTIVE_API
    CAPTIVE_API = _get(f"/portal/api/captive/{slug}".encode())

    port = free_port()
    env = {"NETMGR_ENVIRONMENT": "test", "NETMGR_DATABASE_URL": url, "NETMGR_DATA_DIR": str(work / "data"),
           "NETMGR_SECRET_KEY": "bench-secret-key-for-cookies", "NETMGR_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
           "NETMGR_INFLUX__ENABLED": "false", "NETMGR_LOG_LEVEL": "WARNING"}
    server = Daemon([sys.executable, "-m", "uvicorn", "netmgr.entrypoints.asgi:app", "--host", "127.0.0.1", "--port",
                     str(port), "--workers", str(args.workers), "--loop", "uvloop", "--http", "httptools",
                     "--log-level", "warning", "--no-access-log"],
                    log=work / "uvicorn.log", env=env)
    first = 1_000_000
    try:
        wait_until(lambda: tcp_open("127.0.0.1", port), timeout=30, what="uvicorn", proc=server.proc,
                   log=work / "uvicorn.log")
        warm = _redirects(slug, 0, args.warmup)
        _event_loop_run(_run("login", port, slug, warm, 8))  # warm-up: imports, templates, pools, every worker
        results = []
        for kind, name in (("peer", "peer: 3 × GET /healthz"), ("login", "netmgr click-through login"),
                           ("peer-once", "peer: 1 × GET /healthz"),
                           ("captive", "Captive Portal API: 1 × GET /portal/api/captive/<hotspot>")):
            redirects = _redirects(slug, first, args.logins)
            first += args.logins
            pids = process_tree(server.proc.pid)
            cpu0, client0 = cpu_seconds(pids), time.process_time()
            done, failed, seconds, lat = _event_loop_run(_run(kind, port, slug, redirects, args.concurrency))
            results.append(Result(name, done, failed, seconds, lat, cpu_seconds(pids) - cpu0,
                                  time.process_time() - client0, peak_rss_mb(pids)))
    finally:
        server.stop()
    db = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    load = os.getloadavg()[0]
    print(f"\n{args.logins} logins, {args.concurrency} concurrent clients, uvicorn --workers {args.workers} "
          f"(uvloop, httptools), {db}, {os.cpu_count()} CPUs, load average {load:.1f} "
          f"(load generator on the same machine)\n")
    print("| run | logins | logins/s | p50 ms | p99 ms | server CPU ms per login | client CPU ms per login "
          "| server peak RSS MiB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(r.row())


if __name__ == "__main__":
    main()
