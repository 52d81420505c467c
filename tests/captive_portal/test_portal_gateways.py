"""NAS adapters: strict parsing of gateway redirects, CHAP for MikroTik, the openNDS FAS token, no open redirect."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest

from captive_portal.gateways import (
    Credentials,
    GatewayRegistration,
    MikrotikHotspotAdapter,
    OpenNdsFasAdapter,
    validation,
)
from captive_portal.gateways.mikrotik import chap_bytes, chap_password
from captive_portal.gateways.opennds import decode_fas, fas_token
from netmgr.errors import ValidationFailed
from tests.captive_portal import portal_support as ps

MT = GatewayRegistration(kind="mikrotik", hosts=(ps.MIKROTIK_HOST,))
NDS = GatewayRegistration(kind="opennds", hosts=(ps.OPENNDS_HOST,), faskey=ps.FASKEY)


def _params(query: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}


def test_mikrotik_redirect_is_parsed_and_normalised() -> None:
    ctx = MikrotikHotspotAdapter().parse(_params(ps.mikrotik_query(mac="46-12-1f-20-79-d7")), MT)
    assert ctx.mac == "46:12:1F:20:79:D7"
    assert ctx.ip == ps.CLIENT_IP
    assert ctx.login_url == "http://10.5.50.1/login"
    assert ctx.original_url == "http://example.com/"


def test_mikrotik_chap_password_matches_the_routers_own_md5() -> None:
    chap_id, challenge = "\\357", "\\042\\221\\013"
    assert chap_bytes(chap_id) == b"\xef"
    assert chap_bytes(challenge) == b"\x22\x91\x0b"
    expected = hashlib.md5(b"\xef" + b"s3cret" + b"\x22\x91\x0b", usedforsecurity=False).hexdigest()
    assert chap_password(chap_id, "s3cret", challenge) == expected


def test_mikrotik_completion_sends_chap_hash_back_to_link_login_only() -> None:
    adapter = MikrotikHotspotAdapter()
    ctx = adapter.parse(_params(ps.mikrotik_query()), MT)
    done = adapter.complete(ctx, Credentials("g-abc", "pw"), MT, after_login_url="http://portal/status")
    parts = urlsplit(done.location)
    q = _params(parts.query)
    assert (parts.netloc, parts.path) == ("10.5.50.1", "/login")
    assert q["username"] == "g-abc"
    assert q["password"] == chap_password(ctx.extra["chap_id"], "pw", ctx.extra["chap_challenge"])
    assert q["password"] != "pw"
    assert q["dst"] == "http://example.com/"


def test_mikrotik_without_chap_sends_the_password_as_is() -> None:
    adapter = MikrotikHotspotAdapter()
    ctx = adapter.parse(_params(ps.mikrotik_query(chap=False)), MT)
    done = adapter.complete(ctx, Credentials("K7M2QX9P", "K7M2QX9P"), MT, after_login_url="http://portal/status")
    assert _params(urlsplit(done.location).query)["password"] == "K7M2QX9P"


@pytest.mark.parametrize("bad", [
    {"link-login-only": "http://evil.example/login"},
    {"link-login-only": "javascript:alert(1)"},
    {"link-login-only": "http://user@10.5.50.1/login"},
    {"link-login-only": "//10.5.50.1/login"},
    {"mac": "not-a-mac"},
    {"mac": "46:12:1f:20:79:d7<script>"},
    {"ip": "10.5.50.300"},
    {"chap-id": "zz"},
])
def test_mikrotik_rejects_bad_or_foreign_parameters(bad: dict[str, str]) -> None:
    params = _params(ps.mikrotik_query())
    params.update(bad)
    with pytest.raises(ValidationFailed):
        MikrotikHotspotAdapter().parse(params, MT)


def test_mikrotik_drops_a_strange_original_url_but_still_parses() -> None:
    params = _params(ps.mikrotik_query())
    params["link-orig"] = "javascript:alert(1)"
    assert MikrotikHotspotAdapter().parse(params, MT).original_url == ""


def test_opennds_fas_is_decoded_and_completed_with_sha256_token() -> None:
    adapter = OpenNdsFasAdapter()
    fas = ps.fas_param()
    assert decode_fas(fas)["gatewayname"] == "probeGW Node:b6e1fd8722e3 "
    ctx = adapter.parse({"fas": fas}, NDS)
    assert (ctx.mac, ctx.ip, ctx.original_url) == (ps.CLIENT_MAC, "192.168.201.10", "http://203.0.113.2/")
    done = adapter.complete(ctx, Credentials("g-1", "x"), NDS, after_login_url="http://portal/status")
    parts = urlsplit(done.location)
    q = _params(parts.query)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://192.168.201.1:2050/opennds_auth/"
    hid = ctx.extra["hid"]
    assert q["tok"] == hashlib.sha256((hid + ps.FASKEY).encode()).hexdigest() == fas_token(hid, ps.FASKEY)
    assert q["redir"] == "http://203.0.113.2/"
    assert base64.b64decode(q["custom"]) == b"username=g-1"


@pytest.mark.parametrize("fas", [
    "", "%%%not-base64", base64.b64encode(b"hid=zz, clientip=1.2.3.4").decode(),
    ps.fas_param(gateway="203.0.113.9:2050"), ps.fas_param(mac="nonsense"), ps.fas_param(ip="1.2.3"),
])
def test_opennds_rejects_malformed_or_unregistered_fas(fas: str) -> None:
    with pytest.raises(ValidationFailed):
        OpenNdsFasAdapter().parse({"fas": fas}, NDS)


def test_opennds_needs_a_faskey_to_complete() -> None:
    adapter = OpenNdsFasAdapter()
    ctx = adapter.parse({"fas": ps.fas_param()}, NDS)
    with pytest.raises(ValidationFailed):
        adapter.complete(ctx, Credentials("g", "p"), GatewayRegistration("opennds", (ps.OPENNDS_HOST,)),
                         after_login_url="http://portal/")


@pytest.mark.parametrize(("value", "ok"), [
    ("10.5.50.1", True), ("hotspot.sampit.go.id", True), ("192.168.201.1:2050", True), ("[fe80::1]:80", True),
    ("a/b", False), ("x:99999", False), ("-bad-.example", False), ("", False),
])
def test_host_validation(value: str, ok: bool) -> None:
    if ok:
        assert validation.host(value, field="h")
    else:
        with pytest.raises(ValidationFailed):
            validation.host(value, field="h")
