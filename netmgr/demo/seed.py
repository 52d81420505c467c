"""Seeds the demo regency into the database through the services (so rules and audit apply).

Idempotent: rows that exist are kept as they are; only the ports of the simulated devices, which the
demo picks afresh on every start, are brought up to date, and a demo contract that ended since the last run
is renewed, so the demo never ages out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from netmgr.demo import catalog
from netmgr.demo import finance as demo_finance
from netmgr.localtime import local_today
from netmgr.models import Agency, Device, Site, Uplink, User
from netmgr.models.enums import Role, SiteKind
from netmgr.models.hotspot import Hotspot, Voucher, VoucherBatch, VoucherStatus
from netmgr.schemas.inventory import AgencyCreate, DeviceCreate, DeviceUpdate, SiteCreate, UplinkCreate, UplinkUpdate
from netmgr.security.permissions import Actor
from netmgr.services import agencies, devices, sites, uplinks, users

DEMO_ACTOR = Actor(user_id=None, username="demo-seed", role=Role.ADMIN)


@dataclass
class SeedResult:
    """What one seeding run created (zero everywhere on a re-run) and what it updated."""

    created: dict[str, int] = field(default_factory=dict)
    ports_updated: int = 0
    contracts_renewed: int = 0

    def add(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1

    @property
    def total_created(self) -> int:
        return sum(self.created.values())


def community_for(device: catalog.DemoDevice) -> str:
    """The SNMP community of a demo device; snmpsim serves ``<community>.snmprec`` for it."""
    return device.name


def seed_demo(session: Session, *, snmp_port: int = 161, ssh_ports: Mapping[str, int] | None = None,
              usage_months: int | None = 2, today: date | None = None,
              timezone: str) -> SeedResult:
    """Create the demo regency's agencies, sites, devices, uplinks and users where missing.

    Args:
        snmp_port: the UDP port the demo's snmpsim answers on (the same port on every device address).
        ssh_ports: device name → TCP port of its SSH simulator, for the devices that have one.
        usage_months: months of usage to backfill for the reports (see ``finance.seed_finance``); None
            skips the backfill, which is most of the seeding time.
        today: the date the demo's contracts are dated from (default: today in ``timezone``).
        timezone: the installation's time zone (NETMGR_TIMEZONE): months and days of the backfilled usage.
    """
    ssh_ports = ssh_ports or {}
    result = SeedResult()
    agency_ids = _seed_agencies(session, result)
    site_ids = _seed_sites(session, agency_ids, result)
    device_ids = _seed_devices(session, site_ids, snmp_port, ssh_ports, result)
    _seed_uplinks(session, device_ids["core-diskominfo"], result, today or local_today(timezone))
    _seed_users(session, agency_ids, result)
    # plan, pagu and ~3 months of usage for the reports
    demo_finance.seed_finance(session, DEMO_ACTOR, usage_months=usage_months, timezone=timezone)
    return result


def _seed_agencies(session: Session, result: SeedResult) -> dict[str, int]:
    ids: dict[str, int] = {}
    for a in catalog.AGENCIES:
        row = agencies.get_agency_by_code(session, a.code)
        if row is None:
            row = agencies.create_agency(session, DEMO_ACTOR, AgencyCreate(
                code=a.code, name=a.name, contact_email=f"{a.code.lower()}@kotimkab.go.id",
                notes=f"Alokasi bandwidth {a.ceiling_mbps} Mbps (simple queue {a.code} di core-diskominfo)"))
            result.add("agencies")
        ids[a.code] = row.id
    return ids


def _seed_sites(session: Session, agency_ids: dict[str, int], result: SeedResult) -> dict[str, int]:
    wanted = [catalog.DemoSite(a.site, SiteKind.OFFICE, a.address, a.lat, a.lon, a.code) for a in catalog.AGENCIES]
    wanted += list(catalog.SITES)
    ids: dict[str, int] = {}
    for s in wanted:
        row = session.scalar(select(Site).where(Site.name == s.name))
        if row is None:
            row = sites.create_site(session, DEMO_ACTOR, SiteCreate(
                name=s.name, kind=s.kind, agency_id=agency_ids[s.agency] if s.agency else None,
                address=s.address, latitude=s.lat, longitude=s.lon))
            result.add("sites")
        ids[s.name] = row.id
    return ids


def _seed_devices(session: Session, site_ids: dict[str, int], snmp_port: int, ssh_ports: Mapping[str, int],
                  result: SeedResult) -> dict[str, int]:
    ids: dict[str, int] = {}
    for d in catalog.DEVICES:
        ssh_port = ssh_ports.get(d.name, 22)
        row = session.scalar(select(Device).where(Device.name == d.name))
        ssh = catalog.ssh_capable(d)
        if row is None:
            row = devices.create_device(session, DEMO_ACTOR, DeviceCreate(
                name=d.name, site_id=site_ids[d.site], role=d.role, platform=d.platform, mgmt_address=d.address,
                snmp_port=snmp_port, ssh_port=ssh_port, snmp_community=SecretStr(community_for(d)),
                ssh_username=catalog.DEMO_SSH_USERNAME if ssh else None,
                ssh_password=SecretStr(catalog.DEMO_SSH_PASSWORD) if ssh else None,
                tags=list(d.tags), vendor=d.vendor, model=d.model,
                notes="Perangkat demo: dijawab oleh snmpsim" + (" dan simulator SSH" if ssh else "")))
            result.add("devices")
        elif row.snmp_port != snmp_port or (d.name in ssh_ports and row.ssh_port != ssh_port):
            update = DeviceUpdate(snmp_port=snmp_port)
            if d.name in ssh_ports:
                update = DeviceUpdate(snmp_port=snmp_port, ssh_port=ssh_port)
            devices.update_device(session, DEMO_ACTOR, row.id, update)
            result.ports_updated += 1
        ids[d.name] = row.id
    return ids


def _seed_uplinks(session: Session, core_id: int, result: SeedResult, today: date) -> None:
    """Create the demo's uplinks with contracts dated from ``today``; renew (through the uplinks service, which
    keeps the old terms in the contract history) a demo contract that has ended since an earlier run."""
    for u in catalog.UPLINKS:
        start, end = u.contract(today)
        row = session.scalar(select(Uplink).where(Uplink.name == u.name))
        if row is None:
            uplinks.create_uplink(session, DEMO_ACTOR, UplinkCreate(
                name=u.name, isp_name=u.isp_name, device_id=core_id, interface_name=u.interface_name,
                capacity_down_mbps=u.capacity_mbps, capacity_up_mbps=u.capacity_mbps,
                monthly_price_idr=u.monthly_price_idr, tax_percent=11.0, contract_start=start,
                contract_end=end, sla_availability_percent=u.sla_percent, notes=u.notes))
            result.add("uplinks")
        elif row.contract_end is not None and row.contract_end < today:
            uplinks.update_uplink(session, DEMO_ACTOR, row.id, UplinkUpdate(
                contract_start=row.contract_end + timedelta(days=1), contract_end=end))
            result.contracts_renewed += 1


def _seed_users(session: Session, agency_ids: dict[str, int], result: SeedResult) -> None:
    for u in catalog.USERS:
        if session.scalar(select(User.id).where(User.username == u.username)) is not None:
            continue
        users.create_user(session, DEMO_ACTOR, username=u.username, password=u.password, role=u.role,
                          full_name=u.full_name, agency_id=agency_ids[u.agency] if u.agency else None,
                          email=f"{u.username}@kotimkab.go.id")
        result.add("users")


def counts(session: Session) -> dict[str, int]:
    """How many rows of each demo kind the database holds (for the summary and the tests)."""
    return {
        "agencies": session.scalar(select(func.count(Agency.id))) or 0,
        "sites": session.scalar(select(func.count(Site.id))) or 0,
        "devices": session.scalar(select(func.count(Device.id))) or 0,
        "uplinks": session.scalar(select(func.count(Uplink.id))) or 0,
        "users": session.scalar(select(func.count(User.id))) or 0,
    }


def portal_entry(session: Session, hotspot: Hotspot) -> tuple[str, str]:
    """The portal URL a phone on the demo hotspot is redirected to (as its MikroTik gateway would send it,
    with a made-up phone's MAC and address) and one unused voucher code of the demo batch."""
    gateway = hotspot.gateway.mgmt_address
    query = urlencode({"mac": "02:00:5E:10:00:01", "ip": "10.5.50.10", "link-login-only": f"http://{gateway}/login"},
                      safe=":/")
    code = session.scalar(select(Voucher.code).join(VoucherBatch).where(
        VoucherBatch.hotspot_id == hotspot.id, Voucher.status == VoucherStatus.UNUSED).order_by(Voucher.id).limit(1))
    return f"/portal/{hotspot.slug}/?{query}", code or ""
