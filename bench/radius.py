"""RADIUS AAA throughput: FreeRADIUS → rest → netmgr, and accounting through FreeRADIUS's detail spool, against
FreeRADIUS answering from its static ``users`` file (the ceiling), in the same run on the same machine; and the
time netmgr's spool reader takes to catch up a backlog.

    .venv/bin/python bench/radius.py [--requests 4000] [--window 128] [--workers 2] [--database-url URL]
                                     [--backlog 100000] [--only auth|acct|spool]

Access-Requests and Accounting-Requests are pre-encoded with pyrad and sent from one asyncio UDP socket
per 256 RADIUS ids, with ``--window`` in flight. Reported: requests/s, p50/p99 latency, CPU per request
across the FreeRADIUS and netmgr (uvicorn) processes, and their peak RSS. Usage points go to a real
influxd when Debian's ``influxd`` is installed (otherwise the metrics store is disabled, and it says so).
The spool run answers accounting from the detail file alone; then ``--backlog`` Interim-Updates are spooled
and ``captive_portal.spool`` (what ``netmgr radius-spool`` runs) applies them, timed.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from pyrad import packet  # noqa: E402
from pyrad.client import Client  # noqa: E402

from bench.procstat import cpu_seconds, peak_rss_mb, process_tree  # noqa: E402
from captive_portal.accounting import AccountingSettings  # noqa: E402
from captive_portal.coa import radius_dictionary  # noqa: E402
from captive_portal.radius_config import RadiusClient  # noqa: E402
from captive_portal.spool import SpoolReader, drain  # noqa: E402
from netmgr.db import make_session_factory  # noqa: E402
from netmgr.metrics import make_metrics_store  # noqa: E402
from netmgr.migrate import upgrade  # noqa: E402
from netmgr.settings import AccountingMode, Environment, InfluxApi, Settings  # noqa: E402
from tests.captive_portal.hotspot_data import NAS_SECRET, add_voucher, seed_hotspot  # noqa: E402
from tests.servers.freeradius import freeradius  # noqa: E402
from tests.servers.process import Daemon, free_port, tcp_open, wait_until  # noqa: E402

TOKEN = "bench-aaa-token"  # noqa: S105 - a throwaway token for a local benchmark
KEY = "aL7BqzEYOa5c4dcr2yT1bYx1m0kDVyCZ2q9j2eQy1lM="
STATIC_USERS = ('DEFAULT Cleartext-Password := "STATICPW"\n\tSession-Timeout = 3600,\n\tIdle-Timeout = 600,\n'
                '\tAcct-Interim-Interval = 300,\n\tMikrotik-Rate-Limit = "2000k/5000k"\n')


@dataclass
class Result:
    name: str
    sent: int
    answered: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_s: dict[str, float]
    peak_rss_mb: dict[str, float]

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def row(self) -> str:
        per_req = {name: cpu / max(1, self.answered) * 1e6 for name, cpu in self.cpu_s.items()}
        split = " + ".join(f"{name} {us:,.0f}" for name, us in per_req.items())
        rss = " + ".join(f"{name} {mb:.0f}" for name, mb in self.peak_rss_mb.items())
        return (f"| {self.name} | {self.answered}/{self.sent} | {self.rate:,.0f} | {self.p50_ms:.1f} | "
                f"{self.p99_ms:.1f} | {sum(per_req.values()):,.0f} ({split}) | {rss} |")


async def _blast(port: int, packets: list[tuple[int, int, bytes]], sockets: int, window: int,
                 timeout: float = 5.0) -> tuple[int, float, list[float]]:
    """Send pre-encoded packets (socket index, RADIUS id, bytes) keeping ``window`` in flight."""
    loop = asyncio.get_running_loop()
    pending: dict[tuple[int, int], tuple[float, asyncio.Future[float]]] = {}

    class Proto(asyncio.DatagramProtocol):
        def __init__(self, index: int) -> None:
            self.index = index

        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            entry = pending.pop((self.index, data[1]), None)
            if entry is not None and not entry[1].done():
                entry[1].set_result(time.perf_counter() - entry[0])

    transports = []
    for index in range(sockets):
        transport, _ = await loop.create_datagram_endpoint(functools.partial(Proto, index),
                                                           remote_addr=("127.0.0.1", port))
        transports.append(transport)
    gate = asyncio.Semaphore(window)
    latencies: list[float] = []

    async def one(sock: int, ident: int, data: bytes) -> None:
        async with gate:
            while (sock, ident) in pending:  # the id is still out; wait for its answer or its timeout
                await asyncio.sleep(0.001)
            fut: asyncio.Future[float] = loop.create_future()
            pending[(sock, ident)] = (time.perf_counter(), fut)
            transports[sock].sendto(data)
            try:
                latencies.append(await asyncio.wait_for(fut, timeout))
            except TimeoutError:
                pending.pop((sock, ident), None)

    start = time.perf_counter()
    await asyncio.gather(*(one(s, i, d) for s, i, d in packets))
    elapsed = time.perf_counter() - start
    for transport in transports:
        transport.close()
    return len(latencies), elapsed, latencies


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _encode_auth(n: int, sockets: int, user: str, password: str) -> list[tuple[int, int, bytes]]:
    client = Client(server="127.0.0.1", secret=NAS_SECRET.encode(), dict=radius_dictionary())
    out = []
    for i in range(n):
        sock, ident = i % sockets, (i // sockets) % 256
        pkt = client.CreateAuthPacket(code=packet.AccessRequest, id=ident, User_Name=user)
        pkt["User-Password"] = pkt.PwCrypt(password)
        pkt["NAS-IP-Address"] = "127.0.0.1"
        pkt["Calling-Station-Id"] = f"02-00-00-00-{i // 256 % 256:02X}-{i % 256:02X}"
        pkt.add_message_authenticator()
        out.append((sock, ident, pkt.RequestPacket()))
    return out


def _encode_acct(n: int, sessions: int, sockets: int, user: str, status: str) -> list[tuple[int, int, bytes]]:
    client = Client(server="127.0.0.1", secret=NAS_SECRET.encode(), dict=radius_dictionary())
    out = []
    for i in range(n):
        sock, ident = i % sockets, (i // sockets) % 256
        s = i % sessions
        pkt = client.CreateAcctPacket(id=ident, User_Name=user, Acct_Status_Type=status,
                                      Acct_Session_Id=f"bench-{s:06d}", NAS_IP_Address="127.0.0.1",
                                      Calling_Station_Id=f"02-00-00-01-{s // 256 % 256:02X}-{s % 256:02X}",
                                      Framed_IP_Address=f"10.{s // 65536 % 256}.{s // 256 % 256}.{s % 256}",
                                      Acct_Input_Octets=(i // sessions + 1) * 200_000,
                                      Acct_Output_Octets=(i // sessions + 1) * 1_000_000,
                                      Acct_Session_Time=(i // sessions + 1) * 60)
        out.append((sock, ident, pkt.RequestPacket()))
    return out


def _measure(name: str, port: int, packets: list[tuple[int, int, bytes]], sockets: int, window: int,
             groups: dict[str, list[int]]) -> Result:
    """Send ``packets``; CPU and peak RSS are reported per process group (FreeRADIUS, netmgr)."""
    cpu0 = {group: cpu_seconds(pids) for group, pids in groups.items()}
    answered, seconds, latencies = asyncio.run(_blast(port, packets, sockets, window))
    cpu = {group: cpu_seconds(pids) - cpu0[group] for group, pids in groups.items()}
    rss = {group: peak_rss_mb(pids) for group, pids in groups.items()}
    return Result(name, len(packets), answered, seconds, _percentile(latencies, 0.5), _percentile(latencies, 0.99),
                  cpu, rss)


FIXED_AUTHORIZE = json.dumps({"control:Cleartext-Password": "BENCHVCH", "reply:Session-Timeout": 3600,
                              "reply:Idle-Timeout": 600, "reply:Acct-Interim-Interval": 60,
                              "reply:Mikrotik-Rate-Limit": "2000k/5000k"}, separators=(",", ":"))
NGINX_CONF = """worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        location = /api/v1/aaa/authorize {{
            default_type application/json;
            return 200 '{reply}';
        }}
        location / {{ return 204; }}
    }}
}}
"""


@contextmanager
def _fixed_http(root: Path) -> Iterator[tuple[str, Daemon]]:
    """nginx answering the AAA paths with fixed replies: a backend that costs (almost) nothing, so FreeRADIUS
    → rest → it is the ceiling of ANY rest backend on this machine (the rest module's own cost included)."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (root / "nginx.conf").write_text(NGINX_CONF.format(root=root, port=port, reply=FIXED_AUTHORIZE))
    daemon = Daemon(["nginx", "-c", str(root / "nginx.conf"), "-g", "daemon off;"], log=root / "nginx.log")
    try:
        wait_until(lambda: tcp_open("127.0.0.1", port), timeout=10, what="nginx", proc=daemon.proc,
                   log=root / "nginx.log")
        yield f"http://127.0.0.1:{port}", daemon
    finally:
        daemon.stop()


@contextmanager
def _netmgr(env: dict[str, str], workers: int, log: Path) -> Iterator[tuple[str, Daemon]]:
    port = free_port()
    daemon = Daemon([sys.executable, "-m", "uvicorn", "netmgr.entrypoints.asgi:app", "--host", "127.0.0.1",
                     "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
                     "--loop", "uvloop", "--http", "httptools"],
                    log=log, env=env, cwd=Path(__file__).resolve().parents[1])
    try:
        wait_until(lambda: tcp_open("127.0.0.1", port), timeout=30, what="netmgr", proc=daemon.proc, log=log)
        time.sleep(1.0)  # let every worker finish importing
        yield f"http://127.0.0.1:{port}", daemon
    finally:
        daemon.stop()


def _netmgr_runs(args: argparse.Namespace, env: dict[str, str], root: Path, settings: Settings,
                 clients: list[RadiusClient]) -> list[Result]:
    """FreeRADIUS → rest → netmgr under uvicorn: logins, then Interim-Updates of started sessions."""
    results: list[Result] = []
    n, k = args.requests, args.sessions
    with _netmgr(env, args.workers, root / "netmgr.log") as (url, api):
        with freeradius(root / "rest", settings=settings, api_url=url, clients=clients, debug=False) as radius:
            pids = {"FreeRADIUS": process_tree(radius.daemon.proc.pid), "netmgr": process_tree(api.proc.pid)}
            if args.only != "acct":
                results.append(_measure("netmgr: Access-Request (voucher)", radius.auth_port,
                                        _encode_auth(n, args.sockets, "BENCHVCH", "BENCHVCH"), args.sockets,
                                        args.window, pids))
            if args.only != "auth":
                _measure("netmgr: Accounting Start (setup)", radius.acct_port,
                         _encode_acct(k, k, args.sockets, "BENCHVCH", "Start"), args.sockets, args.window, pids)
                results.append(_measure("netmgr: Accounting Interim-Update", radius.acct_port,
                                        _encode_acct(n, k, args.sockets, "BENCHVCH", "Interim-Update"),
                                        args.sockets, args.window, pids))
    return results


@dataclass
class CatchUp:
    records: int
    seconds: float

    def line(self) -> str:
        rate = self.records / self.seconds if self.seconds else 0.0
        return f"spool catch-up: {self.records:,} records applied in {self.seconds:.1f} s ({rate:,.0f}/s)"


def _catch_up(reader: SpoolReader) -> CatchUp:
    start = time.perf_counter()
    records = drain(reader)
    return CatchUp(records, time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--window", type=int, default=128)
    parser.add_argument("--sockets", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes for netmgr")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--only", choices=("auth", "acct", "spool"), default=None,
                        help="measure only Access-Requests, only accounting (e.g. while profiling netmgr), or only "
                             "the spool against the static file")
    parser.add_argument("--backlog", type=int, default=100_000,
                        help="Interim-Updates spooled, then applied by the spool reader (timed); 0 skips it")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="netmgr-bench-radius-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, root, True)
        influx_note = "disabled (no influxd)"
        influx_env: dict[str, str] = {"NETMGR_INFLUX__ENABLED": "false"}
        influx_settings: dict[str, object] = {"enabled": False, "api": InfluxApi.V1}
        if shutil.which("influxd"):
            from tests.servers.influx import influx_server

            server = stack.enter_context(influx_server())
            influx_env = {"NETMGR_INFLUX__API": "v1", "NETMGR_INFLUX__URL": server.url,
                          "NETMGR_INFLUX__DATABASE": "bench", "NETMGR_INFLUX__SPOOL_MAX_BYTES": "0"}
            influx_settings = {"api": InfluxApi.V1, "url": server.url, "database": "bench", "spool_max_bytes": 0}
            influx_note = f"influxd 1.6 at {server.url} (v1 writes, batches of 5000)"
        db_url = args.database_url or f"sqlite:///{root / 'netmgr.sqlite3'}"
        engine = sa.create_engine(db_url)
        upgrade(engine)
        settings = Settings(environment=Environment.TEST, data_dir=root / "data", database_url=db_url,
                            encryption_keys=KEY, radius={"aaa_token": TOKEN},
                            influx={"enabled": False, "api": InfluxApi.V1})
        with make_session_factory(engine, settings)() as s:
            seeded = seed_hotspot(s, max_devices=10**6, person_daily_time_s=None, person_daily_bytes=None)
            add_voucher(s, seeded.batch, "BENCHVCH")
            nas_name = seeded.nas.name  # netmgr knows the gateway by the client name FreeRADIUS passes on
        engine.dispose()
        env = {"NETMGR_DATABASE_URL": db_url, "NETMGR_ENCRYPTION_KEYS": KEY, "NETMGR_ENVIRONMENT": "test",
               "NETMGR_DATA_DIR": str(root / "data"), "NETMGR_RADIUS__AAA_TOKEN": TOKEN,
               "NETMGR_PORTAL__MAX_FAILED_ATTEMPTS": "1000000", "NETMGR_PORTAL__MAX_FAILED_ATTEMPTS_PER_IP": "1000000",
               "NETMGR_LOG_LEVEL": "WARNING", **influx_env}
        clients = [RadiusClient(nas_name, "127.0.0.1", NAS_SECRET)]

        results: list[Result] = []
        catch_up: CatchUp | None = None
        n, k = args.requests, args.sessions
        with freeradius(root / "static", settings=settings, api_url="http://127.0.0.1:9", clients=clients,
                        static_users=STATIC_USERS, debug=False) as radius:
            pids = {"FreeRADIUS": process_tree(radius.daemon.proc.pid)}
            results.append(_measure("static users file: Access-Request", radius.auth_port,
                                    _encode_auth(n, args.sockets, "someone", "STATICPW"), args.sockets, args.window,
                                    pids))
            results.append(_measure("static: Accounting Interim-Update", radius.acct_port,
                                    _encode_acct(n, k, args.sockets, "someone", "Interim-Update"), args.sockets,
                                    args.window, pids))
        if args.only in (None, "acct", "spool"):
            spool_settings = settings.model_copy(update={
                "radius": settings.radius.model_copy(update={"accounting": AccountingMode.SPOOL,
                                                             "spool_dir": str(root / "spool")}),
                "influx": settings.influx.model_copy(update=influx_settings)})
            # Accounting only: nothing here asks netmgr (its rest backend is not even running).
            with freeradius(root / "spooling", settings=spool_settings, api_url="http://127.0.0.1:9",
                            clients=clients, debug=False) as radius:
                pids = {"FreeRADIUS": process_tree(radius.daemon.proc.pid)}
                results.append(_measure("detail spool: Accounting Interim-Update", radius.acct_port,
                                        _encode_acct(n, k, args.sockets, "BENCHVCH", "Interim-Update"), args.sockets,
                                        args.window, pids))
                engine = sa.create_engine(db_url)
                store = make_metrics_store(spool_settings)
                try:
                    reader = SpoolReader(make_session_factory(engine, spool_settings), root / "spool",
                                         settings=AccountingSettings(timezone="Asia/Jakarta"), store=store,
                                         batch=spool_settings.radius.spool_batch)
                    drain(reader)  # the measured run's records, not timed
                    if args.backlog:
                        backlog = _measure("detail spool: backlog (setup)", radius.acct_port,
                                           _encode_acct(args.backlog, k, args.sockets, "BENCHVCH", "Interim-Update"),
                                           args.sockets, args.window, pids)
                        catch_up = _catch_up(reader)
                        if backlog.answered != backlog.sent:
                            print(f"warning: only {backlog.answered} of {backlog.sent} backlog records answered")
                finally:
                    store.close()
                    engine.dispose()
        if args.only != "spool" and shutil.which("nginx"):
            with _fixed_http(root / "nginx") as (url, web), \
                    freeradius(root / "fixed", settings=settings, api_url=url, clients=clients, debug=False) as radius:
                pids = {"FreeRADIUS": process_tree(radius.daemon.proc.pid), "nginx": process_tree(web.proc.pid)}
                if args.only != "acct":
                    results.append(_measure("rest → nginx fixed replies: Access-Request", radius.auth_port,
                                            _encode_auth(n, args.sockets, "BENCHVCH", "BENCHVCH"), args.sockets,
                                            args.window, pids))
                if args.only != "auth":
                    results.append(_measure("rest → nginx fixed replies: Accounting Interim-Update",
                                            radius.acct_port,
                                            _encode_acct(n, k, args.sockets, "BENCHVCH", "Interim-Update"),
                                            args.sockets, args.window, pids))
        if args.only != "spool":
            results += _netmgr_runs(args, env, root, settings, clients)

    _report(args, db_url, influx_note, results, catch_up)


def _report(args: argparse.Namespace, db_url: str, influx_note: str, results: list[Result],
            catch_up: CatchUp | None) -> None:
    n = args.requests
    print(f"\nRADIUS AAA, {n} requests per row, window {args.window}, netmgr workers {args.workers}, "
          f"database {'PostgreSQL' if db_url.startswith('postgres') else 'SQLite'}, metrics {influx_note}\n")
    print("| run | answered | req/s | p50 ms | p99 ms | CPU µs/req (split) | peak RSS MB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(r.row())
    static_auth, static_acct = results[0], results[1]
    fixed = {("Accounting" in r.name): r for r in results if r.name.startswith("rest → nginx")}
    for row in results:
        if row.name.startswith("detail spool"):
            print(f"accounting through the detail spool: {row.rate:,.0f}/s = {row.rate / static_acct.rate:.0%} of the "
                  "static-file ceiling (target ≥ 33 %)")
        if not row.name.startswith("netmgr"):
            continue
        accounting = "Accounting" in row.name
        static = static_acct if accounting else static_auth
        line = (f"{'accounting' if accounting else 'logins'}: netmgr {row.rate:,.0f}/s = {row.rate / static.rate:.0%} "
                f"of the static-file ceiling")
        if accounting in fixed:
            line += f", {row.rate / fixed[accounting].rate:.0%} of the rest ceiling (nginx fixed replies)"
        print(line)
    if catch_up is not None:
        print(catch_up.line())
    print("targets: logins ≥ 500/s; accounting ≥ 2,000/s with p99 < 100 ms; within 3× of the static ceiling")

if __name__ == "__main__":
    main()
