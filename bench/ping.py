"""Benchmark: one ping cycle of netmgr (collectors.ping) over N targets against fping alone, its own baseline.

Both ping the same ``--targets`` loopback addresses (127.1.x.y; Linux answers all of 127/8) with the same
settings as a default installation (``fping -C 3 -p 500 -t 500 -i 1``):

(a) fping: the bare ``fping`` run, its CPU and peak RSS from the kernel's accounting of the child.
(b) netmgr: ``ping_round`` in a child process with N devices in SQLite (migrated with alembic): fping, the
    parse, N ``ping`` points written to a real influxd (v1 API), every device's ping status and its hourly
    rollup row. Two rounds (the first creates the rollup rows, the second updates them, as every later
    round does); the second is reported. CPU is split into the Python process and its fping child.

    .venv/bin/python bench/ping.py                    # 2,000 targets
    .venv/bin/python bench/ping.py --targets 200      # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.procstat import peak_rss_mb, process_tree  # noqa: E402
from tests.servers.influx import influx_server  # noqa: E402


def addresses(n: int) -> list[str]:
    return [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(n)]


def _children_cpu() -> float:
    """CPU seconds of the waited-for children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class ChildPeak:
    """Samples the peak RSS (VmHWM, reset by exec) of this process's children while they run.

    ``ru_maxrss`` of children cannot be used: it keeps the forked Python's RSS from before the exec. The
    sampler's own CPU (it walks /proc) is kept in ``cpu_s`` so it can be left out of netmgr's figure.
    """

    def __init__(self) -> None:
        self.peak_mib = 0.0
        self.cpu_s = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.005):
            for pid in process_tree(me)[1:]:
                self.peak_mib = max(self.peak_mib, peak_rss_mb([pid]))
        self.cpu_s = time.thread_time()

    def __enter__(self) -> ChildPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def fping_alone(n: int) -> dict[str, float]:
    from collectors.ping import Fping, parse_fping
    from netmgr.settings import PingSettings

    fping = Fping(PingSettings())
    for _ in range(2):  # the second run is reported, like netmgr's second round
        before = _children_cpu()
        started = time.perf_counter()
        with ChildPeak() as peak:
            done = subprocess.run(fping.command(), input="\n".join(addresses(n)) + "\n",  # noqa: S603
                                  capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        cpu = _children_cpu() - before
    up = sum(1 for r in parse_fping(done.stderr, addresses(n), 3).values() if r.up)
    return {"targets": n, "up": up, "wall_s": wall, "cpu_s": cpu, "peak_rss_mib": peak.peak_mib}


def netmgr_child(spec: dict[str, object]) -> dict[str, float]:
    """Runs in a fresh process: N devices in SQLite, two ping rounds into influxd; returns the second's costs."""
    from collectors.ping import Fping, ping_round
    from netmgr.db import make_engine
    from netmgr.metrics import make_metrics_store
    from netmgr.migrate import upgrade
    from netmgr.models import Device, Site
    from netmgr.models.enums import DeviceRole, Platform, SiteKind
    from netmgr.settings import PingSettings, Settings
    from netmgr.state import AppState

    data = Path(str(spec["data_dir"]))
    settings = Settings(data_dir=data, database_url=f"sqlite:///{data / 'bench.db'}",
                        influx={"url": spec["influx_url"], "api": "v1", "bucket": "pingbench",  # type: ignore[arg-type]
                                "spool_dir": data / "spool"})
    upgrade(make_engine(settings))
    state = AppState.build(settings)
    n = int(str(spec["targets"]))
    with state.session_factory() as session:
        site = Site(name="Bench", kind=SiteKind.POP)
        session.add(site)
        session.flush()
        session.add_all(Device(name=f"bench-{i}", site_id=site.id, role=DeviceRole.ACCESS_POINT,
                               platform=Platform.GENERIC, mgmt_address=address)
                        for i, address in enumerate(addresses(n)))
        session.commit()
    store = make_metrics_store(settings)
    ping = PingSettings()
    moment = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    ping_round(state.session_factory, pinger=Fping(ping), store=store, settings=ping, now=moment)
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    child_cpu_before = _children_cpu()
    started = time.perf_counter()
    with ChildPeak() as peak:
        result = ping_round(state.session_factory, pinger=Fping(ping), store=store, settings=ping,
                            now=moment + timedelta(minutes=1))
    wall = time.perf_counter() - started
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    child_cpu, child_rss = _children_cpu(), peak.peak_mib
    store.close()
    stats = store.stats()
    return {"targets": n, "up": result.count(True), "points": result.points, "wall_s": wall,
            "python_cpu_s": (self_after.ru_utime + self_after.ru_stime) - (self_before.ru_utime + self_before.ru_stime)
            - peak.cpu_s,
            "fping_cpu_s": child_cpu - child_cpu_before, "peak_rss_mib": self_after.ru_maxrss / 1024,
            "fping_peak_rss_mib": child_rss, "points_written": stats.points_written,
            "points_spooled": stats.points_spooled}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument("--child-netmgr", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_netmgr:
        print(json.dumps(netmgr_child(json.loads(args.child_netmgr))))
        return
    alone = fping_alone(args.targets)
    with influx_server() as influx, tempfile.TemporaryDirectory(prefix="netmgr-pingbench-") as tmp:
        spec = {"targets": args.targets, "influx_url": influx.url, "data_dir": tmp}
        done = subprocess.run([sys.executable, __file__, "--child-netmgr", json.dumps(spec)],  # noqa: S603
                              capture_output=True, text=True, check=True)
        netmgr = json.loads(done.stdout.strip().splitlines()[-1])
    n = args.targets
    print(f"\nping cycle, {n} loopback targets, fping -C 3 -p 500 -t 500 -i 1 "
          f"({alone['up']:.0f} answered alone, {netmgr['up']:.0f} in netmgr's round)")
    print(f"{'':<22}{'wall s':>8}{'CPU s':>8}{'CPU µs/target':>15}{'peak RSS MiB':>14}")
    print(f"{'fping alone':<22}{alone['wall_s']:>8.2f}{alone['cpu_s']:>8.3f}"
          f"{alone['cpu_s'] / n * 1e6:>15.0f}{alone['peak_rss_mib']:>14.1f}")
    total = netmgr["python_cpu_s"] + netmgr["fping_cpu_s"]
    print(f"{'netmgr round (total)':<22}{netmgr['wall_s']:>8.2f}{total:>8.3f}{total / n * 1e6:>15.0f}"
          f"{netmgr['peak_rss_mib']:>14.1f}")
    print(f"{'  of which Python':<22}{'':>8}{netmgr['python_cpu_s']:>8.3f}"
          f"{netmgr['python_cpu_s'] / n * 1e6:>15.0f}{'':>14}")
    print(f"{'  of which fping':<22}{'':>8}{netmgr['fping_cpu_s']:>8.3f}"
          f"{netmgr['fping_cpu_s'] / n * 1e6:>15.0f}{netmgr['fping_peak_rss_mib']:>14.1f}")
    print(f"points written to influxd in two rounds: {netmgr['points_written']:.0f} "
          f"(spooled {netmgr['points_spooled']:.0f}); "
          f"netmgr's CPU per target is {total / max(alone['cpu_s'], 1e-9):.1f}x fping's alone")


if __name__ == "__main__":
    main()
