"""openNDS with a Forwarding Authentication Service (``fas_secure_enabled 1``).

openNDS redirects to the FAS (the portal) with ``fas=<base64 of "hid=…, clientip=…, clientmac=…,
gatewayaddress=…, originurl=…">``. After login the portal sends the browser to
``http://<gatewayaddress>/opennds_auth/?tok=<sha256(hid + faskey)>&redir=…&custom=…``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from urllib.parse import unquote

from captive_portal.gateways import validation
from captive_portal.gateways.base import Completion, Credentials, GatewayContext, GatewayRegistration
from netmgr.errors import ValidationFailed

MAX_FAS_LENGTH = 4096
_HID = re.compile(r"^[0-9a-f]{16,128}$")


def decode_fas(encoded: str | None) -> dict[str, str]:
    """The key/value pairs inside openNDS's ``fas`` parameter (values URL-decoded)."""
    raw = (encoded or "").strip()
    if not raw or len(raw) > MAX_FAS_LENGTH:
        raise ValidationFailed("fas is missing or too long", field="fas")
    try:
        text = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("fas is not base64 text", field="fas") from None
    pairs: dict[str, str] = {}
    for item in text.split(", "):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            pairs[key.strip()] = unquote(value.strip())
    return pairs


def fas_token(hid: str, faskey: str) -> str:
    """Level 1 token: ``sha256(hid + faskey)`` in hex."""
    return hashlib.sha256((hid + faskey).encode()).hexdigest()


class OpenNdsFasAdapter:
    """``opennds``: openNDS 9+/10 with the portal as its FAS at security level 1."""

    kind = "opennds"

    def parse(self, params: Mapping[str, str], gateway: GatewayRegistration) -> GatewayContext:
        fas = decode_fas(params.get("fas"))
        hid = (fas.get("hid") or "").lower()
        if not _HID.match(hid):
            raise ValidationFailed("fas has no valid hid", field="hid")
        ip = validation.ip_address(fas.get("clientip"), field="clientip")
        mac = validation.mac_address(fas.get("clientmac"), field="clientmac")
        address = validation.host(fas.get("gatewayaddress") or "", field="gatewayaddress")
        gateway.require_host(address, field="gatewayaddress")
        original = fas.get("originurl") or ""
        if original:
            try:
                original = validation.http_url(original, field="originurl")
            except ValidationFailed:
                original = ""
        return GatewayContext(
            kind=self.kind, mac=mac, ip=ip, login_url=f"http://{address}/opennds_auth/",
            original_url=original, extra={"hid": hid, "gatewayaddress": address},
        )

    def complete(self, context: GatewayContext, credentials: Credentials, gateway: GatewayRegistration,
                 *, after_login_url: str) -> Completion:
        address = context.extra.get("gatewayaddress", "")
        gateway.require_host(address, field="gatewayaddress")
        if not gateway.faskey:
            raise ValidationFailed("the gateway has no faskey configured", field="faskey")
        custom = base64.b64encode(f"username={credentials.username}".encode()).decode()
        params = {"tok": fas_token(context.extra["hid"], gateway.faskey),
                  "redir": context.original_url or after_login_url, "custom": custom}
        return Completion(url=f"http://{address}/opennds_auth/", params=params)
