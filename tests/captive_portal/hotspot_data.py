"""Test data for the AAA tests: a hotspot with its gateway (NAS), a policy, and voucher batches."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.models import Device, Hotspot, HotspotPolicy, Voucher, VoucherBatch
from netmgr.models.enums import DeviceRole, Platform, SiteKind
from netmgr.models.hotspot import LoginMethod, NasDialect, VoucherStatus
from tests import factories

_seq = itertools.count(1)
NAS_SECRET = "nas-secret-Taman"


@dataclass
class Seeded:
    hotspot: Hotspot
    policy: HotspotPolicy
    nas: Device
    batch: VoucherBatch


def seed_hotspot(session: Session, *, dialect: NasDialect = NasDialect.MIKROTIK, nas_address: str = "127.0.0.1",
                 coa_port: int | None = None, secret: str = NAS_SECRET, **policy: object) -> Seeded:
    n = next(_seq)
    site = factories.site(session, name=f"Taman Kota {n}", kind=SiteKind.PUBLIC_HOTSPOT)
    nas = factories.device(session, site_id=site.id, name=f"gw-taman-{n}", mgmt_address=nas_address,
                           role=DeviceRole.HOTSPOT_GATEWAY, platform=Platform.MIKROTIK_ROUTEROS,
                           radius_secret=secret)
    values: dict[str, object] = {
        "session_timeout_s": 7200, "idle_timeout_s": 600, "interim_interval_s": 60, "rate_down_kbps": 5000,
        "rate_up_kbps": 2000, "person_daily_time_s": 3600, "person_daily_bytes": 6 * 2**30, "max_devices": 1,
        "voucher_lifetime_s": 86400,
    }
    values.update(policy)
    pol = HotspotPolicy(name=f"Voucher 1 jam {n}", **values)
    session.add(pol)
    session.flush()
    hotspot = Hotspot(name=f"Sampit Free WiFi {n}", slug=f"taman-{n}", site_id=site.id, gateway_device_id=nas.id,
                      nas_dialect=dialect, ssid="Sampit Free WiFi",
                      login_methods=[LoginMethod.VOUCHER.value, LoginMethod.CLICK_THROUGH.value],
                      default_policy_id=pol.id, coa_port=coa_port)
    session.add(hotspot)
    session.flush()
    batch = VoucherBatch(name=f"Batch {n}", hotspot_id=hotspot.id, policy_id=pol.id, count=0)
    session.add(batch)
    session.commit()
    return Seeded(hotspot=hotspot, policy=pol, nas=nas, batch=batch)


def add_voucher(session: Session, batch: VoucherBatch, code: str,
                status: VoucherStatus = VoucherStatus.UNUSED) -> Voucher:
    voucher = Voucher(batch_id=batch.id, code=code, status=status)
    session.add(voucher)
    batch.count += 1
    session.commit()
    return voucher


def client_at(session: Session, address: str = "127.0.0.1") -> str:
    """The RADIUS client FreeRADIUS would match for a packet from ``address``: the gateway's inventory name.

    netmgr identifies the gateway by this name (the ``?client=`` the generated config sends), so a test that
    calls the AAA functions directly passes it as FreeRADIUS would.
    """
    name = session.scalar(select(Device.name).where(Device.mgmt_address == address))
    assert name is not None, f"no gateway at {address}"
    return name
