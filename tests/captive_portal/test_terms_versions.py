"""Versioned terms of use and privacy text per hotspot: each edit is a new kept version, the portal shows the
current one, a citizen's consent names the version accepted (UU PDP evidence), and the admin sees the past ones
in the UI, the API and the CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from captive_portal import management, privacy, terms
from captive_portal.schemas import HotspotUpdate
from netmgr.entrypoints.cli import app as cli_app
from netmgr.errors import ValidationFailed
from netmgr.models import ConsentRecord, HotspotTermsVersion
from netmgr.models.enums import Role
from netmgr.security.permissions import SYSTEM
from netmgr.services import users
from netmgr.settings import Settings, get_settings
from tests import factories
from tests.captive_portal import portal_support as ps
from tests.conftest import TEST_ENCRYPTION_KEY
from tests.netmgr.web.helpers import login, signed_in_csrf

PRIVACY_V2 = "Data Anda dipakai hanya untuk layanan WiFi ini.\n\nHubungi Diskominfo untuk menghapusnya."


def _update(session: Session, hotspot_id: int, **values: object) -> None:
    management.update_hotspot(session, SYSTEM, hotspot_id, HotspotUpdate.model_validate(values),
                              now=datetime.now(UTC), default_coa_port=3799)
    session.commit()


def test_each_change_of_the_texts_needs_a_new_version_and_every_version_is_kept(session: Session) -> None:
    h = ps.hotspot(session)
    with pytest.raises(ValidationFailed) as same:
        _update(session, h.id, privacy_text=PRIVACY_V2)  # same version 2026-01
    assert same.value.field == "terms_version"
    session.rollback()
    _update(session, h.id, terms_version="2026-02", privacy_text=PRIVACY_V2)
    _update(session, h.id, terms_version="2026-03", terms_text="Gunakan dengan bijak.")
    with pytest.raises(ValidationFailed, match="used before"):
        _update(session, h.id, terms_version="2026-01", terms_text="Lagi.")
    session.rollback()
    kept = terms.list_versions(session, SYSTEM, h.id)
    assert [(v.version, v.terms_text, v.privacy_text) for v in kept] == [
        ("2026-03", "Gunakan dengan bijak.", PRIVACY_V2), ("2026-02", "", PRIVACY_V2), ("2026-01", "", "")]


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_the_portal_shows_the_current_version_and_a_consent_names_it(client: TestClient, session: Session,
                                                                      settings: Settings) -> None:
    h = ps.hotspot(session)
    _update(session, h.id, terms_version="2026-02", privacy_text=PRIVACY_V2)
    page = client.get(f"/portal/{h.slug}/privacy")
    assert "Data Anda dipakai hanya untuk layanan WiFi ini." in page.text and "Versi 2026-02" in page.text
    assert "Versi 2026-02" in client.get(f"/portal/{h.slug}/terms").text

    assert client.get(f"/portal/{h.slug}/?{ps.mikrotik_query()}", follow_redirects=False).status_code == 303
    csrf = _csrf(client.get(f"/portal/{h.slug}/").text)
    r = client.post(f"/portal/{h.slug}/terms", data={"csrf_token": csrf, "accept": "yes"}, follow_redirects=False)
    assert r.status_code == 303
    consent = session.scalar(select(ConsentRecord).where(ConsentRecord.hotspot_id == h.id))
    assert consent is not None and consent.terms_version == "2026-02"
    accepted = session.get(HotspotTermsVersion, consent.terms_version_id)
    assert accepted is not None and accepted.version == "2026-02" and accepted.privacy_text == PRIVACY_V2
    exported = privacy.export_person(session, SYSTEM, mac=ps.CLIENT_MAC,
                                     secret_key=settings.secret_key.get_secret_value())
    assert exported["consents"][0]["terms_version_id"] == accepted.id  # the citizen's copy names it too


def test_the_api_changes_the_texts_and_lists_past_versions(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    user = factories.user(session, role=Role.OPERATOR)
    _, plain = users.create_api_token(session, users.actor_for(user), name="tests")
    session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    same = client.patch(f"/api/v1/hotspots/{h.id}", json={"privacy_text": PRIVACY_V2}, headers=headers)
    assert same.status_code == 422 and "terms_version" in same.text
    ok = client.patch(f"/api/v1/hotspots/{h.id}", json={"privacy_text": PRIVACY_V2, "terms_version": "2026-02"},
                      headers=headers)
    assert ok.status_code == 200 and ok.json()["privacy_text"] == PRIVACY_V2
    listed = client.get(f"/api/v1/hotspots/{h.id}/terms-versions", headers=headers)
    assert [(v["version"], v["privacy_text"]) for v in listed.json()] == [("2026-02", PRIVACY_V2), ("2026-01", "")]
    assert client.get("/api/v1/hotspots/999999/terms-versions", headers=headers).status_code == 404


def test_the_admin_edits_the_privacy_text_and_opens_a_past_version(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    user = factories.user(session, role=Role.OPERATOR)
    assert login(client, user.username).status_code == 303
    csrf = signed_in_csrf(client)
    form = {"csrf_token": csrf, "name": h.name, "slug": h.slug, "site_id": str(h.site_id),
            "gateway_device_id": str(h.gateway_device_id), "nas_dialect": "mikrotik", "login_methods": ["voucher"],
            "terms_version": "2026-01", "privacy_text": PRIVACY_V2}
    same = client.post(f"/portal-admin/hotspots/{h.id}/edit", data=form)
    assert same.status_code == 422 and "Periksa “Versi syarat”" in same.text
    ok = client.post(f"/portal-admin/hotspots/{h.id}/edit", data=form | {"terms_version": "2026-02"},
                     follow_redirects=False)
    assert ok.status_code == 303, ok.text
    detail = client.get(f"/portal-admin/hotspots/{h.id}").text
    links = {v: i for i, v in re.findall(rf'href="/portal-admin/hotspots/{h.id}/terms/(\d+)">([^<]+)<', detail)}
    assert list(links) == ["2026-02", "2026-01"]
    old = client.get(f"/portal-admin/hotspots/{h.id}/terms/{links['2026-01']}")
    assert old.status_code == 200 and "Data Anda dipakai" not in old.text
    new = client.get(f"/portal-admin/hotspots/{h.id}/terms/{links['2026-02']}")
    assert "Data Anda dipakai hanya untuk layanan WiFi ini." in new.text


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> Iterator[None]:
    for name, value in {"NETMGR_DATABASE_URL": database_url, "NETMGR_DATA_DIR": str(tmp_path / "cli-data"),
                        "NETMGR_ENCRYPTION_KEYS": TEST_ENCRYPTION_KEY, "NETMGR_ENVIRONMENT": "test",
                        "NETMGR_SECRET_KEY": "test-secret-key-for-signing-cookies", "COLUMNS": "200"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("NETMGR_CONFIG_FILE", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_cli_publishes_a_version_and_lists_them(session: Session, cli_env: None, tmp_path: Path) -> None:
    h = ps.hotspot(session)
    text = tmp_path / "privasi.txt"
    text.write_text(PRIVACY_V2, encoding="utf-8")
    run = CliRunner().invoke
    same = run(cli_app, ["hotspot", "terms-set", str(h.id), "--version", "2026-01", "--privacy-file", str(text)])
    assert same.exit_code == 1 and "terms_version" in same.output
    ok = run(cli_app, ["hotspot", "terms-set", str(h.id), "--version", "2026-02", "--privacy-file", str(text)])
    assert ok.exit_code == 0 and "2026-02" in ok.output, ok.output
    listed = run(cli_app, ["hotspot", "terms-versions", str(h.id)])
    assert listed.exit_code == 0 and listed.output.index("2026-02") < listed.output.index("2026-01")
    shown = run(cli_app, ["hotspot", "terms-versions", str(h.id), "--show", "2026-02"])
    assert "Hubungi Diskominfo untuk menghapusnya." in shown.output
