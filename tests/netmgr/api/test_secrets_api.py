"""Secrets given to the API are stored only as ciphertext and never come back: not in any response, not in logs."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.logging import SecretScrubber
from netmgr.models import Device
from netmgr.models.enums import Role
from tests.netmgr.api.conftest import World

API = "/api/v1"
PLAINTEXTS = {
    "snmp_community": "Komunitas-Rahasia-7731",
    "snmp_v3_auth_key": "AuthKunci-Sha-5529",
    "snmp_v3_priv_key": "PrivKunci-Aes-8812",
    "ssh_password": "SandiSsh-Router-4410",
    "radius_secret": "RadiusRahasia-Nas-3307",
}
CHANGED_SSH_PASSWORD = "SandiSsh-Baru-6621"
USER_PASSWORD = "Sandi-Pengguna-Baru-9034"
ALL_PLAINTEXTS = [*PLAINTEXTS.values(), CHANGED_SSH_PASSWORD, USER_PASSWORD]
ENCRYPTED_COLUMNS = [c.name for c in Device.__table__.columns if c.name.endswith("_encrypted")]


def test_device_secrets_are_ciphertext_at_rest_and_never_in_responses_or_logs(
    client: TestClient, world: World, session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(SecretScrubber())
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every SQL statement with its parameters
    caplog.set_level(logging.DEBUG)  # after the line above: set_level also sets the handler's level
    logging.getLogger("netmgr").debug("canary-record ssh_password=%s", "Canary-Secret-0001")
    h = world.headers(Role.OPERATOR)
    responses = []

    def call(method: str, url: str, **kwargs: object) -> dict[str, object]:
        response = client.request(method, url, headers=h, **kwargs)  # type: ignore[arg-type]
        assert response.status_code < 300, response.text
        responses.append(f"{method} {url}: {response.text}")
        return response.json() if response.content else {}

    v2c = call("POST", f"{API}/devices", json={
        "name": "gw-alun-alun", "site_id": world.own_site, "role": "hotspot_gateway",
        "platform": "mikrotik_routeros", "mgmt_address": "10.60.0.1", "snmp_community": PLAINTEXTS["snmp_community"],
        "ssh_username": "netmgr", "ssh_password": PLAINTEXTS["ssh_password"],
        "radius_secret": PLAINTEXTS["radius_secret"]})
    v3 = call("POST", f"{API}/devices", json={
        "name": "core-diskominfo", "site_id": world.own_site, "role": "core_router", "platform": "cisco_ios",
        "mgmt_address": "10.60.0.2", "snmp_version": "v3", "snmp_v3_user": "netmgr",
        "snmp_v3_auth_key": PLAINTEXTS["snmp_v3_auth_key"], "snmp_v3_priv_key": PLAINTEXTS["snmp_v3_priv_key"],
        "ssh_password": PLAINTEXTS["ssh_password"]})
    assert v2c["has_snmp_community"] and v2c["has_ssh_password"] and v2c["has_radius_secret"]
    assert v3["has_snmp_v3_keys"] and v3["snmp_v3_auth_protocol"] == "sha"
    call("PATCH", f"{API}/devices/{v3['id']}", json={"ssh_password": CHANGED_SSH_PASSWORD, "notes": "baru"})
    admin = world.headers(Role.ADMIN)
    created_user = client.post(f"{API}/users", headers=admin,
                               json={"username": "teknisi", "password": USER_PASSWORD, "role": "operator"})
    responses.append(created_user.text)
    for url in (f"{API}/devices", f"{API}/devices/{v2c['id']}", f"{API}/devices/{v3['id']}",
                f"{API}/devices?q=core", f"{API}/sites/{world.own_site}"):
        call("GET", url)
    for url in (f"{API}/audit?limit=1000", f"{API}/audit?entity_type=device", f"{API}/users"):
        responses.append(client.get(url, headers=admin).text)
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    if f"{API}/inventory/export/{{kind}}" in paths:
        for fmt in ("csv", "yaml"):
            export = client.get(f"{API}/inventory/export/devices", params={"format": fmt}, headers=admin)
            assert export.status_code == 200, export.text
            assert "gw-alun-alun" in export.text
            responses.append(export.text)

    # At rest: every secret column holds Fernet ciphertext, and the plaintext appears nowhere in the row.
    rows = session.execute(sa.text(f"SELECT name, {', '.join(ENCRYPTED_COLUMNS)} FROM devices "  # noqa: S608
                                   "WHERE name IN ('gw-alun-alun', 'core-diskominfo') ORDER BY name")).all()
    stored = {row[0]: dict(zip(ENCRYPTED_COLUMNS, row[1:], strict=True)) for row in rows}
    assert {k for k, v in stored["gw-alun-alun"].items() if v} == {
        "snmp_community_encrypted", "ssh_password_encrypted", "radius_secret_encrypted"}
    assert {k for k, v in stored["core-diskominfo"].items() if v} == {
        "snmp_v3_auth_key_encrypted", "snmp_v3_priv_key_encrypted", "ssh_password_encrypted"}
    for columns in stored.values():
        for column, value in columns.items():
            assert value is None or value.startswith("gAAAAA"), column
    raw_dump = str(session.execute(sa.text("SELECT * FROM devices")).all())
    raw_dump += str(session.execute(sa.text("SELECT * FROM audit_log")).all())
    raw_dump += str(session.execute(sa.text("SELECT * FROM users")).all())

    # The API gave back booleans only; the audit log shows masks.
    body = "\n".join(responses)
    assert "********" in body and '"has_ssh_password":true' in body
    assert "gAAAAA" not in body
    logs = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    # Records are captured, the scrubber is on, and SQL reached the log (so the checks below mean something).
    assert "canary-record ssh_password=********" in logs and "Canary-Secret-0001" not in logs
    assert "INSERT INTO devices" in logs
    for plain in ALL_PLAINTEXTS:
        assert plain not in raw_dump, f"{plain} stored in clear"
        assert plain not in body, f"{plain} leaked in a response"
        assert plain not in logs, f"{plain} leaked in a log record"
