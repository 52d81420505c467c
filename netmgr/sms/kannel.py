"""Kannel's ``sendsms`` HTTP interface: netmgr → smsbox → bearerbox → the operator's SMSC (over SMPP).

One GET per message; Kannel answers ``0: Accepted for delivery`` (sent on to an SMSC) or ``3: Queued for later
delivery`` (no SMSC link is up: an OTP would arrive too late, so that counts as a failure).
"""

from __future__ import annotations

import httpx

from netmgr.errors import SmsGatewayUnavailable, SmsRejected
from netmgr.settings import Settings
from netmgr.sms import gateway_host, gateway_secret, is_gsm_text, phone_fields, redact_answer

NAME = "kannel"


class KannelSender:
    """Sends through a Kannel ``sendsms-user``.

    Args:
        url: smsbox's sendsms URL, e.g. ``http://127.0.0.1:13013/cgi-bin/sendsms``.
        username, password: the ``sendsms-user`` of kannel.conf (the password never appears in an error).
        sender_id: ``from``; empty: Kannel's ``global-sender``.
        smsc: an ``smsc-id`` to route through; empty: Kannel chooses.
        timeout_s: the longest wait for each step (connect, answer).
    """

    name = NAME

    def __init__(self, *, url: str, username: str, password: str, sender_id: str = "", smsc: str = "",
                 timeout_s: float = 5.0, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        self.username = username
        self._password = password
        self.sender_id = sender_id
        self.smsc = smsc
        self.timeout_s = timeout_s
        self._transport = transport

    @classmethod
    def from_settings(cls, settings: Settings) -> KannelSender:
        sms = settings.sms
        return cls(url=sms.kannel_url, username=sms.kannel_username, password=gateway_secret(settings),
                   sender_id=sms.sender_id, smsc=sms.kannel_smsc, timeout_s=sms.timeout_s)

    def send(self, phone: str, text: str) -> None:
        where = gateway_host(self.url)
        params = {"username": self.username, "password": self._password, "to": phone_fields(phone)["msisdn"],
                  "text": text}
        if not is_gsm_text(text):
            params.update(coding="2", charset="UTF-8")
        if self.sender_id:
            params["from"] = self.sender_id
        if self.smsc:
            params["smsc"] = self.smsc
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self._transport) as client:
                response = client.get(self.url, params=params)
        except httpx.TimeoutException as exc:
            raise SmsGatewayUnavailable(f"Kannel at {where} did not answer within {self.timeout_s:g} s",
                                        gateway=NAME) from exc
        except httpx.HTTPError as exc:
            raise SmsGatewayUnavailable(f"Kannel at {where} cannot be reached ({type(exc).__name__}): check "
                                        "sms.kannel_url and that smsbox is running", gateway=NAME) from exc
        answer = redact_answer(response.text.strip(), secret=self._password)
        if response.status_code in (200, 202) and answer.startswith("0:"):
            return
        if answer.startswith("3:"):
            raise SmsGatewayUnavailable(f"Kannel at {where} queued the message ({answer}): no SMSC link is up; "
                                        "check the smsc groups in kannel.conf and the status page", gateway=NAME)
        if "denied" in answer.lower():
            raise SmsRejected(f"Kannel at {where} refused the number ({answer})", gateway=NAME)
        raise SmsGatewayUnavailable(f"Kannel at {where} answered HTTP {response.status_code}: {answer}",
                                    gateway=NAME)
