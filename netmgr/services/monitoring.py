"""Monitoring, read side: alerts (list, acknowledge), device events, site status, traffic series, uplink SLA.

The collectors write alerts, events and points; pages and the API read them here. Traffic comes from the
MetricsStore (InfluxQL) passed in by the caller. Agency viewers see only their agency's devices, sites and
alerts, and no uplink.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from netmgr.errors import MetricsQueryError, NotFound, ValidationFailed
from netmgr.metrics import MetricsStore
from netmgr.models import Agency, Device, DeviceEvent, Site
from netmgr.models.alerts import ACTIVE_STATES, Alert, AlertKind, AlertState
from netmgr.models.base import utcnow
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit, budget, devices, uplinks
from netmgr.services.common import ListResult, paginate
from netmgr.services.reachability import Reachability, combine

# ---------------------------------------------------------------------------------------------- alerts


def _alerts_query(actor: Actor) -> Select[Alert]:
    stmt = select(Alert)
    if actor.agency_scope is not None:
        stmt = stmt.where(Alert.agency_id == actor.agency_scope)
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
    offset: int = 0,
    limit: int = 50,
) -> ListResult[Alert]:
    """Alerts newest first; ``active=True`` means open or acknowledged."""
    actor.require(Permission.INVENTORY_READ)
    stmt = _alerts_query(actor).order_by(Alert.opened_at.desc(), Alert.id.desc())
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
    return paginate(session, stmt, offset=offset, limit=limit)


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
                 summary=f"{alert.kind} {alert.subject_name}", after={"state": alert.state, "note": alert.ack_note})
    session.flush()
    return alert


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

    @property
    def health(self) -> SiteHealth:
        if self.down and not self.up:
            return SiteHealth.DOWN
        if self.down:
            return SiteHealth.PARTIAL
        if self.up:
            return SiteHealth.UP
        return SiteHealth.UNKNOWN


_HEALTH_ORDER = {SiteHealth.DOWN: 0, SiteHealth.PARTIAL: 1, SiteHealth.UNKNOWN: 2, SiteHealth.UP: 3}


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
    time: datetime
    in_bps: float | None
    out_bps: float | None


@dataclass
class InterfaceTraffic:
    interface: str
    points: list[TrafficPoint] = field(default_factory=list)

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
    influxql = (f"SELECT mean(in_bps) AS in_bps, mean(out_bps) AS out_bps FROM interface_traffic "  # noqa: S608
                f"WHERE {where} AND time > {_ns(start)} AND time <= {_ns(end)} "
                f"GROUP BY time({chosen.bucket}), interface fill(none)")
    try:
        rows = store.query(influxql, params)
    except MetricsQueryError as exc:
        result.error = exc.message
        return result
    series: dict[str, list[TrafficPoint]] = defaultdict(list)
    for row in rows:
        series[str(row.get("interface", ""))].append(TrafficPoint(
            datetime.fromtimestamp(int(row["time"]) / 1e9, UTC),
            None if row.get("in_bps") is None else float(row["in_bps"]),
            None if row.get("out_bps") is None else float(row["out_bps"])))
    result.interfaces = [InterfaceTraffic(name, sorted(points, key=lambda p: p.time))
                         for name, points in sorted(series.items())]
    return result


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

    def number(row: dict[str, object], key: str, scale: float = 1.0) -> float | None:
        value = row.get(key)
        return None if value is None else float(value) * scale  # type: ignore[arg-type]

    result.points = sorted((PingPoint(datetime.fromtimestamp(int(row["time"]) / 1e9, UTC),
                                      number(row, "rtt_avg_ms"), number(row, "rtt_max_ms"),
                                      number(row, "loss_percent"), number(row, "up", 100.0))
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
    before = session.scalar(select(DeviceEvent.kind).where(DeviceEvent.device_id == device_id,
                                                           DeviceEvent.at <= start)
                            .order_by(DeviceEvent.at.desc(), DeviceEvent.id.desc()).limit(1))
    rows = session.execute(select(DeviceEvent.at, DeviceEvent.kind).where(
        DeviceEvent.device_id == device_id, DeviceEvent.at > start, DeviceEvent.at < end)
        .order_by(DeviceEvent.at, DeviceEvent.id)).all()
    up, down, unknown = availability_minutes([(r[0], r[1]) for r in rows], start, end, before)
    return UplinkAvailability(uplink.id, start, end, round(up, 3), round(down, 3), round(unknown, 3))
