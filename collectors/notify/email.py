"""E-mail notifications through an SMTP relay with smtplib (optionally STARTTLS and login).

Message → one SMTP transaction addressed to every recipient → a Delivery per recipient (refused ones fail).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from collectors.notify import Delivery, Message
from netmgr.settings import NotifySettings

log = logging.getLogger(__name__)


class EmailNotifier:
    """Sends alert e-mails through ``host:port``.

    Args:
        host, port: the SMTP server (the regency's mail relay).
        sender: the From address.
        recipients: every To address.
        starttls: upgrade the connection with STARTTLS (verifying the certificate with ``tls_context``).
        user, password: log in when ``user`` is set.
    """

    channel = "email"

    def __init__(self, *, host: str, port: int, sender: str, recipients: list[str], starttls: bool = False,
                 user: str = "", password: str = "", timeout_s: float = 10.0,
                 tls_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = list(recipients)
        self.starttls = starttls
        self.user = user
        self._password = password
        self.timeout_s = timeout_s
        self.tls_context = tls_context

    @classmethod
    def from_settings(cls, settings: NotifySettings) -> EmailNotifier:
        return cls(host=settings.smtp_host, port=settings.smtp_port, sender=settings.email_from,
                   recipients=settings.email_recipients, starttls=settings.smtp_starttls, user=settings.smtp_user,
                   password=settings.smtp_password.get_secret_value(), timeout_s=settings.smtp_timeout_s)

    def _email(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients)
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or "netmgr")
        mail.set_content(message.text)
        return mail

    def send(self, message: Message) -> list[Delivery]:
        if not self.recipients:
            return []
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.tls_context or ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self._password)
                refused = smtp.send_message(self._email(message), from_addr=self.sender, to_addrs=self.recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            return [Delivery(self.channel, r, False, _reason(exc.recipients.get(r))) for r in self.recipients]
        except (smtplib.SMTPException, OSError) as exc:
            error = f"SMTP {self.host}:{self.port}: {exc}"
            log.warning("e-mail notification failed: %s", error)
            return [Delivery(self.channel, r, False, error) for r in self.recipients]
        return [Delivery(self.channel, r, r not in refused, _reason(refused.get(r))) for r in self.recipients]


def _reason(answer: tuple[int, bytes] | None) -> str:
    if answer is None:
        return ""
    code, text = answer
    return f"refused by the SMTP server: {code} {text.decode(errors='replace')}"
