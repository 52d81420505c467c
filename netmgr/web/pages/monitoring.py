"""Monitoring pages: the site status map, the alerts list with acknowledge, and per-interface traffic charts.

Browser → handler → one ``netmgr.services.monitoring`` call → template (charts are inline SVG from
``netmgr.web.charts``). The device page loads its traffic section from ``/devices/{id}/traffic`` (htmx).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.responses import Response

from netmgr import localtime
from netmgr.api.routes.monitoring import get_metrics_store
from netmgr.errors import ValidationFailed
from netmgr.models.alerts import Alert, AlertKind, AlertState
from netmgr.security.permissions import Permission
from netmgr.services import alert_reasons, monitoring
from netmgr.services.monitoring import TRAFFIC_RANGES, SiteHealth, SiteState
from netmgr.web import nav
from netmgr.web.charts import (
    PALETTE,
    LineChart,
    Series,
    format_bps,
    format_celsius,
    format_count,
    format_days,
    format_ms,
    format_percent,
    format_volts,
    line_chart,
)
from netmgr.web.context import CsrfChecked, FormDep, Page
from netmgr.web.labels import _
from netmgr.web.lists import back_to, csv_response, csv_time, list_view, selected_ids
from netmgr.web.pages import enum_or_none, int_or_none, page_router, query

router = page_router()

ALERT_KINDS = {
    "device_down": _("Device down"),
    "snmp_silent": _("SNMP not answering"),
    "site_down": _("Site down"),
    "uplink_saturated": _("Uplink saturated"),
    "interface_errors": _("Interface errors rising"),
    "flapping": _("Flapping"),
    "sms_budget": _("SMS budget spent"),
    "sms_gateway": _("SMS gateway failing"),
    "voucher_guessing": _("Voucher guessing"),
    "edge_link_down": _("Site link down (edge collector)"),
    "poll_late": _("Polling late, poll workers missing"),
}
ALERT_STATES = {"open": _("open"), "acknowledged": _("acknowledged"), "resolved": _("resolved")}
SITE_HEALTH = {"up": _("up"), "partial": _("partly down"), "down": _("down"), "unknown": _("unknown"),
               "link_down": _("link down")}
RANGE_LABELS = {"6h": _("6 hours"), "24h": _("24 hours"), "7d": _("7 days")}
MAP_WIDTH, MAP_HEIGHT, MAP_PAD = 720, 360, 24


def ensure_nav(registry: nav.NavRegistry | None = None) -> None:
    """Register "Pemantauan/Monitoring" and "Peringatan/Alerts" once (several apps may share a process)."""
    registry = registry or nav.NAV
    for item in (
        nav.NavItem("monitoring", _("Monitoring"), "/monitoring", Permission.INVENTORY_READ, 30,
                    labels={"id": "Pemantauan"}),
        nav.NavItem("alerts", _("Alerts"), "/alerts", Permission.INVENTORY_READ, 31, labels={"id": "Peringatan"}),
    ):
        if item.key not in registry:
            registry.register(item)


def _reasons(ctx: Page, alerts: list[Alert]) -> dict[int, str]:
    """Each alert's reason (the checks that failed, with evidence) in the reader's language and the zone's clock."""
    return {a.id: alert_reasons.describe(a.reason, gettext=ctx._, timezone=ctx.settings.timezone) for a in alerts}


def clock(moment: datetime, timezone: str) -> str:
    """``14:05 WITA``: a moment in the installation's zone, as the wall screen shows it."""
    return f"{localtime.to_local(moment, timezone):%H:%M} {localtime.zone_label(timezone, moment)}"


# Drawing order on both maps: a site in trouble is drawn after (above) a healthy one at the same place.
MAP_LAYER = {"up": 0, "unknown": 1, "partial": 2, "down": 3}


def _map_points(states: list[SiteState]) -> list[dict[str, Any]]:
    """Sites with coordinates placed on an equirectangular box fitted to them (north up), down ones last (on top).

    This is the plain canvas drawn without JavaScript or tiles; the Leaflet map reads the same points' lat/lon.
    """
    placed = [(s, s.latitude, s.longitude) for s in states if s.latitude is not None and s.longitude is not None]
    if not placed:
        return []
    lats = [lat for _, lat, _ in placed]
    lons = [lon for _, _, lon in placed]
    lat_span = max(max(lats) - min(lats), 1e-3)
    lon_span = max(max(lons) - min(lons), 1e-3)
    out = []
    for site, lat, lon in sorted(placed, key=lambda p: (MAP_LAYER[p[0].health.value], p[0].name)):
        x = MAP_PAD + (MAP_WIDTH - 2 * MAP_PAD) * (lon - min(lons)) / lon_span
        y = MAP_PAD + (MAP_HEIGHT - 2 * MAP_PAD) * (max(lats) - lat) / lat_span
        out.append({"site": site, "x": round(x, 1), "y": round(y, 1)})
    _place_labels(out)
    return out


Box = tuple[float, float, float, float]


def _place_labels(points: list[dict[str, Any]]) -> None:
    """Give each point a label side (``anchor`` start/end) where its name covers no other label or dot; the sites
    in worse health choose first, and a name that fits nowhere is left to the dot's tooltip (``anchor`` None)."""
    def overlaps(a: Box, b: Box) -> bool:
        return a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]

    taken: list[Box] = [(p["x"] - 7, p["y"] - 7, p["x"] + 7, p["y"] + 7) for p in points]
    for point in reversed(points):  # drawn last = worst health = labelled first
        size = 12.0 if point["site"].health.value in ("down", "partial") else 10.0
        width, (x, y) = len(point["site"].name) * size * 0.56, (point["x"], point["y"])
        own = (x - 7, y - 7, x + 7, y + 7)
        sides: list[tuple[str, Box]] = [("start", (x + 10, y - size / 2, x + 11 + width, y + size / 2)),
                                        ("end", (x - 11 - width, y - size / 2, x - 10, y + size / 2))]
        if x > MAP_WIDTH * 0.7:
            sides.reverse()
        free = [(anchor, box) for anchor, box in sides if box[0] >= 0 and box[2] <= MAP_WIDTH
                and not any(overlaps(box, other) for other in taken if other != own)]
        if not free and point["site"].health.value in ("down", "partial"):
            free = sides[:1]  # a site in trouble is always named; its label is drawn above the others
        point["anchor"] = free[0][0] if free else None
        if free:
            taken.append(free[0][1])


def _map_data(ctx: Page, points: list[dict[str, Any]]) -> dict[str, Any]:
    """What the Leaflet script draws: the tile source (empty: none) and each site's place, status and label."""
    health_names = {key: ctx._(label) for key, label in SITE_HEALTH.items()}
    return {
        "tiles": {"url": ctx.settings.map.tile_url, "attribution": ctx.settings.map.tile_attribution,
                  "maxZoom": ctx.settings.map.max_zoom},
        "sites": [{"id": p["site"].site_id, "name": p["site"].name, "lat": p["site"].latitude,
                   "lon": p["site"].longitude, "health": p["site"].health.value,
                   "status": health_names[p["site"].health.value], "layer": MAP_LAYER[p["site"].health.value],
                   "url": f"/sites/{p['site'].site_id}"} for p in points],
    }


@router.get("/monitoring")
def site_status_page(ctx: Page) -> Response:
    health = enum_or_none(SiteHealth, query(ctx, "health"))
    states = monitoring.site_states(ctx.db, ctx.signed_in, health=health)
    counts = {h.value: 0 for h in SiteHealth}
    for s in states:
        counts[s.health.value] += 1
    points = _map_points(states)
    return ctx.render("monitoring/sites.html", title=ctx._("Monitoring"), states=states, counts=counts,
                      health=health.value if health else "", health_labels=SITE_HEALTH, map_points=points,
                      map_size=(MAP_WIDTH, MAP_HEIGHT), map_data=_map_data(ctx, points),
                      alert_counts=monitoring.count_active_alerts(ctx.db, ctx.signed_in))


@router.get("/monitoring/noc")
def noc_page(ctx: Page) -> Response:
    """The wall screen: full-screen, refreshed in place by htmx every few seconds (meta refresh without JS)."""
    board = monitoring.noc_board(ctx.db, ctx.signed_in, get_metrics_store(ctx.request))
    fragment = ctx.request.headers.get("HX-Request") == "true"
    return ctx.render("monitoring/noc_board.html" if fragment else "monitoring/noc.html",
                      title=ctx._("Network operations"), board=board, health_labels=SITE_HEALTH, kinds=ALERT_KINDS,
                      refresh_s=ctx.settings.map.noc_refresh_s, reasons=_reasons(ctx, board.alerts),
                      clock=clock(board.at, ctx.settings.timezone))


def _alert_filters(ctx: Page) -> dict[str, Any]:
    show = query(ctx, "show") or "active"
    return {
        "active": {"active": True, "resolved": False}.get(show),
        "state": enum_or_none(AlertState, query(ctx, "state")),
        "kind": enum_or_none(AlertKind, query(ctx, "kind")),
        "device_id": int_or_none(query(ctx, "device_id")),
        "site_id": int_or_none(query(ctx, "site_id")),
    }


@router.get("/alerts")
def alerts_page(ctx: Page) -> Response:
    view = list_view(ctx, monitoring.ALERT_SORTING)
    filters = _alert_filters(ctx)
    result = monitoring.list_alerts(ctx.db, ctx.signed_in, sort=view.request.sort,
                                    descending=view.request.descending, offset=view.request.offset,
                                    limit=view.request.size, **filters)
    return ctx.render("monitoring/alerts.html", title=ctx._("Alerts"), rows=result.items, view=view,
                      pager=view.pager(result.total), filters=filters, show=query(ctx, "show") or "active",
                      kinds=ALERT_KINDS, states=ALERT_STATES, reasons=_reasons(ctx, list(result.items)),
                      can_ack=ctx.can(Permission.ALERTS_ACK))


@router.get("/alerts.csv")
def alerts_export(ctx: Page) -> Response:
    """The filtered, sorted alert list as CSV (times in the installation's zone)."""
    view = list_view(ctx, monitoring.ALERT_SORTING)
    tz = ctx.settings.timezone
    header = [ctx._("Opened"), ctx._("Kind"), ctx._("Subject"), ctx._("Message"), ctx._("State"),
              ctx._("Acknowledged by"), ctx._("Acknowledged"), ctx._("Resolved")]
    rows = ([csv_time(a.opened_at, tz), ctx._(ALERT_KINDS.get(a.kind, a.kind)), a.subject_name, a.message,
             ctx._(ALERT_STATES.get(a.state, a.state)), a.acknowledged_by or "", csv_time(a.acknowledged_at, tz),
             csv_time(a.resolved_at, tz)]
            for a in monitoring.iter_alerts(ctx.db, ctx.signed_in, sort=view.request.sort,
                                            descending=view.request.descending, **_alert_filters(ctx)))
    return csv_response("peringatan.csv", header, rows)


@router.post("/alerts/acknowledge", dependencies=[CsrfChecked])
def acknowledge_alerts(ctx: Page, form: FormDep) -> Response:
    """Acknowledge the ticked alerts (open ones; the others are left as they are)."""
    ids = selected_ids(form)
    back = back_to(form, "/alerts")
    if not ids:
        ctx.flash(ctx._("Tick the alerts first."), "error")
        return ctx.redirect(back)
    note = form.get("note")
    try:
        n = monitoring.acknowledge_alerts(ctx.db, ctx.signed_in, ids, note=note if isinstance(note, str) else "")
    except ValidationFailed:
        ctx.db.rollback()
        ctx.flash(ctx._("At most 1000 alerts at once."), "error")
        return ctx.redirect(back)
    ctx.flash(ctx._("%(n)s alerts acknowledged.", n=n))
    return ctx.redirect(back)


@router.post("/alerts/{alert_id}/acknowledge", dependencies=[CsrfChecked])
def acknowledge_alert(alert_id: int, ctx: Page, form: FormDep) -> Response:
    note = form.get("note")
    alert = monitoring.acknowledge_alert(ctx.db, ctx.signed_in, alert_id, note=note if isinstance(note, str) else "")
    ctx.flash(ctx._("Alert acknowledged: %(name)s", name=alert.subject_name))
    back = form.get("next")
    return ctx.redirect(back if isinstance(back, str) and back.startswith("/alerts") else "/alerts")


def _charts(traffic: monitoring.DeviceTraffic, timezone: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Per interface (uplinks first): its traffic chart, and its errors/discards chart where the device counts them."""
    gap = timedelta(seconds=traffic.range.bucket_s * 2.5)
    out = []
    for iface in traffic.interfaces:
        chart = line_chart(
            [Series(labels["in"], "in", [(p.time, p.in_bps) for p in iface.points]),
             Series(labels["out"], "out", [(p.time, p.out_bps) for p in iface.points])],
            start=traffic.start, end=traffic.end, gap=gap, timezone=timezone)
        errors = line_chart(
            [Series(labels["errors"], "c2", [(p.time, p.errors) for p in iface.points]),
             Series(labels["discards"], "c4", [(p.time, p.discards) for p in iface.points])],
            start=traffic.start, end=traffic.end, gap=gap, timezone=timezone, height=140,
            y_format=format_count) if iface.has_errors else None
        out.append({"name": iface.interface, "peak": format_bps(iface.peak_bps), "chart": chart, "errors": errors,
                    "uplink": iface.uplink})
    return out


@router.get("/devices/{device_id}/traffic")
def device_traffic_page(device_id: int, ctx: Page) -> Response:
    range_key = query(ctx, "range") or "24h"
    if range_key not in TRAFFIC_RANGES:
        range_key = "24h"
    store = get_metrics_store(ctx.request)
    traffic = monitoring.device_traffic(ctx.db, ctx.signed_in, store, device_id, range_key=range_key,
                                        interface=query(ctx, "interface"))
    charts = _charts(traffic, ctx.settings.timezone, {"in": ctx._("in"), "out": ctx._("out"),
                                                      "errors": ctx._("errors"), "discards": ctx._("discards")})
    fragment = ctx.request.headers.get("HX-Request") == "true"
    return ctx.render("monitoring/traffic_fragment.html" if fragment else "monitoring/traffic.html",
                      title=ctx._("Traffic: %(name)s", name=traffic.device), traffic=traffic, charts=charts,
                      ranges=RANGE_LABELS, range_key=range_key)


def _ping_charts(history: monitoring.PingHistory, timezone: str, labels: dict[str, str]) -> list[tuple[str, LineChart]]:
    gap = timedelta(seconds=history.range.bucket_s * 2.5)
    common: dict[str, Any] = {"start": history.start, "end": history.end, "gap": gap, "timezone": timezone}
    rtt = line_chart([Series(labels["avg"], "in", [(p.time, p.rtt_avg_ms) for p in history.points]),
                      Series(labels["max"], "out", [(p.time, p.rtt_max_ms) for p in history.points])],
                     y_format=format_ms, **common)
    loss = line_chart([Series(labels["loss"], "out", [(p.time, p.loss_percent) for p in history.points])],
                      y_format=format_percent, **common)
    return [(labels["rtt"], rtt), (labels["loss"], loss)]


def _ping_page(ctx: Page, subject_type: str, subject_id: int) -> Response:
    range_key = query(ctx, "range") or "24h"
    if range_key not in TRAFFIC_RANGES:
        range_key = "24h"
    history = monitoring.ping_history(ctx.db, ctx.signed_in, get_metrics_store(ctx.request), subject_type,
                                      subject_id, range_key=range_key)
    charts = _ping_charts(history, ctx.settings.timezone, {
        "avg": ctx._("average"), "max": ctx._("worst"), "loss": ctx._("Packet loss"),
        "rtt": ctx._("Round trip (ping)")})
    fragment = ctx.request.headers.get("HX-Request") == "true"
    return ctx.render("monitoring/ping_fragment.html" if fragment else "monitoring/ping.html",
                      title=ctx._("Ping: %(name)s", name=history.name), history=history, charts=charts,
                      ranges=RANGE_LABELS, range_key=range_key, base=f"/{subject_type}s/{subject_id}/ping")


@router.get("/devices/{device_id}/ping")
def device_ping_page(device_id: int, ctx: Page) -> Response:
    """RTT, loss and availability charts of a device's ping rounds (htmx fragment on the device page)."""
    return _ping_page(ctx, "device", device_id)


@router.get("/uplinks/{uplink_id}/ping")
def uplink_ping_page(uplink_id: int, ctx: Page) -> Response:
    """RTT, loss and availability charts of the pings to an uplink's far end (fragment on the uplink page)."""
    return _ping_page(ctx, "uplink", uplink_id)


def _multi(series: dict[str, list[tuple[Any, float | None]]]) -> tuple[list[Series], list[tuple[str, str]]]:
    """Several named series with palette colours, and their legend (name, css)."""
    out = [Series(name, PALETTE[n % len(PALETTE)], points) for n, (name, points) in enumerate(series.items())]
    return out, [(s.name, s.css) for s in out]


def _health_charts(history: monitoring.DeviceHealthHistory, timezone: str,
                   labels: dict[str, str]) -> list[dict[str, Any]]:
    """The device's health charts that have data: CPU, memory, temperatures, voltages, clients per SSID, uptime."""
    common: dict[str, Any] = {"start": history.start, "end": history.end, "timezone": timezone,
                              "gap": timedelta(seconds=history.range.bucket_s * 2.5), "height": 180}
    charts: list[dict[str, Any]] = []

    def add(key: str, series: list[Series], legend: list[tuple[str, str]], y_format: Any) -> None:
        if any(p[1] is not None for s in series for p in s.points):
            charts.append({"key": key, "title": labels[key], "legend": legend,
                           "chart": line_chart(series, y_format=y_format, **common)})

    add("cpu", [Series(labels["cpu"], "in", history.cpu)], [], format_percent)
    add("memory", [Series(labels["memory"], "out", history.memory)], [], format_percent)
    for key, values, y_format in (("temperature", history.temperatures, format_celsius),
                                  ("voltage", history.voltages, format_volts),
                                  ("clients", history.clients, format_count)):
        series, legend = _multi(values)
        add(key, series, legend, y_format)
    add("uptime", [Series(labels["uptime"], "c3", history.uptime_days)], [], format_days)
    return charts


@router.get("/devices/{device_id}/health")
def device_health_page(device_id: int, ctx: Page) -> Response:
    """CPU, memory, sensors, wireless clients, uptime and availability of a device (htmx fragment on its page)."""
    range_key = query(ctx, "range") or "24h"
    if range_key not in TRAFFIC_RANGES:
        range_key = "24h"
    history = monitoring.device_health_history(ctx.db, ctx.signed_in, get_metrics_store(ctx.request), device_id,
                                               range_key=range_key)
    charts = _health_charts(history, ctx.settings.timezone, {
        "cpu": ctx._("Processor load"), "memory": ctx._("Memory used"), "temperature": ctx._("Temperature"),
        "voltage": ctx._("Voltage"), "clients": ctx._("Wireless clients per SSID"), "uptime": ctx._("Uptime")})
    fragment = ctx.request.headers.get("HX-Request") == "true"
    return ctx.render("monitoring/health_fragment.html" if fragment else "monitoring/health.html",
                      title=ctx._("Health: %(name)s", name=history.device), history=history, charts=charts,
                      ranges=RANGE_LABELS, range_key=range_key)
