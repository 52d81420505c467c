"""Writes the Grafana dashboards in ``dashboards/`` (run it after editing a panel: ``python build_dashboards.py``).

Every panel reads InfluxDB with InfluxQL through the provisioned ``netmgr-influxdb`` datasource, the same query
language netmgr reads with (InfluxDB 1.x natively, 2.x and 3.x through their v1 compatibility API). The queries
use Grafana's ``$timeFilter`` and ``$__interval`` and the dashboard's variables; tests/deploy/test_grafana.py runs
every one of them against a real influxd.
"""

# ruff: noqa: S608 - InfluxQL built from constants of this file, no outside input

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATASOURCE = {"type": "influxdb", "uid": "netmgr-influxdb"}


def variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {"name": name, "label": label, "type": "query", "datasource": DATASOURCE, "query": query,
            "definition": query, "refresh": 1, "includeAll": True, "multi": True, "allValue": ".*",
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "sort": 1}


def panel(title: str, queries: dict[str, str], *, kind: str = "timeseries", unit: str = "short",
          description: str = "", table: bool = False) -> dict[str, Any]:
    return {
        "type": kind, "title": title, "description": description, "datasource": DATASOURCE,
        "targets": [{"refId": ref, "datasource": DATASOURCE, "rawQuery": True, "query": q,
                     "resultFormat": "table" if table else "time_series"} for ref, q in queries.items()],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
    }


def dashboard(uid: str, title: str, description: str, variables: list[dict[str, Any]],
              panels: list[dict[str, Any]]) -> dict[str, Any]:
    laid_out = []
    for n, p in enumerate(panels):
        width = 24 if p["type"] == "table" else 12
        laid_out.append({"id": n + 1, "gridPos": {"h": 8, "w": width, "x": (n % 2) * 12 if width == 12 else 0,
                                                  "y": (n // 2) * 8}, **p})
    return {
        "uid": uid, "title": title, "description": description, "tags": ["netmgr"], "editable": True,
        "schemaVersion": 39, "version": 1, "timezone": "browser", "refresh": "1m",
        "time": {"from": "now-24h", "to": "now"}, "templating": {"list": variables},
        "annotations": {"list": []}, "links": [], "panels": laid_out,
    }


UPLINK = "\"role\" = 'core_router' AND \"device\" =~ /^$device$/ AND \"interface\" =~ /^$interface$/"

UPLINKS = dashboard(
    "netmgr-uplinks", "netmgr · Uplinks and 95th percentile",
    "The regency's internet uplinks (interfaces of the core routers) and what the providers bill: the 95th "
    "percentile of 5-minute rates.",
    [variable("device", "core router", "SHOW TAG VALUES FROM \"interface_traffic\" WITH KEY = \"device\" "
                                       "WHERE \"role\" = 'core_router'"),
     variable("interface", "interface", "SHOW TAG VALUES FROM \"interface_traffic\" WITH KEY = \"interface\" "
                                        "WHERE \"role\" = 'core_router' AND \"device\" =~ /^$device$/")],
    [
        panel("Uplink traffic", {"A": f"SELECT mean(\"in_bps\") AS \"in\", mean(\"out_bps\") AS \"out\" FROM "
                                      f"\"interface_traffic\" WHERE {UPLINK} AND $timeFilter GROUP BY "
                                      "time($__interval), \"device\", \"interface\" fill(null)"}, unit="bps"),
        panel("95th percentile per day", {"A": f"SELECT percentile(\"in_bps\", 95) AS \"p95 in\", "
                                                f"percentile(\"out_bps\", 95) AS \"p95 out\" "
                                                f"FROM \"interface_traffic\" WHERE {UPLINK} AND $timeFilter "
                                                "GROUP BY time(1d), \"device\", \"interface\""},
              unit="bps", kind="barchart"),
        panel("95th percentile of the period", {"A": f"SELECT percentile(\"in_bps\", 95) AS \"p95 in\", "
                                                      f"percentile(\"out_bps\", 95) AS \"p95 out\", max(\"in_bps\") AS "
                                                      f"\"peak in\" FROM \"interface_traffic\" WHERE {UPLINK} AND "
                                                      "$timeFilter GROUP BY \"device\", \"interface\""},
              unit="bps", kind="table", table=True,
              description="The figure a 95th-percentile contract bills for the chosen period (5-minute rates)."),
        panel("Data carried per day", {"A": f"SELECT sum(\"in_octets\") AS \"in\", sum(\"out_octets\") AS \"out\" "
                                             f"FROM \"interface_traffic\" WHERE {UPLINK} AND $timeFilter GROUP BY "
                                             "time(1d), \"interface\""}, unit="decbytes", kind="barchart"),
        panel("Agencies' queues on the core router", {"A": "SELECT mean(\"out_bps\") AS \"download\" FROM "
                                                          "\"queue_traffic\" WHERE \"device\" =~ /^$device$/ AND "
                                                          "$timeFilter GROUP BY time($__interval), \"queue\" "
                                                          "fill(null)"}, unit="bps"),
    ],
)

DEVICE = "\"device\" =~ /^$device$/"

DEVICES = dashboard(
    "netmgr-devices", "netmgr · Devices and interfaces",
    "Every polled device: interface traffic, errors, CPU, memory, uptime and wireless clients.",
    [variable("device", "device", "SHOW TAG VALUES FROM \"device_health\" WITH KEY = \"device\""),
     variable("interface", "interface", "SHOW TAG VALUES FROM \"interface_traffic\" WITH KEY = \"interface\" "
                                        "WHERE \"device\" =~ /^$device$/")],
    [
        panel("Interface traffic", {"A": f"SELECT mean(\"in_bps\") AS \"in\", mean(\"out_bps\") AS \"out\" FROM "
                                         f"\"interface_traffic\" WHERE {DEVICE} AND \"interface\" =~ /^$interface$/ "
                                         "AND $timeFilter GROUP BY time($__interval), \"device\", \"interface\" "
                                         "fill(null)"}, unit="bps"),
        panel("Errors and discards", {"A": f"SELECT sum(\"in_errors\") AS \"in errors\", sum(\"out_errors\") AS "
                                           f"\"out errors\", sum(\"in_discards\") AS \"in discards\", "
                                           f"sum(\"out_discards\") AS \"out discards\" FROM \"interface_traffic\" "
                                           f"WHERE {DEVICE} AND \"interface\" =~ /^$interface$/ AND $timeFilter "
                                           "GROUP BY time($__interval), \"device\", \"interface\""}),
        panel("CPU load", {"A": f"SELECT mean(\"cpu_load_pct\") FROM \"device_health\" WHERE {DEVICE} AND "
                                "$timeFilter GROUP BY time($__interval), \"device\" fill(null)"}, unit="percent"),
        panel("Memory used", {"A": f"SELECT mean(\"memory_used_pct\") FROM \"device_health\" WHERE {DEVICE} AND "
                                   "$timeFilter GROUP BY time($__interval), \"device\" fill(null)"}, unit="percent"),
        panel("Wireless clients", {"A": f"SELECT mean(\"wireless_clients\") FROM \"device_health\" WHERE {DEVICE} "
                                        "AND $timeFilter GROUP BY time($__interval), \"device\" fill(null)"}),
        panel("Uptime and last poll", {"A": f"SELECT last(\"uptime_s\") AS \"uptime\", last(\"interfaces\") AS "
                                            f"\"interfaces\" FROM \"device_health\" WHERE {DEVICE} AND $timeFilter "
                                            "GROUP BY \"site\", \"device\", \"role\""},
              kind="table", unit="s", table=True),
    ],
)

HOTSPOT = "\"hotspot\" =~ /^$hotspot$/"

HOTSPOTS = dashboard(
    "netmgr-hotspots", "netmgr · Hotspots and sessions",
    "Citizens' Wi-Fi: data used per hotspot and the RADIUS sessions the gateways report.",
    [variable("hotspot", "hotspot", "SHOW TAG VALUES FROM \"hotspot_usage\" WITH KEY = \"hotspot\"")],
    [
        panel("Data used", {"A": f"SELECT sum(\"input_octets\") AS \"upload\", sum(\"output_octets\") AS "
                                 f"\"download\" FROM \"hotspot_usage\" WHERE {HOTSPOT} AND $timeFilter GROUP BY "
                                 "time($__interval), \"hotspot\" fill(0)"}, unit="decbytes", kind="barchart"),
        panel("Sessions reporting", {"A": f"SELECT count(distinct(\"session\")) FROM \"hotspot_session\" WHERE "
                                          f"{HOTSPOT} AND $timeFilter GROUP BY time($__interval), \"hotspot\" "
                                          "fill(0)"}),
        panel("Sessions started", {"A": f"SELECT count(\"session\") FROM \"hotspot_session\" WHERE {HOTSPOT} AND "
                                        "\"event\" = 'Start' AND $timeFilter GROUP BY time(1h), \"hotspot\" fill(0)"},
              kind="barchart"),
        panel("Longest session", {"A": f"SELECT max(\"session_time_s\") FROM \"hotspot_session\" WHERE {HOTSPOT} "
                                       "AND $timeFilter GROUP BY time($__interval), \"hotspot\""}, unit="s"),
        panel("Usage per hotspot in the period", {"A": f"SELECT sum(\"input_octets\") AS \"upload\", "
                                                       f"sum(\"output_octets\") AS \"download\" FROM \"hotspot_usage\" "
                                                       f"WHERE {HOTSPOT} AND $timeFilter GROUP BY \"site\", "
                                                       "\"hotspot\""}, kind="table", unit="decbytes", table=True),
    ],
)

NETMGR = dashboard(
    "netmgr-self", "netmgr · netmgr itself",
    "How netmgr's own work shows in InfluxDB: poll durations and how many devices, interfaces and RADIUS "
    "sessions it writes. Process figures (queue lengths, spool depth, AAA latency) are at /metrics for "
    "Prometheus; see docs/operations.md.",
    [],
    [
        panel("Poll duration", {"A": "SELECT mean(\"poll_ms\") AS \"mean\", max(\"poll_ms\") AS \"slowest\" FROM "
                                     "\"device_health\" WHERE $timeFilter GROUP BY time($__interval) fill(null)"},
              unit="ms"),
        panel("Devices polled", {"A": "SELECT count(\"uptime_s\") FROM \"device_health\" WHERE $timeFilter GROUP BY "
                                      "time($__interval) fill(0)"},
              description="Polls stored per interval: a drop means devices stopped answering or polling fell "
                          "behind."),
        panel("Traffic points written", {"A": "SELECT count(\"in_bps\") AS \"interfaces\" FROM \"interface_traffic\" "
                                              "WHERE $timeFilter GROUP BY time($__interval) fill(0)",
                                         "B": "SELECT count(\"out_bps\") AS \"queues\" FROM \"queue_traffic\" WHERE "
                                              "$timeFilter GROUP BY time($__interval) fill(0)"}),
        panel("RADIUS accounting updates", {"A": "SELECT count(\"session_time_s\") FROM \"hotspot_session\" WHERE "
                                                 "$timeFilter GROUP BY time($__interval) fill(0)"}),
        panel("Slowest devices to poll", {"A": "SELECT max(\"poll_ms\") AS \"slowest poll\", mean(\"poll_ms\") AS "
                                               "\"mean poll\" FROM \"device_health\" WHERE $timeFilter GROUP BY "
                                               "\"device\""}, kind="table", unit="ms", table=True),
    ],
)

DASHBOARDS = {"uplinks": UPLINKS, "devices": DEVICES, "hotspots": HOTSPOTS, "netmgr": NETMGR}


def main() -> None:
    for name, board in DASHBOARDS.items():
        path = HERE / "dashboards" / f"netmgr-{name}.json"
        path.write_text(json.dumps(board, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
