"""The portal's SMS gateway: the sender ``portal.sms_sender`` names, built from the ``sms`` settings, and a test
message an operator sends to check it (``netmgr sms test``).

settings → ``sms_senders()`` (console, kannel, smpp, http) → a ``GuardedSender`` that pauses after failures.
"""

from __future__ import annotations

from captive_portal.login_methods.otp import mask_phone, normalise_phone, sms_senders
from netmgr.settings import Settings
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


def send_test(settings: Settings, raw_phone: str) -> str:
    """Send the test message to ``raw_phone`` (``0812…`` or ``+62812…``) through the configured gateway.

    Returns:
        The number as shown back (``+62 812 •••• 7890``).

    Raises:
        LoginRefused: not an Indonesian mobile number. SmsError: the gateway did not take the message.
    """
    phone = normalise_phone(raw_phone)
    sender = sms_senders().get(settings.portal.sms_sender)(settings)
    sender.send(phone, TEST_TEXT.format(name=settings.portal.sms_sender))
    return mask_phone(phone)
