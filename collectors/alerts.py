"""Alert rules: device down (unreachable), SNMP silent (answers ping only), site down, uplink saturated,
interface errors rising, polling late with poll workers missing — damped, then notified.

Inventory status + device events (from collectors.availability) and InfluxDB points → one ``Observation``
per rule and subject → ``observe`` (hold-down and flap damping, state kept in ``AlertCondition``) →
``Alert`` rows opened/resolved → notifications (e-mail, Telegram) logged in ``Notification``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from collectors.notify import Delivery, Message, Notifier
from collectors.notify import messages as texts
from collectors.notify.transports import notifier_for
from collectors.scheduler import pollable_device_ids
from collectors.workers import poll_status
from netmgr import localtime
from netmgr.errors import MetricsQueryError, SecretError
from netmgr.metrics import MetricsStore
from netmgr.models import Device, DeviceEvent, Interface, Site, Uplink
from netmgr.models.alerts import (
    ACTIVE_STATES,
    Alert,
    AlertCondition,
    AlertKind,
    AlertSeverity,
    AlertState,
    Notification,
    SubjectType,
)
from netmgr.models.base import utcnow
from netmgr.models.enums import DeviceStatus
from netmgr.services import alert_reasons as reasons
from netmgr.services import alert_transports, edges
from netmgr.services.alert_reasons import Reason
from netmgr.services.reachability import Reachability, device_reachability
from netmgr.services.uplinks import uplink_port
from netmgr.settings import AlertSettings, Settings

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------- damping


@dataclass(frozen=True)
class DampingPolicy:
    """How long a state must hold before it counts, and what counts as flapping.

    ``raise_after_s``: the problem must be observed this long before the alert opens (hold-down);
    ``clear_after_s``: it must be gone this long before the alert resolves;
    ``flap_threshold`` changes within ``flap_window_s`` make the subject flapping, which ends once one
    state held for ``flap_clear_s``.
    """

    raise_after_s: float
    clear_after_s: float
    flap_window_s: float
    flap_threshold: int
    flap_clear_s: float

    @classmethod
    def from_settings(cls, settings: AlertSettings, *, raise_after_s: float | None = None) -> DampingPolicy:
        return cls(raise_after_s=settings.hold_down_s if raise_after_s is None else raise_after_s,
                   clear_after_s=settings.clear_hold_s, flap_window_s=settings.flap_window_s,
                   flap_threshold=settings.flap_threshold, flap_clear_s=settings.flap_clear_s)


class Transition(StrEnum):
    RAISE = "raise"
    CLEAR = "clear"
    FLAP_START = "flap_start"
    FLAP_END = "flap_end"


@dataclass
class Damped:
    """The damped state of one condition: what was last observed (``raw``) and what counts (``active``)."""

    raw: bool
    raw_since: datetime
    active: bool = False
    flapping: bool = False
    changes: list[datetime] = field(default_factory=list)


def observe(state: Damped, problem: bool, at: datetime, policy: DampingPolicy) -> list[Transition]:
    """Feed one observation (``problem`` seen at ``at``, in time order) and return what changed.

    A new raw state must hold for the hold-down before the alert opens or resolves. When the raw state
    changed ``flap_threshold`` times inside the flap window, one FLAP_START is returned and nothing else
    until the state held ``flap_clear_s``: then FLAP_END, followed by RAISE/CLEAR if the settled state
    differs from the last one that counted.
    """
    out: list[Transition] = []
    if problem != state.raw:
        state.raw = problem
        state.raw_since = at
        state.changes.append(at)
    window = timedelta(seconds=policy.flap_window_s)
    state.changes = [c for c in state.changes if at - c <= window]
    if not state.flapping and len(state.changes) >= policy.flap_threshold:
        state.flapping = True
        out.append(Transition.FLAP_START)
    if state.flapping:
        if at - state.raw_since < timedelta(seconds=policy.flap_clear_s):
            return out
        state.flapping = False
        state.changes = []
        out.append(Transition.FLAP_END)
    if state.raw != state.active:
        hold = policy.raise_after_s if state.raw else policy.clear_after_s
        if at - state.raw_since >= timedelta(seconds=hold):
            state.active = state.raw
            out.append(Transition.RAISE if state.active else Transition.CLEAR)
    return out


def _load(cond: AlertCondition) -> Damped:
    return Damped(raw=cond.raw, raw_since=cond.raw_since, active=cond.active, flapping=cond.flapping,
                  changes=[localtime.as_utc(datetime.fromisoformat(c)) for c in cond.changes or []])


def _store(cond: AlertCondition, state: Damped, now: datetime) -> None:
    cond.raw, cond.raw_since, cond.active, cond.flapping = state.raw, state.raw_since, state.active, state.flapping
    cond.changes = [c.isoformat() for c in state.changes]
    cond.evaluated_at = now


# ---------------------------------------------------------------------------------------------- observations


@dataclass
class Observation:
    """What one rule saw about one subject in this round.

    ``history`` holds earlier observations since the last round, in time order (device events);
    ``facts`` feed the message (``name``, ``site``, per-kind values).
    """

    kind: AlertKind
    subject_type: SubjectType
    subject_id: int
    name: str
    problem: bool
    severity: AlertSeverity
    policy: DampingPolicy
    agency_id: int | None = None
    site_id: int | None = None
    device_id: int | None = None
    value: float | None = None
    history: list[tuple[datetime, bool]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    reason: Reason = field(default_factory=list)
    """The checks that failed and their evidence (``netmgr.services.alert_reasons``), stored when the alert opens."""

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.kind.value, self.subject_type.value, self.subject_id)


def _device_reason(session: Session, device: Device, kind: AlertKind, ping_count: int) -> Reason:
    """What failed for a device: its last ping round (when pinged) and the SNMP poller's last error."""
    out: Reason = []
    if device.ping_checked_at is not None and device.ping_loss_percent is not None:
        received = round(ping_count * (1 - device.ping_loss_percent / 100))
        out.append(reasons.ping_check(address=device.mgmt_address, sent=ping_count, received=received,
                                      at=device.ping_checked_at))
    if device.status == DeviceStatus.DOWN:
        event = session.scalar(select(DeviceEvent).where(
            DeviceEvent.device_id == device.id, DeviceEvent.kind == DeviceStatus.DOWN.value)
            .order_by(DeviceEvent.at.desc(), DeviceEvent.id.desc()).limit(1))
        out.append(reasons.snmp_check(error=event.detail if event else "",
                                      at=event.at if event else device.status_changed_at))
    if kind == AlertKind.SNMP_SILENT:
        out.append(reasons.check("snmp_silent"))
    return out


def device_observations(session: Session, conditions: Mapping[tuple[str, str, int], AlertCondition],
                        settings: AlertSettings, now: datetime, *, ping_count: int = 3) -> list[Observation]:
    """Per device, ``device_down`` (unreachable) and ``snmp_silent`` (answers ping, not SNMP), kept apart.

    ``device_down`` replays the SNMP up/down events since the last round, then the current reachability; while
    the device answers ping an SNMP ``down`` is ``snmp_silent`` instead, with its own alert and words.
    """
    policy = DampingPolicy.from_settings(settings)
    since = now - timedelta(seconds=settings.flap_window_s)
    events: dict[int, list[DeviceEvent]] = defaultdict(list)
    for event in session.scalars(select(DeviceEvent).where(DeviceEvent.at > since).order_by(DeviceEvent.at)):
        events[event.device_id].append(event)
    out = []
    for device in session.scalars(select(Device).options(selectinload(Device.site)).order_by(Device.id)):
        reach = device_reachability(device)
        pinged = device.ping_status == DeviceStatus.UP
        facts = {"name": device.name, "site": device.site.name}
        for kind, problem in ((AlertKind.DEVICE_DOWN, reach == Reachability.UNREACHABLE),
                              (AlertKind.SNMP_SILENT, reach == Reachability.SNMP_SILENT)):
            key = (kind.value, SubjectType.DEVICE.value, device.id)
            cond = conditions.get(key)
            last = cond.evaluated_at if cond is not None and cond.evaluated_at else None
            history = [(e.at, e.kind == DeviceStatus.DOWN.value) for e in events.get(device.id, [])
                       if (last is None or e.at > last) and e.at <= now]
            if (kind == AlertKind.DEVICE_DOWN) == pinged:
                history = []  # SNMP events say nothing about reachability while ping answers, and vice versa
            if cond is None and not problem and not history:
                continue
            severity = AlertSeverity.CRITICAL if kind == AlertKind.DEVICE_DOWN else AlertSeverity.WARNING
            out.append(Observation(
                kind, SubjectType.DEVICE, device.id, device.name, problem, severity, policy,
                agency_id=device.site.agency_id, site_id=device.site_id, device_id=device.id, history=history,
                facts=facts, reason=_device_reason(session, device, kind, ping_count) if problem else []))
    return out


def _names(devices: Sequence[Device], most: int = 8) -> str:
    names = sorted(d.name for d in devices)
    return ", ".join(names[:most]) + (f" (+{len(names) - most})" if len(names) > most else "")


def site_observations(session: Session, conditions: Mapping[tuple[str, str, int], AlertCondition],
                      settings: AlertSettings, now: datetime) -> list[Observation]:
    """``site_down`` per site with devices: every device of the site is down."""
    policy = DampingPolicy.from_settings(settings)
    out = []
    for site in session.scalars(select(Site).options(selectinload(Site.devices)).order_by(Site.id)):
        if not site.devices:
            continue
        down = all(device_reachability(d) == Reachability.UNREACHABLE for d in site.devices)
        key = (AlertKind.SITE_DOWN.value, SubjectType.SITE.value, site.id)
        cond = conditions.get(key)
        if cond is None and not down:
            continue
        history: list[tuple[datetime, bool]] = []
        changed = [d.status_changed_at for d in site.devices if d.status_changed_at is not None]
        if down and changed:  # the site went down when its last device did
            history.append((min(max(changed), now), True))
        out.append(Observation(
            AlertKind.SITE_DOWN, SubjectType.SITE, site.id, site.name, down, AlertSeverity.CRITICAL, policy,
            agency_id=site.agency_id, site_id=site.id, history=history,
            facts={"name": site.name, "site": "", "devices": len(site.devices)},
            reason=[reasons.check("site", devices=len(site.devices), names=_names(site.devices))] if down else []))
    return out


def edge_link_observations(session: Session, conditions: Mapping[tuple[str, str, int], AlertCondition],
                           settings: Settings, now: datetime) -> list[Observation]:
    """``edge_link_down`` per site with an edge collector that has been silent too long (one alert for the
    site instead of one per device: the edge keeps polling them and forwards when the link returns)."""
    policy = DampingPolicy.from_settings(settings.alerts, raise_after_s=0.0)
    out = []
    for link in edges.refresh_links(session, link_down_after_s=settings.edge.link_down_after_s, now=now):
        key = (AlertKind.EDGE_LINK_DOWN.value, SubjectType.SITE.value, link.site_id)
        cond = conditions.get(key)
        if cond is None and not link.down:
            continue
        history = [(link.last_seen_at, True)] if link.down and link.last_seen_at is not None else []
        site = session.get(Site, link.site_id)
        out.append(Observation(
            AlertKind.EDGE_LINK_DOWN, SubjectType.SITE, link.site_id, link.site, link.down, AlertSeverity.CRITICAL,
            policy, agency_id=site.agency_id if site else None, site_id=link.site_id, history=history,
            facts={"name": link.site, "site": "", "edge": link.name}))
    return out


def polling_observations(session: Session, conditions: Mapping[tuple[str, str, int], AlertCondition],
                         settings: Settings, now: datetime) -> list[Observation]:
    """``poll_late`` for the installation: the latest poll cycle was late or missed devices while poll workers
    are missing (some stopped beating, or none is alive). A cycle late with every worker alive is a capacity
    question (see docs/deploy.md), not this alert."""
    status = poll_status(session, pollable_device_ids(session), settings=settings.snmp, now=now)
    problem = status.late and (bool(status.missing) or not status.alive)
    key = (AlertKind.POLL_LATE.value, SubjectType.INSTALLATION.value, 0)
    if key not in conditions and not problem:
        return []
    return [Observation(
        AlertKind.POLL_LATE, SubjectType.INSTALLATION, 0, "SNMP polling", problem, AlertSeverity.WARNING,
        DampingPolicy.from_settings(settings.alerts), value=float(status.missed),
        facts={"name": "SNMP polling", "site": "", "missed": status.missed, "devices": status.devices,
               "lateness_s": status.lateness_s, "alive": len(status.alive),
               "missing": [w.holder for w in status.missing]})]


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000


def _between(start: datetime, end: datetime) -> str:
    """An InfluxQL time condition for (start, end], as integer nanoseconds (nothing user-supplied)."""
    return f"time > {_ns(start)} AND time <= {_ns(end)}"


def saturation(points: Sequence[Mapping[str, Any]], *, uplink: Uplink, start: datetime, end: datetime,
               threshold_percent: float, poll_interval_s: float) -> tuple[bool, str, float]:
    """Whether every point in (start, end] is above the threshold in one direction, covering the window.

    Returns (saturated, direction ``down``/``up``, mean utilisation % in that direction — or the larger
    direction's mean when not saturated).
    """
    if not points:
        return False, "down", 0.0
    slack = timedelta(seconds=poll_interval_s * 1.5)
    first = datetime.fromtimestamp(points[0]["time"] / 1e9, UTC)
    last = datetime.fromtimestamp(points[-1]["time"] / 1e9, UTC)
    covered = first - start <= slack and end - last <= slack * 2
    capacity = {"down": uplink.capacity_down_mbps * 1e6, "up": uplink.capacity_up_mbps * 1e6}
    field_of = {"down": "in_bps", "up": "out_bps"}
    best = ("down", 0.0)
    for direction in ("down", "up"):
        if capacity[direction] <= 0:
            continue
        values = [float(p[field_of[direction]]) for p in points if p.get(field_of[direction]) is not None]
        if not values:
            continue
        percents = [100.0 * v / capacity[direction] for v in values]
        mean = sum(percents) / len(percents)
        if covered and len(values) == len(points) and min(percents) >= threshold_percent:
            return True, direction, mean
        if mean > best[1]:
            best = (direction, mean)
    return False, best[0], best[1]


def uplink_observations(session: Session, store: MetricsStore, conditions: Mapping[tuple[str, str, int],
                        AlertCondition], settings: Settings, now: datetime) -> list[Observation]:
    """``uplink_saturated``: above the threshold % of contracted capacity for the whole last N minutes."""
    rules = settings.alerts
    # The N-minute window already is the hold-down for raising; clearing still waits clear_hold_s.
    policy = DampingPolicy.from_settings(rules, raise_after_s=0)
    start = now - timedelta(minutes=rules.uplink_saturation_minutes)
    out = []
    stmt = select(Uplink).options(selectinload(Uplink.device).selectinload(Device.site),
                                  selectinload(Uplink.interface).selectinload(Interface.device)
                                  .selectinload(Device.site)).order_by(Uplink.id)
    for uplink in session.scalars(stmt):
        target = uplink_port(uplink)
        if target is None:
            continue
        device, interface = target
        points = store.query(
            "SELECT in_bps, out_bps FROM interface_traffic WHERE device = $device AND interface = $interface "  # noqa: S608
            "AND " + _between(start, now), {"device": device.name, "interface": interface})
        points.sort(key=lambda p: p["time"])
        saturated, direction, percent = saturation(
            points, uplink=uplink, start=start, end=now, threshold_percent=rules.uplink_saturation_percent,
            poll_interval_s=settings.snmp.poll_interval_s)
        key = (AlertKind.UPLINK_SATURATED.value, SubjectType.UPLINK.value, uplink.id)
        if key not in conditions and not saturated:
            continue
        capacity = uplink.capacity_down_mbps if direction == "down" else uplink.capacity_up_mbps
        out.append(Observation(
            AlertKind.UPLINK_SATURATED, SubjectType.UPLINK, uplink.id, uplink.name, saturated, AlertSeverity.WARNING,
            policy, agency_id=None, site_id=device.site_id, device_id=device.id, value=round(percent, 1),
            history=[(start, True)] if saturated else [],
            facts={"name": uplink.name, "site": uplink.isp_name, "direction": direction, "percent": percent,
                   "capacity_mbps": capacity, "minutes": rules.uplink_saturation_minutes},
            reason=[reasons.check("traffic", direction=direction, percent=round(percent, 1), capacity=capacity,
                                  minutes=rules.uplink_saturation_minutes)]))
    return out


def _error_sums(store: MetricsStore, start: datetime, end: datetime) -> dict[tuple[str, str], int]:
    influxql = ("SELECT sum(in_errors) AS in_errors, sum(out_errors) AS out_errors "  # noqa: S608 - no user input
                "FROM interface_traffic WHERE " + _between(start, end) + " GROUP BY device, interface")
    rows = store.query(influxql)
    return {(str(r["device"]), str(r["interface"])): int((r.get("in_errors") or 0) + (r.get("out_errors") or 0))
            for r in rows}


def interface_error_observations(session: Session, store: MetricsStore, conditions: Mapping[tuple[str, str, int],
                                 AlertCondition], settings: AlertSettings, now: datetime) -> list[Observation]:
    """``interface_errors``: at least N errors (in + out) in the window, and more than the window before."""
    policy = DampingPolicy.from_settings(settings, raise_after_s=0)
    window = timedelta(minutes=settings.interface_errors_window_minutes)
    current = _error_sums(store, now - window, now)
    previous = _error_sums(store, now - 2 * window, now - window)
    active_ids = {k[2] for k in conditions if k[0] == AlertKind.INTERFACE_ERRORS.value}
    out = []
    stmt = (select(Interface).options(selectinload(Interface.device).selectinload(Device.site))
            .where(Interface.monitored.is_(True)).order_by(Interface.id))
    for interface in session.scalars(stmt):
        pair = (interface.device.name, interface.name)
        errors, before = current.get(pair, 0), previous.get(pair, 0)
        rising = errors >= settings.interface_errors_min and errors > before
        if not rising and interface.id not in active_ids:
            continue
        device = interface.device
        out.append(Observation(
            AlertKind.INTERFACE_ERRORS, SubjectType.INTERFACE, interface.id, f"{device.name} {interface.name}",
            rising, AlertSeverity.WARNING, policy, agency_id=device.site.agency_id, site_id=device.site_id,
            device_id=device.id, value=float(errors),
            facts={"name": f"{interface.name} di {device.name}", "site": device.site.name, "errors": errors,
                   "previous": before, "minutes": settings.interface_errors_window_minutes},
            reason=[reasons.check("errors", errors=errors, previous=before,
                                  minutes=settings.interface_errors_window_minutes)]))
    return out


# ---------------------------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class AlertChange:
    """An alert opened or resolved in this round, with the message to send about it."""

    alert_id: int
    kind: AlertKind
    event: str
    message: Message
    site_id: int | None


@dataclass
class EvaluationResult:
    """What one round did: subjects evaluated, alerts opened and resolved, notifications sent and failed."""

    evaluated: int = 0
    opened: list[AlertChange] = field(default_factory=list)
    resolved: list[AlertChange] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    suppressed: int = 0
    metrics_error: str = ""


def _active_alert(session: Session, kind: AlertKind, obs: Observation) -> Alert | None:
    return session.scalar(select(Alert).where(
        Alert.kind == kind, Alert.subject_type == obs.subject_type, Alert.subject_id == obs.subject_id,
        Alert.state.in_(ACTIVE_STATES)).order_by(Alert.id.desc()).limit(1))


def _open(session: Session, kind: AlertKind, obs: Observation, state: Damped, now: datetime,
          timezone: str) -> AlertChange | None:
    if _active_alert(session, kind, obs) is not None:
        return None
    since = state.raw_since if kind != AlertKind.FLAPPING else (state.changes[0] if state.changes else now)
    facts = {**obs.facts, "since": since}
    reason = obs.reason
    if kind == AlertKind.FLAPPING:
        facts.update(changes=len(state.changes), minutes=round((now - since).total_seconds() / 60) or 1)
        reason = [reasons.check("flapping", changes=facts["changes"], minutes=facts["minutes"])]
    message = texts.opened(kind, facts, timezone)
    alert = Alert(kind=kind, severity=AlertSeverity.WARNING if kind == AlertKind.FLAPPING else obs.severity,
                  state=AlertState.OPEN, subject_type=obs.subject_type, subject_id=obs.subject_id,
                  subject_name=obs.name, agency_id=obs.agency_id, site_id=obs.site_id, device_id=obs.device_id,
                  message=message.text, value=obs.value, started_at=since, opened_at=now, ack_note="",
                  reason=reason or None)
    session.add(alert)
    session.flush()
    log.info("alert %s opened: %s", alert.id, message.text)
    return AlertChange(alert.id, kind, "opened", texts.with_reason(kind, message, reason, timezone), obs.site_id)


def _resolve(session: Session, kind: AlertKind, obs: Observation, now: datetime, timezone: str) -> AlertChange | None:
    alert = _active_alert(session, kind, obs)
    if alert is None:
        return None
    alert.state = AlertState.RESOLVED
    alert.resolved_at = now
    message = texts.resolved(kind, {**obs.facts, "since": alert.started_at, "at": now}, timezone)
    log.info("alert %s resolved: %s", alert.id, message.text)
    return AlertChange(alert.id, kind, "resolved", message, obs.site_id)


def apply_observation(session: Session, obs: Observation, cond: AlertCondition | None, now: datetime,
                      timezone: str) -> list[AlertChange]:
    """Run ``obs`` through its condition's damping and open/resolve alerts accordingly."""
    if cond is None:
        first = obs.history[0][0] if obs.history else now
        cond = AlertCondition(kind=obs.kind, subject_type=obs.subject_type, subject_id=obs.subject_id, raw=False,
                              raw_since=first, active=False, flapping=False, changes=[])
        session.add(cond)
    state = _load(cond)
    transitions: list[Transition] = []
    for at, problem in [*obs.history, (now, obs.problem)]:
        transitions.extend(observe(state, problem, max(at, state.raw_since), obs.policy))
    _store(cond, state, now)
    changes: list[AlertChange] = []
    for transition in transitions:
        change: AlertChange | None
        if transition == Transition.RAISE:
            change = _open(session, obs.kind, obs, state, now, timezone)
        elif transition == Transition.CLEAR:
            change = _resolve(session, obs.kind, obs, now, timezone)
        elif transition == Transition.FLAP_START:
            change = _open(session, AlertKind.FLAPPING, obs, state, now, timezone)
        else:
            change = _resolve(session, AlertKind.FLAPPING, obs, now, timezone)
        if change is not None:
            changes.append(change)
    return changes


def _site_down_now(session: Session) -> set[int]:
    return {sid for sid in session.scalars(select(Alert.site_id).where(
        Alert.kind == AlertKind.SITE_DOWN, Alert.state.in_(ACTIVE_STATES))) if sid is not None}


def _routed(session: Session, change: AlertChange, now: datetime, timezone: str,
            built: dict[int, Notifier]) -> list[Notifier]:
    """The notifiers of the transports set up in the UI whose routes take this alert (built once per round)."""
    alert = session.get(Alert, change.alert_id)
    if alert is None:
        return []
    out: list[Notifier] = []
    for transport in alert_transports.transports_for(session, site_id=alert.site_id, agency_id=alert.agency_id,
                                                     severity=alert.severity, now=now, tz=timezone):
        if transport.id not in built:
            try:
                built[transport.id] = notifier_for(alert_transports.spec(session, transport))
            except SecretError as exc:
                log.error("alert transport %s skipped: %s", transport.name, exc.message)
                continue
        out.append(built[transport.id])
    return out


def _notify(session: Session, changes: Iterable[AlertChange], notifiers: Sequence[Notifier],
            result: EvaluationResult, *, now: datetime, timezone: str) -> None:
    """Send every change, except a device's when its whole site is down, through the transports set up in the
    UI that its routes choose; while none is set up, through ``notifiers`` (the NETMGR_NOTIFY__ ones) instead."""
    sites_down = _site_down_now(session)
    stored = alert_transports.any_transport(session)
    built: dict[int, Notifier] = {}
    for change in changes:
        if change.kind == AlertKind.DEVICE_DOWN and change.site_id in sites_down:
            result.suppressed += 1  # the one site alert speaks for all its devices
            continue
        for notifier in (_routed(session, change, now, timezone, built) if stored else notifiers):
            deliveries: list[Delivery] = notifier.send(change.message)
            for d in deliveries:
                session.add(Notification(alert_id=change.alert_id, event=change.event, channel=d.channel,
                                         recipient=d.recipient, ok=d.ok, error=d.error, sent_at=utcnow()))
                if d.ok:
                    result.sent += 1
                else:
                    result.failed += 1


def evaluate_alerts(session_factory: sessionmaker[Session], *, store: MetricsStore | None,
                    notifiers: Sequence[Notifier], settings: Settings,
                    now: datetime | None = None) -> EvaluationResult:
    """One round of every rule: update conditions, open/resolve alerts, then send notifications.

    Metrics rules (uplinks, interface errors) are skipped for the round when InfluxDB cannot answer;
    their conditions keep their state. Notifications go out after the alert changes are committed.
    """
    moment = now or utcnow()
    result = EvaluationResult()
    timezone = settings.timezone
    with session_factory() as session:
        conditions = {(str(c.kind), str(c.subject_type), c.subject_id): c
                      for c in session.scalars(select(AlertCondition))}
        observations = device_observations(session, conditions, settings.alerts, moment,
                                           ping_count=settings.ping.count)
        observations += site_observations(session, conditions, settings.alerts, moment)
        observations += edge_link_observations(session, conditions, settings, moment)
        observations += polling_observations(session, conditions, settings, moment)
        if store is not None:
            try:
                observations += uplink_observations(session, store, conditions, settings, moment)
                observations += interface_error_observations(session, store, conditions, settings.alerts, moment)
            except MetricsQueryError as exc:
                result.metrics_error = exc.message
                log.warning("metrics alert rules skipped this round: %s", exc.message)
        changes: list[AlertChange] = []
        for obs in observations:
            changes.extend(apply_observation(session, obs, conditions.get(obs.key), moment, timezone))
        result.evaluated = len(observations)
        result.opened = [c for c in changes if c.event == "opened"]
        result.resolved = [c for c in changes if c.event == "resolved"]
        session.commit()
        if changes:
            _notify(session, changes, notifiers, result, now=moment, timezone=timezone)
            session.commit()
    return result
