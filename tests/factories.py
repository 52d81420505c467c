"""Plain factory functions for test data; each returns a committed, ready-to-use row."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from netmgr.models import Agency, Device, Site, Uplink, User
from netmgr.models.enums import DeviceRole, DeviceStatus, Platform, Role, SiteKind
from netmgr.schemas.inventory import AgencyCreate, DeviceCreate, SiteCreate, UplinkCreate
from netmgr.security.permissions import SYSTEM
from netmgr.services import agencies, devices, sites, uplinks, users

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"


def agency(session: Session, *, code: str | None = None, name: str | None = None, commit: bool = True) -> Agency:
    n = next(_seq)
    row = agencies.create_agency(session, SYSTEM, AgencyCreate(code=code or f"AG{n}", name=name or f"Dinas Uji {n}"))
    if commit:
        session.commit()
    return row


def agency_exists(session: Session, code: str) -> bool:
    return agencies.get_agency_by_code(session, code) is not None


def site(session: Session, *, agency_id: int | None = None, name: str | None = None,
         kind: SiteKind = SiteKind.OFFICE) -> Site:
    n = next(_seq)
    row = sites.create_site(session, SYSTEM, SiteCreate(name=name or f"Kantor Uji {n}", kind=kind, agency_id=agency_id))
    session.commit()
    return row


def device(session: Session, *, site_id: int, name: str | None = None, mgmt_address: str | None = None,
           **extra: object) -> Device:
    n = next(_seq)
    data = DeviceCreate.model_validate({
        "name": name or f"dev-{n}",
        "site_id": site_id,
        "role": DeviceRole.ACCESS_POINT,
        "platform": Platform.MIKROTIK_ROUTEROS,
        "mgmt_address": mgmt_address or f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
        "snmp_community": "s3cret-community",
        "ssh_username": "admin",
        "ssh_password": "s3cret-ssh-pass",
        **extra,
    })
    row = devices.create_device(session, SYSTEM, data)
    session.commit()
    return row


def uplink(session: Session, *, name: str | None = None, **extra: object) -> Uplink:
    n = next(_seq)
    data = UplinkCreate.model_validate({
        "name": name or f"uplink-{n}", "isp_name": "Telkom Astinet", "capacity_down_mbps": 500,
        "capacity_up_mbps": 500, "monthly_price_idr": 27_500_000, **extra,
    })
    row = uplinks.create_uplink(session, SYSTEM, data)
    session.commit()
    return row


def user(session: Session, *, role: Role = Role.ADMIN, username: str | None = None,
         agency_id: int | None = None, password: str = PASSWORD) -> User:
    n = next(_seq)
    row = users.create_user(session, SYSTEM, username=username or f"user{n}", password=password, role=role,
                            agency_id=agency_id)
    session.commit()
    return row


def many_devices(session: Session, n: int, *, sites_n: int = 200, agencies_n: int = 10) -> list[int]:
    """``n`` devices over ``sites_n`` sites of ``agencies_n`` agencies, inserted in bulk (20,000 take ~2 s);
    statuses, roles, platforms and last-seen times vary so every sort key has work to do. Returns the agency ids.

    No secrets are set: the rows go in with executemany, not through the service.
    """
    now = datetime.now(UTC)
    statuses = list(DeviceStatus)
    roles = list(DeviceRole)
    platforms = list(Platform)
    agency_ids = list(session.scalars(insert(Agency).returning(Agency.id),
                                      [{"code": f"BULK{a}", "name": f"Dinas Massal {a}", "notes": ""}
                                       for a in range(agencies_n)]))
    site_ids = list(session.scalars(insert(Site).returning(Site.id), [
        {"name": f"Lokasi Massal {s:04d}", "kind": SiteKind.OFFICE, "agency_id": agency_ids[s % agencies_n],
         "address": "", "notes": "", "created_at": now, "updated_at": now} for s in range(sites_n)]))
    session.execute(insert(Device), [
        {"name": f"bulk-{i:06d}", "site_id": site_ids[(i * 7919) % sites_n], "role": roles[i % len(roles)],
         "platform": platforms[(i // 3) % len(platforms)],
         "mgmt_address": f"10.{128 + i // 65536}.{i // 256 % 256}.{i % 256}",
         "status": statuses[(i * 31) % len(statuses)], "last_seen_at": now - timedelta(seconds=(i * 104729) % 86400),
         "created_at": now, "updated_at": now}
        for i in range(n)])
    session.commit()
    return agency_ids
