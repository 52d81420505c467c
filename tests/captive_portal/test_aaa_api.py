"""The AAA endpoints as FreeRADIUS's rest module calls them: the token, the loopback rule, strict input,
brute-force limits, and ``Auth-Type rest`` (the password checked by netmgr)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from captive_portal import decisions
from netmgr.entrypoints.capabilities import create_app
from netmgr.metrics import DisabledMetricsStore
from netmgr.models import HotspotSession
from netmgr.models.hotspot import SessionStatus
from netmgr.settings import Settings
from netmgr.state import AppState
from tests.captive_portal.hotspot_data import Seeded, add_voucher, seed_hotspot

TOKEN = "api-test-aaa-token"
BASIC = {"Authorization": "Basic " + base64.b64encode(f"freeradius:{TOKEN}".encode()).decode()}


def _aaa_settings(settings: Settings, **radius: object) -> Settings:
    return settings.model_copy(update={
        "radius": settings.radius.model_copy(update={"aaa_token": SecretStr(TOKEN), **radius}),
        "portal": settings.portal.model_copy(update={"max_failed_attempts": 3})})


@pytest.fixture
def aaa_client(settings: Settings) -> Iterator[TestClient]:
    cfg = _aaa_settings(settings)
    state = AppState.build(cfg)
    app = create_app(cfg, state=state)
    app.state.aaa_metrics = DisabledMetricsStore()
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        yield client
    state.engine.dispose()


@pytest.fixture
def seeded(aaa_client: TestClient) -> Seeded:
    state: AppState = aaa_client.app.state.netmgr  # type: ignore[attr-defined]
    with state.session_factory() as s:
        seeded = seed_hotspot(s)
        add_voucher(s, seeded.batch, "API00001")
    # Every call names the RADIUS client FreeRADIUS matched, as the generated rest config does.
    aaa_client.params = {"client": seeded.nas.name}
    return seeded


def _request(user: str, password: str | None = None, mac: str = "46-12-1F-20-79-D7", **extra: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "User-Name": {"type": "string", "value": [user]},
        "NAS-IP-Address": {"type": "ipaddr", "value": ["127.0.0.1"]},
        "Calling-Station-Id": {"type": "string", "value": [mac]},
        "Framed-IP-Address": {"type": "ipaddr", "value": ["192.168.201.10"]},
    }
    if password is not None:
        body["User-Password"] = {"type": "string", "value": [password]}
    for key, value in extra.items():
        body[key] = {"type": "string", "value": [value]}
    return body


def test_without_the_token_the_endpoints_refuse(aaa_client: TestClient, seeded: Seeded) -> None:
    assert aaa_client.post("/api/v1/aaa/authorize", json=_request("API00001")).status_code == 401
    wrong = {"Authorization": "Basic " + base64.b64encode(b"freeradius:nope").decode()}
    assert aaa_client.post("/api/v1/aaa/authorize", json=_request("API00001"), headers=wrong).status_code == 401


def test_token_in_basic_auth_or_header_is_accepted(aaa_client: TestClient, seeded: Seeded) -> None:
    by_basic = aaa_client.post("/api/v1/aaa/authorize", json=_request("API00001"), headers=BASIC)
    by_header = aaa_client.post("/api/v1/aaa/authorize", json=_request("API00001"),
                                headers={"X-Netmgr-AAA-Token": TOKEN})

    assert by_basic.status_code == by_header.status_code == 200
    assert by_basic.json()["control:Cleartext-Password"] == "API00001"
    assert by_basic.json()["reply:Mikrotik-Rate-Limit"] == "2000k/5000k"


def test_callers_outside_the_allowed_networks_are_refused(settings: Settings) -> None:
    cfg = _aaa_settings(settings)  # default: loopback only
    state = AppState.build(cfg)
    with TestClient(create_app(cfg, state=state), client=("192.0.2.10", 50000)) as client:
        response = client.post("/api/v1/aaa/authorize", json=_request("X"), headers=BASIC)
    state.engine.dispose()

    assert response.status_code == 403


def test_aaa_is_off_until_a_token_is_configured(settings: Settings, app_state: AppState) -> None:
    with TestClient(create_app(settings, state=app_state), client=("127.0.0.1", 50000)) as client:
        response = client.post("/api/v1/aaa/accounting", json={}, headers=BASIC)

    assert response.status_code == 403
    assert "NETMGR_RADIUS__AAA_TOKEN" in response.text


@pytest.mark.parametrize("mac", ["46-12-1F-20-79", "zz:12:1f:20:79:d7", "46:12:1f:20:79:d7; rm -rf", "4612.1f20"])
def test_malformed_mac_is_rejected_with_a_reason(aaa_client: TestClient, seeded: Seeded, mac: str) -> None:
    response = aaa_client.post("/api/v1/aaa/authorize", json=_request("API00001", mac=mac), headers=BASIC)

    assert response.status_code == 401
    assert response.json() == {"reply:Reply-Message": "Permintaan tidak valid"}


def test_malformed_ip_is_rejected(aaa_client: TestClient, seeded: Seeded) -> None:
    body = _request("API00001")
    body["Framed-IP-Address"]["value"] = ["192.168.1.300"]

    assert aaa_client.post("/api/v1/aaa/authorize", json=body, headers=BASIC).status_code == 401


@pytest.mark.parametrize("mac", ["46:12:1f:20:79:d7", "4612.1f20.79d7", "46121F2079D7"])
def test_every_common_mac_form_is_accepted(aaa_client: TestClient, seeded: Seeded, mac: str) -> None:
    assert aaa_client.post("/api/v1/aaa/authorize", json=_request("API00001", mac=mac),
                           headers=BASIC).status_code == 200


def test_repeated_failures_from_one_mac_lock_it_out_even_for_a_valid_code(aaa_client: TestClient,
                                                                         seeded: Seeded) -> None:
    for n in range(3):
        response = aaa_client.post("/api/v1/aaa/authorize", json=_request(f"GUESS{n:03d}"), headers=BASIC)
        assert response.status_code == 401

    locked = aaa_client.post("/api/v1/aaa/authorize", json=_request("API00001"), headers=BASIC)
    other_device = aaa_client.post("/api/v1/aaa/authorize", json=_request("API00001", mac="AA-BB-CC-00-00-01"),
                                   headers=BASIC)

    assert locked.status_code == 401
    assert locked.json() == {"reply:Reply-Message": "Terlalu banyak percobaan, coba lagi dalam 5 menit"}
    assert other_device.status_code == 200


def test_authenticate_checks_the_password_itself(aaa_client: TestClient, seeded: Seeded) -> None:
    good = aaa_client.post("/api/v1/aaa/authenticate", json=_request("API00001", "API00001"), headers=BASIC)
    bad = aaa_client.post("/api/v1/aaa/authenticate", json=_request("API00001", "wrong"), headers=BASIC)

    assert good.status_code == 200 and "control:Cleartext-Password" not in good.json()
    assert good.json()["reply:Session-Timeout"] == 3600
    assert bad.status_code == 401
    assert bad.json() == {"reply:Reply-Message": "Kode voucher atau kata sandi salah"}


def test_unknown_nas_is_refused(aaa_client: TestClient, seeded: Seeded) -> None:
    response = aaa_client.post("/api/v1/aaa/authorize", json=_request("API00001"), headers=BASIC,
                               params={"client": "gw-not-in-the-inventory"})

    assert response.status_code == 401
    assert response.json() == {"reply:Reply-Message": "Gateway ini tidak terdaftar"}


def test_a_request_without_the_matched_radius_client_is_refused(aaa_client: TestClient, seeded: Seeded) -> None:
    aaa_client.params = {}

    response = aaa_client.post("/api/v1/aaa/authorize", json=_request("API00001"), headers=BASIC)

    assert response.status_code == 401
    assert response.json() == {"reply:Reply-Message": "Gateway ini tidak terdaftar"}


def _second_gateway(aaa_client: TestClient) -> Seeded:
    state: AppState = aaa_client.app.state.netmgr  # type: ignore[attr-defined]
    with state.session_factory() as s:
        return seed_hotspot(s, nas_address="10.20.0.1")


@pytest.mark.parametrize("claim", ["NAS-IP-Address", "NAS-Identifier"])
def test_a_gateway_claiming_to_be_another_gateway_is_refused(aaa_client: TestClient, seeded: Seeded,
                                                            claim: str) -> None:
    other = _second_gateway(aaa_client)
    body = _request("API00001")
    if claim == "NAS-IP-Address":
        body["NAS-IP-Address"]["value"] = [other.nas.mgmt_address]
    else:
        body["NAS-Identifier"] = {"type": "string", "value": [other.nas.name]}

    response = aaa_client.post("/api/v1/aaa/authorize", json=body, headers=BASIC)

    assert response.status_code == 401
    assert response.json() == {"reply:Reply-Message": "Gateway ini tidak terdaftar"}


def test_a_private_nas_address_behind_nat_is_accepted(aaa_client: TestClient, seeded: Seeded) -> None:
    _second_gateway(aaa_client)
    body = _request("API00001", **{"NAS-Identifier": "MikroTik"})
    body["NAS-IP-Address"]["value"] = ["192.168.88.1"]  # no inventory device has it

    assert aaa_client.post("/api/v1/aaa/authorize", json=body, headers=BASIC).status_code == 200


def test_accounting_on_claiming_another_gateway_leaves_its_sessions_open(aaa_client: TestClient,
                                                                        seeded: Seeded) -> None:
    other = _second_gateway(aaa_client)
    start = _request("API00001", **{"Acct-Status-Type": "Start", "Acct-Session-Id": "theirs"})
    start["NAS-IP-Address"]["value"] = [other.nas.mgmt_address]
    assert aaa_client.post("/api/v1/aaa/accounting", json=start, headers=BASIC,
                           params={"client": other.nas.name}).status_code == 204
    reboot = _request("API00001", **{"Acct-Status-Type": "Accounting-On"})
    reboot["NAS-IP-Address"]["value"] = [other.nas.mgmt_address]

    answer = aaa_client.post("/api/v1/aaa/accounting", json=reboot, headers=BASIC)  # from the first gateway

    assert answer.status_code == 204  # acknowledged, so the gateway stops resending it, and ignored
    state: AppState = aaa_client.app.state.netmgr  # type: ignore[attr-defined]
    with state.session_factory() as s:
        statuses = list(s.scalars(select(HotspotSession.status).where(HotspotSession.acct_session_id == "theirs")))
    assert statuses == [SessionStatus.ACTIVE]


@pytest.mark.parametrize("path", ["/api/v1/aaa/authorize", "/api/v1/aaa/accounting"])
@pytest.mark.parametrize("body", [b"[" * 60_000, b'{"User-Name": ' + b"[" * 60_000 + b"]" * 60_000 + b"}",
                                  b'{"Acct-Input-Octets": ' + b"9" * 60_000 + b"}"])
def test_deeply_nested_or_huge_json_is_refused_not_a_server_error(aaa_client: TestClient, seeded: Seeded,
                                                                  path: str, body: bytes) -> None:
    response = aaa_client.post(path, content=body, headers=BASIC)

    assert 400 <= response.status_code < 500


def test_portal_grant_logs_in_only_from_its_device(aaa_client: TestClient, seeded: Seeded) -> None:
    from datetime import UTC, datetime

    from netmgr.models.hotspot import LoginMethod

    state: AppState = aaa_client.app.state.netmgr  # type: ignore[attr-defined]
    with state.session_factory() as s:
        subscriber = _subscriber(s)
        user, password = decisions.issue_grant(s, hotspot_id=seeded.hotspot.id, subscriber_id=subscriber,
                                         policy_id=seeded.policy.id, method=LoginMethod.PHONE_OTP,
                                         mac="46:12:1F:20:79:D7", now=datetime.now(UTC))
        s.commit()

    mine = aaa_client.post("/api/v1/aaa/authorize", json=_request(user), headers=BASIC)
    other = aaa_client.post("/api/v1/aaa/authorize", json=_request(user, mac="AA-BB-CC-00-00-02"), headers=BASIC)

    assert mine.status_code == 200 and mine.json()["control:Cleartext-Password"] == password
    assert other.json() == {"reply:Reply-Message": "Login ini dibuat untuk perangkat lain"}


def _subscriber(s: Session) -> int:
    from datetime import UTC, datetime

    from captive_portal.sessions import subscriber_for
    from netmgr.models.hotspot import LoginMethod

    return subscriber_for(s, "phone:abc123", LoginMethod.PHONE_OTP, datetime.now(UTC)).id


def test_oversized_or_non_json_bodies_are_refused_with_a_reason(aaa_client: TestClient, seeded: Seeded) -> None:
    huge = aaa_client.post("/api/v1/aaa/accounting", content=b"{" + b" " * (70 * 1024) + b"}", headers=BASIC)
    assert huge.status_code == 422 and "over 65536 bytes" in huge.json()["detail"]
    garbage = aaa_client.post("/api/v1/aaa/accounting", content=b"not json", headers=BASIC)
    assert garbage.status_code == 422 and "not JSON" in garbage.json()["detail"]


def test_an_unexpected_failure_answers_500_without_details(aaa_client: TestClient, seeded: Seeded,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from captive_portal import aaa

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(aaa, "parse_accounting_request", broken)
    answer = aaa_client.post("/api/v1/aaa/accounting", json=_request("API00001", **{"Acct-Status-Type": "Start"}),
                             headers=BASIC)
    assert answer.status_code == 500 and "secret internals" not in answer.text
