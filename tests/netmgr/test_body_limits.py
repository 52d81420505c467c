"""Request bodies are capped for everyone, before sign-in: 413 without reading 100 MB, over real HTTP (uvicorn)."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy.orm import Session

from netmgr.entrypoints.capabilities import create_app
from netmgr.settings import Settings
from netmgr.state import AppState
from tests.captive_portal import portal_support
from tests.servers.app import serve_app

MB = 1024 * 1024
CHUNK = b"x" * MB
MULTIPART = "multipart/form-data; boundary=xyz"
FILE_HEAD = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="d.csv"\r\nContent-Type: text/csv\r\n\r\n'
FILE_TAIL = b"\r\n--xyz--\r\n"


@pytest.fixture
def base_url(settings: Settings, app_state: AppState) -> Iterator[str]:
    with serve_app(create_app(settings, state=app_state)) as url:
        yield url


def _rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def _post(base_url: str, path: str, *, total: int, chunked: bool, content_type: str) -> tuple[int, int]:
    status, sent, _ = _post_answer(base_url, path, total=total, chunked=chunked, content_type=content_type)
    return status, sent


def _post_answer(base_url: str, path: str, *, total: int, chunked: bool,
                 content_type: str) -> tuple[int, int, bytes]:
    """POST about ``total`` bytes like a hostile client (declared length or chunked; a multipart body is one file),
    stopping as soon as the server answers; returns (status, bytes sent)."""
    head, tail = (FILE_HEAD, FILE_TAIL) if content_type == MULTIPART else (b"", b"")
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(head) + total + len(tail)}"
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: {content_type}\r\n"
                 f"{length}\r\n\r\n".encode())
    sent, answer = 0, b""

    def send(data: bytes) -> None:
        sock.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)

    try:
        if head:
            send(head)
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            send(CHUNK)
            sent += len(CHUNK)
        else:
            if tail:
                send(tail)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        sock.settimeout(30)
        answer = sock.recv(65536)
    except (BrokenPipeError, ConnectionResetError):
        answer = answer or sock.recv(65536)
    finally:
        sock.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, sent, answer


@pytest.mark.parametrize(("path", "content_type"), [
    ("/api/v1/auth/login", "application/json"),
    ("/api/v1/devices", "application/json"),
    ("/login", "application/x-www-form-urlencoded"),
    ("/api/v1/inventory/import/devices", MULTIPART),
])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_100_mb_bodies_are_refused_with_413_before_sign_in_and_rss_stays_flat(
    base_url: str, path: str, content_type: str, chunked: bool
) -> None:
    before = _rss_bytes()
    for _ in range(2):
        status, sent = _post(base_url, path, total=100 * MB, chunked=chunked, content_type=content_type)
        assert status == 413, (path, status, sent)
        assert sent < 20 * MB, sent  # answered long before the client finished sending
    assert _rss_bytes() - before < 30 * MB


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_portal_forms_get_413_too(base_url: str, session: Session, chunked: bool) -> None:
    slug = portal_support.hotspot(session).slug
    session.commit()
    status, sent, answer = _post_answer(base_url, f"/portal/{slug}/terms", total=100 * MB, chunked=chunked,
                                        content_type="application/x-www-form-urlencoded")
    assert status == 413 and sent < 20 * MB, (status, sent)
    assert b"BodyTooLarge" in answer  # the portal's fast lane is outside FastAPI's handlers: the cap answers


def test_small_bodies_and_uploads_under_their_own_cap_pass(base_url: str, settings: Settings) -> None:
    parts = urlsplit(base_url)
    body = json.dumps({"username": "nobody", "password": "x" * 100}).encode()
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    assert sock.recv(65536).startswith(b"HTTP/1.1 401 ")
    sock.close()
    # A 2 MB file is over the general cap but under the upload cap: it reaches the route (which wants a sign-in).
    status, _ = _post(base_url, "/api/v1/inventory/import/devices", total=2 * MB, chunked=True,
                      content_type=MULTIPART)
    assert status == 401
    assert settings.limits.max_body_bytes < 2 * MB < settings.limits.max_upload_bytes
