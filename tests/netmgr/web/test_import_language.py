"""The import page in Indonesian: an Excel-style ``;`` CSV is read, every row problem is worded in Indonesian
(the pydantic ones too), and the dry run names the rows that will change existing devices."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.netmgr.web.helpers import login, signed_in_csrf

HEADER = "name;site;role;platform;mgmt_address;snmp_community;ssh_port\n"


def _check(client: TestClient, content: str, lang: str = "id") -> tuple[int, str]:
    r = client.post(f"/import?lang={lang}", data={"kind": "devices", "action": "check",
                                                  "csrf_token": signed_in_csrf(client)},
                    files={"file": ("perangkat.csv", content.encode("utf-8-sig"), "text/csv")})
    return r.status_code, r.text


def _problems(html: str) -> dict[tuple[str, str], str]:
    table = html.split('id="import-errors"')[1].split("</table>")[0]
    return {(row, field): text for row, field, text in
            re.findall(r'<td class="num">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>', table)}


def test_excel_semicolon_csv_problems_are_worded_in_indonesian(client: TestClient, session: Session) -> None:
    factories.site(session, name="Taman Kota Sampit")
    factories.user(session, username="admin")
    login(client, "admin")
    client.get("/?lang=id")
    status, html = _check(client, HEADER
                          + "ap-1;Taman Kota Sampt;access_point;mikrotik_routeros;10.1.0.1;c;22\n"
                          + "ap-2;Taman Kota Sampit;access_point;mikrotik_routeros;10.1.0.2;c;70000\n"
                          + "ap-3;Taman Kota Sampit;router;mikrotik_routeros;10.1.0.3;c;abc\n"
                          + "ap-1;Taman Kota Sampit;access_point;mikrotik_routeros;10.1.0.4;c;22;x\n")
    assert status == 422
    problems = _problems(html)
    assert problems[("2", "site")] == "Taman Kota Sampt tidak ada; maksud Anda Taman Kota Sampit?"
    assert problems[("3", "ssh_port")] == "paling besar 65535"
    assert problems[("4", "ssh_port")] == "harus berupa bilangan bulat"
    assert problems[("4", "role")].startswith("harus salah satu dari: &#39;core_router&#39;")
    assert "pemisahnya berbeda" in problems[("5", "—")]
    assert "Input should be" not in html and "does not exist" not in html
    _, english = _check(client, HEADER + "ap-2;Taman Kota Sampit;access_point;mikrotik_routeros;10.1.0.2;c;70000\n",
                        lang="en")
    assert _problems(english)[("2", "ssh_port")] == "must be at most 65535"


def test_dry_run_names_the_rows_that_update_existing_devices(client: TestClient, session: Session) -> None:
    site = factories.site(session, name="Taman Kota Sampit")
    factories.device(session, site_id=site.id, name="ap-lama", mgmt_address="10.1.0.9")
    factories.user(session, username="admin")
    login(client, "admin")
    status, html = _check(client, HEADER
                          + "ap-baru;Taman Kota Sampit;access_point;mikrotik_routeros;10.1.0.1;c;22\n"
                          + "ap-lama;Taman Kota Sampit;access_point;mikrotik_routeros;10.1.0.9;c;2222\n")
    assert status == 200, html
    assert "1 baru, 1 mengubah data yang sudah ada." in html
    updates = html.split('id="import-updates"')[1].split("</table>")[0]
    assert re.findall(r'<td class="num">(\d+)</td><td>([^<]*)</td>', updates) == [("3", "ap-lama")]
