"""ASGI middleware around the whole app (API, admin UI, portal pages): body-size caps and hardening headers.

Request → ``BodySizeLimit`` (413 before a too-large body is read) → ``SecurityHeaders`` (adds headers to every
answer) → the app. Both are pure ASGI, so they neither buffer bodies nor change streaming answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from netmgr.settings import LimitSettings

# Routes that take file uploads (inventory import, API and page): they get ``max_upload_bytes``.
UPLOAD_PATHS = ("/api/v1/inventory/import/", "/import")

# The captive portal's pages set their own framing rules (a gateway or OS login window may show them).
PORTAL_PREFIX = "/portal"

_TOO_LARGE = "the request body is larger than {limit} bytes"


class BodyTooLarge(HTTPException):
    """Raised by the counting ``receive``; an HTTP exception, so FastAPI's body parsing lets it through."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _TOO_LARGE.format(limit=limit))


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": _TOO_LARGE.format(limit=limit), "error": "BodyTooLarge"}, status_code=413,
                        headers={"Connection": "close"})


class BodySizeLimit:
    """Refuse request bodies over the cap with 413, signed in or not, without reading them whole.

    A declared ``Content-Length`` over the cap is answered before the app runs; a chunked body is counted as it
    streams in and the read that crosses the cap raises ``BodyTooLarge`` (an HTTP 413 exception, which FastAPI
    passes through its body parsing), so at most one chunk past the cap is ever held.
    """

    def __init__(self, app: ASGIApp, *, limits: LimitSettings, upload_paths: Sequence[str] = UPLOAD_PATHS) -> None:
        self.app = app
        self.limits = limits
        self.upload_paths = tuple(upload_paths)

    def limit_for(self, path: str) -> int:
        upload = any(path == p or (p.endswith("/") and path.startswith(p)) for p in self.upload_paths)
        return self.limits.max_upload_bytes if upload else self.limits.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                too_large = False  # the server itself rejects a malformed Content-Length
            if too_large:
                await _too_large(limit)(scope, receive, send)
                return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            # Routes outside FastAPI's exception layer (the portal's fast lane) end up here.
            if started:
                raise
            await _too_large(limit)(scope, receive, tracking_send)


class SecurityHeaders:
    """Hardening headers on every answer; the admin UI and API also forbid being framed (clickjacking).

    Headers a route already set win, so a page with its own policy (e.g. the portal's) keeps it.
    """

    COMMON = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))
    NO_FRAMING = ((b"x-frame-options", b"DENY"), (b"content-security-policy", b"frame-ancestors 'none'"))

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.COMMON if scope.get("path", "").startswith(PORTAL_PREFIX) else self.COMMON + self.NO_FRAMING

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in extra if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
