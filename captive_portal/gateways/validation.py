"""Strict parsing of what a gateway puts in the redirect URL: MAC and IP addresses and URLs.

Every value a citizen's browser carries from the gateway to the portal is untrusted; these helpers turn
it into normalised values or raise ``ValidationFailed`` naming the parameter.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from netmgr.errors import ValidationFailed

MAX_URL_LENGTH = 2048
_MAC = re.compile(r"^[0-9a-f]{2}([:-]?)[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TOKEN = re.compile(r"^[A-Za-z0-9._~\-]{0,128}$")


def mac_address(value: str | None, *, field: str = "mac") -> str:
    """``value`` as an uppercase colon-separated MAC, the way gateways send Calling-Station-Id (``AA:BB:…``)."""
    raw = (value or "").strip().lower()
    if not _MAC.match(raw):
        raise ValidationFailed(f"{field} is not a MAC address", field=field)
    digits = re.sub(r"[^0-9a-f]", "", raw)
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).upper()


def ip_address(value: str | None, *, field: str = "ip") -> str:
    """``value`` as a normalised IPv4 or IPv6 address."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        raise ValidationFailed(f"{field} is not an IP address", field=field) from None


def host(value: str, *, field: str) -> str:
    """A hostname or IP literal, optionally with ``:port``, lowercased (``10.5.50.1:2050``)."""
    raw = value.strip().lower()
    if not raw or len(raw) > 260 or any(c in raw for c in "/\\@?#\r\n\t "):
        raise ValidationFailed(f"{field} is not a host", field=field)
    name, port = raw, ""
    if raw.startswith("["):
        end = raw.find("]")
        if end < 0:
            raise ValidationFailed(f"{field} is not a host", field=field)
        name, port = raw[1:end], raw[end + 1 :].removeprefix(":")
        ip_address(name, field=field)
        name = f"[{name}]"
    elif raw.count(":") == 1:
        name, port = raw.split(":")
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        raise ValidationFailed(f"{field} has a bad port", field=field)
    if not name.startswith("["):
        try:
            ipaddress.ip_address(name)
        except ValueError:
            if not all(_HOST_LABEL.match(label) for label in name.rstrip(".").split(".")):
                raise ValidationFailed(f"{field} is not a host", field=field) from None
    return f"{name}:{port}" if port else name


def http_url(value: str | None, *, field: str) -> str:
    """An absolute ``http``/``https`` URL without credentials or control characters."""
    raw = (value or "").strip()
    if not raw or len(raw) > MAX_URL_LENGTH or any(ord(c) < 33 or c == "\\" for c in raw):
        raise ValidationFailed(f"{field} is not a URL", field=field)
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        raise ValidationFailed(f"{field} must be an http or https URL", field=field)
    host(parts.netloc, field=field)
    return raw


def url_host(url: str) -> str:
    """The ``host[:port]`` of an already validated URL, lowercased, default port dropped."""
    parts = urlsplit(url)
    netloc = parts.netloc.lower()
    default = {"http": ":80", "https": ":443"}[parts.scheme]
    return netloc.removesuffix(default)


def token(value: str | None, *, field: str) -> str:
    """A short opaque token such as a CHAP id or a username: unreserved URL characters only."""
    raw = value or ""
    if not _TOKEN.match(raw):
        raise ValidationFailed(f"{field} has characters that are not allowed", field=field)
    return raw


def hex_string(value: str | None, *, field: str, max_len: int = 256) -> str:
    """Hex digits or MikroTik's octal-escaped bytes (``\\123``) as sent in ``chap-challenge``."""
    raw = value or ""
    if len(raw) > max_len or not re.fullmatch(r"(?:[0-9a-fA-F]|\\[0-7]{3})*", raw):
        raise ValidationFailed(f"{field} is malformed", field=field)
    return raw
