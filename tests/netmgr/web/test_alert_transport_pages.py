"""The alert transports page (Peringatan → Transport): add, route, 'kirim pesan uji' to a real SMTP server, edit
keeping the secret, delete; Indonesian first, and the password never put back into a page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.models.alerts import AlertTransport
from netmgr.models.enums import Role
from tests import factories
from tests.netmgr.web.helpers import login, signed_in_csrf
from tests.servers.smtp import smtp_server

PASSWORD = "Sandi-Relay-Halaman-5523"  # noqa: S105 - nothing checks it: the local server has no login


def test_an_admin_adds_an_smtp_transport_sends_a_test_and_edits_it_in_indonesian(
        client: TestClient, session: Session) -> None:
    agency = factories.agency(session, name="Dinas Kesehatan")
    factories.user(session, username="admin", role=Role.ADMIN)
    login(client, "admin")
    page = client.get("/alerts/transports")
    assert page.status_code == 200 and "Transport peringatan" in page.text
    assert 'href="/alerts/transports"' in client.get("/alerts").text
    with smtp_server() as box:
        added = client.post("/alerts/transports", data={
            "csrf_token": signed_in_csrf(client), "name": "Relay surel", "kind": "email", "host": box.host,
            "port": str(box.port), "sender": "netmgr@kotimkab.go.id", "secret": PASSWORD,
            "recipients": "noc@kotimkab.go.id\nkabid@kotimkab.go.id"})
        assert added.status_code == 200 and "Transport ditambahkan: Relay surel" in added.text
        transport = session.query(AlertTransport).one()
        assert transport.config["recipients"] == ["noc@kotimkab.go.id", "kabid@kotimkab.go.id"]
        tested = client.post(f"/alerts/transports/{transport.id}/test", data={"csrf_token": signed_in_csrf(client)})
        assert "Pesan uji terkirim ke noc@kotimkab.go.id." in tested.text
    assert [rcpts for rcpts, _ in box.messages] == [["noc@kotimkab.go.id", "kabid@kotimkab.go.id"]]

    routed = client.post(f"/alerts/transports/{transport.id}/routes", data={
        "csrf_token": signed_in_csrf(client), "agency_id": str(agency.id), "min_severity": "critical",
        "start": "07:00", "end": "16:00"})
    assert "Dinas Kesehatan · " in routed.text and "07:00–16:00" in routed.text
    edited = client.post(f"/alerts/transports/{transport.id}", data={
        "csrf_token": signed_in_csrf(client), "name": "Relay Diskominfo", "enabled": "on", "host": "127.0.0.1",
        "port": "2525", "sender": "netmgr@kotimkab.go.id", "recipients": "noc@kotimkab.go.id", "secret": ""})
    assert "Relay Diskominfo" in edited.text and PASSWORD not in edited.text
    assert re.search(r'class="secret-state">\s*tersimpan', edited.text)
    session.expire_all()
    assert session.get(AlertTransport, transport.id).secret_encrypted  # type: ignore[union-attr]

    wrong = client.post("/alerts/transports", data={"csrf_token": signed_in_csrf(client), "name": "Bot",
                                                     "kind": "telegram"})
    assert wrong.status_code == 422 and "Jenis transport ini memerlukan isian ini." in wrong.text

    gone = client.post(f"/alerts/transports/{transport.id}/delete", data={"csrf_token": signed_in_csrf(client)})
    assert "Transport dihapus." in gone.text and "Relay Diskominfo" not in gone.text


def test_roles_without_secrets_write_cannot_open_the_page(client: TestClient, session: Session) -> None:
    factories.user(session, username="keuangan", role=Role.FINANCE)
    login(client, "keuangan")
    assert client.get("/alerts/transports").status_code == 403
