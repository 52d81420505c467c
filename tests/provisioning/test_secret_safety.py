"""No person gets a device secret out of provisioning, and an approved job pushes only what was approved.

Against RouterOS simulators and a real database (SQLite and PostgreSQL), through the API as finance,
operators and admins would use it: previews, dry runs, job logs and errors, with templates that try to
dodge masking by transforming the secret.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient
from netmiko import ConnectHandler
from sqlalchemy.orm import Session

from netmgr.demo.simulators.sshsim import SimulatorHandle
from netmgr.models.enums import DeviceRole, Platform
from tests import factories
from tests.netmgr.web.helpers import login, signed_in_csrf
from tests.provisioning.api_support import API, PASSWORD, People, TaskRunner, wait_for_job

COMMUNITY = "k0mun1tas-Rahasia"
RADIUS = "R4dius-Sangat-Rahasia"
V3_AUTH = "Auth-Key-Kabupaten-9"
SECRETS = (COMMUNITY, RADIUS, PASSWORD, V3_AUTH)

# Each line tries another way round keyword masking; every one must render a placeholder only.
DODGES = "\n".join([
    "/snmp set enabled=yes contact={{ inventory.snmp_community }} location={{ community|list|join('.') }}",
    "/snmp community add name={{ inventory.snmp_community|reverse }} addresses=10.0.0.0/8",
    "/snmp community add name={{ inventory.radius_secret|list|join('.') }} addresses=10.0.0.0/8",
    "/snmp community add name={{ inventory.radius_secret|reverse|upper }} addresses=10.0.0.0/8",
    "/snmp community add name={{ inventory.snmp_community[:6] ~ '-' ~ inventory.snmp_community[6:] }} "
    "addresses=10.0.0.0/8",
    "/snmp community add name=x{{ inventory.snmp_community|list|join('--') }} addresses=10.0.0.0/8",
    "/snmp community add name={{ inventory.radius_secret|urlencode }} addresses=10.0.0.0/8",
    "",
])
# Fails only when rendered with the real value, so its error would carry the secret (reversed).
FAILS_ON_REAL_VALUE = ("/snmp set contact={% if inventory.snmp_community != '<secret:snmp_community>' %}"
                       "{{ {}[inventory.snmp_community|reverse] }}{% endif %}\n")


def _forms(secret: str) -> set[str]:
    return {secret, secret[::-1], ".".join(secret), "-".join(secret),
            base64.b64encode(secret.encode()).decode().rstrip("="), secret.encode().hex()}


def assert_no_secret(text: str) -> None:
    """None of the device's secrets, plain or transformed (reversed, dotted, base64, hex, any case), in ``text``."""
    lowered = text.lower()
    for secret in SECRETS:
        for form in _forms(secret):
            assert form.lower() not in lowered, f"a form of a device secret leaked: {form!r}"


@pytest.fixture
def secret_ap(session: Session, ap_fleet: list[SimulatorHandle]) -> int:
    """An access point whose inventory holds every kind of secret."""
    site = factories.site(session, name="Alun-alun Sampit")
    handle = ap_fleet[0]
    return factories.device(session, site_id=site.id, name="ap-alun-1", mgmt_address=handle.host,
                            ssh_port=handle.port, ssh_username="admin", ssh_password=PASSWORD,
                            snmp_community=COMMUNITY, radius_secret=RADIUS, snmp_v3_auth_key=V3_AUTH,
                            platform=Platform.MIKROTIK_ROUTEROS, role=DeviceRole.ACCESS_POINT).id


def _push_shipped_snmp(client: TestClient, people: People, runner: TaskRunner) -> None:
    """Put the real community on the device and back it up, so running configs and backups hold it."""
    admin = people.headers("admin")
    job = client.post(f"{API}/jobs", json={"purpose": "snmp", "targets": {"devices": ["ap-alun-1"]},
                                           "variables": {"contact": "NOC"}, "dry_run": False}, headers=admin).json()
    client.post(f"{API}/jobs/{job['id']}/approve", headers=admin).raise_for_status()
    client.post(f"{API}/jobs/{job['id']}/run", headers=admin).raise_for_status()
    assert wait_for_job(client, job["id"], admin)["results"][0]["status"] == "changed"


def _export(handle: SimulatorHandle) -> str:
    conn = ConnectHandler(**handle.netmiko_params())
    try:
        text = str(conn.send_command("/export terse"))
    finally:
        conn.disconnect()
    return "\n".join(line for line in text.splitlines() if not line.startswith("#"))


def test_no_role_gets_a_device_secret_out_of_a_template_preview_in_any_form(
        client: TestClient, people: People, runner: TaskRunner, secret_ap: int) -> None:
    _push_shipped_snmp(client, people, runner)
    client.post(f"{API}/devices/{secret_ap}/backups", headers=people.headers("admin")).raise_for_status()
    runner.wait()
    request: dict[str, Any] = {"device_id": secret_ap, "purpose": "snmp", "variables": {"contact": "NOC"}}

    refused = client.post(f"{API}/templates/preview", json={**request, "body": DODGES},
                          headers=people.headers("finance"))
    assert refused.status_code == 403, "finance does not preview templates at all"
    for who in ("op1", "admin"):
        shown = client.post(f"{API}/templates/preview", json={**request, "body": DODGES}, headers=people.headers(who))
        assert shown.status_code == 200, shown.text
        assert "<secret:snmp_community>" in shown.json()["rendered"]
        assert shown.json()["backup_id"] is not None and shown.json()["diff"]
        assert_no_secret(shown.text)
        shipped = client.post(f"{API}/templates/preview", json=request, headers=people.headers(who))
        assert shipped.status_code == 200, shipped.text
        assert_no_secret(shipped.text)
        broken = client.post(f"{API}/templates/preview",
                             json={**request, "body": "/snmp set contact={{ {}[inventory.snmp_community|reverse] }}"},
                             headers=people.headers(who))
        assert broken.status_code == 422
        assert_no_secret(broken.text)


def test_the_html_template_preview_refuses_finance_and_shows_operators_placeholders(
        client: TestClient, people: People, runner: TaskRunner, secret_ap: int) -> None:
    _push_shipped_snmp(client, people, runner)
    for who in ("finance", "op1", "admin"):
        browser = TestClient(client.app)
        assert login(browser, people.names[who]).status_code == 303
        response = browser.post("/provisioning/templates/preview",
                                data={"device_id": str(secret_ap), "purpose": "snmp", "body": DODGES,
                                      "csrf_token": signed_in_csrf(browser)})
        if who == "finance":
            assert response.status_code == 403
            continue
        assert response.status_code == 200 and "secret:snmp_community" in response.text
        assert_no_secret(response.text)


def test_dry_run_diffs_and_job_logs_show_no_secret_in_any_form(
        client: TestClient, people: People, runner: TaskRunner, secret_ap: int) -> None:
    _push_shipped_snmp(client, people, runner)
    op1 = people.headers("op1")
    saved = client.post(f"{API}/templates", json={"name": "dodge", "platform": "mikrotik_routeros",
                                                   "purpose": "snmp", "body": DODGES}, headers=op1)
    assert saved.status_code == 201, saved.text
    job = client.post(f"{API}/jobs", json={"purpose": "snmp", "targets": {"devices": ["ap-alun-1"]},
                                           "template_name": "dodge", "dry_run": True}, headers=op1).json()
    done = wait_for_job(client, job["id"], op1)
    assert done["results"][0]["status"] == "dry_run", done["results"][0]
    assert "<secret:snmp_community>" in done["results"][0]["diff"]
    for who in ("finance", "op1", "op2", "admin"):
        answer = client.get(f"{API}/jobs/{job['id']}", headers=people.headers(who))
        assert answer.status_code == 200
        assert_no_secret(answer.text)
        browser = TestClient(client.app)
        assert login(browser, people.names[who]).status_code == 303
        page = browser.get(f"/provisioning/jobs/{job['id']}")
        assert page.status_code == 200 and "secret:snmp_community" in page.text
        assert_no_secret(page.text)


def test_an_error_from_a_render_with_real_secrets_is_masked_by_value(
        client: TestClient, people: People, runner: TaskRunner, secret_ap: int) -> None:
    admin = people.headers("admin")
    client.post(f"{API}/templates", json={"name": "probe", "platform": "mikrotik_routeros", "purpose": "snmp",
                                          "body": FAILS_ON_REAL_VALUE}, headers=admin).raise_for_status()
    job = client.post(f"{API}/jobs", json={"purpose": "snmp", "targets": {"devices": ["ap-alun-1"]},
                                           "template_name": "probe", "dry_run": False}, headers=admin).json()
    client.post(f"{API}/jobs/{job['id']}/approve", headers=admin).raise_for_status()
    client.post(f"{API}/jobs/{job['id']}/run", headers=admin).raise_for_status()
    done = wait_for_job(client, job["id"], admin)
    assert done["results"][0]["status"] == "failed" and "<secret:snmp_community>" in done["results"][0]["error"]
    for who in ("finance", "op1", "admin"):
        assert_no_secret(client.get(f"{API}/jobs/{job['id']}", headers=people.headers(who)).text)


def test_a_template_edited_after_approval_voids_the_approval_and_nothing_is_pushed(
        client: TestClient, people: People, runner: TaskRunner, secret_ap: int,
        ap_fleet: list[SimulatorHandle]) -> None:
    op1, admin = people.headers("op1"), people.headers("admin")
    body = "/snmp set enabled=yes contact={{ contact | q }}\n"
    template = client.post(f"{API}/templates", json={"name": "noc", "platform": "mikrotik_routeros",
                                                      "purpose": "snmp", "body": body}, headers=op1).json()
    job = client.post(f"{API}/jobs", json={"purpose": "snmp", "targets": {"devices": ["ap-alun-1"]},
                                           "template_name": "noc", "variables": {"contact": "NOC"},
                                           "dry_run": False}, headers=op1).json()
    client.post(f"{API}/jobs/{job['id']}/approve", headers=admin).raise_for_status()
    client.put(f"{API}/templates/{template['id']}", json={"body": body + "/snmp set location=\"diubah\"\n"},
               headers=op1).raise_for_status()
    before = _export(ap_fleet[0])

    client.post(f"{API}/jobs/{job['id']}/run", headers=op1).raise_for_status()
    runner.wait()
    assert _export(ap_fleet[0]) == before, "nothing is pushed once the approved template changed"
    assert runner.results[-1]["status"] == "refused"
    assert "changed after it was approved" in runner.results[-1]["error"]
    voided = client.get(f"{API}/jobs/{job['id']}", headers=op1).json()
    assert voided["status"] == "pending" and voided["approved_by"] is None
    assert "approve it again" in voided["summary"]
    browser = TestClient(client.app)
    assert login(browser, people.names["admin"]).status_code == 303
    assert "approve it again" in browser.get(f"/provisioning/jobs/{job['id']}").text
    assert client.post(f"{API}/jobs/{job['id']}/run", headers=op1).status_code == 422, "no run without approval"

    client.post(f"{API}/jobs/{job['id']}/approve", headers=admin).raise_for_status()
    client.post(f"{API}/jobs/{job['id']}/run", headers=op1).raise_for_status()
    assert wait_for_job(client, job["id"], op1)["results"][0]["status"] == "changed"
    assert 'location="diubah"' in _export(ap_fleet[0]) or "location=diubah" in _export(ap_fleet[0])
