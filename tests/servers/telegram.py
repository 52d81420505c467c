"""A local Telegram Bot API server (``sendMessage`` only) for the notification tests; Telegram is unreachable here.

It answers like the real API: ``{"ok": true, "result": {...}}``, 401 for a wrong token, 400 for an unknown
chat, 403 for a chat that blocked the bot.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.servers.process import free_port


@dataclass
class BotApi:
    """What the server accepts (``token``, ``chats``) and what it received (``messages``)."""

    token: str
    chats: set[str]
    blocked: set[str] = field(default_factory=set)
    port: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def texts(self, chat_id: str | None = None) -> list[str]:
        with self.lock:
            return [str(m["text"]) for m in self.messages if chat_id is None or str(m["chat_id"]) == chat_id]


def _handler(api: BotApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
            return None

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            prefix, _, method = self.path.lstrip("/").partition("/")
            if prefix != f"bot{api.token}":
                self._answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            if method != "sendMessage":
                self._answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            body = json.loads(raw or b"{}")
            chat = str(body.get("chat_id", ""))
            if chat in api.blocked:
                self._answer(403, {"ok": False, "error_code": 403,
                                   "description": "Forbidden: bot was blocked by the user"})
                return
            if chat not in api.chats or not body.get("text"):
                self._answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
                return
            with api.lock:
                api.messages.append(body)
                message_id = len(api.messages)
            self._answer(200, {"ok": True, "result": {"message_id": message_id, "chat": {"id": chat},
                                                      "text": body["text"]}})

    return Handler


@contextmanager
def bot_api_server(token: str, chats: set[str], blocked: set[str] | None = None) -> Iterator[BotApi]:
    """A running Bot API on a free loopback port."""
    api = BotApi(token=token, chats=set(chats) | set(blocked or ()), blocked=set(blocked or ()), port=free_port())
    server = ThreadingHTTPServer(("127.0.0.1", api.port), _handler(api))
    thread = threading.Thread(target=server.serve_forever, name="bot-api", daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
