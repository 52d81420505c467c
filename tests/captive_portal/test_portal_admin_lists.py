"""The hotspot admin's lists on the shared list machinery: live sessions and voucher batches sort, page and
export as CSV without a MAC address in full or a voucher code."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.models import HotspotSession, Voucher
from netmgr.models.base import utcnow
from netmgr.models.enums import Role
from netmgr.models.hotspot import SessionStatus
from tests import factories
from tests.captive_portal import portal_support as ps
from tests.netmgr.web.helpers import login, signed_in_csrf


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_live_sessions_sort_by_data_used_and_export_masked(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    now = utcnow()
    for n, (octets, minutes) in enumerate(((5_000_000, 30), (90_000_000, 10), (1_000_000, 50))):
        session.add(HotspotSession(hotspot_id=h.id, nas_device_id=h.gateway_device_id, acct_session_id=f"S{n}",
                                   mac=f"46:12:1F:20:79:0{n}", ip=f"10.5.50.{10 + n}", status=SessionStatus.ACTIVE,
                                   output_octets=octets, started_at=now - timedelta(minutes=minutes)))
    session.commit()
    factories.user(session, username="op", role=Role.OPERATOR)
    login(client, "op")
    oldest_first = client.get("/portal-admin/sessions").text
    assert re.findall(r'class="mac">([^<]+)<', oldest_first) == ["46:12:1F:••:••:02", "46:12:1F:••:••:00",
                                                                 "46:12:1F:••:••:01"]
    by_data = client.get(f"/portal-admin/sessions?hotspot={h.id}&sort=octets&order=desc").text
    assert re.findall(r'class="mac">([^<]+)<', by_data)[0] == "46:12:1F:••:••:01"
    export = re.search(r'href="([^"]+)" id="export-csv"', by_data)
    assert export and f"hotspot={h.id}" in export.group(1)
    rows = _csv(client.get(export.group(1).replace("&amp;", "&")).text)
    assert rows[0] == ["Hotspot", "Perangkat", "Sejak", "MB", "Kebijakan"]
    assert [r[1] for r in rows[1:]] == ["46:12:1F:••:••:01", "46:12:1F:••:••:00", "46:12:1F:••:••:02"]
    assert "46:12:1F:20:79" not in client.get("/portal-admin/sessions.csv").text


def test_voucher_batches_sort_and_export_without_codes(client: TestClient, session: Session) -> None:
    h = ps.hotspot(session)
    factories.user(session, username="op", role=Role.OPERATOR)
    login(client, "op")
    csrf = signed_in_csrf(client)
    for name, price in (("Beta", "5000"), ("=Alfa", "2500"), ("Gamma", "")):
        client.post("/portal-admin/vouchers", data={"csrf_token": csrf, "name": name, "count": "2",
                                                    "policy_id": str(h.default_policy_id), "price_idr": price})
    page = client.get("/portal-admin/vouchers?sort=price&order=desc&size=50").text
    assert re.findall(r'<a href="/portal-admin/vouchers/\d+">([^<]+)</a>', page) == ["Beta", "=Alfa", "Gamma"]
    assert 'class="size-on">50<' in page
    rows = _csv(client.get("/portal-admin/vouchers.csv?sort=name").text)
    assert [r[0] for r in rows[1:]] == ["'=Alfa", "Beta", "Gamma"]
    text = client.get("/portal-admin/vouchers.csv").text
    for code in session.scalars(select(Voucher.code)):
        assert code not in text
