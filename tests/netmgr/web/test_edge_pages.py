"""The edge collector page: register one for a site (its token shown once), see its link, remove it."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.models import EdgeCollector
from netmgr.models.enums import Role
from tests import factories
from tests.netmgr.web.helpers import login, signed_in_csrf


def test_an_operator_registers_an_edge_sees_its_token_once_and_removes_it(client: TestClient, session: Session) -> None:
    site = factories.site(session, name="Kecamatan Baamang")
    factories.user(session, username="ops", role=Role.OPERATOR)
    login(client, "ops")
    assert 'href="/monitoring/edges"' in client.get("/monitoring").text

    bad = client.post("/monitoring/edges", data={"csrf_token": signed_in_csrf(client), "site_id": str(site.id),
                                                 "name": "Edge Baamang"})
    assert bad.status_code == 422 and "huruf kecil" in bad.text  # the rule, in Indonesian

    made = client.post("/monitoring/edges", data={"csrf_token": signed_in_csrf(client), "site_id": str(site.id),
                                                  "name": "edge-baamang"})
    assert made.status_code == 200 and "hanya ditampilkan sekali" in made.text
    token = re.search(r"nme_[A-Za-z0-9_-]{20,}", made.text)
    assert token is not None
    assert "set-cookie" not in {k.lower() for k in made.headers} or token.group(0) not in made.headers.get(
        "set-cookie", "")
    again = client.get("/monitoring/edges").text
    assert token.group(0) not in again  # shown once, never again
    assert 'data-edge="edge-baamang"' in again and "tautan putus" in again  # it has never called yet
    assert 'id="no-free-site"' in again  # the one site has its edge: no empty site list to choose from

    edge_id = session.scalar(select(EdgeCollector.id))
    removed = client.post(f"/monitoring/edges/{edge_id}/delete", data={"csrf_token": signed_in_csrf(client)},
                          follow_redirects=True)
    assert "Kolektor tepi dihapus" in removed.text and 'data-edge="edge-baamang"' not in removed.text


def test_finance_and_agency_viewers_may_not_see_or_register_edges(client: TestClient, session: Session) -> None:
    site = factories.site(session)
    factories.user(session, username="fin", role=Role.FINANCE)
    login(client, "fin")
    assert client.get("/monitoring/edges").status_code == 403
    refused = client.post("/monitoring/edges", data={"csrf_token": signed_in_csrf(client), "site_id": str(site.id),
                                                     "name": "edge-x"})
    assert refused.status_code == 403
    assert session.scalar(select(EdgeCollector.id)) is None
