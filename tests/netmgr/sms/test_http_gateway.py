"""HttpGatewaySender against a local HTTP server that answers like the WhatsApp/SMS gateway services do."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from netmgr.errors import SmsGatewayUnavailable, SmsRejected
from netmgr.security.secrets import SecretBox
from netmgr.settings import SmsSettings
from netmgr.sms.http_gateway import HttpGatewaySender
from tests.conftest import TEST_ENCRYPTION_KEY, make_settings
from tests.servers.process import free_port

TOKEN = "tok-WA-9f3c"  # noqa: S105 - a test credential


@dataclass
class Gateway:
    """Takes ``POST /send`` with the token in ``Authorization``; refuses numbers it does not know like Fonnte
    does (HTTP 200 and ``"status": false``); ``status``/``delay_s`` make it fail or hang."""

    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    delay_s: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _handler(gw: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
            return None

        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            gw.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                "body": body.decode()})
            time.sleep(gw.delay_s)
            if self.headers.get("Authorization") != TOKEN:
                answer: dict[str, Any] = {"status": False, "reason": "invalid token"}
                status = 401
            elif "0000" in body.decode() + self.path:
                answer, status = {"status": False, "reason": "target invalid", "echo": body.decode()}, 200
            else:
                answer, status = {"status": True, "id": len(gw.requests)}, gw.status
            data = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass

        do_GET = do_POST = _handle  # noqa: N815 - names of the base class's dispatch

    return Handler


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gw = Gateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gw))
    server.daemon_threads = True
    gw.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield gw
    server.shutdown()
    server.server_close()


def _json_sender(gw: Gateway, **overrides: object) -> HttpGatewaySender:
    values: dict[str, object] = {
        "url": f"{gw.url}/send", "headers": {"Authorization": "{secret}", "Content-Type": "application/json"},
        "body": '{"target": "{msisdn}", "message": "{text}", "countryCode": "62"}', "secret": TOKEN,
        "success_contains": '"status": true', "timeout_s": 2.0, **overrides}
    return HttpGatewaySender(**values)  # type: ignore[arg-type]


def test_json_body_carries_the_number_and_the_text_escaped(gateway: Gateway) -> None:
    text = 'Taman "Kota": kode 123456\nJangan berikan ke orang lain ☀'
    _json_sender(gateway).send("+6281234567890", text)
    [request] = gateway.requests
    assert request["method"] == "POST" and request["path"] == "/send"
    assert json.loads(request["body"]) == {"target": "6281234567890", "message": text, "countryCode": "62"}


def test_get_with_fields_in_the_url_is_url_escaped(gateway: Gateway) -> None:
    HttpGatewaySender(url=f"{gateway.url}/api?to={{local}}&msg={{text}}", method="GET",
                      headers={"Authorization": "{secret}"}, secret=TOKEN).send("+6281234567890", "kode 12&34")
    [request] = gateway.requests
    assert parse_qs(urlsplit(request["path"]).query) == {"to": ["081234567890"], "msg": ["kode 12&34"]}


def test_form_body_is_form_escaped(gateway: Gateway) -> None:
    _json_sender(gateway, headers={"Authorization": "{secret}",
                                   "Content-Type": "application/x-www-form-urlencoded"},
                 body="target={phone}&message={text}").send("+6281234567890", "kode 1+1=2 & lain")
    [request] = gateway.requests
    assert parse_qs(request["body"]) == {"target": ["+6281234567890"], "message": ["kode 1+1=2 & lain"]}


def test_refused_number_by_the_success_rule_is_rejected_without_echoing_number_or_code(gateway: Gateway) -> None:
    with pytest.raises(SmsRejected, match="target invalid") as caught:
        _json_sender(gateway).send("+6281200000000", "kode 123456")
    assert "81200000000" not in caught.value.message and "123456" not in caught.value.message


def test_wrong_token_is_unavailable_and_never_shows_the_token(gateway: Gateway) -> None:
    with pytest.raises(SmsGatewayUnavailable, match="HTTP 401") as caught:
        _json_sender(gateway, secret="tok-wrong-1").send("+6281234567890", "halo")
    assert "tok-wrong-1" not in str(caught.value)


def test_server_error_is_unavailable(gateway: Gateway) -> None:
    gateway.status = 502
    with pytest.raises(SmsGatewayUnavailable, match="HTTP 502"):
        _json_sender(gateway).send("+6281234567890", "halo")


def test_hung_gateway_times_out_within_the_bound(gateway: Gateway) -> None:
    gateway.delay_s = 1.5
    started = time.monotonic()
    with pytest.raises(SmsGatewayUnavailable, match="did not answer within 0.5 s"):
        _json_sender(gateway, timeout_s=0.5).send("+6281234567890", "halo")
    assert time.monotonic() - started < 2


def test_nothing_listening_is_unavailable() -> None:
    with pytest.raises(SmsGatewayUnavailable, match="cannot be reached"):
        HttpGatewaySender(url=f"http://127.0.0.1:{free_port()}/send").send("+6281234567890", "halo")


def test_settings_carry_the_token_encrypted(gateway: Gateway, tmp_path: Any) -> None:
    sms = SmsSettings(http_url=f"{gateway.url}/send", http_headers={"Authorization": "{secret}"},
                      http_body="target={msisdn}&message={text}",
                      secret_encrypted=SecretBox([TEST_ENCRYPTION_KEY]).encrypt(TOKEN))
    settings = make_settings(tmp_path, sms=sms)
    assert TOKEN not in settings.model_dump_json()
    HttpGatewaySender.from_settings(settings).send("+6281234567890", "halo")
    assert gateway.requests[0]["headers"]["Authorization"] == TOKEN
