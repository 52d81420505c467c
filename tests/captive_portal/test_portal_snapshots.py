"""The portal's per-process hotspot snapshots: one query, fresh after a settings change, expired by their TTL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from captive_portal import portal
from netmgr.errors import NotFound
from netmgr.models.hotspot import LoginMethod
from netmgr.models.portal import GatewayKind
from netmgr.security.permissions import SYSTEM
from tests.captive_portal import portal_support as ps


def test_snapshot_reads_hotspot_config_and_policy_in_one_query(session: Session,
                                                               session_factory: sessionmaker[Session]) -> None:
    h = ps.hotspot(session, kind=GatewayKind.OPENNDS)
    statements: list[str] = []

    def remember(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    with session_factory() as fresh:
        engine = fresh.get_bind()
        event.listen(engine, "before_cursor_execute", remember)
        try:
            snapshot = portal.load_hotspot(fresh, h.slug)
        finally:
            event.remove(engine, "before_cursor_execute", remember)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert snapshot.id == h.id and snapshot.registration.faskey == ps.FASKEY
    assert snapshot.policy is not None and snapshot.policy.limits.device_daily_time_s == 3600
    assert snapshot.free_notes["id"]


def test_cache_serves_the_same_snapshot_until_it_expires(session: Session,
                                                         session_factory: sessionmaker[Session]) -> None:
    h = ps.hotspot(session)
    cache = portal.SnapshotCache(ttl_s=60)
    first = cache.get(session_factory, h.slug)
    assert cache.get(session_factory, h.slug) is first
    expired = portal.SnapshotCache(ttl_s=0)
    assert expired.get(session_factory, h.slug) is not expired.get(session_factory, h.slug)


def test_unknown_and_switched_off_hotspots_are_not_found(session: Session,
                                                         session_factory: sessionmaker[Session]) -> None:
    h = ps.hotspot(session)
    h.enabled = False
    session.commit()
    cache = portal.SnapshotCache(ttl_s=60)
    with pytest.raises(NotFound):
        cache.get(session_factory, h.slug)
    with pytest.raises(NotFound):
        cache.get(session_factory, "no-such-hotspot")


def test_settings_saved_in_this_process_show_on_the_next_page_at_once(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    assert 'id="form-terms"' in client.get(f"/portal/{h.slug}/").text  # snapshot now cached
    portal.update_portal_settings(session, SYSTEM, h.id, portal.PortalSettingsUpdate(
        gateway_kind=GatewayKind.MIKROTIK, gateway_hosts=[ps.MIKROTIK_HOST], free_logins_per_day=1,
        default_language="id", login_methods=[LoginMethod.VOUCHER.value], terms_version="2026-02", terms_text="",
        title="Taman Baru"))
    session.commit()
    page = client.get(f"/portal/{h.slug}/").text
    assert 'id="form-terms"' not in page and "Taman Baru" in page
