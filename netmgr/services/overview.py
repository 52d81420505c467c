"""The network at a glance: inventory counts, device status per site, and the devices that are down.

Read-only; scoped like every inventory service (an agency viewer sees only its agency).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from netmgr.models import Agency, Device, Site, Uplink
from netmgr.models.enums import DeviceStatus
from netmgr.security.permissions import Actor, Permission


@dataclass
class SiteStatus:
    """Device counts of one site by status, e.g. Taman Kota: 3 up, 1 down, 0 unknown."""

    site_id: int
    name: str
    kind: str
    up: int = 0
    down: int = 0
    unknown: int = 0

    @property
    def total(self) -> int:
        return self.up + self.down + self.unknown


@dataclass
class Overview:
    agencies: int
    sites: int
    devices: int
    uplinks: int
    status_counts: dict[str, int]
    site_status: list[SiteStatus] = field(default_factory=list)
    devices_down: list[Device] = field(default_factory=list)


def network_overview(session: Session, actor: Actor, *, down_limit: int = 50) -> Overview:
    """Counts, per-site device status (sites with a device down first) and the devices down, newest first."""
    actor.require(Permission.INVENTORY_READ)
    scope = actor.agency_scope
    site_stmt = select(Site.id, Site.name, Site.kind).order_by(Site.name)
    agency_count = select(func.count(Agency.id))
    if scope is not None:
        site_stmt = site_stmt.where(Site.agency_id == scope)
        agency_count = agency_count.where(Agency.id == scope)
    per_site = {sid: SiteStatus(sid, name, str(kind)) for sid, name, kind in session.execute(site_stmt)}
    status_stmt = (select(Device.site_id, Device.status, func.count(Device.id))
                   .join(Site, Device.site_id == Site.id).group_by(Device.site_id, Device.status))
    if scope is not None:
        status_stmt = status_stmt.where(Site.agency_id == scope)
    totals = dict.fromkeys((s.value for s in DeviceStatus), 0)
    for site_id, status, count in session.execute(status_stmt):
        key = str(status) if str(status) in totals else DeviceStatus.UNKNOWN.value
        totals[key] += int(count)
        row = per_site.get(site_id)
        if row is not None:
            setattr(row, key, getattr(row, key) + int(count))
    down_stmt = (select(Device).join(Site, Device.site_id == Site.id).where(Device.status == DeviceStatus.DOWN)
                 .order_by(Device.status_changed_at.desc().nulls_last(), Device.name).limit(down_limit))
    if scope is not None:
        down_stmt = down_stmt.where(Site.agency_id == scope)
    uplink_count = 0 if scope is not None else session.scalar(select(func.count(Uplink.id))) or 0
    return Overview(
        agencies=session.scalar(agency_count) or 0,
        sites=len(per_site),
        devices=sum(totals.values()),
        uplinks=uplink_count,
        status_counts=totals,
        site_status=sorted(per_site.values(), key=lambda s: (-s.down, s.name)),
        devices_down=list(session.scalars(down_stmt)),
    )
