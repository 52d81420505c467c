"""Monitoring, read side: alerts (list, acknowledge), device events, site status, traffic series, uplink SLA.

The collectors write alerts, events and points; pages and the API read them here. Traffic comes from the
MetricsStore (InfluxQL) passed in by the caller. Agency viewers see only their agency's devices, sites and
alerts, and no uplink.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from netmgr.errors import MetricsQueryError, NotFound, ValidationFailed
from netmgr.metrics import MetricsStore
from netmgr.models import Agency, Device, DeviceEvent, EdgeCollector, Site
from netmgr.models.alerts import ACTIVE_STATES, Alert, AlertKind, AlertState
from netmgr.models.base import utcnow
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit, budget, devices, interfaces, uplinks
from netmgr.services.common import ListResult, paginate
from netmgr.services.listing import Sorting
from netmgr.services.reachability import Reachability, combine

# ---------------------------------------------------------------------------------------------- alerts


def _alerts_query(actor: Actor) -> Select[Alert]:
    stmt = select(Alert)
    if actor.agency_scope is not None:
        stmt = stmt.where(Alert.agency_id == actor.agency_scope)
    return stmt


ALERT_SORTING = Sorting(
    keys={"opened": (Alert.opened_at,), "kind": (Alert.kind,), "subject": (Alert.subject_name,),
          "state": (Alert.state,)},
    default="opened",
    tie_breaker=Alert.id,
    default_descending=True,
)
"""The alert list's sort keys; newest first unless asked otherwise."""

MAX_BULK_ACK = 1000


def _alerts_filtered(actor: Actor, *, state: AlertState | None = None, active: bool | None = None,
                     kind: AlertKind | None = None, device_id: int | None = None, site_id: int | None = None,
                     agency_id: int | None = None) -> Select[Alert]:
    stmt = _alerts_query(actor)
    if state is not None:
        stmt = stmt.where(Alert.state == state)
    if active is True:
        stmt = stmt.where(Alert.state.in_(ACTIVE_STATES))
    elif active is False:
        stmt = stmt.where(Alert.state == AlertState.RESOLVED)
    if kind is not None:
        stmt = stmt.where(Alert.kind == kind)
    if device_id is not None:
        stmt = stmt.where(Alert.device_id == device_id)
    if site_id is not None:
        stmt = stmt.where(Alert.site_id == site_id)
    if agency_id is not None:
        stmt = stmt.where(Alert.agency_id == agency_id)
    return stmt


def list_alerts(
    session: Session,
    actor: Actor,
    *,
    state: AlertState | None = None,
    active: bool | None = None,
    kind: AlertKind | None = None,
    device_id: int | None = None,
    site_id: int | None = None,
    agency_id: int | None = None,
    sort: str | None = None,
    descending: bool | None = None,
    offset: int = 0,
    limit: int = 50,
) -> ListResult[Alert]:
    """Alerts, newest first unless sorted by another ``ALERT_SORTING`` key; ``active=True`` means open or
    acknowledged."""
    actor.require(Permission.INVENTORY_READ)
    stmt = _alerts_filtered(actor, state=state, active=active, kind=kind, device_id=device_id, site_id=site_id,
                            agency_id=agency_id)
    return paginate(session, stmt.order_by(*ALERT_SORTING.order_by(sort, descending)), offset=offset, limit=limit)


def iter_alerts(session: Session, actor: Actor, *, sort: str | None = None, descending: bool | None = None,
                **filters: Any) -> Iterator[Alert]:
    """Every alert ``list_alerts`` would page through with the same filters (for exports)."""
    actor.require(Permission.INVENTORY_READ)
    stmt = _alerts_filtered(actor, **filters).order_by(*ALERT_SORTING.order_by(sort, descending))
    yield from session.scalars(stmt.execution_options(yield_per=500))


def count_active_alerts(session: Session, actor: Actor) -> dict[str, int]:
    """Open and acknowledged alerts the actor may see, by state."""
    actor.require(Permission.INVENTORY_READ)
    stmt = select(Alert.state, func.count(Alert.id)).where(Alert.state.in_(ACTIVE_STATES)).group_by(Alert.state)
    if actor.agency_scope is not None:
        stmt = stmt.where(Alert.agency_id == actor.agency_scope)
    counts = {s.value: 0 for s in ACTIVE_STATES}
    for state, n in session.execute(stmt):
        counts[str(state)] = int(n)
    return counts


def get_alert(session: Session, actor: Actor, alert_id: int) -> Alert:
    actor.require(Permission.INVENTORY_READ)
    alert = session.scalar(_alerts_query(actor).where(Alert.id == alert_id)
                           .options(selectinload(Alert.notifications)))
    if alert is None:
        raise NotFound(f"alert {alert_id} does not exist")
    return alert


def acknowledge_alert(session: Session, actor: Actor, alert_id: int, *, note: str = "") -> Alert:
    """Mark an open alert as being handled by ``actor``; acknowledging twice keeps the first.

    Raises:
        ValidationFailed: the alert is already resolved.
    """
    actor.require(Permission.ALERTS_ACK)
    alert = get_alert(session, actor, alert_id)
    if alert.state == AlertState.RESOLVED:
        raise ValidationFailed(f"alert {alert_id} is already resolved", field="alert_id")
    if alert.state == AlertState.ACKNOWLEDGED:
        return alert
    alert.state = AlertState.ACKNOWLEDGED
    alert.acknowledged_at = utcnow()
    alert.acknowledged_by = actor.username
    alert.ack_note = note.strip()[:2000]
    audit.record(session, actor, action="acknowledge", entity_type="alert", entity_id=alert.id,
                 message="alert.acknowledged",
                 params={"alert_kind": alert.kind, "name": alert.subject_name},
                 after={"state": alert.state, "note": alert.ack_note})
    session.flush()
    return alert


def acknowledge_alerts(session: Session, actor: Actor, alert_ids: list[int], *, note: str = "") -> int:
    """Acknowledge the open alerts among ``alert_ids`` the actor may see (each audited as one acknowledgement).

    Resolved, already acknowledged and unseen alerts are skipped. Returns how many were acknowledged.

    Raises:
        ValidationFailed: more than ``MAX_BULK_ACK`` alerts were chosen.
    """
    actor.require(Permission.ALERTS_ACK)
    if len(alert_ids) > MAX_BULK_ACK:
        raise ValidationFailed(f"choose at most {MAX_BULK_ACK} alerts at once", field="alert_id")
    stmt = _alerts_query(actor).where(Alert.id.in_(alert_ids), Alert.state == AlertState.OPEN).order_by(Alert.id)
    ids = list(session.scalars(stmt.with_only_columns(Alert.id)))
    for alert_id in ids:
        acknowledge_alert(session, actor, alert_id, note=note)
    return len(ids)


# ---------------------------------------------------------------------------------------------- events, sites


def list_device_events(session: Session, actor: Actor, device_id: int, *, offset: int = 0,
                       limit: int = 50) -> ListResult[DeviceEvent]:
    """A device's up/down events, newest first."""
    device = devices.get_device(session, actor, device_id)
    stmt = select(DeviceEvent).where(DeviceEvent.device_id == device.id).order_by(DeviceEvent.at.desc(),
                                                                                  DeviceEvent.id.desc())
    return paginate(session, stmt, offset=offset, limit=limit)


class SiteHealth(StrEnum):
    UP = "up"
    PARTIAL = "partial"
    DOWN = "down"
    UNKNOWN = "unknown"
    LINK_DOWN = "link_down"
    """The site's edge collector cannot reach the centre: its devices keep their last known status."""


@dataclass
class SiteState:
    """One site on the status map: where it is, its devices by reachability, and its active alerts.

    A device that answers ping but not SNMP counts as ``up`` (it is there) and is also counted in ``snmp_silent``.
    """

    site_id: int
    name: str
    kind: str
    agency: str | None
    latitude: float | None
    longitude: float | None
    up: int = 0
    down: int = 0
    unknown: int = 0
    snmp_silent: int = 0
    alerts: int = 0
    link_down: bool = False

    @property
    def health(self) -> SiteHealth:
        if self.link_down:
            return SiteHealth.LINK_DOWN
        if self.down and not self.up:
            return SiteHealth.DOWN
        if self.down:
            return SiteHealth.PARTIAL
        if self.up:
            return SiteHealth.UP
        return SiteHealth.UNKNOWN


_HEALTH_ORDER = {SiteHealth.DOWN: 0, SiteHealth.LINK_DOWN: 1, SiteHealth.PARTIAL: 2, SiteHealth.UNKNOWN: 3,
                 SiteHealth.UP: 4}


def site_states(session: Session, actor: Actor, *, health: SiteHealth | None = None) -> list[SiteState]:
    """Every site the actor may see with device counts by status; sites with trouble first."""
    actor.require(Permission.INVENTORY_READ)
    scope = actor.agency_scope
    stmt = (select(Site.id, Site.name, Site.kind, Agency.name, Site.latitude, Site.longitude)
            .outerjoin(Agency, Site.agency_id == Agency.id))
    if scope is not None:
        stmt = stmt.where(Site.agency_id == scope)
    states = {row[0]: SiteState(row[0], row[1], str(row[2]), row[3], row[4], row[5]) for row in session.execute(stmt)}
    counts = (select(Device.site_id, Device.status, Device.ping_status, func.count(Device.id))
              .group_by(Device.site_id, Device.status, Device.ping_status))
    buckets = {Reachability.UP: "up", Reachability.SNMP_SILENT: "up", Reachability.UNREACHABLE: "down",
               Reachability.UNKNOWN: "unknown"}
    for site_id, status, ping_status, n in session.execute(counts):
        row = states.get(site_id)
        if row is not None:
            reach = combine(str(status), str(ping_status))
            key = buckets[reach]
            setattr(row, key, getattr(row, key) + int(n))
            if reach == Reachability.SNMP_SILENT:
                row.snmp_silent += int(n)
    alerts = (select(Alert.site_id, func.count(Alert.id)).where(Alert.state.in_(ACTIVE_STATES))
              .group_by(Alert.site_id))
    if scope is not None:
        alerts = alerts.where(Alert.agency_id == scope)
    for alert_site, n in session.execute(alerts):
        if alert_site is not None and alert_site in states:
            states[alert_site].alerts = int(n)
    for site_id in session.scalars(select(EdgeCollector.site_id).where(EdgeCollector.enabled.is_(True),
                                                                       EdgeCollector.link_down.is_(True))):
        if site_id in states:
            states[site_id].link_down = True
    out = [s for s in states.values() if health is None or s.health == health]
    return sorted(out, key=lambda s: (_HEALTH_ORDER[s.health], s.name))


# ---------------------------------------------------------------------------------------------- traffic


@dataclass(frozen=True)
class TrafficRange:
    key: str
    span: timedelta
    bucket: str
    bucket_s: int


TRAFFIC_RANGES = {
    "6h": TrafficRange("6h", timedelta(hours=6), "2m", 120),
    "24h": TrafficRange("24h", timedelta(hours=24), "10m", 600),
    "7d": TrafficRange("7d", timedelta(days=7), "1h", 3600),
}


@dataclass(frozen=True)
class TrafficPoint:
    """One bucket of an interface: mean bit rates, and errors and discards counted in the bucket (both ways)."""

    time: datetime
    in_bps: float | None
    out_bps: float | None
    errors: float | None = None
    discards: float | None = None


@dataclass
class InterfaceTraffic:
    interface: str
    points: list[TrafficPoint] = field(default_factory=list)
    uplink: bool = False

    @property
    def has_errors(self) -> bool:
        """True when the device reported error or discard counters for this interface in the period."""
        return any(p.errors is not None or p.discards is not None for p in self.points)

    @property
    def peak_bps(self) -> float:
        return max((max(p.in_bps or 0.0, p.out_bps or 0.0) for p in self.points), default=0.0)


@dataclass
class DeviceTraffic:
    """Per-interface mean in/out bps of one device over a range, in buckets; ``error`` when InfluxDB failed."""

    device_id: int
    device: str
    range: TrafficRange
    start: datetime
    end: datetime
    interfaces: list[InterfaceTraffic] = field(default_factory=list)
    error: str = ""


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000


def device_traffic(session: Session, actor: Actor, store: MetricsStore, device_id: int, *, range_key: str = "24h",
                   interface: str | None = None, now: datetime | None = None) -> DeviceTraffic:
    """Mean in/out bps per interface of a device over the last 6 h, 24 h or 7 d (InfluxQL ``GROUP BY time``).

    Raises:
        ValidationFailed: unknown range.
    An unreachable InfluxDB does not raise: the result carries the error and no points.
    """
    device = devices.get_device(session, actor, device_id)
    if range_key not in TRAFFIC_RANGES:
        raise ValidationFailed(f"unknown range {range_key!r}; use one of {', '.join(TRAFFIC_RANGES)}",
                               field="range")
    chosen = TRAFFIC_RANGES[range_key]
    end = now or utcnow()
    start = end - chosen.span
    result = DeviceTraffic(device.id, device.name, chosen, start, end)
    where = "device = $device"
    params: dict[str, object] = {"device": device.name}
    if interface:
        where += " AND interface = $interface"
        params["interface"] = interface
    influxql = ("SELECT mean(in_bps) AS in_bps, mean(out_bps) AS out_bps, sum(in_errors) AS in_errors, "  # noqa: S608
                "sum(out_errors) AS out_errors, sum(in_discards) AS in_discards, sum(out_discards) AS out_discards "
                f"FROM interface_traffic WHERE {where} AND time > {_ns(start)} AND time <= {_ns(end)} "
                f"GROUP BY time({chosen.bucket}), interface fill(none)")
    try:
        rows = store.query(influxql, params)
    except MetricsQueryError as exc:
        result.error = exc.message
        return result
    series: dict[str, list[TrafficPoint]] = defaultdict(list)
    for row in rows:
        series[str(row.get("interface", ""))].append(TrafficPoint(
            datetime.fromtimestamp(int(row["time"]) / 1e9, UTC), _number(row, "in_bps"), _number(row, "out_bps"),
            _both(row, "in_errors", "out_errors"), _both(row, "in_discards", "out_discards")))
    uplinks = interfaces.uplink_interface_names(session, device.id)
    result.interfaces = [InterfaceTraffic(name, sorted(series[name], key=lambda p: p.time), name in uplinks)
                         for name in interfaces.uplinks_first(sorted(series), uplinks)]
    return result


def _number(row: dict[str, object], key: str, scale: float = 1.0) -> float | None:
    value = row.get(key)
    return None if value is None else float(value) * scale  # type: ignore[arg-type]


def _both(row: dict[str, object], first: str, second: str) -> float | None:
    """The sum of two directions' counts, or None when the device reported neither."""
    a, b = _number(row, first), _number(row, second)
    return None if a is None and b is None else (a or 0.0) + (b or 0.0)


# ---------------------------------------------------------------------------------------------- ping history


@dataclass(frozen=True)
class PingPoint:
    """One bucket of ping rounds: mean and worst RTT of answered rounds, mean loss and share of rounds answered."""

    time: datetime
    rtt_avg_ms: float | None
    rtt_max_ms: float | None
    loss_percent: float | None
    availability_percent: float | None


@dataclass
class PingHistory:
    """Ping buckets of one device or uplink over a range (from InfluxDB); ``error`` when InfluxDB failed."""

    subject_type: str
    subject_id: int
    name: str
    range: TrafficRange
    start: datetime
    end: datetime
    points: list[PingPoint] = field(default_factory=list)
    error: str = ""

    @property
    def availability_percent(self) -> float | None:
        """Share of the range's rounds that were answered (buckets weigh alike: rounds are evenly spaced)."""
        values = [p.availability_percent for p in self.points if p.availability_percent is not None]
        return round(sum(values) / len(values), 3) if values else None


_PING_TAGS = {"device": "device", "uplink": "uplink"}
"""Ping points carry the target's name in a tag named after its kind (docs/metrics.md)."""


def ping_history(session: Session, actor: Actor, store: MetricsStore, subject_type: str, subject_id: int, *,
                 range_key: str = "24h", now: datetime | None = None) -> PingHistory:
    """RTT, loss and availability of a device's or uplink's ping rounds over the last 6 h, 24 h or 7 d.

    Raises:
        ValidationFailed: unknown range or kind.
        NotFound: no such device or uplink (or not visible to ``actor``).
    An unreachable InfluxDB does not raise: the result carries the error and no points.
    """
    if range_key not in TRAFFIC_RANGES:
        raise ValidationFailed(f"unknown range {range_key!r}; use one of {', '.join(TRAFFIC_RANGES)}",
                               field="range")
    if subject_type == "device":
        name = devices.get_device(session, actor, subject_id).name
    elif subject_type == "uplink":
        actor.require(Permission.REPORTS_READ)
        name = uplinks.get_uplink(session, actor, subject_id).name
    else:
        raise ValidationFailed(f"unknown ping target kind {subject_type!r}; use device or uplink", field="kind")
    chosen = TRAFFIC_RANGES[range_key]
    end = now or utcnow()
    start = end - chosen.span
    result = PingHistory(subject_type, subject_id, name, chosen, start, end)
    influxql = ("SELECT mean(rtt_avg_ms) AS rtt_avg_ms, max(rtt_max_ms) AS rtt_max_ms, "  # noqa: S608 - tag from a map
                "mean(loss_percent) AS loss_percent, mean(\"up\") AS up FROM ping "
                f"WHERE \"kind\" = $kind AND \"{_PING_TAGS[subject_type]}\" = $name "
                f"AND time > {_ns(start)} AND time <= {_ns(end)} GROUP BY time({chosen.bucket}) fill(none)")
    try:
        rows = store.query(influxql, {"kind": subject_type, "name": name})
    except MetricsQueryError as exc:
        result.error = exc.message
        return result

    result.points = sorted((PingPoint(datetime.fromtimestamp(int(row["time"]) / 1e9, UTC),
                                      _number(row, "rtt_avg_ms"), _number(row, "rtt_max_ms"),
                                      _number(row, "loss_percent"), _number(row, "up", 100.0))
                            for row in rows), key=lambda p: p.time)
    return result


# ---------------------------------------------------------------------------------------------- uplink SLA


@dataclass(frozen=True)
class UplinkAvailability:
    """Minutes an uplink's router was up, down or unknown in [start, end), for SLA figures.

    ``percent`` is up / (up + down): minutes without any knowledge are left out, not counted as outage.
    """

    uplink_id: int
    start: datetime
    end: datetime
    minutes_up: float
    minutes_down: float
    minutes_unknown: float
    source: str = "router"
    """``ping`` (the uplink's far end, hourly rollups) or ``router`` (its router's up/down events)."""

    @property
    def percent(self) -> float | None:
        known = self.minutes_up + self.minutes_down
        return round(100.0 * self.minutes_up / known, 3) if known else None


def availability_minutes(events: list[tuple[datetime, str]], start: datetime, end: datetime,
                         initial: str | None) -> tuple[float, float, float]:
    """(up, down, unknown) minutes in [start, end) from ``initial`` state and time-ordered (at, kind) events."""
    totals = {"up": 0.0, "down": 0.0, "unknown": 0.0}
    state = initial if initial in ("up", "down") else "unknown"
    cursor = start
    for at, kind in events:
        at = min(max(at, start), end)
        totals[state] += (at - cursor).total_seconds() / 60
        cursor = at
        state = kind if kind in ("up", "down") else "unknown"
    totals[state] += max(0.0, (end - cursor).total_seconds() / 60)
    return totals["up"], totals["down"], totals["unknown"]


def uplink_availability(session: Session, actor: Actor, uplink_id: int, *, start: datetime,
                        end: datetime) -> UplinkAvailability:
    """Up/down minutes of the uplink (the SLA evidence), measured as the SLA report measures them.

    With a probe address and ping rounds in the period: from the hourly ping rollups of the hours that start in
    [start, end) (each round counts one ping interval). Otherwise from the router carrying the uplink.
    """
    actor.require(Permission.REPORTS_READ)
    uplink = uplinks.get_uplink(session, actor, uplink_id)
    if end <= start:
        raise ValidationFailed("the period must end after it starts", field="end")
    if uplink.probe_address:
        ping = budget.ping_month(session, "uplink", uplink.id, start, end)
        if ping.rounds:
            up, down = ping.up_s / 60, ping.down_s / 60
            unknown = max(0.0, (end - start).total_seconds() / 60 - up - down)
            return UplinkAvailability(uplink.id, start, end, round(up, 3), round(down, 3), round(unknown, 3), "ping")
    device_id = uplink.device_id or (uplink.interface.device_id if uplink.interface is not None else None)
    if device_id is None:
        return UplinkAvailability(uplink.id, start, end, 0.0, 0.0, (end - start).total_seconds() / 60)
    up, down, unknown = device_event_minutes(session, device_id, start, end)
    return UplinkAvailability(uplink.id, start, end, round(up, 3), round(down, 3), round(unknown, 3))


def device_event_minutes(session: Session, device_id: int, start: datetime,
                         end: datetime) -> tuple[float, float, float]:
    """(up, down, unknown) minutes of a device in [start, end) from its SNMP up/down events."""
    before = session.scalar(select(DeviceEvent.kind).where(DeviceEvent.device_id == device_id,
                                                           DeviceEvent.at <= start)
                            .order_by(DeviceEvent.at.desc(), DeviceEvent.id.desc()).limit(1))
    rows = session.execute(select(DeviceEvent.at, DeviceEvent.kind).where(
        DeviceEvent.device_id == device_id, DeviceEvent.at > start, DeviceEvent.at < end)
        .order_by(DeviceEvent.at, DeviceEvent.id)).all()
    return availability_minutes([(r[0], r[1]) for r in rows], start, end, before)


# ---------------------------------------------------------------------------------------------- device health


HealthSeries = list[tuple[datetime, float | None]]


@dataclass
class DeviceHealthHistory:
    """A device's health over a range, in buckets (from InfluxDB); ``error`` when InfluxDB failed.

    ``temperatures``, ``voltages`` and ``clients`` are keyed by sensor or SSID/radio label; ``reboots`` counts the
    polls that saw the device restart; the availability figures are percentages of the range (None when unknown).
    """

    device_id: int
    device: str
    range: TrafficRange
    start: datetime
    end: datetime
    cpu: HealthSeries = field(default_factory=list)
    memory: HealthSeries = field(default_factory=list)
    uptime_days: HealthSeries = field(default_factory=list)
    temperatures: dict[str, HealthSeries] = field(default_factory=dict)
    voltages: dict[str, HealthSeries] = field(default_factory=dict)
    clients: dict[str, HealthSeries] = field(default_factory=dict)
    reboots: int = 0
    ping_availability_percent: float | None = None
    snmp_availability_percent: float | None = None
    error: str = ""

    @property
    def empty(self) -> bool:
        return not (self.cpu or self.memory or self.uptime_days or self.temperatures or self.voltages or self.clients)


def _at(row: dict[str, object]) -> datetime:
    return datetime.fromtimestamp(int(row["time"]) / 1e9, UTC)  # type: ignore[call-overload]


def _grouped(rows: list[dict[str, object]], label: Callable[[dict[str, object]], str],
             key: str = "value") -> dict[str, HealthSeries]:
    out: dict[str, HealthSeries] = defaultdict(list)
    for row in rows:
        out[label(row)].append((_at(row), _number(row, key)))
    return {name: sorted(points, key=lambda p: p[0]) for name, points in sorted(out.items())}


def _client_label(row: dict[str, object]) -> str:
    """``WARKOP-KOPIBOSS · wlan1``: the SSID and the radio, whichever the AP names."""
    parts = [str(row.get(k) or "") for k in ("ssid", "radio")]
    return " · ".join(p for p in parts if p) or f"#{row.get('index', '')}"


def device_health_history(session: Session, actor: Actor, store: MetricsStore, device_id: int, *,
                          range_key: str = "24h", now: datetime | None = None) -> DeviceHealthHistory:
    """CPU, memory, uptime, temperatures, voltages and wireless clients of a device over 6 h, 24 h or 7 d, and its
    availability in the same period: by ping (share of ping rounds answered) and by SNMP (up/down events).

    Raises:
        ValidationFailed: unknown range.
    An unreachable InfluxDB does not raise: the result carries the error (SNMP availability is still given).
    """
    device = devices.get_device(session, actor, device_id)
    if range_key not in TRAFFIC_RANGES:
        raise ValidationFailed(f"unknown range {range_key!r}; use one of {', '.join(TRAFFIC_RANGES)}",
                               field="range")
    chosen = TRAFFIC_RANGES[range_key]
    end = now or utcnow()
    start = end - chosen.span
    result = DeviceHealthHistory(device.id, device.name, chosen, start, end)
    up, down, _ = device_event_minutes(session, device.id, start, end)
    result.snmp_availability_percent = round(100.0 * up / (up + down), 3) if up + down else None
    window = f"time > {_ns(start)} AND time <= {_ns(end)}"
    group = f"GROUP BY time({chosen.bucket})"
    params = {"device": device.name}
    try:
        rows = store.query("SELECT mean(cpu_load_pct) AS cpu, mean(memory_used_pct) AS memory, "  # noqa: S608
                           "max(system_uptime_s) AS system_uptime, max(uptime_s) AS uptime, sum(reboot) AS reboots "
                           f"FROM device_health WHERE device = $device AND {window} {group} fill(none)", params)
        sensors = store.query("SELECT mean(value) AS value FROM device_sensor "  # noqa: S608
                              f"WHERE device = $device AND {window} {group}, \"kind\", \"sensor\" fill(none)", params)
        clients = store.query("SELECT mean(clients) AS value FROM wireless_clients "  # noqa: S608
                              f"WHERE device = $device AND {window} {group}, \"ssid\", \"radio\", \"index\" "
                              "fill(none)", params)
        ping = store.query("SELECT mean(\"up\") AS up FROM ping WHERE \"kind\" = 'device' "  # noqa: S608
                           f"AND \"device\" = $device AND {window}", params)
    except MetricsQueryError as exc:
        result.error = exc.message
        return result
    rows.sort(key=lambda r: int(r["time"]))
    result.cpu = [(_at(r), _number(r, "cpu")) for r in rows if r.get("cpu") is not None]
    result.memory = [(_at(r), _number(r, "memory")) for r in rows if r.get("memory") is not None]
    for r in rows:
        seconds = _number(r, "system_uptime") if r.get("system_uptime") is not None else _number(r, "uptime")
        if seconds is not None:
            result.uptime_days.append((_at(r), seconds / 86400))
    result.reboots = int(sum(_number(r, "reboots") or 0 for r in rows))
    result.temperatures = _grouped([r for r in sensors if r.get("kind") == "temperature"],
                                   lambda r: str(r.get("sensor", "")))
    result.voltages = _grouped([r for r in sensors if r.get("kind") == "voltage"], lambda r: str(r.get("sensor", "")))
    result.clients = _grouped(clients, _client_label)
    ping_up = _number(ping[0], "up", 100.0) if ping else None
    result.ping_availability_percent = round(ping_up, 3) if ping_up is not None else None
    return result


# ---------------------------------------------------------------------------------------------- NOC wall screen


NOC_TRAFFIC_WINDOW = timedelta(minutes=10)
"""The NOC screen shows each uplink's latest rate from this recent window (a few polls), or nothing if older."""


@dataclass(frozen=True)
class UplinkLoad:
    """An uplink's latest download/upload rate against its contracted capacity, e.g. Telkom 82 % down, 12 % up.

    ``down_bps``/``up_bps`` are None when no recent traffic point exists (not polled, InfluxDB down).
    """

    uplink_id: int
    name: str
    isp: str
    capacity_down_mbps: int
    capacity_up_mbps: int
    down_bps: float | None = None
    up_bps: float | None = None
    ping_status: str = "unknown"

    @staticmethod
    def _percent(bps: float | None, mbps: int) -> float | None:
        return None if bps is None or mbps <= 0 else round(100.0 * bps / (mbps * 1e6), 1)

    @property
    def down_percent(self) -> float | None:
        return self._percent(self.down_bps, self.capacity_down_mbps)

    @property
    def up_percent(self) -> float | None:
        return self._percent(self.up_bps, self.capacity_up_mbps)


@dataclass
class NocBoard:
    """What the wall screen shows: sites with trouble first, active alerts, uplink loads, and when it was read."""

    at: datetime
    sites: list[SiteState]
    alerts: list[Alert]
    alert_counts: dict[str, int]
    uplinks: list[UplinkLoad] = field(default_factory=list)
    metrics_error: str = ""


def _as_number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def uplink_loads(session: Session, actor: Actor, store: MetricsStore, *,
                 now: datetime | None = None) -> tuple[list[UplinkLoad], str]:
    """Every uplink the actor may see with its latest in (download) and out (upload) rate of the last minutes.

    Returns the loads and an error text when InfluxDB could not answer (the loads then carry no rates).
    """
    end = now or utcnow()
    rows = uplinks.list_uplinks(session, actor, limit=500).items
    error = ""
    latest: dict[tuple[str, str], dict[str, object]] = {}
    if rows:
        influxql = ("SELECT last(in_bps) AS in_bps, last(out_bps) AS out_bps FROM interface_traffic "  # noqa: S608
                    f"WHERE time > {_ns(end - NOC_TRAFFIC_WINDOW)} AND time <= {_ns(end)} GROUP BY device, interface")
        try:
            latest = {(str(r.get("device")), str(r.get("interface"))): r for r in store.query(influxql)}
        except MetricsQueryError as exc:
            error = exc.message
    loads = []
    for uplink in rows:
        port = uplinks.uplink_port(uplink)
        point = latest.get((port[0].name, port[1]), {}) if port else {}
        loads.append(UplinkLoad(uplink.id, uplink.name, uplink.isp_name, uplink.capacity_down_mbps,
                                uplink.capacity_up_mbps, _as_number(point.get("in_bps")),
                                _as_number(point.get("out_bps")),
                                str(uplink.ping_status)))
    return loads, error


def noc_board(session: Session, actor: Actor, store: MetricsStore, *, now: datetime | None = None,
              alert_limit: int = 12) -> NocBoard:
    """The NOC wall screen's figures: every site (down first), the newest active alerts and the uplink loads."""
    actor.require(Permission.INVENTORY_READ)
    at = now or utcnow()
    loads, error = uplink_loads(session, actor, store, now=at)
    alerts = list_alerts(session, actor, active=True, limit=alert_limit).items
    return NocBoard(at=at, sites=site_states(session, actor), alerts=list(alerts),
                    alert_counts=count_active_alerts(session, actor), uplinks=loads, metrics_error=error)
