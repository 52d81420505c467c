"""/api/v1/hotspots, /api/v1/hotspot-policies and /api/v1/voucher-batches: create, validate, 409, roles,
policy changes that reach sessions online, batch extend/revoke/report, live sessions with masked MACs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.models import Device, HotspotPolicy, HotspotSession, Voucher
from netmgr.models.enums import DeviceRole, Role, SiteKind
from netmgr.models.hotspot import SessionStatus, VoucherStatus
from netmgr.services import users
from tests import factories
from tests.captive_portal import portal_support as ps


def _headers(session: Session, role: Role = Role.OPERATOR) -> dict[str, str]:
    user = factories.user(session, role=role)
    _, plain = users.create_api_token(session, users.actor_for(user), name="tests")
    session.commit()
    return {"Authorization": f"Bearer {plain}"}


def _gateway(session: Session) -> tuple[int, int]:
    site = factories.site(session, kind=SiteKind.PUBLIC_HOTSPOT)
    device = factories.device(session, site_id=site.id, role=DeviceRole.HOTSPOT_GATEWAY, radius_secret="s3cret-nas")
    session.commit()
    return site.id, device.id


def _policy(client: TestClient, headers: dict[str, str], **extra: object) -> dict[str, object]:
    body = {"name": "Voucher 2 jam", "session_timeout_s": 7200, "rate_down_kbps": 10000, "rate_up_kbps": 5000,
            "person_daily_bytes": 1_000_000_000, "opening_start": "06:00", "opening_end": "22:00"} | extra
    r = client.post("/api/v1/hotspot-policies", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_an_operator_creates_a_hotspot_and_a_duplicate_is_409(client: TestClient, session: Session) -> None:
    headers = _headers(session)
    site_id, device_id = _gateway(session)
    policy = _policy(client, headers)
    body = {"name": "Taman Kota Sampit", "slug": "taman-kota-sampit", "site_id": site_id,
            "gateway_device_id": device_id, "nas_dialect": "mikrotik", "ssid": "Sampit Free WiFi",
            "login_methods": ["voucher", "click_through"], "default_policy_id": policy["id"],
            "branding": {"title": "Sampit Free WiFi", "primary_color": "#0b6e4f"}, "terms_version": "2026-01",
            "terms_text": "Gunakan dengan bijak."}

    created = client.post("/api/v1/hotspots", json=body, headers=headers)

    assert created.status_code == 201, created.text
    assert created.json()["branding"]["primary_color"] == "#0b6e4f"
    assert client.get("/portal/taman-kota-sampit/").status_code == 200  # the portal serves it at once
    again = client.post("/api/v1/hotspots", json=body | {"slug": "lain"}, headers=headers)
    assert again.status_code == 409 and "Taman Kota Sampit" in again.text
    hotspot_id = created.json()["id"]
    renamed = client.patch(f"/api/v1/hotspots/{hotspot_id}", json={"name": "  Taman Kota  ",
                                                                   "branding": {"operator": "Diskominfo"}},
                           headers=headers)
    assert renamed.json()["name"] == "Taman Kota"
    assert renamed.json()["branding"] == {"title": "Sampit Free WiFi", "primary_color": "#0b6e4f",
                                          "operator": "Diskominfo"}  # the fields not sent are kept
    page = client.get("/api/v1/hotspots?limit=1", headers=headers).json()
    assert (page["total"], page["limit"], page["items"][0]["slug"]) == (1, 1, "taman-kota-sampit")


def test_validation_names_the_field(client: TestClient, session: Session) -> None:
    headers = _headers(session)
    site_id, device_id = _gateway(session)
    other_site = factories.site(session).id
    session.commit()
    base = {"name": "X", "slug": "x-1", "site_id": site_id, "gateway_device_id": device_id}
    cases = [({"slug": "Bad Slug"}, "slug"), ({"site_id": other_site}, "gateway_device_id"),
             ({"login_methods": ["magic"]}, "login_methods"),
             ({"branding": {"primary_color": "green"}}, "branding.primary_color"),
             ({"branding": {"venue_info_url": "http://kotimkab.go.id/taman"}}, "branding.venue_info_url")]
    for change, field in cases:
        r = client.post("/api/v1/hotspots", json=base | change, headers=headers)
        assert r.status_code == 422, (change, r.text)
        assert field in r.text, (change, r.text)
    created = client.post("/api/v1/hotspots", json=base, headers=headers)
    assert created.status_code == 201, created.text
    for field in ("name", "login_methods", "enabled", "nas_dialect"):
        null = client.patch(f"/api/v1/hotspots/{created.json()['id']}", json={field: None}, headers=headers)
        assert null.status_code == 422 and field in null.text, (field, null.text)
    bad_hours = client.post("/api/v1/hotspot-policies", json={"name": "P", "opening_start": "25:00",
                                                              "opening_end": "22:00"}, headers=headers)
    assert bad_hours.status_code == 422 and "opening_start" in bad_hours.text


def test_finance_may_not_manage_hotspots(client: TestClient, session: Session) -> None:
    headers = _headers(session, Role.FINANCE)
    assert client.get("/api/v1/hotspots", headers=headers).status_code == 403
    assert client.post("/api/v1/hotspot-policies", json={"name": "P"}, headers=headers).status_code == 403
    assert client.get("/api/v1/voucher-batches").status_code == 401


def test_tightening_a_policy_disconnects_only_the_sessions_over_it(client: TestClient, session: Session) -> None:
    headers = _headers(session)
    h = ps.hotspot(session)
    gateway = session.get_one(Device, h.gateway_device_id)
    gateway.radius_secret_encrypted = None
    session.commit()
    started = datetime.now(UTC) - timedelta(minutes=40)
    for n, seconds in enumerate((2400, 300)):
        session.add(HotspotSession(hotspot_id=h.id, nas_device_id=h.gateway_device_id, acct_session_id=f"T{n}",
                                   mac=f"46:12:1F:20:79:D{n}", status=SessionStatus.ACTIVE,
                                   policy_id=h.default_policy_id, session_time_s=seconds,
                                   started_at=started if n == 0 else datetime.now(UTC) - timedelta(minutes=5)))
    session.commit()

    r = client.patch(f"/api/v1/hotspot-policies/{h.default_policy_id}", json={"session_timeout_s": 1800},
                     headers=headers)

    assert r.status_code == 200, r.text
    # The gateway has no RADIUS secret: the one session over 30 min is counted but cannot be reached.
    assert (r.json()["affected_sessions"], r.json()["not_reachable"]) == (1, 1)
    session.expire_all()
    short = session.scalar(select(HotspotSession).where(HotspotSession.acct_session_id == "T1"))
    assert short is not None and short.allowance_time_s == 1800  # the new limit is its allowance now
    live = client.get(f"/api/v1/hotspots/{h.id}/sessions", headers=headers).json()
    assert live["total"] == 2 and {i["mac"] for i in live["items"]} == {"46:12:1F:••:••:D0", "46:12:1F:••:••:D1"}


def test_batches_are_created_sorted_extended_revoked_and_reported(client: TestClient, session: Session) -> None:
    headers = _headers(session)
    h = ps.hotspot(session)
    ids = []
    for name, count, price in (("Murah", 3, 2000), ("Premium", 5, 5000)):
        r = client.post("/api/v1/voucher-batches", json={"name": name, "policy_id": h.default_policy_id,
                                                         "count": count, "hotspot_id": h.id, "price_idr": price},
                        headers=headers)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    by_count = client.get("/api/v1/voucher-batches?sort=count&order=asc&limit=1", headers=headers).json()
    assert (by_count["total"], [b["name"] for b in by_count["items"]]) == (2, ["Murah"])
    code = session.scalars(select(Voucher).where(Voucher.batch_id == ids[1])).first()
    assert code is not None
    code.status, code.first_used_at = VoucherStatus.ACTIVE, datetime.now(UTC)
    session.commit()

    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    assert client.post(f"/api/v1/voucher-batches/{ids[1]}/extend", json={"valid_until": later},
                       headers=headers).status_code == 200
    past = client.post(f"/api/v1/voucher-batches/{ids[1]}/extend", json={"valid_until": "2020-01-01T00:00:00Z"},
                       headers=headers)
    assert past.status_code == 422 and "valid_until" in past.text
    revoked = client.post("/api/v1/voucher-batches/revoke", json={"batch_ids": ids}, headers=headers)
    assert revoked.json() == {"revoked": 8}
    report = client.get(f"/api/v1/voucher-batches/{ids[1]}/report", headers=headers).json()
    assert (report["sold"], report["revenue_idr"], report["revoked"]) == (1, 5000, 5)
    sheet = client.get(f"/api/v1/voucher-batches/{ids[0]}/sheet.pdf", headers=headers)
    assert sheet.content.startswith(b"%PDF")


def test_a_hotspot_with_usable_vouchers_cannot_be_deleted_but_can_be_disabled(client: TestClient,
                                                                            session: Session) -> None:
    headers = _headers(session)
    h = ps.hotspot(session)
    client.post("/api/v1/voucher-batches", json={"name": "B", "policy_id": h.default_policy_id, "count": 2,
                                                 "hotspot_id": h.id}, headers=headers)
    refused = client.delete(f"/api/v1/hotspots/{h.id}", headers=headers)
    assert refused.status_code == 409 and "revoke" in refused.text
    off = client.patch(f"/api/v1/hotspots/{h.id}", json={"enabled": False}, headers=headers)
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert client.get(f"/portal/{h.slug}/").status_code == 404
    policy_in_use = client.delete(f"/api/v1/hotspot-policies/{h.default_policy_id}", headers=headers)
    assert policy_in_use.status_code == 409


def test_policies_made_before_the_api_ranges_are_still_listed(client: TestClient, session: Session) -> None:
    headers = _headers(session)
    session.add(HotspotPolicy(name="Lama", session_timeout_s=30, device_daily_bytes=1000))  # below today's ranges
    session.commit()
    listed = client.get("/api/v1/hotspot-policies", headers=headers)
    assert listed.status_code == 200 and listed.json()["items"][0]["session_timeout_s"] == 30
