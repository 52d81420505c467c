"""Every catalog text an Indonesian page asks for has an Indonesian translation: the test walks the admin UI's
pages with lang=id, records each msgid the pages look up (core, portal and provisioning catalogs), and fails
on any that no catalog translates (a missing entry or an empty msgstr)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from babel.support import NullTranslations
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from captive_portal import i18n as portal_i18n
from captive_portal import vouchers
from netmgr import formats
from netmgr.models.enums import Role
from netmgr.security.permissions import SYSTEM
from netmgr.services import audit
from provisioning import pages as provisioning_pages
from tests import factories
from tests.captive_portal import portal_support as ps
from tests.netmgr.web.helpers import login

PAGES = ["/", "/agencies", "/sites", "/devices", "/uplinks", "/import", "/devices/new", "/sites/new",
         "/agencies/new", "/uplinks/new", "/audit", "/users", "/users/new", "/monitoring", "/alerts", "/plans",
         "/requests", "/reports", "/reports/budget", "/portal-admin", "/portal-admin/vouchers",
         "/portal-admin/hotspots/new", "/portal-admin/policies/new",
         "/portal-admin/sessions", "/portal-admin/usage", "/portal-admin/people", "/provisioning",
         "/provisioning/templates", "/provisioning/templates/new", "/provisioning/backups", "/provisioning/drift",
         "/provisioning/jobs/new"]


def _indonesian_catalogs() -> list[NullTranslations]:
    return [formats.translations("id"), portal_i18n.translations("id"), provisioning_pages.catalog("id")]


def _translated(msgid: str) -> bool:
    for catalog in _indonesian_catalogs():
        text = getattr(catalog, "_catalog", {}).get(msgid)
        if text:
            return True
    return False


@pytest.fixture
def looked_up(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """Every msgid any Indonesian catalog is asked for while the test runs."""
    seen: set[str] = set()
    for catalog in _indonesian_catalogs():
        gettext, ngettext = catalog.gettext, catalog.ngettext

        def recording_gettext(message: str, gettext=gettext) -> str:  # type: ignore[no-untyped-def]
            seen.add(message)
            return gettext(message)

        def recording_ngettext(singular: str, plural: str, n: int, ngettext=ngettext) -> str:  # type: ignore[no-untyped-def]
            seen.add(singular)
            return ngettext(singular, plural, n)

        monkeypatch.setattr(catalog, "gettext", recording_gettext)
        monkeypatch.setattr(catalog, "ngettext", recording_ngettext)
    yield seen


def test_every_text_on_the_indonesian_pages_comes_translated_from_a_catalog(
        client: TestClient, session: Session, looked_up: set[str]) -> None:
    agency = factories.agency(session, code="DISKOMINFO", name="Dinas Komunikasi dan Informatika")
    site = factories.site(session, agency_id=agency.id, name="Kantor Diskominfo")
    device = factories.device(session, site_id=site.id, name="core-diskominfo")
    uplink = factories.uplink(session, name="telkom-astinet")
    h = ps.hotspot(session)
    # audit entries of other kinds than the core's: their kinds are shown on the audit page
    vouchers.create_batch(session, SYSTEM, name="Car free day", policy_id=h.default_policy_id or 0, count=2,
                          hotspot_id=h.id)
    session.commit()
    factories.user(session, username="admin1", role=Role.ADMIN)
    login(client, "admin1")
    client.cookies.set("netmgr_lang", "id")
    for path in [*PAGES, f"/agencies/{agency.id}", f"/sites/{site.id}", f"/devices/{device.id}",
                 f"/devices/{device.id}/edit", f"/uplinks/{uplink.id}", f"/portal-admin/hotspots/{h.id}"]:
        r = client.get(path, params={"lang": "id"})
        assert r.status_code in (200, 404), (path, r.status_code)
    assert len(looked_up) > 200, "the walk did not render the pages through the catalogs"
    missing = sorted(m for m in looked_up if not _translated(m))
    assert not missing, f"shown on Indonesian pages without an Indonesian translation: {missing}"


def test_audit_entries_read_in_indonesian(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    vouchers.create_batch(session, SYSTEM, name="Car free day", policy_id=h.default_policy_id or 0, count=2,
                          hotspot_id=h.id)
    session.commit()
    factories.user(session, username="admin1", role=Role.ADMIN)
    login(client, "admin1")
    # a sentence the page could not translate while entries were stored as English text: the policy change
    audit.record(session, SYSTEM, action="update", entity_type="hotspot_policy", entity_id=1,
                 message="hotspot_policy.changed", params={"name": "Gratis 1 jam", "affected": 3})
    session.commit()
    html = client.get("/audit", params={"lang": "id"}).text
    assert "admin1 masuk" in html and "admin1 signed in" not in html
    assert "batch voucher Car free day: 2 kode" in html and "Batch voucher" in html
    assert "· voucher_batch" not in html and "· Batch voucher #" in html
    assert "mengubah kebijakan Gratis 1 jam: 3 sesi melewati batas baru" in html and "Kebijakan hotspot" in html
    assert "session(s) over the new limits" not in html
    english = client.get("/audit", params={"lang": "en"}).text
    assert "admin1 signed in" in english and "changed policy Gratis 1 jam: 3 session(s) over the new limits" in english
