"""MikroTik Hotspot with an external login page.

The router's ``login.html`` redirects to the portal with ``mac``, ``ip``, ``username``, ``link-login``,
``link-login-only``, ``link-orig``, ``chap-id``, ``chap-challenge`` and ``error``. The portal sends the
browser back to ``link-login-only`` with ``username`` and ``password`` — CHAP-hashed as
``md5(chap-id + password + chap-challenge)`` when the router offered CHAP — and the router then asks RADIUS.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from captive_portal.gateways import validation
from captive_portal.gateways.base import Completion, Credentials, GatewayContext, GatewayRegistration
from netmgr.errors import ValidationFailed

_OCTAL = re.compile(r"\\([0-7]{3})")


def chap_bytes(value: str) -> bytes:
    """Decode MikroTik's ``$(chap-id)``/``$(chap-challenge)`` text: ``\\ooo`` octal escapes, as in JavaScript."""
    out = bytearray()
    pos = 0
    for match in _OCTAL.finditer(value):
        out += value[pos : match.start()].encode("latin-1")
        out.append(int(match.group(1), 8) & 0xFF)
        pos = match.end()
    out += value[pos:].encode("latin-1")
    return bytes(out)


def chap_password(chap_id: str, password: str, chap_challenge: str) -> str:
    """The hex MD5 the router expects in ``password`` when CHAP is on (its own login.html does the same)."""
    digest = hashlib.md5(chap_bytes(chap_id) + password.encode() + chap_bytes(chap_challenge), usedforsecurity=False)
    return digest.hexdigest()


class MikrotikHotspotAdapter:
    """``mikrotik``: RouterOS Hotspot redirecting to an external login page."""

    kind = "mikrotik"

    def parse(self, params: Mapping[str, str], gateway: GatewayRegistration) -> GatewayContext:
        mac = validation.mac_address(params.get("mac"), field="mac")
        ip = validation.ip_address(params.get("ip"), field="ip")
        login_only = params.get("link-login-only") or params.get("link-login")
        login_url = validation.http_url(login_only, field="link-login-only")
        gateway.require_host(validation.url_host(login_url), field="link-login-only")
        original = params.get("link-orig") or ""
        if original:
            try:
                original = validation.http_url(original, field="link-orig")
            except ValidationFailed:
                original = ""  # a strange destination is dropped, not fatal: the citizen can still log in
        chap_id = validation.hex_string(params.get("chap-id"), field="chap-id", max_len=16)
        chap_challenge = validation.hex_string(params.get("chap-challenge"), field="chap-challenge")
        if bool(chap_id) != bool(chap_challenge):
            raise ValidationFailed("chap-id and chap-challenge come together", field="chap-id")
        error = (params.get("error") or "").strip()[:200]
        return GatewayContext(
            kind=self.kind, mac=mac, ip=ip, login_url=login_url, original_url=original,
            gateway_error="".join(c for c in error if c.isprintable()),
            extra={"chap_id": chap_id, "chap_challenge": chap_challenge},
        )

    def complete(self, context: GatewayContext, credentials: Credentials, gateway: GatewayRegistration,
                 *, after_login_url: str) -> Completion:
        gateway.require_host(validation.url_host(context.login_url), field="link-login-only")
        chap_id = context.extra.get("chap_id", "")
        password = credentials.password
        if chap_id:
            password = chap_password(chap_id, password, context.extra.get("chap_challenge", ""))
        params = {"username": credentials.username, "password": password,
                  "dst": context.original_url or after_login_url, "popup": "false"}
        return Completion(url=context.login_url, params=params)
