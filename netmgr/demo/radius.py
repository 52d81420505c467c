"""The demo's RADIUS: the hotspot gateway's secret and CoA port, the citizens' vouchers, FreeRADIUS's config.

Data flow: the seeded demo hotspot → its gateway gets a RADIUS secret and a free CoA port on its own address →
``netmgr radius``'s config generator writes FreeRADIUS's config for the inventory's gateways under the demo's
data directory → the runner starts FreeRADIUS and the gateway simulator (``simulators/radiusgw.py``).
"""

from __future__ import annotations

import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.demo import probe
from netmgr.demo.catalog import DEMO_RADIUS_SECRET
from netmgr.demo.seed import DEMO_ACTOR
from netmgr.models import Hotspot, Voucher, VoucherBatch
from netmgr.models.hotspot import VoucherStatus
from netmgr.schemas.inventory import DeviceUpdate
from netmgr.services import devices
from netmgr.settings import Settings

CITIZENS = 3
"""Phones the demo gateway logs in, one voucher each."""
FREERADIUS_PATHS = ("/usr/sbin/freeradius", "/usr/sbin/radiusd")
MISSING = ("FreeRADIUS is not installed (apt install freeradius freeradius-rest), so citizens' RADIUS sessions "
           "are not simulated; everything else runs")


@dataclass(frozen=True)
class DemoGateway:
    """The hotspot gateway the demo simulates: where it sends RADIUS from and listens for Disconnect-Requests."""

    name: str
    address: str
    coa_port: int
    secret: str = field(repr=False)
    vouchers: list[str] = field(default_factory=list)


def freeradius_binary() -> str | None:
    """FreeRADIUS's daemon, or None when it is not installed (Debian puts it in /usr/sbin, often not on PATH)."""
    found = shutil.which("freeradius") or shutil.which("radiusd")
    return found or next((p for p in FREERADIUS_PATHS if Path(p).is_file()), None)


def prepare_gateway(session: Session, hotspot: Hotspot, *, keep: str = "") -> DemoGateway:
    """Give the demo hotspot's gateway its RADIUS secret and a free CoA port; choose the citizens' vouchers.

    Args:
        keep: a voucher the person at the terminal is told to try in the portal; the simulated citizens never
            use it.
    """
    gateway = hotspot.gateway
    if gateway.radius_secret_encrypted is None:
        devices.update_device(session, DEMO_ACTOR, gateway.id,
                              DeviceUpdate(radius_secret=SecretStr(DEMO_RADIUS_SECRET)))
    hotspot.coa_port = probe.free_port_on([gateway.mgmt_address], socket.SOCK_DGRAM)
    codes = list(session.scalars(
        select(Voucher.code).join(VoucherBatch).where(
            VoucherBatch.hotspot_id == hotspot.id, Voucher.code != keep,
            Voucher.status.in_([VoucherStatus.UNUSED, VoucherStatus.ACTIVE]))
        .order_by(Voucher.id.desc()).limit(CITIZENS)))
    session.flush()
    return DemoGateway(name=gateway.name, address=gateway.mgmt_address, coa_port=hotspot.coa_port,
                       secret=DEMO_RADIUS_SECRET, vouchers=codes)


def write_demo_config(session: Session, root: Path, settings: Settings, *, aaa_token: str, api_url: str,
                      auth_port: int, acct_port: int) -> Path:
    """FreeRADIUS's config for the demo, made by the same generator as ``netmgr radius config``; its raddb."""
    from captive_portal.radius_config import inventory_clients, write_config

    radius = settings.radius.model_copy(update={"aaa_token": SecretStr(aaa_token)})
    config = write_config(root, clients=inventory_clients(session), settings=settings.model_copy(
        update={"radius": radius}), auth_port=auth_port, acct_port=acct_port, listen_address="127.0.0.1",
        api_url=api_url, max_servers=4)
    return config.raddb
