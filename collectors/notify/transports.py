"""Senders for the transports admins set up in the UI: a ``TransportSpec`` → the matching notifier.

netmgr.services.alert_transports (stored config + decrypted secret) → EmailNotifier, TelegramNotifier or an
HttpNotifier over the portal OTP's generic HTTP gateway sender → Deliveries.
"""

from __future__ import annotations

import logging

from collectors.notify import Delivery, Message, Notifier
from collectors.notify.email import EmailNotifier
from collectors.notify.telegram import TelegramNotifier
from netmgr.errors import SmsError
from netmgr.models.alerts import TransportKind
from netmgr.services.alert_transports import TestDelivery, TransportSpec
from netmgr.sms.http_gateway import HttpGatewaySender

log = logging.getLogger(__name__)

DEFAULT_TELEGRAM_API = "https://api.telegram.org"


class HttpNotifier:
    """Sends alert texts to phone numbers through a WhatsApp/SMS HTTP gateway, one request per number."""

    channel = "http"

    def __init__(self, *, sender: HttpGatewaySender, recipients: list[str]) -> None:
        self.sender = sender
        self.recipients = list(recipients)

    def send(self, message: Message) -> list[Delivery]:
        out: list[Delivery] = []
        for phone in self.recipients:
            try:
                self.sender.send(phone, message.text)
            except SmsError as exc:
                log.warning("HTTP gateway notification to %s failed: %s", phone, exc)
                out.append(Delivery(self.channel, phone, False, str(exc)))
            else:
                out.append(Delivery(self.channel, phone, True))
        return out


def notifier_for(spec: TransportSpec) -> Notifier:
    """The notifier sending through ``spec``."""
    config = spec.config
    if spec.kind == TransportKind.EMAIL:
        return EmailNotifier(host=str(config["host"]), port=int(config.get("port", 25)), sender=str(config["sender"]),
                             recipients=list(config["recipients"]), starttls=bool(config.get("starttls", False)),
                             user=str(config.get("user", "")), password=spec.secret,
                             timeout_s=float(config.get("timeout_s", 10.0)))
    if spec.kind == TransportKind.TELEGRAM:
        return TelegramNotifier(token=spec.secret, chat_ids=list(config["chat_ids"]),
                                api_url=str(config.get("api_url") or DEFAULT_TELEGRAM_API),
                                timeout_s=float(config.get("timeout_s", 10.0)))
    sender = HttpGatewaySender(url=str(config["url"]), method=str(config.get("method", "POST")),
                               headers=dict(config.get("headers", {})), body=str(config.get("body", "")),
                               secret=spec.secret,
                               success_status=tuple(config.get("success_status", (200, 201, 202))),
                               success_contains=str(config.get("success_contains", "")),
                               timeout_s=float(config.get("timeout_s", 5.0)))
    return HttpNotifier(sender=sender, recipients=list(config["recipients"]))


def send_through(spec: TransportSpec, subject: str, text: str) -> list[TestDelivery]:
    """Send one message through a stored transport (the ``TransportSender`` the UI's test button uses)."""
    deliveries = notifier_for(spec).send(Message(subject=subject, text=text))
    return [TestDelivery(d.recipient, d.ok, d.error) for d in deliveries]
