"""A generic HTTP SMS/WhatsApp gateway: one request per message, built from templates, judged by a success rule.

Text → URL, headers and body templates filled with ``{phone}``/``{msisdn}``/``{local}``/``{text}``/``{secret}``
(each value escaped for where it lands) → one HTTP request → the status and an optional text say whether the
gateway took it. Covers the WhatsApp and SMS gateway services Indonesian offices use; reusable by any caller.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import quote, quote_plus

import httpx

from netmgr.errors import SmsGatewayUnavailable, SmsRejected
from netmgr.settings import Settings
from netmgr.sms import gateway_host, gateway_secret, phone_fields, redact_answer

log = logging.getLogger(__name__)

NAME = "http"
_FIELD = re.compile(r"\{(phone|msisdn|local|text|secret)\}")
_TOO_BUSY = frozenset({408, 425, 429})


def render(template: str, values: Mapping[str, str], escape: Callable[[str], str]) -> str:
    """Fill ``{name}`` fields of ``template`` with escaped values; anything else stays as written.

    Only the five known names are replaced (no ``str.format``: a template cannot reach attributes).
    """
    return _FIELD.sub(lambda m: escape(values[m.group(1)]), template)


def _json_escape(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def body_escape(content_type: str) -> Callable[[str], str]:
    """How values are escaped in a body of this Content-Type: JSON strings, form fields, or as they are."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        return _json_escape
    if kind == "application/x-www-form-urlencoded":
        return quote_plus
    return str


class HttpGatewaySender:
    """Sends a text with one HTTP request to a gateway service, e.g. a WhatsApp gateway's
    ``POST https://api.example.id/send`` with ``{"target": "{msisdn}", "message": "{text}"}``.

    Args:
        url: the endpoint; its fields are URL-escaped.
        method: ``GET`` or ``POST`` (any HTTP method).
        headers: header templates, e.g. ``{"Authorization": "Bearer {secret}"}``.
        body: the body template; escaped as JSON or a form when the Content-Type header says so.
        secret: the credential ``{secret}`` stands for (never logged, never in an error).
        success_status: statuses that mean the message was taken.
        success_contains: text the answer must contain as well; empty: not checked.
        timeout_s: the longest wait for each step (connect, send, answer).
        transport: an httpx transport (custom TLS).
    """

    name = NAME

    def __init__(self, *, url: str, method: str = "POST", headers: Mapping[str, str] | None = None,
                 body: str = "", secret: str = "", success_status: Sequence[int] = (200, 201, 202),
                 success_contains: str = "", timeout_s: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        self.method = method.upper()
        self.headers = dict(headers or {})
        self.body = body
        self._secret = secret
        self.success_status = frozenset(success_status)
        self.success_contains = success_contains
        self.timeout_s = timeout_s
        self._transport = transport

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpGatewaySender:
        sms = settings.sms
        return cls(url=sms.http_url, method=sms.http_method, headers=sms.http_headers, body=sms.http_body,
                   secret=gateway_secret(settings), success_status=sms.http_success_status,
                   success_contains=sms.http_success_contains, timeout_s=sms.timeout_s)

    def send(self, phone: str, text: str) -> None:
        where = gateway_host(self.url)
        values = {**phone_fields(phone), "text": text, "secret": self._secret}
        headers = {name: render(value, values, str) for name, value in self.headers.items()}
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        content = render(self.body, values, body_escape(content_type)).encode() if self.body else None
        url = render(self.url, values, lambda v: quote(v, safe=""))
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self._transport, follow_redirects=False) as client:
                response = client.request(self.method, url, headers=headers, content=content)
        except httpx.TimeoutException as exc:
            raise SmsGatewayUnavailable(f"the SMS gateway at {where} did not answer within {self.timeout_s:g} s",
                                        gateway=NAME) from exc
        except httpx.HTTPError as exc:
            raise SmsGatewayUnavailable(
                f"the SMS gateway at {where} cannot be reached ({type(exc).__name__}): "
                "check sms.http_url and that the service is up", gateway=NAME) from exc
        answer = redact_answer(response.text, secret=self._secret)
        status = response.status_code
        if status in self.success_status and (not self.success_contains or self.success_contains in response.text):
            return
        if status in self.success_status or (400 <= status < 500 and status not in _TOO_BUSY
                                             and status not in (401, 403, 404, 405)):
            raise SmsRejected(f"the SMS gateway at {where} refused the message (HTTP {status}): {answer}",
                              gateway=NAME)
        raise SmsGatewayUnavailable(f"the SMS gateway at {where} answered HTTP {status}: {answer}", gateway=NAME)
