"""Text messages to phones through an SMS or WhatsApp gateway: Kannel, a direct SMPP account, or any HTTP API.

A caller (the portal's OTP codes; later alert transports) → ``SmsSender.send(phone, text)`` → the gateway.
Every sender has bounded timeouts and raises only ``SmsGatewayUnavailable`` or ``SmsRejected``
(``netmgr.errors``), never a third-party exception and never with the credential in its message.
``GuardedSender`` stops trying a failing gateway for a while. Nothing here imports a capability package.
"""

from __future__ import annotations

import re
from typing import Protocol
from urllib.parse import urlsplit

from netmgr.security.secrets import SecretBox
from netmgr.settings import Settings


class SmsSender(Protocol):
    """Delivers one text message to a phone in E.164 (``+6281234567890``).

    Raises:
        SmsGatewayUnavailable: the gateway is down, timed out, refused the login or only queued the message.
        SmsRejected: the gateway refused this number or this message.
    """

    def send(self, phone: str, text: str) -> None: ...


def phone_fields(phone: str) -> dict[str, str]:
    """The forms of one number gateways ask for: ``{phone}`` ``+6281234567890``, ``{msisdn}``
    ``6281234567890`` and ``{local}`` ``081234567890``."""
    msisdn = phone.lstrip("+")
    local = "0" + msisdn[2:] if msisdn.startswith("62") else msisdn
    return {"phone": "+" + msisdn, "msisdn": msisdn, "local": local}


def gateway_host(url: str) -> str:
    """Only the host and port of a gateway URL, for messages: the path or query may carry a credential."""
    parts = urlsplit(url)
    return parts.netloc.rsplit("@", 1)[-1] or "(no host)"


def gateway_secret(settings: Settings) -> str:
    """The gateway's credential, decrypted from ``sms.secret_encrypted`` (empty when none is set).

    Raises:
        SecretError: it cannot be decrypted with ``NETMGR_ENCRYPTION_KEYS``.
    """
    token = settings.sms.secret_encrypted.get_secret_value().strip()
    if not token:
        return ""
    return SecretBox(settings.fernet_keys()).decrypt(token)


def is_gsm_text(text: str) -> bool:
    """Whether plain 7-bit coding carries the text (printable ASCII and newlines); else it goes as UCS-2."""
    return all(ch in "\n\r" or " " <= ch <= "~" for ch in text)


_LONG_DIGITS = re.compile(r"\d{6,}")


def redact_answer(answer: str, *, secret: str = "", limit: int = 200) -> str:
    """A gateway's answer fit for an error message, a log line or an alert: at most ``limit`` characters, the
    credential masked, and every run of six or more digits masked, since a gateway may echo the number or the
    text (which holds the code)."""
    if secret:
        answer = answer.replace(secret, "********")
    return _LONG_DIGITS.sub("******", answer)[:limit]
