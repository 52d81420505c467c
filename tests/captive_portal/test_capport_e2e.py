"""RFC 8910 + RFC 8908 end to end in network namespaces: a phone finds the portal without probing.

Real dnsmasq on the gateway hands the client DHCP option 114; the client (a minimal DHCP client of our own,
tests/servers/dhcp_client.py, since neither dhclient nor busybox udhcpc is installed) fetches that URI over
https (a test CA) from netmgr served by uvicorn with TLS, and is captive. A voucher login through the
gateway's path (the AAA endpoints as FreeRADIUS's rest module calls them, with the client's leased address in
Framed-IP-Address) frees it: the API then answers ``captive: false`` with the session's remaining time and data.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy import select

from netmgr.entrypoints.capabilities import create_app
from netmgr.metrics import DisabledMetricsStore
from netmgr.migrate import upgrade
from netmgr.models import HotspotSession
from netmgr.state import AppState
from provisioning.render import find_template, render
from provisioning.variables import complete, validate_variables
from tests.captive_portal.hotspot_data import Seeded, add_voucher, seed_hotspot
from tests.conftest import make_settings
from tests.servers.app import serve_app
from tests.servers.capport import CapportBed, make_test_ca, require_capport_bed
from tests.servers.process import ServerUnavailable, free_port, needed

pytestmark = [pytest.mark.netns, pytest.mark.slow]

TOKEN = "capport-aaa-token"
VOUCHER = "CAPT2345"


@dataclass
class Running:
    bed: CapportBed
    state: AppState
    seeded: Seeded
    base_url: str
    ca: Path


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    try:
        require_capport_bed()
    except ServerUnavailable as exc:
        needed(str(exc))
    bed = CapportBed(workdir=tmp_path)
    db_url = f"sqlite:///{tmp_path / 'netmgr.sqlite3'}"
    engine = sa.create_engine(db_url)
    upgrade(engine)
    engine.dispose()
    port = free_port()
    settings = make_settings(tmp_path / "data", db_url)
    settings = settings.model_copy(update={
        "portal": settings.portal.model_copy(update={"base_url": f"https://{bed.host_ip}:{port}/portal"}),
        "radius": settings.radius.model_copy(update={"aaa_token": SecretStr(TOKEN),
                                                     "aaa_allowed_networks": [f"{bed.host_ip}/32"]})})
    state = AppState.build(settings)
    with state.session_factory() as session:
        seeded = seed_hotspot(session, person_daily_bytes=2 * 10**9)
        add_voucher(session, seeded.batch, VOUCHER)
    app = create_app(settings, state=state)
    app.state.aaa_metrics = DisabledMetricsStore()
    try:
        bed.start_network()
        ca, cert, key = make_test_ca(tmp_path, bed.host_ip)
        with serve_app(app, port, host=bed.host_ip, tls=(cert, key)) as base_url:
            bed.start_dnsmasq(_gateway_dhcp_options(f"{base_url}/portal", seeded.hotspot.slug))
            yield Running(bed=bed, state=state, seeded=seeded, base_url=base_url, ca=ca)
    finally:
        runtime = getattr(app.state, "aaa_runtime", None)
        if runtime is not None:
            runtime.worker.stop()
        bed.stop()
        state.engine.dispose()


def _gateway_dhcp_options(portal_url: str, slug: str) -> list[str]:
    """The ``dhcp-option`` lines netmgr's Linux/openNDS hotspot template renders for this hotspot."""
    variables = validate_variables("hotspot", {"ssid": "Sampit Free WiFi", "vlan_id": 20, "interface": "eth1",
                                               "gateway": "10.20.0.1/22", "radius_server": "10.0.0.2",
                                               "hotspot_slug": slug})
    text = render(find_template(None, platform="linux", purpose="hotspot"),
                  complete(variables, {"portal_url": portal_url, "radius_secret": "unused"}))
    conf = text.split("### file dnsmasq-hotspot.conf\n")[1].split("### file")[0]
    options = [line for line in conf.splitlines() if line.startswith("dhcp-option=114,")]
    assert len(options) == 1, conf
    return options


def _radius(running: Running, path: str, attributes: dict[str, str]) -> httpx.Response:
    """What FreeRADIUS's rest module sends for the gateway (values as rlm_rest lists them)."""
    body = {name: {"type": "string", "value": [value]} for name, value in attributes.items()}
    return httpx.post(f"{running.base_url}/api/v1/aaa/{path}", json=body, params={"client": running.seeded.nas.name},
                      headers={"X-Netmgr-AAA-Token": TOKEN}, verify=_trust(running), timeout=10)


def _trust(running: Running) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=running.ca)


def _captive(running: Running, uri: str) -> tuple[str, dict[str, Any]]:
    """The client fetches the API from its own namespace; returns (headers, JSON body)."""
    got = running.bed.client_curl("--cacert", str(running.ca), "-D", "-", "-o", str(running.bed.workdir / "api.json"),
                                  uri)
    assert got.returncode == 0, got.stdout + got.stderr
    return got.stdout.lower(), json.loads((running.bed.workdir / "api.json").read_text())


def test_phone_learns_the_api_by_dhcp_and_is_freed_by_a_voucher_login(running: Running) -> None:
    bed, slug = running.bed, running.seeded.hotspot.slug
    lease = bed.client_dhcp()
    uri = f"{running.base_url}/portal/api/captive/{slug}"
    assert lease["captive_portal_uri"] == uri
    assert lease["address"].startswith(f"{bed.lan}.")

    headers, before = _captive(running, lease["captive_portal_uri"])
    assert "content-type: application/captive+json" in headers
    assert "cache-control: private, no-store" in headers
    assert before == {"captive": True, "user-portal-url": f"{running.base_url}/portal/{slug}/"}

    gateway = {"User-Name": VOUCHER, "Calling-Station-Id": bed.client_mac, "Framed-IP-Address": lease["address"],
               "NAS-IP-Address": "127.0.0.1"}
    assert _radius(running, "authorize", gateway).status_code == 200
    start = {**gateway, "Acct-Status-Type": "Start", "Acct-Session-Id": "capport-1"}
    assert _radius(running, "accounting", start).status_code == 204
    interim = {**start, "Acct-Status-Type": "Interim-Update", "Acct-Session-Time": "300",
               "Acct-Input-Octets": "40000000", "Acct-Output-Octets": "60000000"}
    assert _radius(running, "accounting", interim).status_code == 204

    with running.state.session_factory() as session:
        row = session.scalars(select(HotspotSession).where(HotspotSession.acct_session_id == "capport-1")).one()
        assert row.ip == lease["address"] and row.allowance_time_s and row.allowance_bytes
        seconds, octets = row.allowance_time_s - 300, row.allowance_bytes - 100_000_000
    _, after = _captive(running, lease["captive_portal_uri"])
    assert after == {"captive": False, "user-portal-url": f"{running.base_url}/portal/{slug}/",
                     "seconds-remaining": seconds, "bytes-remaining": octets, "can-extend-session": False}
    assert seconds == 3600 - 300 and octets == 2 * 10**9 - 100_000_000

    # Another device on the same hotspot (here: this host, not the client's address) is still captive.
    other = httpx.get(uri, verify=_trust(running), timeout=10).json()
    assert other["captive"] is True
