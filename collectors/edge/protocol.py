"""What an edge collector and the centre send each other (JSON over HTTPS, the edge's bearer token).

``GET /api/v1/edge/inventory`` → :class:`Inventory`; ``POST /api/v1/edge/usage`` ← :class:`UsageReport`;
``POST /api/v1/edge/status`` ← :class:`StatusReport`; ``POST /api/v1/edge/metrics`` ← line protocol.
Usage travels as each 5-minute bucket's *total so far*, so a report sent twice, or late, or out of order
changes nothing: the centre keeps the bucket's newest total.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from netmgr.schemas.common import UtcInstant

PROTOCOL_VERSION = 1
EDGE_PREFIX = "/api/v1/edge"
MAX_REPORT_ITEMS = 50_000
"""Items (buckets, statuses, events) in one report; the edge splits larger backlogs."""


class AgencyItem(BaseModel):
    id: int
    code: str
    name: str


class SiteItem(BaseModel):
    id: int
    name: str
    kind: str
    agency_id: int | None = None


class DeviceItem(BaseModel):
    """A device the edge polls, with the SNMP secrets it needs (sent only to its own edge, over TLS)."""

    id: int
    name: str
    role: str
    platform: str
    mgmt_address: str
    snmp_port: int
    snmp_version: str
    snmp_community: str | None = None
    snmp_v3_user: str | None = None
    snmp_v3_auth_protocol: str | None = None
    snmp_v3_auth_key: str | None = None
    snmp_v3_priv_protocol: str | None = None
    snmp_v3_priv_key: str | None = None
    snmp_context: str | None = None
    vendor: str = ""
    status: str = "unknown"


class InterfaceItem(BaseModel):
    id: int
    device_id: int
    if_index: int | None = None
    name: str
    speed_mbps: int | None = None
    monitored: bool = True
    agency_id: int | None = None
    oper_status: str = "unknown"


class UplinkItem(BaseModel):
    id: int
    name: str
    device_id: int | None = None
    interface_id: int | None = None
    interface_name: str = ""


class Inventory(BaseModel):
    protocol: int = PROTOCOL_VERSION
    edge: str
    site: SiteItem
    agencies: list[AgencyItem]
    devices: list[DeviceItem]
    interfaces: list[InterfaceItem]
    uplinks: list[UplinkItem]


class BucketItem(BaseModel):
    """One meter's 5-minute bucket as the edge has it now: totals, not increments."""

    device_id: int
    kind: str = Field(pattern="^(interface|queue)$")
    name: str = Field(min_length=1, max_length=200)
    interface_id: int | None = None
    agency_id: int | None = None
    billing: bool = False
    bucket_start: UtcInstant
    in_octets: int = Field(ge=0)
    out_octets: int = Field(ge=0)
    covered_s: float = Field(ge=0, le=300)


class UsageReport(BaseModel):
    buckets: list[BucketItem] = Field(max_length=MAX_REPORT_ITEMS)


class DeviceStatusItem(BaseModel):
    id: int
    status: str = Field(pattern="^(up|down|unknown)$")
    status_changed_at: UtcInstant | None = None
    last_seen_at: UtcInstant | None = None
    last_latency_ms: float | None = None


class EventItem(BaseModel):
    device_id: int
    at: UtcInstant
    kind: str = Field(max_length=10)
    detail: str = Field(default="", max_length=2000)
    latency_ms: float | None = None


class InterfaceStatusItem(BaseModel):
    id: int
    oper_status: str = Field(max_length=20)


class StatusReport(BaseModel):
    agent_version: str = Field(default="", max_length=40)
    backlog_points: int = Field(default=0, ge=0)
    oldest_backlog_at: UtcInstant | None = None
    devices: list[DeviceStatusItem] = Field(default_factory=list, max_length=MAX_REPORT_ITEMS)
    events: list[EventItem] = Field(default_factory=list, max_length=MAX_REPORT_ITEMS)
    interfaces: list[InterfaceStatusItem] = Field(default_factory=list, max_length=MAX_REPORT_ITEMS)


class Applied(BaseModel):
    """The centre's answer to a report: how many items it took (the rest were not the edge's to send)."""

    applied: int
    ignored: int = 0
