"""The portal's SMS gateway: the sender ``portal.sms_sender`` names, built from the ``sms`` settings, and a test
message an operator sends to check it (``netmgr sms test``).

settings → ``sms_senders()`` (console, kannel, smpp, http) → a ``GuardedSender`` that pauses after failures.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from captive_portal.login_methods.otp import mask_phone, normalise_phone, sms_senders
from netmgr.errors import NetmgrError, SmsGatewayUnavailable
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit
from netmgr.settings import Settings
from netmgr.sms import SmsSender, gateway_host
from netmgr.sms.guard import GuardedSender

TEST_TEXT = "netmgr: SMS uji melalui gateway {name}. Jika pesan ini sampai, kode OTP portal WiFi dapat dikirim."


def build_sender(settings: Settings) -> GuardedSender:
    """The configured sender, paused for ``sms.pause_s`` after ``sms.failures_before_pause`` failures in a row.

    Raises:
        NotFound: ``portal.sms_sender`` names no sender (the message lists the known ones).
        SecretError: ``sms.secret_encrypted`` cannot be decrypted with the configured keys.
    """
    name = settings.portal.sms_sender
    return GuardedSender(sms_senders().get(name)(settings), name=name,
                         failures_before_pause=settings.sms.failures_before_pause, pause_s=settings.sms.pause_s)


class BrokenSender:
    """Stands for a gateway whose settings cannot be used (unknown sender, undecryptable credential): every send
    fails with the reason, so citizens are offered the other methods instead of an error page."""

    def __init__(self, reason: str, name: str) -> None:
        self.reason = reason
        self.name = name

    def send(self, phone: str, text: str) -> None:
        raise SmsGatewayUnavailable(self.reason, gateway=self.name)


def portal_sender(settings: Settings) -> SmsSender:
    """The portal's sender: ``build_sender``, or a ``BrokenSender`` saying what is wrong with the settings."""
    try:
        return build_sender(settings)
    except NetmgrError as exc:
        return BrokenSender(f"the SMS gateway settings cannot be used: {exc.message}", settings.portal.sms_sender)


@dataclass(frozen=True)
class GatewaySummary:
    """What the admin page shows about the gateway; never the credential, only whether one is set."""

    sender: str
    where: str
    account: str
    sender_id: str
    credential_set: bool
    timeout_s: float
    development_only: bool


def describe(settings: Settings) -> GatewaySummary:
    """The configured gateway as an operator may see it (the host of a URL, not its path or query)."""
    sms, name = settings.sms, settings.portal.sms_sender
    where, account = {
        "kannel": (gateway_host(sms.kannel_url), sms.kannel_username),
        "smpp": (f"{sms.smpp_host}:{sms.smpp_port}", sms.smpp_system_id),
        "http": (gateway_host(sms.http_url), ""),
    }.get(name, ("", ""))
    return GatewaySummary(sender=name, where=where, account=account, sender_id=sms.sender_id,
                          credential_set=bool(sms.secret_encrypted.get_secret_value().strip()),
                          timeout_s=sms.timeout_s, development_only=name == "console")


def send_test(settings: Settings, raw_phone: str, *, session: Session | None = None,
              actor: Actor | None = None) -> str:
    """Send the test message to ``raw_phone`` (``0812…`` or ``+62812…``) through the configured gateway; with a
    ``session`` and ``actor`` (the admin page), the attempt is audited with the number masked.

    Returns:
        The number as shown back (``+62 812 •••• 7890``).

    Raises:
        PermissionDenied: the actor may not manage hotspots. LoginRefused: not an Indonesian mobile number.
        SmsError: the gateway did not take the message. SecretError: the credential cannot be decrypted.
    """
    if actor is not None:
        actor.require(Permission.PORTAL_MANAGE)
    phone = normalise_phone(raw_phone)
    name = settings.portal.sms_sender
    taken = False
    try:
        sms_senders().get(name)(settings).send(phone, TEST_TEXT.format(name=name))
        taken = True
    finally:
        if session is not None and actor is not None:
            audit.record(session, actor, action="sms_test", entity_type="sms_gateway", entity_id=name,
                         message="sms_gateway.test_taken" if taken else "sms_gateway.test_failed",
                         params={"phone": mask_phone(phone), "name": name})
    return mask_phone(phone)
