"""Benchmark: SNMP interface polling by netmgr's collector vs prometheus-snmp-exporter vs net-snmp snmpbulkwalk.

Every poller reads the same OIDs (sysUpTime + 11 IF-MIB columns: ifName, ifOperStatus, ifHighSpeed,
ifHC{In,Out}Octets, ifHC{In,Out}UcastPkts, if{In,Out}Errors, if{In,Out}Discards) from the same simulated
devices: ``--agents`` Debian snmpd instances on loopback, ``--devices`` devices spread over them.

(a) netmgr: the whole path in a child process — UDP client, BER decode, rates, Points, and the InfluxDB
    write batch into a real influxd (v1 API), two cycles (the second has rates), CPU of the second cycle.
(b) prometheus-snmp-exporter (Debian package) with a hand-written module, scraped concurrently over HTTP.
(c) snmpbulkwalk: one process per column per device (it walks a single subtree per run).

Reported per poller: interface samples/s, poller-process CPU µs per interface sample (from the processes'
own accounting, not wall time), peak RSS, ratios; then the 2,000 devices x 10 interfaces in 60 s check.

    .venv/bin/python bench/snmp_poll.py                 # 200 devices on 4 snmpd
    .venv/bin/python bench/snmp_poll.py --quick         # 40 devices, for a smoke run
    .venv/bin/python bench/snmp_poll.py --interfaces 10 --devices 2000 --pollers netmgr,snmp_exporter
                                                        # the 2,000 x 10 cycle, in a network namespace (root)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers.influx import influx_server  # noqa: E402
from tests.servers.process import Daemon, free_port, wait_until  # noqa: E402
from tests.servers.snmp import Agent, snmpd_agent  # noqa: E402

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
COLUMNS = {
    "ifName": "1.3.6.1.2.1.31.1.1.1.1", "ifOperStatus": "1.3.6.1.2.1.2.2.1.8",
    "ifHighSpeed": "1.3.6.1.2.1.31.1.1.1.15", "ifHCInOctets": "1.3.6.1.2.1.31.1.1.1.6",
    "ifHCOutOctets": "1.3.6.1.2.1.31.1.1.1.10", "ifHCInUcastPkts": "1.3.6.1.2.1.31.1.1.1.7",
    "ifHCOutUcastPkts": "1.3.6.1.2.1.31.1.1.1.11", "ifInErrors": "1.3.6.1.2.1.2.2.1.14",
    "ifOutErrors": "1.3.6.1.2.1.2.2.1.20", "ifInDiscards": "1.3.6.1.2.1.2.2.1.13",
    "ifOutDiscards": "1.3.6.1.2.1.2.2.1.19",
}


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def proc_peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# --- (a) netmgr, run in a child process so only its own CPU is counted -------------------------------------


def netmgr_child(spec: dict[str, object]) -> dict[str, object]:
    from collectors.pipeline import DeviceContext, process_sample
    from collectors.poller import PollHints, poll_device
    from collectors.snmp import SnmpTarget, UdpSnmpClient
    from collectors.state import DeviceState
    from netmgr.metrics import make_metrics_store
    from netmgr.settings import Settings

    devices: list[tuple[str, int]] = [tuple(d) for d in spec["devices"]]  # type: ignore[misc, union-attr]
    settings = Settings(data_dir=Path(str(spec["data_dir"])), influx={
        "url": spec["influx_url"], "api": "v1", "bucket": "bench", "batch_size": 5000,
        "spool_dir": Path(str(spec["data_dir"])) / "spool"})
    store = make_metrics_store(settings)
    contexts = [DeviceContext(device_id=n, name=f"bench-{n}", site="bench", role="access_point")
                for n in range(len(devices))]
    states = [DeviceState() for _ in devices]
    hints = [PollHints(has_hr=False, has_vendor=False) for _ in devices]

    requests: list[int] = []

    async def cycle() -> int:
        samples = 0
        async with UdpSnmpClient(max_in_flight=int(spec["in_flight"])) as snmp:  # type: ignore[call-overload]
            polled = await asyncio.gather(*(
                poll_device(SnmpTarget(host, port, community=str(spec["community"]), timeout=5,
                            retries=2), snmp=snmp,
                            hints=hints[n]) for n, (host, port) in enumerate(devices)))
            requests.append(snmp.requests_sent)
        for n, sample in enumerate(polled):
            result = process_sample(contexts[n], sample, states[n], poll_interval_s=60)
            states[n] = result.state
            store.write(result.points)
            samples += len(sample.interfaces)
        store.flush()
        return samples

    asyncio.run(cycle())  # warm-up: first samples, no rates yet
    if not spec.get("no_gc_tuning"):
        from collectors.runtime import tune_gc

        tune_gc()  # as the collector worker does after its first poll
    time.sleep(1.0)
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    samples = asyncio.run(cycle())
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(str(spec["profile"]))
    store.close()
    stats = store.stats()
    return {"samples": samples, "cpu_s": cpu, "wall_s": wall, "devices": len(devices),
            "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "requests": requests[-1],
            "points_written": stats.points_written + stats.points_replayed,
            "points_lost": stats.points_lost + stats.points_rejected + stats.points_dropped}


def run_netmgr(devices: list[tuple[str, int]], community: str, influx_url: str, data_dir: Path,
               in_flight: int, profile: str = "") -> dict[str, object]:
    spec = {"devices": devices, "community": community, "influx_url": influx_url, "data_dir": str(data_dir),
            "in_flight": in_flight, "profile": profile}
    out = subprocess.run([sys.executable, __file__, "--child-netmgr", json.dumps(spec)], capture_output=True,
                         text=True, check=True, cwd=ROOT)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# --- (b) prometheus-snmp-exporter ------------------------------------------------------------------------------


def exporter_config(community: str) -> str:
    lines = ["bench:", "  version: 2", "  max_repetitions: 25", "  retries: 2", "  timeout: 5s",
             "  auth:", f"    community: {community}", "  get:", f"    - {SYS_UPTIME}", "  walk:"]
    lines += [f"    - {oid}" for oid in COLUMNS.values()]
    lines += ["  metrics:", "    - name: sysUpTime", f"      oid: {SYS_UPTIME[:-2]}", "      type: gauge"]
    for name, oid in COLUMNS.items():
        kind = "DisplayString" if name == "ifName" else "counter" if "Octets" in name or "Pkts" in name or \
            "Errors" in name or "Discards" in name else "gauge"
        lines += [f"    - name: {name}", f"      oid: {oid}", f"      type: {kind}", "      indexes:",
                  "        - labelname: ifIndex", "          type: gauge"]
    return "\n".join(lines) + "\n"


def run_exporter(devices: list[tuple[str, int]], community: str, workdir: Path, concurrency: int) -> dict[str, object]:
    config = workdir / "snmp.yml"
    config.write_text(exporter_config(community))
    port = free_port()
    daemon = Daemon(["prometheus-snmp-exporter", f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}",
                     "--log.level=warn"], log=workdir / "exporter.log")
    base = f"http://127.0.0.1:{port}"

    def scrape(device: tuple[str, int]) -> int:
        url = f"{base}/snmp?module=bench&target={device[0]}:{device[1]}"
        with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 - loopback
            body = resp.read().decode()
        return sum(1 for line in body.splitlines() if line.startswith("ifHCInOctets{"))

    try:
        wait_until(lambda: _http_ok(base), timeout=15, what="snmp exporter", proc=daemon.proc, log=daemon.log)
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(scrape, devices))  # warm-up
            cpu0, wall0 = proc_cpu_s(daemon.proc.pid), time.perf_counter()
            samples = sum(pool.map(scrape, devices))
            cpu, wall = proc_cpu_s(daemon.proc.pid) - cpu0, time.perf_counter() - wall0
        rss = proc_peak_rss_kib(daemon.proc.pid)
    finally:
        daemon.stop()
    return {"samples": samples, "cpu_s": cpu, "wall_s": wall, "rss_kib": rss}


def _http_ok(base: str) -> bool:
    try:
        with urllib.request.urlopen(base, timeout=1):  # noqa: S310 - loopback
            return True
    except OSError:
        return False


# --- (c) snmpbulkwalk ------------------------------------------------------------------------------------------


def run_bulkwalk(devices: list[tuple[str, int]], community: str, concurrency: int) -> dict[str, object]:
    env = {**os.environ, "MIBS": ""}

    def walk(job: tuple[tuple[str, int], str, bool]) -> int:
        (host, port), oid, get = job
        tool = "snmpget" if get else "snmpbulkwalk"
        args = [tool, "-v2c", "-c", community, "-On", "-t", "5", "-r", "2"] + ([] if get else ["-Cr25"])
        proc = subprocess.Popen([*args, f"{host}:{port}", oid], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                env=env)
        out, _ = proc.communicate()  # reaps the child, so its CPU lands in RUSAGE_CHILDREN
        return out.decode(errors="replace").count("\n") if oid == COLUMNS["ifHCInOctets"] else 0

    jobs = [(d, SYS_UPTIME, True) for d in devices] + [(d, oid, False) for d in devices for oid in COLUMNS.values()]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        samples = sum(pool.map(walk, jobs))
    wall = time.perf_counter() - wall0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"samples": samples, "cpu_s": cpu, "wall_s": wall, "rss_kib": after.ru_maxrss, "processes": len(jobs)}


# --- a namespace whose devices have N interfaces ---------------------------------------------------------------


def run_in_netns(interfaces: int) -> None:
    """Re-run this benchmark inside a fresh network namespace holding lo + ``interfaces - 1`` bridges.

    snmpd reports the interfaces of its namespace, so every simulated device then has ``interfaces`` rows in
    its IF-MIB tables; InfluxDB, the exporter and netmgr run in the same namespace on its loopback.
    """
    if os.geteuid() != 0 or shutil.which("ip") is None:
        raise SystemExit("--interfaces needs root and iproute2 (ip netns)")
    name = f"nmbench{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        def in_ns(*cmd: str) -> None:
            subprocess.run(["ip", "netns", "exec", name, *cmd], check=True)

        in_ns("ip", "link", "set", "lo", "up")
        for n in range(1, interfaces):
            # Bridges, not dummies: this kernel has no dummy driver, bridges are built in.
            in_ns("ip", "link", "add", f"br{n}", "type", "bridge")
            in_ns("ip", "link", "set", f"br{n}", "up")
        argv = list(sys.argv[1:])
        i = argv.index("--interfaces") if "--interfaces" in argv else -1
        if i >= 0:
            del argv[i:i + 2]
        else:
            argv = [a for a in argv if not a.startswith("--interfaces=")]
        in_ns(sys.executable, __file__, *argv)
    finally:
        subprocess.run(["ip", "netns", "delete", name], check=False)


# --- main ------------------------------------------------------------------------------------------------------


def start_agents(stack: ExitStack, count: int) -> list[Agent]:
    agents = []
    for _ in range(count):
        agent = stack.enter_context(snmpd_agent())
        agents.append(agent)
    return agents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=32, help="HTTP scrapes / snmpbulkwalk processes at once")
    parser.add_argument("--in-flight", type=int, default=64, help="netmgr: SNMP requests in flight")
    parser.add_argument("--quick", action="store_true", help="40 devices on 2 agents")
    parser.add_argument("--profile", default="", metavar="FILE",
                        help="write a cProfile of netmgr's measured cycle to FILE (inflates its CPU figure)")
    parser.add_argument("--interfaces", type=int, default=0, metavar="N",
                        help="run everything in a private network namespace with N interfaces (lo + N-1 bridges), "
                             "so every device has N interfaces; default: the host's interfaces")
    parser.add_argument("--pollers", default="netmgr,snmp_exporter,snmpbulkwalk",
                        help="comma-separated subset of netmgr,snmp_exporter,snmpbulkwalk")
    parser.add_argument("--child-netmgr", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_netmgr:
        print(json.dumps(netmgr_child(json.loads(args.child_netmgr))))
        return
    if args.interfaces:
        run_in_netns(args.interfaces)
        return
    if args.quick:
        args.devices, args.agents = 40, 2
    pollers = [p.strip() for p in args.pollers.split(",") if p.strip()]
    work = Path(tempfile.mkdtemp(prefix="netmgr-bench-snmp-"))
    results: dict[str, dict[str, object]] = {}
    try:
        with ExitStack() as stack:
            agents = start_agents(stack, args.agents)
            community = agents[0].community
            influx = stack.enter_context(influx_server())
            devices = [(a.host, a.port) for a in agents]
            devices = [devices[n % len(devices)] for n in range(args.devices)]
            # snmpbulkwalk first: its peak RSS is read from RUSAGE_CHILDREN, which the netmgr child would inflate.
            walked = run_bulkwalk(devices, community, args.concurrency) if "snmpbulkwalk" in pollers else None
            results["netmgr"] = run_netmgr(devices, community, influx.url, work / "netmgr", args.in_flight,
                                           str(Path(args.profile).resolve()) if args.profile else "")
            if "snmp_exporter" in pollers:
                results["snmp_exporter"] = run_exporter(devices, community, work, args.concurrency)
            if walked is not None:
                results["snmpbulkwalk"] = walked
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results, args)


def report(results: dict[str, dict[str, object]], args: argparse.Namespace) -> None:
    base = results["netmgr"]
    per_device = int(base["samples"]) / max(1, int(base["devices"]))  # type: ignore[call-overload]
    print(f"\n{args.devices} devices on {args.agents} snmpd agents, {per_device:g} interfaces each, 12 OIDs "
          f"per device (sysUpTime + 11 IF-MIB columns); netmgr sent "
          f"{int(base['requests']) / max(1, int(base['devices'])):.2f} requests per device\n")  # type: ignore
    print(f"{'poller':<16}{'samples':>9}{'wall s':>9}{'samples/s':>11}{'CPU µs/sample':>15}{'peak RSS MiB':>14}")
    base_cpu = float(base["cpu_s"]) / max(1, int(base["samples"]))  # type: ignore[arg-type]
    for name, r in results.items():
        samples = int(r["samples"])  # type: ignore[call-overload]
        cpu_per = float(r["cpu_s"]) / max(1, samples) * 1e6  # type: ignore[arg-type]
        rate = samples / float(r["wall_s"])  # type: ignore[arg-type]
        print(f"{name:<16}{samples:>9}{float(r['wall_s']):>9.2f}{rate:>11.0f}{cpu_per:>15.1f}"  # type: ignore[arg-type]
              f"{int(r['rss_kib']) / 1024:>14.1f}")  # type: ignore[call-overload]
    print("\nCPU per sample relative to netmgr: " + ", ".join(
        f"{name} {float(r['cpu_s']) / max(1, int(r['samples'])) / base_cpu:.1f}x"  # type: ignore

        for name, r in results.items()))
    exporter = results.get("snmp_exporter")
    if exporter is not None:
        exporter_cpu = float(exporter["cpu_s"]) / max(1, int(exporter["samples"]))  # type: ignore
        verdict = "met" if base_cpu <= exporter_cpu else "NOT met"
        print(f"Target (netmgr CPU per sample <= the exporter's): {verdict} "
              f"({base_cpu * 1e6:.0f} vs {exporter_cpu * 1e6:.0f} µs)")
    wall = float(base["wall_s"])  # type: ignore[arg-type]
    print(f"\nnetmgr cycle: {int(base['devices'])} devices, {int(base['samples'])} samples in "  # type: ignore
          f"{wall:.2f} s wall, {float(base['cpu_s']):.2f} CPU-s "  # type: ignore[arg-type]
          f"(points written: {base.get('points_written')}, lost: {base.get('points_lost')})")
    cycle = 2000 * 10
    print(f"2,000 devices x 10 interfaces = {cycle:,} samples per 60-s cycle at this rate: "
          f"{base_cpu * cycle:.1f} CPU-seconds ({base_cpu * cycle / 60 * 100:.0f}% of one core); "
          f"{'fits' if base_cpu * cycle < 60 else 'does NOT fit'} in one process")


if __name__ == "__main__":
    main()
