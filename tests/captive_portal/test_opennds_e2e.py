"""openNDS end to end with netmgr as its FAS, in network namespaces (TESTBED.md §1).

client curl → openNDS 307 → netmgr's portal (fas=…) → accept the terms → 303 to openNDS's /opennds_auth/
with tok = sha256(hid + faskey) → openNDS lets the client through → the client reaches the "internet".
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from netmgr.migrate import upgrade
from netmgr.models.portal import GatewayKind
from netmgr.state import AppState
from tests.captive_portal import portal_support as ps
from tests.conftest import TEST_ENCRYPTION_KEY, make_settings
from tests.servers.opennds import CLIENT_IP, GATEWAY_PORT, GW_LAN_IP, INET_IP, OpenNdsBed, require_netns
from tests.servers.process import ServerUnavailable, needed, wait_until

pytestmark = [pytest.mark.netns, pytest.mark.slow]

FAS_PORT = 8000
SLUG = "taman-kota-sampit"


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[OpenNdsBed]:
    try:
        require_netns()
    except ServerUnavailable as exc:
        needed(str(exc))
    db_url = f"sqlite:///{tmp_path / 'netmgr.sqlite3'}"
    engine = sa.create_engine(db_url)
    upgrade(engine)
    engine.dispose()
    settings = make_settings(tmp_path / "data", db_url)
    state = AppState.build(settings)
    with state.session_factory() as session:
        ps.hotspot(session, slug=SLUG, kind=GatewayKind.OPENNDS, hosts=[f"{GW_LAN_IP}:{GATEWAY_PORT}"])
    state.engine.dispose()
    nds = OpenNdsBed(workdir=tmp_path, fas_port=FAS_PORT, fas_path=f"/portal/{SLUG}/", faskey=ps.FASKEY)
    try:
        nds.start_network()
        nds.start_internet()
        env = {"NETMGR_ENVIRONMENT": "test", "NETMGR_DATABASE_URL": db_url, "NETMGR_DATA_DIR": str(tmp_path / "data"),
               "NETMGR_SECRET_KEY": "test-secret-key-for-signing-cookies",
               "NETMGR_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY,
               "NETMGR_PORTAL__BASE_URL": f"http://{GW_LAN_IP}:{FAS_PORT}/portal", "NETMGR_INFLUX__ENABLED": "false",
               "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        netmgr = nds.start_in_gw([sys.executable, "-m", "uvicorn", "netmgr.entrypoints.asgi:app", "--host", GW_LAN_IP,
                                  "--port", str(FAS_PORT), "--log-level", "warning"], log="netmgr.log", env=env)
        wait_until(lambda: nds.run_in(nds.gw, "curl", "-s", "-o", "/dev/null", f"http://{GW_LAN_IP}:{FAS_PORT}/healthz",
                                      check=False).returncode == 0,
                   timeout=30, what="netmgr in the gateway namespace", proc=netmgr.proc, log=tmp_path / "netmgr.log")
        nds.start_opennds()
        yield nds
    finally:
        nds.stop()


def test_citizen_accepts_terms_on_netmgr_and_reaches_the_internet_through_opennds(bed: OpenNdsBed,
                                                                                   tmp_path: Path) -> None:
    jar = str(tmp_path / "cookies.txt")
    first = bed.client_curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", f"http://{INET_IP}/")
    code, _, portal_url = first.stdout.partition(" ")
    assert code == "307", first.stdout + first.stderr
    assert portal_url.startswith(f"http://{GW_LAN_IP}:{FAS_PORT}/portal/{SLUG}/?fas="), portal_url

    welcome = bed.client_curl("-L", "-c", jar, "-b", jar, portal_url)
    assert 'id="form-terms"' in welcome.stdout, welcome.stdout[-2000:] + welcome.stderr
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', welcome.stdout)
    assert csrf

    accept = bed.client_curl("-c", jar, "-b", jar, "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                             "--data-urlencode", f"csrf_token={csrf.group(1)}", "--data", "accept=yes",
                             f"http://{GW_LAN_IP}:{FAS_PORT}/portal/{SLUG}/terms")
    code, _, auth_url = accept.stdout.partition(" ")
    assert code == "303", accept.stdout + accept.stderr
    assert auth_url.startswith(f"http://{GW_LAN_IP}:{GATEWAY_PORT}/opennds_auth/?tok="), auth_url

    done = bed.client_curl("-L", "-o", "/dev/null", "-w", "%{http_code} %{url_effective}", auth_url)
    assert done.stdout.startswith("200"), done.stdout + done.stderr
    wait_until(lambda: '"Authenticated"' in bed.ndsctl("json", CLIENT_IP), timeout=10,
               what="openNDS to authenticate the client")
    internet = bed.client_curl(f"http://{INET_IP}/")
    assert "THE INTERNET" in internet.stdout, internet.stdout + internet.stderr
