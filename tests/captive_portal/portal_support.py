"""Test data for the portal: a hotspot with its policy and portal configuration, and a gateway redirect."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from captive_portal import terms
from netmgr.db import secret_box
from netmgr.models import Hotspot, HotspotPolicy, PortalConfig
from netmgr.models.enums import DeviceRole, SiteKind
from netmgr.models.portal import GatewayKind
from tests import factories

_seq = itertools.count(1)
MIKROTIK_HOST = "10.5.50.1"
OPENNDS_HOST = "192.168.201.1:2050"
FASKEY = "test-faskey-123"
CLIENT_MAC = "46:12:1F:20:79:D7"
CLIENT_IP = "10.5.50.23"


def policy(session: Session, **values: object) -> HotspotPolicy:
    n = next(_seq)
    row = HotspotPolicy(name=f"Gratis 1 jam {n}", session_timeout_s=3600, rate_down_kbps=5000, rate_up_kbps=2000,
                        device_daily_time_s=3600, **values)
    session.add(row)
    session.flush()
    return row


def hotspot(session: Session, *, slug: str | None = None, kind: GatewayKind = GatewayKind.MIKROTIK,
            methods: Sequence[str] = ("click_through", "voucher", "phone_otp"), free_logins_per_day: int = 1,
            hosts: Sequence[str] | None = None, branding: dict[str, object] | None = None,
            policy_row: HotspotPolicy | None = None) -> Hotspot:
    n = next(_seq)
    site = factories.site(session, name=f"Taman Kota Uji {n}", kind=SiteKind.PUBLIC_HOTSPOT)
    gateway = factories.device(session, site_id=site.id, role=DeviceRole.HOTSPOT_GATEWAY)
    policy_row = policy_row or policy(session)
    row = Hotspot(name=f"Sampit Free WiFi {n}", slug=slug or f"taman-kota-{n}", site_id=site.id,
                  gateway_device_id=gateway.id, ssid="Sampit Free WiFi", login_methods=list(methods),
                  default_policy_id=policy_row.id, branding=branding or {}, terms_version="2026-01")
    session.add(row)
    session.flush()
    terms.record_version(session, row, created_by="test")
    if hosts is None:
        hosts = [MIKROTIK_HOST] if kind == GatewayKind.MIKROTIK else [OPENNDS_HOST]
    session.add(PortalConfig(hotspot_id=row.id, gateway_kind=kind, gateway_hosts=list(hosts),
                             faskey_encrypted=secret_box(session).encrypt(FASKEY) if kind == GatewayKind.OPENNDS
                             else "", free_logins_per_day=free_logins_per_day, default_language="id"))
    session.commit()
    return row


def mikrotik_query(*, mac: str = CLIENT_MAC, ip: str = CLIENT_IP, host: str = MIKROTIK_HOST,
                   chap: bool = True, **extra: str) -> str:
    params = {"mac": mac, "ip": ip, "username": "", "link-login": f"http://{host}/login?dst=http%3A%2F%2Fexample.com",
              "link-login-only": f"http://{host}/login", "link-orig": "http://example.com/",
              "error": ""}
    if chap:
        params["chap-id"] = "\\357"
        params["chap-challenge"] = "\\042\\221\\013\\376\\123\\002\\377\\200\\001\\002\\003\\004\\005\\006\\007\\010"
    params.update(extra)
    return urlencode(params)


def fas_param(*, mac: str = CLIENT_MAC, ip: str = "192.168.201.10", gateway: str = OPENNDS_HOST,
              hid: str = "0e15a5c3b7d9f1e2a4c6b8d0e2f4a6c8") -> str:
    text = (f"hid={hid}, clientip={ip}, clientmac={mac.lower()}, client_type=cpd_can, "
            f"gatewayname=probeGW%20Node%3ab6e1fd8722e3%20, gatewayurl=http%3a%2f%2fstatus.client, version=9.10.0, "
            f"gatewayaddress={gateway}, gatewaymac=b6e1fd8722e3, originurl=http%3a%2f%2f203.0.113.2%2f, "
            f"clientif=gw-lan, themespec=(null)")
    return base64.b64encode(text.encode()).decode()


def now() -> datetime:
    return datetime.now(UTC)
