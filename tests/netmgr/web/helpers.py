"""Signing in through the login form, as a browser does, for the page tests."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response

from tests.factories import PASSWORD

_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "page has no csrf_token field"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD, next_path: str = "/") -> Response:
    page = client.get("/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": csrf_from(page.text),
                                       "next": next_path}, follow_redirects=False)


def signed_in_csrf(client: TestClient) -> str:
    """The CSRF token of the signed-in session (every page carries it)."""
    return csrf_from(client.get("/").text)
