"""One provisioning job to 200 simulated RouterOS devices through netmgr's production path, against a plain
sequential netmiko loop over the same devices, in the same run.

    .venv/bin/python bench/provision.py [--devices 200] [--job-concurrency 50] [--sample 10] [--rtt-ms 40]
                                        [--sim-processes 2] [--worker-processes 2] [--database-url URL]

Network path: ``--rtt-ms 0`` puts every simulated device on its own loopback address; ``--rtt-ms N`` (needs
root) puts the simulators in a private network namespace behind a veth pair, reached through a relay that
delays every chunk N/2 ms each way (this kernel has no ``netem``), like kecamatan offices behind WAN links.
Both netmgr and the peer go through the same path.

netmgr: the job is created and approved through the services, then sent by name (``provisioning.run_job``)
to a real Celery worker (prefork, ``--worker-processes`` processes: ``run_job`` keeps one chunk of the
devices and sends the others as ``provisioning.run_chunk`` tasks, each process running its chunk on a
thread pool with its share of the ``--job-concurrency`` SSH sessions) on a private redis-server; per device
it backs up, renders, diffs, arms the self-revert, pushes, verifies, disarms and saves (one SSH session for a
change that cannot cut management, such as this SNMP one), and stores pre/post backups.
Peer: ``ConnectHandler`` → ``send_config_set`` (the same rendered lines) → ``disconnect``, one device after
the other, timed over ``--sample`` devices and extrapolated to all of them.
Reported: wall time, devices/minute, the speed-up, CPU seconds and peak RSS of the worker (whole process
tree) and of the simulators, each measured separately for the job and for the peer.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402
from netmiko import ConnectHandler  # noqa: E402

from bench.procstat import cpu_seconds, peak_rss_mb, process_tree  # noqa: E402
from netmgr.migrate import upgrade  # noqa: E402
from netmgr.models import Device, ProvisionJob  # noqa: E402
from netmgr.models.enums import DeviceRole, Platform, Role  # noqa: E402
from netmgr.models.provisioning import JobStatus  # noqa: E402
from netmgr.security.permissions import SYSTEM, Actor  # noqa: E402
from netmgr.state import AppState  # noqa: E402
from provisioning import jobs  # noqa: E402
from provisioning.render import find_template, render  # noqa: E402
from tests import factories  # noqa: E402
from tests.conftest import TEST_ENCRYPTION_KEY, make_settings  # noqa: E402
from tests.servers.process import Daemon, tcp_open, wait_until  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "Bench-pass-1"  # noqa: S105 - the simulated devices' login

def cpu_seconds_waited(pids: list[int]) -> float:
    """CPU of the processes and of the children they already reaped."""
    return cpu_seconds(pids, waited_children=True)


VARS = {"contact": "NOC Diskominfo", "allowed_from": "10.0.0.0/8"}
MAKER = Actor(user_id=None, username="bench-operator", role=Role.OPERATOR)


def _free_range(count: int) -> int:
    """A first port P such that P..P+count-1 are all free."""
    for base in range(21000, 60000, 997):
        socks = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no {count} consecutive free ports")


def _redis(root: Path) -> tuple[Daemon, str]:
    port = _free_range(1)
    daemon = Daemon([shutil.which("redis-server") or "redis-server", "--bind", "127.0.0.1", "--port", str(port),
                     "--save", "", "--appendonly", "no", "--dir", str(root)], log=root / "redis.log")
    wait_until(lambda: tcp_open("127.0.0.1", port), timeout=15, what="redis-server", proc=daemon.proc)
    return daemon, f"redis://127.0.0.1:{port}/0"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class WanPath:
    """The devices' side of a WAN: a network namespace behind a veth pair, holding the simulators and a relay.

    This machine's kernel has no ``sch_netem`` (and no modules to load), so the delay is added by
    ``serve_wan``: a TCP relay in the namespace that holds every chunk for RTT/2 in each direction.
    """

    def __init__(self, rtt_ms: float, devices: int) -> None:
        tag = f"nmb{os.getpid() % 100000}"
        self.ns, self.host_if, self.ns_if = tag, f"{tag}h", f"{tag}s"
        self.hosts = [f"10.251.{1 + i // 250}.{i % 250 + 1}" for i in range(devices)]
        _ip("netns", "add", self.ns)
        try:
            _ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
            _ip("link", "set", self.ns_if, "netns", self.ns)
            _ip("addr", "add", "10.251.0.1/16", "dev", self.host_if)
            batch = "".join(f"addr add {h}/16 dev {self.ns_if}\n" for h in ["10.251.0.2", *self.hosts])
            subprocess.run(["ip", "-n", self.ns, "-batch", "-"], input=batch.encode(), check=True, capture_output=True)
            for args in (["link", "set", self.host_if, "up"], ["-n", self.ns, "link", "set", "lo", "up"],
                         ["-n", self.ns, "link", "set", self.ns_if, "up"]):
                _ip(*args)
        except BaseException:
            self.close()
            raise

    def wrap(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns, *argv]

    def close(self) -> None:
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, check=False)


def serve_wan(port: int, sim_port: int, rtt_ms: float) -> int:
    """Child process in the namespace: a relay on ``port`` of every address to ``sim_port`` of the same
    address, delaying each chunk by RTT/2 per direction; a new connection waits one RTT (the TCP handshake)."""
    import asyncio
    import signal

    delay = rtt_ms / 2000

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                due, data = await queue.get()
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
            writer.close()

        sender = asyncio.create_task(send())
        try:
            while data := await reader.read(65536):
                queue.put_nowait((loop.time() + delay, data))
        except OSError:
            pass
        queue.put_nowait((loop.time() + delay, b""))
        await sender

    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        host = client_w.get_extra_info("sockname")[0]
        try:
            await asyncio.sleep(2 * delay)
            dev_r, dev_w = await asyncio.open_connection(host, sim_port)
            await asyncio.gather(pipe(client_r, dev_w), pipe(dev_r, client_w))
        except OSError:
            client_w.close()

    async def run() -> None:
        server = await asyncio.start_server(relay, "0.0.0.0", port, backlog=1024)  # noqa: S104 - inside the netns
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        async with server:
            await stop.wait()

    asyncio.run(run())
    return 0


def serve_sims(port: int, hosts: list[str]) -> int:
    """Child process: simulated RouterOS devices on ``hosts`` (one asyncio loop), until SIGTERM."""
    import signal

    from netmgr.demo.simulators.sshsim import SimulatorThread

    sims = SimulatorThread()
    for n, host in enumerate(hosts):
        sims.start("mikrotik_routeros", password=PASSWORD, host=host, port=port, hostname=f"ap-{n:03d}")
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    sims.stop()
    return 0


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve-wan":
        return serve_wan(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    if len(sys.argv) > 2 and sys.argv[1] == "--serve-sims":
        return serve_sims(int(sys.argv[2]), sys.argv[3:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--job-concurrency", type=int, default=50)
    parser.add_argument("--sample", type=int, default=10, help="devices the sequential loop is timed over")
    parser.add_argument("--sim-processes", type=int, default=2)
    parser.add_argument("--worker-processes", type=int, default=2,
                        help="prefork worker processes; the job spreads over them after its canary (default 2)")
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary data dir")
    parser.add_argument("--rtt-ms", type=float, default=40,
                        help="round trip to the devices via a netns and a delaying relay; 0 = loopback (default 40)")
    args = parser.parse_args()
    if args.rtt_ms > 0 and os.geteuid() != 0:
        parser.error("--rtt-ms > 0 needs root (network namespace); use --rtt-ms 0 for loopback")

    root = Path(tempfile.mkdtemp(prefix="netmgr-bench-provision-"))
    settings = make_settings(root / "data", args.database_url)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    state = AppState.build(settings)
    upgrade(state.engine)
    daemons: list[Daemon] = []
    wan: WanPath | None = None
    try:
        # Simulators: N devices in a few processes, each on its own address (one port, like the demo).
        port = _free_range(1)
        if args.rtt_ms > 0:
            wan = WanPath(args.rtt_ms, args.devices)
            hosts = wan.hosts
        else:
            hosts = [f"127.10.{i // 250}.{i % 250 + 1}" for i in range(args.devices)]
        per_proc = -(-args.devices // args.sim_processes)
        sims: list[Daemon] = []
        sim_port = port + 1 if wan else port
        relay: Daemon | None = None
        if wan:
            relay = Daemon(wan.wrap([sys.executable, str(Path(__file__).resolve()), "--serve-wan", str(port),
                                     str(sim_port), str(args.rtt_ms)]), log=root / "wan.log", cwd=ROOT)
            daemons.append(relay)
        for n in range(args.sim_processes):
            chunk = hosts[n * per_proc:(n + 1) * per_proc]
            argv = [sys.executable, str(Path(__file__).resolve()), "--serve-sims", str(sim_port), *chunk]
            sims.append(Daemon(wan.wrap(argv) if wan else argv, log=root / f"sim-{n}.log", cwd=ROOT))
        daemons.extend(sims)
        for host in (hosts[0], hosts[-1]):
            wait_until(lambda h=host: tcp_open(h, port), timeout=120, what="ssh simulators")  # type: ignore[misc]
        redis, broker = _redis(root)
        daemons.append(redis)

        with state.session_factory() as session:
            site = factories.site(session, name="Taman Kota Sampit")
            for i, host in enumerate(hosts):
                factories.device(session, site_id=site.id, name=f"ap-{i:03d}", mgmt_address=host,
                                 ssh_port=port, ssh_username="admin", ssh_password=PASSWORD,
                                 snmp_community="k0mun1tas", platform=Platform.MIKROTIK_ROUTEROS,
                                 role=DeviceRole.ACCESS_POINT, tags=["bench"])
            job = jobs.create_job(session, MAKER, jobs.JobCreate(
                purpose="snmp", targets=jobs.Targets(tags=["bench"]), variables=VARS, dry_run=False,
                concurrency=args.job_concurrency))
            jobs.approve_job(session, SYSTEM, job.id)
            jobs.queue_job(session, SYSTEM, job.id)
            session.commit()
            job_id = job.id
            sample_devices = list(session.scalars(sa.select(Device).order_by(Device.name)))[-args.sample:]
            context = jobs.inventory_context(session, sample_devices[0], settings)
            template = find_template(session, platform="mikrotik_routeros", purpose="snmp")
            lines = render(template, {**context, **VARS, "community": "k0mun1tas",
                                      "location": "Taman Kota Sampit"}).splitlines()
            sample_hosts = [d.mgmt_address for d in sample_devices]

        env = {"NETMGR_ENVIRONMENT": "test", "NETMGR_DATABASE_URL": settings.resolved_database_url,
               "NETMGR_DATA_DIR": str(settings.data_dir), "NETMGR_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
               "NETMGR_CELERY__BROKER_URL": broker, "NETMGR_CELERY__RESULT_BACKEND": broker,
               "NETMGR_CELERY__WORKER_CONCURRENCY": str(args.worker_processes)}
        worker = Daemon([sys.executable, "-m", "celery", "-A", "netmgr.entrypoints.worker:celery_app", "worker",
                         "-Q", "provisioning", "--concurrency", str(args.worker_processes), "--pool", "prefork",
                         "--loglevel", "WARNING",
                         "--without-gossip", "--without-mingle"], log=root / "worker.log", env=env, cwd=ROOT)
        daemons.append(worker)
        from netmgr.jobs import make_celery  # noqa: PLC0415 - only the bench's client needs the broker settings

        os.environ.update(env)
        client = make_celery(settings.model_copy(update={"celery": settings.celery.model_copy(
            update={"broker_url": broker, "result_backend": broker})}))
        time.sleep(3)  # let the worker connect before the clock starts
        def sim_pids() -> list[int]:
            return [pid for sim in sims for pid in process_tree(sim.proc.pid)]

        def relay_cpu() -> float:
            return cpu_seconds_waited([relay.proc.pid]) if relay else 0.0

        cpu0 = cpu_seconds_waited(process_tree(worker.proc.pid))
        sim_cpu0, relay_cpu0 = cpu_seconds_waited(sim_pids()), relay_cpu()
        started = time.perf_counter()
        client.send_task("provisioning.run_job", kwargs={"job_id": job_id})
        while True:
            with state.session_factory() as session:
                status = session.scalar(sa.select(ProvisionJob.status).where(ProvisionJob.id == job_id))
            if status in jobs.FINISHED:
                break
            if time.perf_counter() - started > 1800:
                raise RuntimeError("job did not finish in 30 min")
            time.sleep(0.2)
        wall = time.perf_counter() - started
        pids = process_tree(worker.proc.pid)
        cpu = cpu_seconds_waited(pids) - cpu0
        sim_cpu = cpu_seconds_waited(sim_pids()) - sim_cpu0
        job_relay_cpu = relay_cpu() - relay_cpu0
        rss = peak_rss_mb(pids)
        with state.session_factory() as session:
            done = jobs.get_job(session, SYSTEM, job_id)
            counts = {k: v for k, v in jobs.result_counts(done).items() if v}
            summary = done.summary

        # Peer: plain sequential netmiko over a sample of the same devices.
        seq_sim_cpu0, seq_cpu0, seq_relay_cpu0 = cpu_seconds_waited(sim_pids()), time.process_time(), relay_cpu()
        seq_started = time.perf_counter()
        for host in sample_hosts:
            conn = ConnectHandler(device_type="mikrotik_routeros", host=host, port=port, username="admin",
                                  password=PASSWORD, ssh_config_file=None, allow_agent=False, use_keys=False)
            conn.send_config_set(lines)
            conn.disconnect()
        per_device = (time.perf_counter() - seq_started) / len(sample_hosts)
        seq_cpu = (time.process_time() - seq_cpu0) / len(sample_hosts)
        seq_sim_cpu = (cpu_seconds_waited(sim_pids()) - seq_sim_cpu0) / len(sample_hosts)
        seq_relay_cpu = (relay_cpu() - seq_relay_cpu0) / len(sample_hosts)
        sequential = per_device * args.devices
        sim_rss = peak_rss_mb(sim_pids())

        cores = os.cpu_count() or 1
        path = (f"netns + veth, relay delaying {args.rtt_ms / 2:g} ms each way (RTT {args.rtt_ms:g} ms)" if wan
                else "loopback")
        print(f"devices: {args.devices} RouterOS simulators in {args.sim_processes} processes; path {path}; "
              f"job concurrency {args.job_concurrency} over {args.worker_processes} worker process(es); "
              f"{cores} cores; load avg {os.getloadavg()[0]:.1f}; "
              f"database {state.engine.dialect.name}")
        print(f"netmgr job ({status}): {wall:.1f} s wall, {args.devices / wall * 60:.0f} devices/min; CPU worker "
              f"{cpu:.1f} s, simulators {sim_cpu:.1f} s, WAN relay {job_relay_cpu:.1f} s; peak RSS worker {rss:.0f} MB,"
              f" simulators {sim_rss:.0f} MB; "
              f"results {counts}")
        print(f"  summary: {summary}")
        print(f"sequential netmiko loop: {per_device:.2f} s/device over {len(sample_hosts)} devices → "
              f"{sequential:.0f} s for {args.devices} (extrapolated), {60 / per_device:.0f} devices/min; CPU per "
              f"device: loop {seq_cpu * 1000:.0f} ms, simulators {seq_sim_cpu * 1000:.0f} ms, "
              f"WAN relay {seq_relay_cpu * 1000:.0f} ms")
        print(f"speed-up: {sequential / wall:.1f}x; 200-device target < 60 s: {'met' if wall < 60 else 'NOT met'}; "
              f">= 20x: {'met' if sequential / wall >= 20 else 'NOT met'}")
        return 0 if status == JobStatus.SUCCEEDED else 1
    finally:
        for daemon in reversed(daemons):
            daemon.stop()
        if wan is not None:
            wan.close()
        state.engine.dispose()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
