"""/api/v1/alert-transports: create, edit, route, test-send to a real SMTP server, delete; secrets never come back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.models import AuditLog
from netmgr.models.enums import Role
from tests.netmgr.api.conftest import World
from tests.servers.smtp import smtp_server

API = "/api/v1/alert-transports"
PASSWORD = "Sandi-Relay-Surel-4471"  # noqa: S105 - the local SMTP server's test login


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")  # the test server's setup
def test_an_operator_sets_up_an_smtp_transport_and_its_test_message_arrives(
        client: TestClient, world: World, session: Session) -> None:
    h = world.headers(Role.OPERATOR)
    with smtp_server(login=("netmgr", PASSWORD)) as box:
        created = client.post(API, headers=h, json={
            "name": "Relay surel", "kind": "email", "secret": PASSWORD,
            "config": {"host": box.host, "port": box.port, "user": "netmgr", "sender": "netmgr@kotimkab.go.id",
                       "recipients": ["noc@kotimkab.go.id"]}})
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["secret_set"] is True and PASSWORD not in created.text
        tid = body["id"]
        route = client.post(f"{API}/{tid}/routes", headers=h, json={"min_severity": "critical", "start": "07:00",
                                                                     "end": "16:00"})
        assert route.status_code == 201 and route.json()["start"] == "07:00"
        tested = client.post(f"{API}/{tid}/test", headers=h)
        assert tested.status_code == 200, tested.text
        assert tested.json() == [{"recipient": "noc@kotimkab.go.id", "ok": True, "error": ""}]
    assert [rcpts for rcpts, _ in box.messages] == [["noc@kotimkab.go.id"]]

    renamed = client.patch(f"{API}/{tid}", headers=h, json={"name": "Relay Diskominfo"})
    assert renamed.json()["secret_set"] is True and renamed.json()["name"] == "Relay Diskominfo"
    listed = client.get(API, headers=h)
    assert PASSWORD not in listed.text and [t["name"] for t in listed.json()] == ["Relay Diskominfo", "WhatsApp NOC"]
    audit = " ".join(str(a.after) + a.summary for a in session.scalars(sa.select(AuditLog)))
    assert PASSWORD not in audit

    assert client.delete(f"{API}/{tid}", headers=h).status_code == 204
    assert client.get(f"{API}/{tid}", headers=h).status_code == 404


def test_an_incomplete_transport_is_refused_with_the_field_named(client: TestClient, world: World) -> None:
    answer = client.post(API, headers=world.headers(Role.ADMIN),
                         json={"name": "Bot", "kind": "telegram", "config": {}})
    assert answer.status_code == 422 and "chat_ids" in answer.text


def test_a_failed_test_send_answers_200_with_the_reason(client: TestClient, world: World) -> None:
    answer = client.post(f"{API}/{world.transport}/test", headers=world.headers(Role.ADMIN))
    assert answer.status_code == 200
    (result,) = answer.json()
    assert result["ok"] is False and "127.0.0.1:9" in result["error"]
