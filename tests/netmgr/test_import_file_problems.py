"""A file an import cannot read at all (not UTF-8, empty, a wrong or missing header, another separator, too large)
is explained in the reader's language: on the Indonesian import page, and by the API to ``Accept-Language: id``."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from netmgr.api.routes import inventory_io as api_route
from netmgr.models.enums import Role
from netmgr.services import users
from netmgr.web.pages import imports as import_page
from tests import factories
from tests.netmgr.web.helpers import login, signed_in_csrf

HEADER = b"name,site,role,platform,mgmt_address\n"
# (file content, Indonesian words the problem must contain, English words it must not)
CASES = {
    "not UTF-8": (HEADER + b"ap-1,Taman \xff Kota,access_point,mikrotik_routeros,10.1.0.1\n",
                  "berkas bukan teks UTF-8: ada bita di baris 2", "not UTF-8 text"),
    "an Excel workbook": (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\xb4\x8d", "disimpan dulu sebagai 'CSV UTF-8'",
                          "must first be saved"),
    "empty": (b"", "berkas kosong; diharapkan baris judul", "the file is empty"),
    "only blank lines": (b"\n\n", "berkas kosong; diharapkan baris judul", "the file is empty"),
    "an unknown column": (b"nama,site,role,platform,mgmt_address\n", "kolom 'nama' tidak dikenal",
                          "unknown column"),
    "a missing column": (b"name,site\nap-1,Taman Kota\n", "kolom wajib role, platform, mgmt_address tidak ada",
                         "missing required column"),
    "a column twice": (b"name,site,role,platform,mgmt_address,site\n", "kolom site muncul lebih dari sekali",
                       "appear more than once"),
    "another separator": (b"name|site|role|platform|mgmt_address\n", "baris judul hanya satu kolom",
                          "the header is one column"),
    "rows with another separator": (HEADER + b"ap-1;Taman Kota;access_point;mikrotik_routeros;10.1.0.1\n",
                                    "dipisah dengan ';' sementara baris judul memakai ','",
                                    "this row is one cell"),
}


def _page_problems(client: TestClient, content: bytes, lang: str) -> str:
    r = client.post(f"/import?lang={lang}", data={"kind": "devices", "action": "check",
                                                  "csrf_token": signed_in_csrf(client)},
                    files={"file": ("perangkat.csv", content, "text/csv")})
    assert r.status_code in (413, 422), r.status_code
    return html.unescape(r.text)


@pytest.fixture
def admin_page(client: TestClient, session: Session) -> TestClient:
    factories.user(session, username="admin1", role=Role.ADMIN)
    login(client, "admin1")
    return client


@pytest.fixture
def token(session: Session) -> str:
    user = factories.user(session, username="ops1", role=Role.OPERATOR)
    _, plain = users.create_api_token(session, users.actor_for(user), name="tests")
    session.commit()
    return plain


def _api(client: TestClient, token: str, content: bytes, lang: str | None) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {token}"}
    if lang:
        headers["Accept-Language"] = lang
    r = client.post("/api/v1/inventory/import/devices", params={"dry_run": "true"}, headers=headers,
                    files={"file": ("perangkat.csv", content, "text/csv")})
    assert r.status_code in (200, 422), r.text
    body: dict[str, object] = r.json()
    return body


@pytest.mark.parametrize("case", list(CASES))
def test_a_file_level_problem_is_indonesian_on_the_page_and_in_the_api(
        admin_page: TestClient, token: str, case: str) -> None:
    content, indonesian, english = CASES[case]
    page = _page_problems(admin_page, content, "id")
    assert indonesian in page and english not in page
    assert english in _page_problems(admin_page, content, "en")

    problems = _api(admin_page, token, content, "id-ID,id;q=0.9,en;q=0.5")["errors"]
    assert isinstance(problems, list) and problems
    assert indonesian in problems[0]["problem"] and english not in problems[0]["problem"]
    plain = _api(admin_page, token, content, None)["errors"]
    assert isinstance(plain, list) and english in plain[0]["problem"], "no Accept-Language: English as before"


def test_a_file_too_large_is_refused_in_the_readers_language(
        admin_page: TestClient, token: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(import_page, "MAX_UPLOAD_BYTES", 1024)
    monkeypatch.setattr(api_route, "MAX_UPLOAD_BYTES", 1024 * 1024)
    big = HEADER + b"x" * (1024 * 1024 + 1)
    assert "Berkas lebih besar dari 5 MB." in _page_problems(admin_page, big, "id")
    r = admin_page.post("/api/v1/inventory/import/devices", params={"dry_run": "true"},
                        headers={"Authorization": f"Bearer {token}", "Accept-Language": "id"},
                        files={"file": ("perangkat.csv", big, "text/csv")})
    assert r.status_code == 422
    assert r.json()["detail"] == "berkas lebih besar dari 1 MB; pecah menjadi beberapa berkas"
    english = admin_page.post("/api/v1/inventory/import/devices", params={"dry_run": "true"},
                              headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
                              files={"file": ("perangkat.csv", big, "text/csv")})
    assert english.json()["detail"] == "the file is larger than 1 MB; split it"


def test_a_file_of_unknown_format_is_refused_in_the_readers_language(admin_page: TestClient, token: str) -> None:
    r = admin_page.post("/api/v1/inventory/import/devices", params={"dry_run": "true"},
                        headers={"Authorization": f"Bearer {token}", "Accept-Language": "id"},
                        files={"file": ("perangkat.xlsx", b"PK\x03\x04", "application/octet-stream")})
    assert r.status_code == 422 and r.json()["detail"].startswith("format 'perangkat.xlsx' tidak dapat dikenali")
