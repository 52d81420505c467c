"""Voucher login: a printed code from a batch grants the batch's policy, on one device at a time or on N.

The portal checks the code first so the citizen reads a plain reason ("Kode voucher sudah dipakai");
the gateway then presents the code itself to RADIUS (the code is both User-Name and password).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from captive_portal import budgets
from captive_portal import sessions as hotspot_sessions
from captive_portal.gateways import Credentials
from captive_portal.login_methods.base import (
    LoginContext,
    LoginRefused,
    LoginResult,
    RefusalReason,
    check_attempts,
    check_quotas,
    record_consent,
    record_failure,
    remember_device,
    require_method,
    subscriber_for,
)
from captive_portal.policies import PolicyLimits
from netmgr.models import Voucher, VoucherBatch
from netmgr.models.hotspot import LoginMethod, VoucherStatus

PURPOSE = "public internet access with a voucher"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""Voucher characters: no 0/O, 1/I/L, so a code read off paper is typed right."""
_NOT_CODE = re.compile(r"[^0-9A-Z]")


def normalise_code(raw: str) -> str:
    """What the citizen typed as a stored code: upper case, spaces and dashes dropped (``k7m2-qx9p`` → ``K7M2QX9P``)."""
    return _NOT_CODE.sub("", (raw or "").upper())[:32]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def login_with_voucher(session: Session, ctx: LoginContext, raw_code: str) -> LoginResult:
    """Check ``raw_code`` for this device and start (or continue) the voucher's use.

    Every code that does not let the citizen in now — unknown, used, expired, revoked or another hotspot's —
    is refused with the same ``VOUCHER_INVALID``: a guesser cannot tell a real code from a made-up one. Only a
    code that is valid right now may be refused for another reason (too many devices, quota used). The
    attempt row keeps the precise reason for the operator.

    Raises:
        LoginRefused: an invalid code; too many devices, failed attempts or wrong codes at this hotspot.
    """
    require_method(ctx, LoginMethod.VOUCHER)
    check_attempts(session, ctx)
    paused = budgets.voucher_refusal(session, ctx)
    if paused is not None:
        raise LoginRefused(RefusalReason.VOUCHERS_PAUSED, retry_after_s=paused.retry_after_s)
    code = normalise_code(raw_code)
    row = session.execute(select(Voucher, VoucherBatch).join(VoucherBatch, Voucher.batch_id == VoucherBatch.id)
                          .where(Voucher.code == code)).first() if code else None
    if row is None:
        record_failure(session, ctx, username=code, reason=RefusalReason.VOUCHER_UNKNOWN)
        raise LoginRefused(RefusalReason.VOUCHER_INVALID)
    voucher, batch = row[0], row[1]
    reason = _refusal(voucher, batch, ctx)
    if reason is not None:
        record_failure(session, ctx, username=code, reason=reason)
        raise LoginRefused(RefusalReason.VOUCHER_INVALID)
    policy = batch.policy
    subscriber_id = subscriber_for(session, ctx, identity=f"voucher:{code}", kind=LoginMethod.VOUCHER)
    if voucher.subscriber_id is None:
        voucher.subscriber_id = subscriber_id
    if hotspot_sessions.active_devices_of_voucher(session, voucher.id, other_than_mac=ctx.mac) >= policy.max_devices:
        record_failure(session, ctx, username=code, reason=RefusalReason.TOO_MANY_DEVICES)
        raise LoginRefused(RefusalReason.TOO_MANY_DEVICES)
    expires = _aware(voucher.expires_at)
    check_quotas(session, ctx, PolicyLimits.of(policy), subscriber_id,
                 valid_for_s=int((expires - ctx.now).total_seconds()) if expires else None)
    if voucher.first_used_at is None:
        voucher.first_used_at = ctx.now
        voucher.status = VoucherStatus.ACTIVE
        if policy.voucher_lifetime_s:
            voucher.expires_at = ctx.now + timedelta(seconds=policy.voucher_lifetime_s)
    remember_device(session, ctx, subscriber_id)
    record_consent(session, ctx, subscriber_id, purpose=PURPOSE)
    return LoginResult(method=LoginMethod.VOUCHER, credentials=Credentials(username=code, password=code),
                       subscriber_id=subscriber_id, policy_id=policy.id, voucher_id=voucher.id)


def _refusal(voucher: Voucher, batch: VoucherBatch, ctx: LoginContext) -> RefusalReason | None:
    if voucher.status == VoucherStatus.REVOKED:
        return RefusalReason.VOUCHER_REVOKED
    if voucher.status == VoucherStatus.USED:
        return RefusalReason.VOUCHER_USED
    if batch.hotspot_id is not None and batch.hotspot_id != ctx.hotspot.id:
        return RefusalReason.VOUCHER_WRONG_HOTSPOT
    expires = _aware(voucher.expires_at)
    if expires is not None and expires <= ctx.now:
        return RefusalReason.VOUCHER_USED
    valid_until = _aware(batch.valid_until)
    if voucher.first_used_at is None and valid_until is not None and valid_until <= ctx.now:
        return RefusalReason.VOUCHER_EXPIRED
    return None
