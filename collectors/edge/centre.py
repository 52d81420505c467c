"""The centre's side of what edge collectors send: each its site's inventory, and what it forwards.

(Registering, removing and listing edges, and their links' state, are ``netmgr.services.edges``.)

An edge may only speak for the devices of its own site: every item it sends for another device is ignored and
counted, never applied. Usage arrives as bucket totals and replaces the centre's rows, so a report repeated
after a lost answer, or delayed by an outage, changes nothing twice. A site whose edge has been silent longer
than ``settings.edge.link_down_after_s`` is "link down": its devices keep their last known status instead of
all turning red, and one alert names the site.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.edge.protocol import (
    AgencyItem,
    Applied,
    DeviceItem,
    InterfaceItem,
    Inventory,
    SiteItem,
    StatusReport,
    UplinkItem,
    UsageReport,
)
from collectors.rollups import hour_of, local_day, upsert
from netmgr.errors import ValidationFailed
from netmgr.localtime import zone
from netmgr.models import (
    Agency,
    Device,
    DeviceEvent,
    EdgeCollector,
    Interface,
    Traffic5m,
    TrafficDirtyHour,
    TrafficMeter,
    Uplink,
)
from netmgr.models.base import utcnow
from netmgr.models.enums import DeviceStatus
from netmgr.services.devices import device_credentials


def edge_device_ids(session: Session) -> set[int]:
    """Devices that an edge polls: the centre neither polls nor probes them itself."""
    return set(session.scalars(select(Device.id).join(EdgeCollector, EdgeCollector.site_id == Device.site_id)))


def _device_ids(session: Session, edge: EdgeCollector) -> set[int]:
    return set(session.scalars(select(Device.id).where(Device.site_id == edge.site_id)))


def inventory(session: Session, edge: EdgeCollector) -> Inventory:
    """The site's devices with their SNMP secrets, interfaces and uplinks, and every agency (for queue names)."""
    site = edge.site
    devices = list(session.scalars(select(Device).where(Device.site_id == site.id).order_by(Device.id)))
    ids = [d.id for d in devices]
    items = []
    for device in devices:
        creds = device_credentials(session, device)
        items.append(DeviceItem(
            id=device.id, name=device.name, role=str(device.role), platform=str(device.platform),
            mgmt_address=device.mgmt_address, snmp_port=device.snmp_port, snmp_version=str(device.snmp_version),
            snmp_community=creds.snmp_community, snmp_v3_user=device.snmp_v3_user,
            snmp_v3_auth_protocol=device.snmp_v3_auth_protocol, snmp_v3_auth_key=creds.snmp_v3_auth_key,
            snmp_v3_priv_protocol=device.snmp_v3_priv_protocol, snmp_v3_priv_key=creds.snmp_v3_priv_key,
            snmp_context=device.snmp_context, vendor=device.vendor, status=str(device.status)))
    interfaces = [InterfaceItem(id=i.id, device_id=i.device_id, if_index=i.if_index, name=i.name,
                                speed_mbps=i.speed_mbps, monitored=i.monitored, agency_id=i.agency_id,
                                oper_status=i.oper_status)
                  for i in session.scalars(select(Interface).where(Interface.device_id.in_(ids)))]
    uplinks = [UplinkItem(id=u.id, name=u.name, device_id=u.device_id, interface_id=u.interface_id,
                          interface_name=u.interface_name)
               for u in session.scalars(select(Uplink).where(Uplink.device_id.in_(ids)))]
    agencies = [AgencyItem(id=a.id, code=a.code, name=a.name) for a in session.scalars(select(Agency))]
    return Inventory(edge=edge.name, site=SiteItem(id=site.id, name=site.name, kind=str(site.kind),
                                                   agency_id=site.agency_id),
                     agencies=agencies, devices=items, interfaces=interfaces, uplinks=uplinks)


def apply_usage(session: Session, edge: EdgeCollector, report: UsageReport, *, timezone: str) -> Applied:
    """Replace the centre's 5-minute rows with the edge's totals, and mark their hours for the rollup."""
    own = _device_ids(session, edge)
    mine = [b for b in report.buckets if b.device_id in own]
    if not mine:
        return Applied(applied=0, ignored=len(report.buckets))
    meters = {(m.device_id, str(m.kind), m.name): m for m in session.scalars(
        select(TrafficMeter).where(TrafficMeter.device_id.in_({b.device_id for b in mine})))}
    known_interfaces = set(session.scalars(select(Interface.id).where(Interface.device_id.in_(own))))
    for b in mine:
        key = (b.device_id, b.kind, b.name)
        interface_id = b.interface_id if b.interface_id in known_interfaces else None
        if key not in meters:
            meter = TrafficMeter(device_id=b.device_id, kind=b.kind, name=b.name, interface_id=interface_id,
                                 agency_id=b.agency_id, billing=b.billing)
            session.add(meter)
            meters[key] = meter
    session.flush()
    tz = zone(timezone)
    rows: dict[tuple[int, datetime], dict[str, object]] = {}
    for b in mine:
        start = b.bucket_start
        if start.timestamp() % 300:
            raise ValidationFailed(f"bucket_start {start.isoformat()} is not the UTC start of a 5-minute bucket",
                                   field="bucket_start")
        meter_id = meters[(b.device_id, b.kind, b.name)].id
        rows[(meter_id, start)] = {"meter_id": meter_id, "bucket_start": start, "hour_start": hour_of(start),
                                   "day": local_day(start, tz), "in_octets": b.in_octets,
                                   "out_octets": b.out_octets, "covered_s": b.covered_s}
    upsert(session, Traffic5m, (rows[k] for k in sorted(rows)), keys=("meter_id", "bucket_start"),
           replace=("in_octets", "out_octets", "covered_s"))
    moment = utcnow()
    hours = sorted({hour_of(start) for _, start in rows})
    upsert(session, TrafficDirtyHour, ({"hour_start": h, "marked_at": moment} for h in hours),
           keys=("hour_start",), replace=("marked_at",))
    return Applied(applied=len(mine), ignored=len(report.buckets) - len(mine))


def apply_status(session: Session, edge: EdgeCollector, report: StatusReport) -> Applied:
    """Device and interface status as the edge saw them (newer than what the centre has), and their events."""
    own = _device_ids(session, edge)
    applied = ignored = 0
    edge.agent_version = report.agent_version
    edge.backlog_points = report.backlog_points
    edge.oldest_backlog_at = report.oldest_backlog_at
    devices = {d.id: d for d in session.scalars(select(Device).where(Device.id.in_(own)))}
    for item in report.devices:
        device = devices.get(item.id)
        if device is None:
            ignored += 1
            continue
        applied += 1
        if item.last_seen_at is not None and (device.last_seen_at is None or item.last_seen_at > device.last_seen_at):
            device.last_seen_at = item.last_seen_at
            device.last_latency_ms = item.last_latency_ms
        changed_at = item.status_changed_at
        if changed_at is not None and (device.status_changed_at is None or changed_at >= device.status_changed_at):
            device.status = DeviceStatus(item.status)
            device.status_changed_at = changed_at
    seen: dict[int, set[tuple[datetime, str]]] = defaultdict(set)
    wanted = [e for e in report.events if e.device_id in own]
    ignored += len(report.events) - len(wanted)
    if wanted:
        earliest = min(e.at for e in wanted)
        for device_id, at, kind in session.execute(
                select(DeviceEvent.device_id, DeviceEvent.at, DeviceEvent.kind)
                .where(DeviceEvent.device_id.in_({e.device_id for e in wanted}), DeviceEvent.at >= earliest)):
            seen[device_id].add((at, kind))
    for event in wanted:
        if (event.at, event.kind) in seen[event.device_id]:
            continue  # sent again after a lost answer
        seen[event.device_id].add((event.at, event.kind))
        session.add(DeviceEvent(device_id=event.device_id, at=event.at, kind=event.kind, detail=event.detail,
                                latency_ms=event.latency_ms))
        applied += 1
    interfaces = {i.id: i for i in session.scalars(select(Interface).where(
        Interface.id.in_([i.id for i in report.interfaces]), Interface.device_id.in_(own)))}
    for iface in report.interfaces:
        row = interfaces.get(iface.id)
        if row is None:
            ignored += 1
            continue
        row.oper_status = iface.oper_status
        applied += 1
    return Applied(applied=applied, ignored=ignored)


def device_names(session: Session, edge: EdgeCollector) -> frozenset[str]:
    return frozenset(session.scalars(select(Device.name).where(Device.site_id == edge.site_id)))


__all__ = ["apply_status", "apply_usage", "device_names", "edge_device_ids", "inventory"]
