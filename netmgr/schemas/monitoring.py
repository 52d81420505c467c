"""API shapes of monitoring: alerts, device events, site status, traffic series and uplink availability."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from netmgr.models.alerts import AlertKind, AlertSeverity, AlertState, SubjectType


class _Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AlertRead(_Orm):
    id: int
    kind: AlertKind
    severity: AlertSeverity
    state: AlertState
    subject_type: SubjectType
    subject_id: int
    subject_name: str
    agency_id: int | None
    site_id: int | None
    device_id: int | None
    message: str
    reason: list[dict[str, Any]] | None = Field(
        None, description="the checks that failed and their evidence when the alert opened, e.g. "
        '[{"check": "ping", "address": "10.2.3.4", "sent": 3, "received": 0, "at": "2026-12-07T06:02:00+00:00"}]')
    value: float | None
    started_at: datetime
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_note: str
    resolved_at: datetime | None


class AlertAcknowledge(BaseModel):
    note: str = Field("", max_length=2000, description="what is being done about it")


class DeviceEventRead(_Orm):
    id: int
    device_id: int
    at: datetime
    kind: str
    detail: str
    latency_ms: float | None


class SiteStateRead(BaseModel):
    site_id: int
    name: str
    kind: str
    agency: str | None
    latitude: float | None
    longitude: float | None
    health: str
    up: int
    down: int
    unknown: int
    alerts: int


class TrafficPointRead(BaseModel):
    time: datetime
    in_bps: float | None
    out_bps: float | None
    errors: float | None = Field(None, description="in + out errors counted in the bucket")
    discards: float | None = Field(None, description="in + out discards counted in the bucket")


class InterfaceTrafficRead(BaseModel):
    interface: str
    uplink: bool = Field(False, description="the interface carries an uplink (listed first)")
    points: list[TrafficPointRead]


class HealthPointRead(BaseModel):
    time: datetime
    value: float | None


class DeviceHealthRead(BaseModel):
    """A device's health over a range: series per kind, availability percentages and reboots."""

    device_id: int
    device: str
    range: str
    bucket_s: int
    start: datetime
    end: datetime
    cpu_load_pct: list[HealthPointRead]
    memory_used_pct: list[HealthPointRead]
    uptime_days: list[HealthPointRead]
    temperatures_c: dict[str, list[HealthPointRead]]
    voltages_v: dict[str, list[HealthPointRead]]
    wireless_clients: dict[str, list[HealthPointRead]] = Field(description="per SSID and radio label")
    reboots: int
    ping_availability_percent: float | None
    snmp_availability_percent: float | None
    error: str = Field("", description="set when InfluxDB could not answer; the series are then empty")


class DeviceTrafficRead(BaseModel):
    device_id: int
    device: str
    range: str
    bucket_s: int
    start: datetime
    end: datetime
    interfaces: list[InterfaceTrafficRead]
    error: str = Field("", description="set when InfluxDB could not answer; the series are then empty")


class UplinkAvailabilityRead(BaseModel):
    uplink_id: int
    start: datetime
    end: datetime
    minutes_up: float
    minutes_down: float
    minutes_unknown: float
    percent: float | None
    source: str = "router"
    """``ping`` (pings to the uplink's far end) or ``router`` (the router's up/down events)."""
