"""Phone OTP: a 6-digit code by SMS proves a phone number; the number is kept only as a keyed hash.

request_otp → ``SmsSender.send`` → the citizen types the code → verify_otp → a one-time grant.
Limited per phone and per device, and by the SMS budgets of captive_portal.budgets; the code is stored only as
an HMAC, and neither the code nor the number is ever logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from captive_portal import budgets
from captive_portal.decisions import RefusalReason
from captive_portal.login_methods.base import (
    LoginContext,
    LoginRefused,
    LoginResult,
    check_attempts,
    check_quotas,
    default_policy,
    grant_credentials,
    record_consent,
    record_failure,
    remember_device,
    require_method,
    subscriber_for,
)
from netmgr.errors import SmsGatewayUnavailable
from netmgr.models import OtpChallenge
from netmgr.models.hotspot import LoginMethod
from netmgr.registry import Registry
from netmgr.settings import Environment, Settings
from netmgr.sms import SmsSender as SmsSender
from netmgr.sms.http_gateway import HttpGatewaySender
from netmgr.sms.kannel import KannelSender
from netmgr.sms.smpp import SmppSender

log = logging.getLogger(__name__)

PURPOSE = "public internet access with a verified phone number"
CODE_DIGITS = 6
MAX_CODE_TRIES = 5
_DIGITS = re.compile(r"\D")


class ConsoleSmsSender:
    """Development sender: logs the message and keeps the last few in memory (tests read codes from it)."""

    def __init__(self, keep: int = 1000) -> None:
        self._keep = keep
        self._lock = threading.Lock()
        self.outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        # UU PDP: neither the number nor the code reaches a log, at any level.
        log.warning("SMS of %d characters to %s (console sender: no SMS was sent)", len(text), log_phone(phone))
        with self._lock:
            self.outbox.append((phone, text))
            del self.outbox[: -self._keep]

    def last_code(self, phone: str) -> str | None:
        """The last code sent to ``phone`` (E.164), for tests and development."""
        with self._lock:
            for to, text in reversed(self.outbox):
                if to == phone:
                    match = re.search(rf"\b(\d{{{CODE_DIGITS}}})\b", text)
                    return match.group(1) if match else None
        return None


class NoSmsSender:
    """What ``console`` means in production: no gateway is configured, so every send fails at once and the
    citizen is offered the other ways in (a code that only reaches a log must not look sent)."""

    def send(self, phone: str, text: str) -> None:
        raise SmsGatewayUnavailable("no SMS gateway is configured: set NETMGR_PORTAL__SMS_SENDER to kannel, smpp or "
                                    "http and its NETMGR_SMS__* settings (docs/captive-portal.md)", gateway="console")


def _console(settings: Settings) -> SmsSender:
    return NoSmsSender() if settings.environment == Environment.PRODUCTION else ConsoleSmsSender()


SenderFactory = Callable[[Settings], SmsSender]


def sms_senders() -> Registry[SenderFactory]:
    """SMS senders by the name used in ``portal.sms_sender``, each built from the settings."""
    senders: Registry[SenderFactory] = Registry("SMS sender")
    senders.register("console", _console)
    senders.register("kannel", KannelSender.from_settings)
    senders.register("smpp", SmppSender.from_settings)
    senders.register("http", HttpGatewaySender.from_settings)
    return senders


def normalise_phone(raw: str) -> str:
    """An Indonesian mobile number in E.164 (``0812-3456-7890`` → ``+6281234567890``).

    Raises:
        LoginRefused: not an Indonesian mobile number.
    """
    digits = _DIGITS.sub("", raw or "")
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    if not re.fullmatch(r"628\d{7,11}", digits):
        raise LoginRefused(RefusalReason.PHONE_INVALID)
    return "+" + digits


def mask_phone(phone: str) -> str:
    """``+6281234567890`` → ``+62 812 •••• 7890`` (what the page shows back)."""
    return f"{phone[:3]} {phone[3:6]} •••• {phone[-4:]}"


def log_phone(phone: str) -> str:
    """``+6281234567890`` → ``+62812****890``: enough for an operator to tell numbers apart, never the number."""
    return f"{phone[:6]}****{phone[-3:]}" if len(phone) > 9 else "****"


def phone_hash(phone: str, secret_key: str) -> str:
    """The keyed hash (HMAC-SHA256) under which a phone number is stored; the number itself never is."""
    key = hashlib.sha256(b"netmgr-portal-phone:" + secret_key.encode()).digest()
    return hmac.new(key, phone.encode(), hashlib.sha256).hexdigest()


def _code_hash(challenge_phone_hash: str, code: str, secret_key: str) -> str:
    key = hashlib.sha256(b"netmgr-portal-otp:" + secret_key.encode()).digest()
    return hmac.new(key, f"{challenge_phone_hash}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class OtpSent:
    challenge_id: int
    masked_phone: str
    expires_at: datetime


def _sms_text(language: str, hotspot_name: str, code: str, minutes: int) -> str:
    if language == "en":
        return f"{hotspot_name}: your Wi-Fi code is {code}. Valid for {minutes} minutes. Do not share it."
    return f"{hotspot_name}: kode WiFi Anda {code}. Berlaku {minutes} menit. Jangan berikan ke orang lain."


def request_otp(session: Session, ctx: LoginContext, raw_phone: str, *, sender: SmsSender,
                secret_key: str) -> OtpSent:
    """Send a fresh code to the phone, within the per-phone and per-device hourly limits and the SMS budgets
    of the source address, the hotspot and the installation (``captive_portal.budgets``).

    Raises:
        LoginRefused: method off, no consent, bad number, too many codes or failed attempts, budget spent.
    """
    require_method(ctx, LoginMethod.PHONE_OTP)
    check_attempts(session, ctx)
    phone = normalise_phone(raw_phone)
    hashed = phone_hash(phone, secret_key)
    hour_ago = ctx.now - timedelta(hours=1)
    per_phone = session.scalar(select(func.count()).select_from(OtpChallenge).where(
        OtpChallenge.phone_hash == hashed, OtpChallenge.created_at >= hour_ago)) or 0
    per_device = session.scalar(select(func.count()).select_from(OtpChallenge).where(
        OtpChallenge.mac == ctx.mac, OtpChallenge.created_at >= hour_ago)) or 0
    limit = ctx.portal.otp_max_per_phone_per_hour
    if per_phone >= limit or per_device >= limit * 2:
        raise LoginRefused(RefusalReason.OTP_TOO_MANY_SMS, retry_after_s=3600)
    exhausted = budgets.spend_sms(session, ctx)
    if exhausted is not None:
        raise LoginRefused(RefusalReason.SMS_UNAVAILABLE, retry_after_s=exhausted.retry_after_s)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    expires = ctx.now + timedelta(seconds=ctx.portal.otp_ttl_s)
    challenge = OtpChallenge(hotspot_id=ctx.hotspot.id, phone_hash=hashed,
                             code_hash=_code_hash(hashed, code, secret_key), mac=ctx.mac, created_at=ctx.now,
                             expires_at=expires)
    session.add(challenge)
    session.flush()
    sender.send(phone, _sms_text(ctx.language, ctx.hotspot.name, code, max(1, ctx.portal.otp_ttl_s // 60)))
    return OtpSent(challenge_id=challenge.id, masked_phone=mask_phone(phone), expires_at=expires)


def verify_otp(session: Session, ctx: LoginContext, challenge_id: int, raw_code: str, *,
               secret_key: str) -> LoginResult:
    """Check the code typed for ``challenge_id`` on this device; on success grant the hotspot's policy.

    Raises:
        LoginRefused: wrong or expired code, too many tries, quota used.
    """
    require_method(ctx, LoginMethod.PHONE_OTP)
    check_attempts(session, ctx)
    challenge = session.get(OtpChallenge, challenge_id)
    if (challenge is None or challenge.hotspot_id != ctx.hotspot.id or challenge.mac != ctx.mac
            or challenge.verified_at is not None or challenge.expires_at <= ctx.now):
        raise LoginRefused(RefusalReason.OTP_EXPIRED)
    if challenge.attempts >= MAX_CODE_TRIES:
        raise LoginRefused(RefusalReason.TOO_MANY_ATTEMPTS, retry_after_s=ctx.portal.lockout_s)
    code = _DIGITS.sub("", raw_code or "")
    expected = challenge.code_hash
    if not hmac.compare_digest(expected, _code_hash(challenge.phone_hash, code, secret_key)):
        challenge.attempts += 1
        record_failure(session, ctx, username="otp", reason=RefusalReason.OTP_WRONG)
        raise LoginRefused(RefusalReason.OTP_WRONG)
    challenge.verified_at = ctx.now
    policy = default_policy(session, ctx)
    subscriber_id = subscriber_for(session, ctx, identity=f"phone:{challenge.phone_hash}",
                                   kind=LoginMethod.PHONE_OTP, phone_hash=challenge.phone_hash)
    check_quotas(session, ctx, policy.limits, subscriber_id)
    remember_device(session, ctx, subscriber_id)
    record_consent(session, ctx, subscriber_id, purpose=PURPOSE)
    credentials = grant_credentials(session, ctx, subscriber_id=subscriber_id, policy_id=policy.id,
                              method=LoginMethod.PHONE_OTP)
    return LoginResult(method=LoginMethod.PHONE_OTP, credentials=credentials, subscriber_id=subscriber_id,
                       policy_id=policy.id)
