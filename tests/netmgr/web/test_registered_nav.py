"""A page registered by a capability shows up in the navigation of users allowed to see it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.models.enums import Role
from netmgr.security.permissions import Permission
from netmgr.web import nav
from tests import factories
from tests.netmgr.web.helpers import login


def test_registered_nav_item_is_shown_only_with_its_permission(client: TestClient, session: Session,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    registry = nav.NavRegistry()
    nav.ensure_core_items(registry)
    registry.register(nav.NavItem("provisioning", "Provisioning", "/provisioning", Permission.NETWORK_CHANGE, 40,
                                  labels={"id": "Provisioning"}))
    monkeypatch.setattr(nav, "NAV", registry)
    factories.user(session, username="ops", role=Role.OPERATOR)
    factories.user(session, username="fin", role=Role.FINANCE)
    login(client, "ops")
    assert 'href="/provisioning"' in client.get("/").text
    client.cookies.clear()
    login(client, "fin")
    assert 'href="/provisioning"' not in client.get("/").text
