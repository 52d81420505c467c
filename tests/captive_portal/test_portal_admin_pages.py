"""The hotspot pages in the admin UI: settings, voucher batches and their PDF, live sessions, usage, PDP."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from netmgr.models import (
    AuditLog,
    ConsentRecord,
    Hotspot,
    HotspotPolicy,
    HotspotSession,
    PortalConfig,
    Voucher,
    VoucherBatch,
)
from netmgr.models.enums import Role
from netmgr.models.hotspot import SessionStatus
from netmgr.settings import Settings
from tests import factories
from tests.captive_portal import portal_support as ps
from tests.netmgr.web.helpers import login, signed_in_csrf
from tests.zones import ZONES, local


def _admin(client: TestClient, session: Session, role: Role = Role.OPERATOR) -> str:
    user = factories.user(session, role=role)
    assert login(client, user.username).status_code == 303
    return signed_in_csrf(client)


def test_hotspots_appear_in_the_admin_nav_in_indonesian(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    _admin(client, session)
    page = client.get("/portal-admin")
    assert page.status_code == 200
    assert 'href="/portal-admin"' in page.text and h.name in page.text
    assert "Cara masuk" in page.text or "Login methods" not in page.text


def test_finance_cannot_open_hotspot_admin(client: TestClient, session: Session) -> None:
    _admin(client, session, Role.FINANCE)
    assert client.get("/portal-admin/vouchers").status_code == 403


def test_portal_settings_are_validated_saved_and_audited(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    csrf = _admin(client, session)
    bad = client.post(f"/portal-admin/hotspots/{h.id}", data={
        "csrf_token": csrf, "gateway_kind": "mikrotik", "gateway_hosts": "evil/host", "free_logins_per_day": "1",
        "default_language": "id", "terms_version": "2", "terms_text": ""})
    assert bad.status_code == 422
    ok = client.post(f"/portal-admin/hotspots/{h.id}", data={
        "csrf_token": csrf, "gateway_kind": "opennds", "gateway_hosts": "192.168.201.1:2050",
        "faskey": "new-secret-key", "free_logins_per_day": "2", "default_language": "en",
        "login_methods": ["click_through", "voucher"], "terms_version": "2026-02", "terms_text": "Be nice.",
        "primary_color": "#aa0000"}, follow_redirects=False)
    assert ok.status_code == 303
    session.expire_all()
    config = session.scalar(select(PortalConfig).where(PortalConfig.hotspot_id == h.id))
    assert config is not None and config.gateway_kind == "opennds" and config.free_logins_per_day == 2
    assert config.faskey_encrypted and "new-secret-key" not in config.faskey_encrypted
    entry = session.scalar(select(AuditLog).where(AuditLog.entity_type == "hotspot_portal"))
    assert entry is not None and "new-secret-key" not in json.dumps(entry.after)


def test_voucher_batch_generate_print_and_revoke(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    csrf = _admin(client, session)
    r = client.post("/portal-admin/vouchers", data={"csrf_token": csrf, "name": "HUT Kota", "count": "10",
                                                    "policy_id": str(h.default_policy_id), "hotspot_id": str(h.id)},
                    follow_redirects=False)
    assert r.status_code == 303
    batch = session.scalar(select(VoucherBatch))
    assert batch is not None and batch.count == 10
    pdf = client.get(f"/portal-admin/vouchers/{batch.id}.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    r = client.post(f"/portal-admin/vouchers/{batch.id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert session.scalar(select(func.count()).select_from(Voucher).where(Voucher.status == "revoked")) == 10
    no_csrf = client.post(f"/portal-admin/vouchers/{batch.id}/revoke", data={})
    assert no_csrf.status_code == 403


@pytest.mark.parametrize("tz", ZONES)
def test_a_voucher_batchs_use_before_date_ends_at_local_midnight(client: TestClient, session: Session,
                                                                 settings: Settings, tz: str) -> None:
    settings.timezone = tz
    h = ps.hotspot(session)
    csrf = _admin(client, session)
    r = client.post("/portal-admin/vouchers", data={"csrf_token": csrf, "name": "Akhir bulan", "count": "1",
                                                    "policy_id": str(h.default_policy_id), "valid_until": "2026-01-31"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    batch = session.scalar(select(VoucherBatch))
    assert batch is not None and batch.valid_until == local(tz, 2026, 1, 31, 23, 59)


def test_live_sessions_and_usage_pages_list_what_is_online(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    session.add(HotspotSession(hotspot_id=h.id, nas_device_id=h.gateway_device_id, acct_session_id="L1",
                               mac=ps.CLIENT_MAC, ip=ps.CLIENT_IP, status=SessionStatus.ACTIVE,
                               output_octets=2_500_000_000))
    session.commit()
    _admin(client, session)
    sessions = client.get("/portal-admin/sessions").text
    assert "46:12:1F:••:••:D7" in sessions and ps.CLIENT_MAC not in sessions  # masked on screen
    usage = client.get("/portal-admin/usage").text
    assert re.search(r"<td>" + re.escape(h.name) + r'</td><td class="num">1</td><td class="num">1</td>', usage)


def test_citizen_data_can_be_exported_and_erased_from_the_admin(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    session.add(ConsentRecord(hotspot_id=h.id, mac=ps.CLIENT_MAC, terms_version="1"))
    session.commit()
    csrf = _admin(client, session)
    exported = client.post("/portal-admin/people/export", data={"csrf_token": csrf, "mac": ps.CLIENT_MAC})
    assert exported.json()["consents"][0]["mac"] == ps.CLIENT_MAC
    erased = client.post("/portal-admin/people/erase", data={"csrf_token": csrf, "mac": ps.CLIENT_MAC})
    assert 'id="erased"' in erased.text
    assert session.scalar(select(func.count()).select_from(ConsentRecord)) == 0


def test_a_new_hotspot_form_names_the_wrong_field_in_indonesian(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    csrf = _admin(client, session)
    form = {"csrf_token": csrf, "name": "Alun-alun", "slug": "Alun Alun", "site_id": str(h.site_id),
            "gateway_device_id": str(h.gateway_device_id), "nas_dialect": "mikrotik", "login_methods": ["voucher"],
            "terms_version": "1"}
    bad = client.post("/portal-admin/hotspots/new", data=form)
    assert bad.status_code == 422 and "Periksa “Alamat portal”" in bad.text
    taken = client.post("/portal-admin/hotspots/new", data=form | {"name": h.name, "slug": "alun-alun"})
    assert taken.status_code == 422 and "Sudah dipakai" in taken.text
    ok = client.post("/portal-admin/hotspots/new", data=form | {"slug": "alun-alun"}, follow_redirects=False)
    assert ok.status_code == 303
    assert "Hotspot Alun-alun dibuat." in client.get(ok.headers["location"]).text


def test_revoking_batches_asks_first_and_switching_off_closes_the_portal(client: TestClient,
                                                                        session: Session) -> None:
    h = ps.hotspot(session)
    csrf = _admin(client, session)
    for name in ("A", "B"):
        client.post("/portal-admin/vouchers", data={"csrf_token": csrf, "name": name, "count": "3",
                                                    "policy_id": str(h.default_policy_id), "price_idr": "2500"})
    ids = [str(b.id) for b in session.scalars(select(VoucherBatch))]
    asked = client.post("/portal-admin/vouchers/revoke", data={"csrf_token": csrf, "batch_id": ids})
    assert asked.status_code == 200 and 'id="confirm"' in asked.text
    assert session.scalar(select(func.count()).select_from(Voucher).where(Voucher.status == "revoked")) == 0
    done = client.post("/portal-admin/vouchers/revoke", data={"csrf_token": csrf, "batch_id": ids, "confirmed": "1"})
    assert "6 kode voucher dibatalkan." in done.text
    report = client.get(f"/portal-admin/vouchers/{ids[0]}")
    assert re.search(r'id="revenue">0<', report.text) and "2.500" in report.text

    off = client.post(f"/portal-admin/hotspots/{h.id}/enabled", data={"csrf_token": csrf, "enabled": "0"})
    assert "Hotspot dinonaktifkan: 0 sesi diputus" in off.text
    assert client.get(f"/portal/{h.slug}/").status_code == 404


def test_policy_form_takes_minutes_megabytes_and_opening_hours(client: TestClient, session: Session) -> None:
    csrf = _admin(client, session)
    form = {"csrf_token": csrf, "name": "Malam", "session_minutes": "90", "person_daily_mb": "500",
            "rate_down_mbps": "2.5", "max_devices": "2", "opening_start": "22:00", "opening_end": ""}
    half = client.post("/portal-admin/policies/new", data=form)
    assert half.status_code == 422 and "Tutup pukul" in half.text
    ok = client.post("/portal-admin/policies/new", data=form | {"opening_end": "06:00"}, follow_redirects=False)
    assert ok.status_code == 303
    policy = session.scalar(select(HotspotPolicy).where(HotspotPolicy.name == "Malam"))
    assert policy is not None
    assert (policy.session_timeout_s, policy.person_daily_bytes, policy.rate_down_kbps, policy.opening_start,
            policy.opening_end) == (5400, 500_000_000, 2500, "22:00", "06:00")


def test_a_batch_is_extended_and_a_hotspot_deleted_after_confirming(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    hotspot_id = h.id
    csrf = _admin(client, session)
    client.post("/portal-admin/vouchers", data={"csrf_token": csrf, "name": "Lebaran", "count": "2",
                                                "policy_id": str(h.default_policy_id), "hotspot_id": str(h.id),
                                                "valid_until": "2099-01-31"})
    batch = session.scalar(select(VoucherBatch))
    assert batch is not None
    earlier = client.post(f"/portal-admin/vouchers/{batch.id}/extend", data={"csrf_token": csrf,
                                                                            "valid_until": "2099-01-01"})
    assert "Periksa “Pakai sebelum”" in earlier.text
    later = client.post(f"/portal-admin/vouchers/{batch.id}/extend", data={"csrf_token": csrf,
                                                                          "valid_until": "2099-03-31"})
    assert "Batas pakai dipindah ke 2099-03-31." in later.text
    refused = client.post(f"/portal-admin/hotspots/{h.id}/delete", data={"csrf_token": csrf})
    assert "Sudah dipakai" in refused.text and session.get(Hotspot, hotspot_id) is not None
    client.post("/portal-admin/vouchers/revoke", data={"csrf_token": csrf, "batch_id": [str(batch.id)],
                                                       "confirmed": "1"})
    asked = client.get(f"/portal-admin/hotspots/{h.id}/delete")
    assert 'id="confirm"' in asked.text and h.name in asked.text
    deleted = client.post(f"/portal-admin/hotspots/{h.id}/delete", data={"csrf_token": csrf})
    assert "Hotspot dihapus." in deleted.text
    session.expire_all()
    assert session.get(Hotspot, hotspot_id) is None


def test_the_hotspot_form_sets_the_venue_info_url_phones_are_given(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    csrf = _admin(client, session)
    edit = client.get(f"/portal-admin/hotspots/{h.id}/edit")
    assert 'name="venue_info_url"' in edit.text and "Halaman informasi tempat" in edit.text
    form = {"csrf_token": csrf, "name": h.name, "slug": h.slug, "site_id": str(h.site_id),
            "gateway_device_id": str(h.gateway_device_id), "nas_dialect": "mikrotik", "login_methods": ["voucher"],
            "terms_version": h.terms_version, "venue_info_url": "http://kotimkab.go.id/taman-kota"}
    bad = client.post(f"/portal-admin/hotspots/{h.id}/edit", data=form)
    assert bad.status_code == 422 and "Periksa “Halaman informasi tempat”" in bad.text
    ok = client.post(f"/portal-admin/hotspots/{h.id}/edit",
                     data=form | {"venue_info_url": "https://kotimkab.go.id/taman-kota"}, follow_redirects=False)
    assert ok.status_code == 303, ok.text
    session.expire_all()
    assert session.get(Hotspot, h.id).branding["venue_info_url"] == "https://kotimkab.go.id/taman-kota"  # type: ignore[union-attr]
    assert 'value="https://kotimkab.go.id/taman-kota"' in client.get(f"/portal-admin/hotspots/{h.id}/edit").text
    api = client.get(f"/portal/api/captive/{h.slug}").json()
    assert api["venue-info-url"] == "https://kotimkab.go.id/taman-kota"
