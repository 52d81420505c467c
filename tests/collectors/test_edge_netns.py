"""An edge collector in its own network namespace, its link to the centre cut by silently dropped packets.

    centre (this process: netmgr app under uvicorn, SQLite, real influxd)  10.X.Y.1 ── veth ── 10.X.Y.2  edge ns
                                                                                     `netmgr edge run` + snmpsim

The edge runs as the real ``netmgr edge run`` command inside the namespace and polls the demo core router's
recording (snmpsim, in the namespace too). The outage is an iptables DROP of everything the edge sends to the
centre: its requests time out, as over a dead radio link, rather than being refused. In CI the outage lasts
about ten poll cycles at a 1-s interval (the issue's ten minutes at a 60-s interval, scaled down).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collectors.alerts import evaluate_alerts
from netmgr.entrypoints.capabilities import create_app
from netmgr.models import EdgeCollector, Traffic5m, TrafficMeter
from netmgr.models.alerts import AlertKind
from netmgr.models.base import utcnow
from netmgr.models.enums import DeviceRole, Platform
from netmgr.security.permissions import SYSTEM
from netmgr.services import edges
from netmgr.services.reports import percentile_95
from netmgr.settings import Settings
from netmgr.state import AppState
from tests import factories
from tests.collectors.traffic_sim import CORE
from tests.conftest import TEST_ENCRYPTION_KEY, make_settings
from tests.servers.app import migrated_sqlite_url, serve_app
from tests.servers.icmp import VethLink, veth_link
from tests.servers.influx import InfluxServer, influx_server
from tests.servers.process import Daemon, free_port, wait_until
from tests.servers.snmp import _answers, snmpsim_binary

REPO = Path(__file__).resolve().parents[2]
OUTAGE_S = 10.0


@pytest.fixture
def link() -> Iterator[VethLink]:
    with veth_link() as found:
        yield found


@pytest.fixture
def influx() -> Iterator[InfluxServer]:
    with influx_server() as server:
        yield server


def _in_ns(link: VethLink, *argv: str) -> None:
    subprocess.run(["ip", "netns", "exec", link.ns, *argv], capture_output=True, text=True, check=True, timeout=30)


@pytest.fixture
def device_in_ns(link: VethLink) -> Iterator[int]:
    """snmpsim serving the demo core router on the namespace's address; yields its UDP port."""
    root = Path(tempfile.mkdtemp(prefix="netmgr-edge-snmpsim-"))
    (root / "data").mkdir()
    shutil.copy(CORE, root / "data" / CORE.name)
    port = 16100
    daemon = Daemon(["ip", "netns", "exec", link.ns, snmpsim_binary(), f"--data-dir={root / 'data'}",
                     f"--cache-dir={root / 'cache'}", f"--agent-udpv4-endpoint={link.far}:{port}",
                     "--logging-method=null"], log=root / "snmpsim.log", env={"SNMPSIM_ALLOW_ROOT": "true"})
    try:
        wait_until(lambda: _answers(port, CORE.stem, link.far), timeout=60, what="snmpsim in the edge namespace",
                   proc=daemon.proc, log=root / "snmpsim.log")
        yield port
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


def _buckets(factory: sessionmaker[Session], device_id: int) -> dict[tuple[str, datetime], tuple[int, int]]:
    with factory() as s:
        return {(name, start): (int(i), int(o)) for name, start, i, o in s.execute(
            select(TrafficMeter.name, Traffic5m.bucket_start, Traffic5m.in_octets, Traffic5m.out_octets)
            .join(TrafficMeter, TrafficMeter.id == Traffic5m.meter_id).where(TrafficMeter.device_id == device_id))}


def _series(influx: InfluxServer, database: str) -> list[int]:
    result = influx.query("SELECT in_bps FROM interface_traffic WHERE interface = 'sfp-sfpplus1'", db=database)
    (statement,) = result["results"]  # type: ignore[misc]
    return [int(v[0]) for s in statement.get("series", []) for v in s["values"]]


def test_an_edge_behind_a_dead_link_loses_nothing_and_the_centre_says_link_down(
        tmp_path: Path, link: VethLink, device_in_ns: int, influx: InfluxServer) -> None:
    database = f"edge_ns_{int(time.time() * 1000)}"
    settings: Settings = make_settings(tmp_path / "centre", migrated_sqlite_url(tmp_path), influx={
        "url": influx.url, "api": "v1", "bucket": database}, edge={"link_down_after_s": 3})
    state = AppState.build(settings)
    with state.session_factory() as session:
        site = factories.site(session, name="Kecamatan Baamang")
        core = factories.device(session, site_id=site.id, name="core-baamang", mgmt_address=link.far,
                                snmp_port=device_in_ns, snmp_community=CORE.stem, platform=Platform.MIKROTIK_ROUTEROS,
                                role=DeviceRole.CORE_ROUTER)
        _, token = edges.register(session, SYSTEM, site_id=site.id, name="edge-baamang")
        session.commit()
        core_id = core.id
    port = free_port()
    edge_dir = tmp_path / "edge"
    env = {"NETMGR_ENVIRONMENT": "test", "NETMGR_DATA_DIR": str(edge_dir),
           "NETMGR_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY, "NETMGR_SNMP__POLL_INTERVAL_S": "1",
           "NETMGR_EDGE__TIMEOUT_S": "1",
           "NETMGR_EDGE__CENTRE_URL": f"http://{link.near}:{port}", "NETMGR_EDGE__TOKEN": token,
           "PYTHONPATH": str(REPO)}
    run = "import sys; from netmgr.entrypoints.cli import main; sys.argv = ['netmgr', 'edge', 'run']; main()"
    with serve_app(create_app(settings, state=state), port, host=link.near):
        edge = Daemon(["ip", "netns", "exec", link.ns, sys.executable, "-c", run], log=tmp_path / "edge.log",
                      env=env, cwd=REPO)
        try:
            wait_until(lambda: len(_series(influx, database)) >= 3, timeout=60, what="the edge's first rates",
                       proc=edge.proc, log=tmp_path / "edge.log")
            _in_ns(link, "iptables", "-I", "OUTPUT", "-d", link.near, "-j", "DROP")  # the radio link dies
            cut = time.monotonic()
            with state.session_factory() as session:
                wait_until(lambda: edges.links(session, link_down_after_s=3)[0].down, timeout=30,
                           what="the centre noticing the silent edge")
            evaluated = evaluate_alerts(state.session_factory, store=None, notifiers=[], settings=settings)
            assert [c.kind for c in evaluated.opened] == [AlertKind.EDGE_LINK_DOWN]
            during = len(_series(influx, database))
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - cut)))
            assert len(_series(influx, database)) == during  # nothing reached the centre while the link was dead
            _in_ns(link, "iptables", "-D", "OUTPUT", "-d", link.near, "-j", "DROP")
            restored = utcnow()

            def caught_up() -> bool:
                with state.session_factory() as session:
                    edge_row = session.scalars(select(EdgeCollector)).one()
                    seen = edge_row.last_seen_at
                    return edge_row.backlog_points == 0 and seen is not None and seen > restored

            wait_until(caught_up, timeout=60, what="the edge catching up")
        finally:
            edge.stop()  # SIGTERM: the edge forwards what its last cycle measured, then exits
        assert edge.proc.returncode == 0, (tmp_path / "edge.log").read_text()[-2000:]
        times = _series(influx, database)
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert max(gaps) < 2.5e9, gaps  # no hole where the link was down: one point per poll throughout
        assert times[-1] - times[0] > OUTAGE_S * 1e9

    edge_state = AppState.build(make_settings(edge_dir, ""))
    at_edge, at_centre = _buckets(edge_state.session_factory, core_id), _buckets(state.session_factory, core_id)
    assert at_centre == at_edge and len(at_centre) > 0
    for name in {n for n, _ in at_centre}:  # the same rows give the same 95th percentile, bucket for bucket
        edge_bps = [8 * v[0] / 300 for (n, _), v in sorted(at_edge.items()) if n == name]
        centre_bps = [8 * v[0] / 300 for (n, _), v in sorted(at_centre.items()) if n == name]
        assert percentile_95(edge_bps) == percentile_95(centre_bps)
    edge_state.engine.dispose()
    state.engine.dispose()
