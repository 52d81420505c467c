"""/api/v1 monitoring: alerts (list, acknowledge), device events and traffic, site status, uplink availability.

The MetricsStore for traffic is built once per app from settings (``app.state.netmgr_metrics``), on first use.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from netmgr.api.deps import CurrentActor, Limit, Offset, SessionDep, require
from netmgr.api.paging import page_of
from netmgr.metrics import MetricsStore, make_metrics_store
from netmgr.models.alerts import Alert, AlertKind, AlertState
from netmgr.models.base import utcnow
from netmgr.schemas.common import Page, UtcInstant
from netmgr.schemas.monitoring import (
    AlertAcknowledge,
    AlertRead,
    DeviceEventRead,
    DeviceHealthRead,
    DeviceTrafficRead,
    HealthPointRead,
    InterfaceTrafficRead,
    SiteStateRead,
    TrafficPointRead,
    UplinkAvailabilityRead,
)
from netmgr.security.permissions import Actor, Permission
from netmgr.services import monitoring
from netmgr.services.monitoring import DeviceHealthHistory, DeviceTraffic, HealthSeries, SiteHealth, SiteState

router = APIRouter(tags=["monitoring"])
_store_lock = threading.Lock()


def get_metrics_store(request: Request) -> MetricsStore:
    """The app's metrics store (for reads), built from settings the first time a page or route needs it."""
    store: MetricsStore | None = getattr(request.app.state, "netmgr_metrics", None)
    if store is None:
        with _store_lock:
            store = getattr(request.app.state, "netmgr_metrics", None)
            if store is None:
                store = make_metrics_store(request.app.state.netmgr.settings)
                request.app.state.netmgr_metrics = store
    return store


MetricsDep = Annotated[MetricsStore, Depends(get_metrics_store)]
AlertAcknowledger = Annotated[Actor, require(Permission.ALERTS_ACK)]


def alert_read(alert: Alert) -> AlertRead:
    return AlertRead.model_validate(alert)


def site_state_read(state: SiteState) -> SiteStateRead:
    return SiteStateRead(site_id=state.site_id, name=state.name, kind=state.kind, agency=state.agency,
                         latitude=state.latitude, longitude=state.longitude, health=state.health.value, up=state.up,
                         down=state.down, unknown=state.unknown, alerts=state.alerts)


def traffic_read(traffic: DeviceTraffic) -> DeviceTrafficRead:
    return DeviceTrafficRead(
        device_id=traffic.device_id, device=traffic.device, range=traffic.range.key, bucket_s=traffic.range.bucket_s,
        start=traffic.start, end=traffic.end, error=traffic.error,
        interfaces=[InterfaceTrafficRead(interface=i.interface, uplink=i.uplink, points=[
            TrafficPointRead(time=p.time, in_bps=p.in_bps, out_bps=p.out_bps, errors=p.errors, discards=p.discards)
            for p in i.points]) for i in traffic.interfaces])


def _series(points: HealthSeries) -> list[HealthPointRead]:
    return [HealthPointRead(time=t, value=v) for t, v in points]


def health_read(h: DeviceHealthHistory) -> DeviceHealthRead:
    return DeviceHealthRead(
        device_id=h.device_id, device=h.device, range=h.range.key, bucket_s=h.range.bucket_s, start=h.start,
        end=h.end, cpu_load_pct=_series(h.cpu), memory_used_pct=_series(h.memory), uptime_days=_series(h.uptime_days),
        temperatures_c={k: _series(v) for k, v in h.temperatures.items()},
        voltages_v={k: _series(v) for k, v in h.voltages.items()},
        wireless_clients={k: _series(v) for k, v in h.clients.items()}, reboots=h.reboots,
        ping_availability_percent=h.ping_availability_percent,
        snmp_availability_percent=h.snmp_availability_percent, error=h.error)


@router.get("/alerts", response_model=Page[AlertRead])
def list_alerts(
    session: SessionDep,
    actor: CurrentActor,
    state: AlertState | None = None,
    active: bool | None = Query(None, description="true: open or acknowledged; false: resolved"),
    kind: AlertKind | None = None,
    device_id: int | None = None,
    site_id: int | None = None,
    agency_id: int | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[AlertRead]:
    result = monitoring.list_alerts(session, actor, state=state, active=active, kind=kind, device_id=device_id,
                                    site_id=site_id, agency_id=agency_id, offset=offset, limit=limit)
    return page_of(result, alert_read)


@router.get("/alerts/{alert_id}", response_model=AlertRead)
def get_alert(alert_id: int, session: SessionDep, actor: CurrentActor) -> AlertRead:
    return alert_read(monitoring.get_alert(session, actor, alert_id))


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertRead)
def acknowledge_alert(alert_id: int, session: SessionDep, actor: AlertAcknowledger,
                      data: AlertAcknowledge | None = None) -> AlertRead:
    note = data.note if data is not None else ""
    return alert_read(monitoring.acknowledge_alert(session, actor, alert_id, note=note))


@router.get("/devices/{device_id}/events", response_model=Page[DeviceEventRead])
def list_device_events(device_id: int, session: SessionDep, actor: CurrentActor, offset: Offset = 0,
                       limit: Limit = 50) -> Page[DeviceEventRead]:
    result = monitoring.list_device_events(session, actor, device_id, offset=offset, limit=limit)
    return page_of(result, DeviceEventRead.model_validate)


@router.get("/devices/{device_id}/traffic", response_model=DeviceTrafficRead)
def device_traffic(device_id: int, session: SessionDep, actor: CurrentActor, store: MetricsDep,
                   range: str = Query("24h", pattern="^(6h|24h|7d)$", description="6h, 24h or 7d"),  # noqa: A002
                   interface: str | None = None) -> DeviceTrafficRead:
    """Mean in/out bps per interface in buckets (2 min, 10 min, 1 h); ``error`` is set if InfluxDB is away."""
    return traffic_read(monitoring.device_traffic(session, actor, store, device_id, range_key=range,
                                                  interface=interface))


@router.get("/devices/{device_id}/health", response_model=DeviceHealthRead)
def device_health(device_id: int, session: SessionDep, actor: CurrentActor, store: MetricsDep,
                  range: str = Query("24h", pattern="^(6h|24h|7d)$", description="6h, 24h or 7d"),  # noqa: A002
                  ) -> DeviceHealthRead:
    """CPU, memory, uptime, temperatures, voltages and wireless clients per SSID in buckets, with the device's
    availability (ping and SNMP) and reboots in the range; ``error`` is set if InfluxDB is away."""
    return health_read(monitoring.device_health_history(session, actor, store, device_id, range_key=range))


@router.get("/monitoring/sites", response_model=list[SiteStateRead])
def site_status(session: SessionDep, actor: CurrentActor, health: SiteHealth | None = None) -> list[SiteStateRead]:
    return [site_state_read(s) for s in monitoring.site_states(session, actor, health=health)]


@router.get("/uplinks/{uplink_id}/availability", response_model=UplinkAvailabilityRead)
def uplink_availability(uplink_id: int, session: SessionDep, actor: CurrentActor, start: UtcInstant | None = None,
                        end: UtcInstant | None = None) -> UplinkAvailabilityRead:
    """Minutes the uplink was up/down/unknown in [start, end) (default: the last 30 days), and the %.

    Measured by ping to its probe address when it has ping rounds in the period, else by its router.
    """
    end = end or utcnow()
    start = start or end - timedelta(days=30)
    a = monitoring.uplink_availability(session, actor, uplink_id, start=start, end=end)
    return UplinkAvailabilityRead(uplink_id=a.uplink_id, start=a.start, end=a.end, minutes_up=a.minutes_up,
                                  minutes_down=a.minutes_down, minutes_unknown=a.minutes_unknown,
                                  percent=a.percent, source=a.source)
