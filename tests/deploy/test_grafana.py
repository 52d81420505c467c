"""The Grafana dashboards in deploy/grafana/dashboards: their structure, and every query (panels and variables) run
against a real influxd holding demo-like data written through netmgr's own MetricsStore."""

from __future__ import annotations

import importlib.util
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from captive_portal.sessions import Nas, usage_points
from collectors.pipeline import DeviceContext
from netmgr.metrics import Point, make_metrics_store
from netmgr.settings import InfluxApi, Settings
from tests.conftest import make_settings
from tests.servers.influx import InfluxServer, influx_server

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
BOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCE_UID = "netmgr-influxdb"
# What Grafana puts in place of its macros and of a variable set to "All" (its allValue) before the query runs.
MACROS = {"$timeFilter": "time > now() - 7d", "$__interval": "5m"}
MINUTE_NS = 60 * 10**9


def _load(path: Path) -> dict[str, Any]:
    board: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return board


def _queries(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for var in board["templating"]["list"]:
        yield f"variable {var['name']}", var["query"]
    for panel in board["panels"]:
        for target in panel["targets"]:
            yield f"panel {panel['title']!r} {target['refId']}", target["query"]


def _expand(query: str, board: dict[str, Any]) -> str:
    for macro, value in MACROS.items():
        query = query.replace(macro, value)
    for var in board["templating"]["list"]:
        query = query.replace(f"${var['name']}", var["allValue"])
    assert not re.search(r"\$[A-Za-z_]", query), f"an unknown variable or macro is left in: {query}"
    return query


def test_the_four_dashboards_exist_and_are_built_from_the_script() -> None:
    names = {p.stem for p in BOARDS}
    assert names == {"netmgr-uplinks", "netmgr-devices", "netmgr-hotspots", "netmgr-netmgr"}
    spec = importlib.util.spec_from_file_location("build_dashboards", GRAFANA / "build_dashboards.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, board in module.DASHBOARDS.items():
        assert _load(GRAFANA / "dashboards" / f"netmgr-{name}.json") == board, (
            f"netmgr-{name}.json differs from build_dashboards.py: run python deploy/grafana/build_dashboards.py")


@pytest.mark.parametrize("path", BOARDS, ids=lambda p: p.stem)
def test_every_dashboard_is_well_formed_for_grafana_provisioning(path: Path) -> None:
    board = _load(path)
    assert board["uid"] and len(board["uid"]) <= 40 and board["title"] and board["schemaVersion"] >= 36
    assert board["panels"], f"{path.name} has no panels"
    ids = [p["id"] for p in board["panels"]]
    assert len(set(ids)) == len(ids), "panel ids repeat"
    for panel in board["panels"]:
        assert panel["type"] in {"timeseries", "barchart", "table", "stat"}, panel["type"]
        assert panel["datasource"]["uid"] == DATASOURCE_UID
        pos = panel["gridPos"]
        assert pos["w"] > 0 and pos["h"] > 0 and pos["x"] + pos["w"] <= 24
        assert panel["targets"], f"panel {panel['title']} has no query"
        for target in panel["targets"]:
            assert target["rawQuery"] is True and target["datasource"]["uid"] == DATASOURCE_UID
            assert re.match(r"^SELECT .+ FROM .+ WHERE .*\$timeFilter", target["query"]), target["query"]
    for var in board["templating"]["list"]:
        assert var["datasource"]["uid"] == DATASOURCE_UID and var["query"].startswith("SHOW TAG VALUES")


def test_the_provisioned_datasource_is_the_one_the_dashboards_name() -> None:
    sources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "influxdb.yaml").read_text())
    [source] = sources["datasources"]
    assert source["uid"] == DATASOURCE_UID and source["type"] == "influxdb"
    assert source["jsonData"].get("version", "InfluxQL") == "InfluxQL"
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "netmgr.yaml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


# --- every query against real data ---------------------------------------------------------------


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer]:
    with influx_server() as server:
        yield server


def _demo_points(now: datetime) -> list[Point]:
    """Two hours of 1-minute polls of a core router, an access point and a hotspot gateway, plus citizens'
    RADIUS accounting, tagged as the poller and the AAA endpoints tag them."""
    core = DeviceContext(device_id=1, name="core-diskominfo", site="Diskominfo", role="core_router",
                         agency="diskominfo")
    ap = DeviceContext(device_id=2, name="ap-taman-kota-01", site="Taman Kota Sampit", role="access_point")
    gw = DeviceContext(device_id=3, name="gw-taman-kota", site="Taman Kota Sampit", role="hotspot_gateway")
    nas = Nas(device_id=3, name="gw-taman-kota", address="127.0.30.1", hotspot_id=1,
              hotspot_name="Sampit Free WiFi – Taman Kota", site_name="Taman Kota Sampit", dialect="mikrotik",
              coa_port=3799, enabled=True, default_policy_id=1)
    points: list[Point] = []
    start = int((now - timedelta(hours=2)).timestamp()) * 10**9
    for minute in range(120):
        t = start + minute * MINUTE_NS
        wave = 1 + (minute % 30) / 30
        for ctx, interfaces in ((core, ("sfp-sfpplus1", "sfp-sfpplus2")), (ap, ("eth0",)), (gw, ("ether1",))):
            for n, name in enumerate(interfaces, start=1):
                rate = 40e6 * wave / n
                points.append(Point("interface_traffic", {**ctx.tags(), "interface": name}, {
                    "in_bps": rate, "out_bps": rate / 5, "in_octets": int(rate * 60 / 8),
                    "out_octets": int(rate * 12 / 8), "interval_s": 60.0, "in_pps": rate / 8000,
                    "out_pps": rate / 40000, "in_errors": int(minute % 7 == 0), "out_errors": 0, "in_discards": 0,
                    "out_discards": int(minute % 11 == 0)}, time_ns=t))
            points.append(Point("device_health", ctx.tags(), {
                "uptime_s": 86400 + minute * 60, "cpu_load_pct": 10.0 + minute % 20, "memory_used_bytes": 2**28,
                "memory_used_pct": 40.0, "wireless_clients": 12 + minute % 5, "poll_ms": 120.0 + minute % 40,
                "interfaces": len(interfaces)}, time_ns=t))
        for queue, agency in (("DISDIK", "disdik"), ("DINKES", "dinkes")):
            points.append(Point("queue_traffic", {**core.tags(), "agency": agency, "queue": queue}, {
                "in_bps": 2e6 * wave, "out_bps": 8e6 * wave, "in_octets": 15_000_000, "out_octets": 60_000_000,
                "interval_s": 60.0}, time_ns=t))
        for citizen in range(3):
            event = "Start" if minute == citizen * 10 else "Interim-Update"
            if minute >= citizen * 10:
                moment = datetime.fromtimestamp(t / 10**9, UTC)
                points += usage_points(nas, acct_session_id=f"sess-{citizen}", d_in=50_000,
                                       d_out=400_000, input_total=50_000 * minute, output_total=400_000 * minute,
                                       session_time_s=60 * (minute - citizen * 10), now=moment, event=event)
    return points


@pytest.fixture(scope="module")
def demo_data(influx: InfluxServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    database = f"grafana_{uuid.uuid4().hex[:8]}"
    base = make_settings(tmp_path_factory.mktemp("grafana"))
    settings: Settings = base.model_copy(update={"influx": base.influx.model_copy(update={
        "api": InfluxApi.V1, "url": influx.url, "database": database, "bucket": database, "spool_max_bytes": 0})})
    store = make_metrics_store(settings)
    try:
        store.write(_demo_points(datetime.now(UTC)))
        store.flush()
    finally:
        store.close()
    return database


CASES = [(path.stem, name, query) for path in BOARDS for name, query in _queries(_load(path))]


@pytest.mark.parametrize(("board", "where", "query"), CASES, ids=[f"{b}:{w}" for b, w, _ in CASES])
def test_every_query_returns_demo_rows(influx: InfluxServer, demo_data: str, board: str, where: str,
                                       query: str) -> None:
    sql = _expand(query, _load(GRAFANA / "dashboards" / f"{board}.json"))
    result = influx.query(sql, db=demo_data)
    [statement] = result["results"]  # type: ignore[index]
    assert "error" not in statement, f"{board} {where}: {statement['error']}\n{sql}"
    series = statement.get("series") or []
    rows = [row for s in series for row in s["values"] if any(v not in (None, 0) for v in row[1:])]
    assert rows, f"{board} {where} returned no data:\n{sql}"
