"""Voucher login: a printed code from a batch grants the batch's policy, on one device at a time or on N.

The portal checks the code first, by the same rules RADIUS applies (``captive_portal.decisions``), so the
citizen reads a plain reason on the page; the gateway then presents the code itself to RADIUS (the code is
both User-Name and password).
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from captive_portal import decisions
from captive_portal.decisions import Refusal, RefusalReason
from captive_portal.gateways import Credentials
from captive_portal.login_methods.base import (
    LoginContext,
    LoginRefused,
    LoginResult,
    attempt_limits,
    attempt_of,
    check_source,
    count_source_failure,
    record_consent,
    remember_device,
    require_method,
    subscriber_for,
)
from netmgr.models.hotspot import LoginMethod

PURPOSE = "public internet access with a voucher"
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""Voucher characters: no 0/O, 1/I/L, so a code read off paper is typed right."""
_NOT_CODE = re.compile(r"[^0-9A-Z]")


def normalise_code(raw: str) -> str:
    """What the citizen typed as a stored code: upper case, spaces and dashes dropped (``k7m2-qx9p`` → ``K7M2QX9P``)."""
    return _NOT_CODE.sub("", (raw or "").upper())[:32]


def login_with_voucher(session: Session, ctx: LoginContext, raw_code: str) -> LoginResult:
    """Check ``raw_code`` for this device by ``decisions.check_login`` (as RADIUS will) and start the voucher.

    Every code that does not let the citizen in now — unknown, used, expired, revoked or another hotspot's —
    reads the same (``decisions.CODE_REASONS``): a guesser cannot tell a real code from a made-up one. Only a
    code that is valid right now may be refused for another reason (too many devices, quota used). The
    attempt row keeps the precise reason for the operator.

    Raises:
        LoginRefused: an unusable code; too many devices, failed attempts or wrong codes at this hotspot.
    """
    require_method(ctx, LoginMethod.VOUCHER)
    check_source(session, ctx)
    code = normalise_code(raw_code)
    verdict = decisions.check_login(session, attempt_limits(ctx), attempt_of(ctx, username=code),
                                    timezone=ctx.timezone, voucher=decisions.find_voucher(session, code))
    if isinstance(verdict, Refusal):
        count_source_failure(session, ctx, verdict.reason)
        raise LoginRefused(verdict.reason, retry_after_s=verdict.retry_after_s)
    voucher = verdict.voucher
    if voucher is None:  # check_login lets a code in only with its voucher
        raise LoginRefused(RefusalReason.UNKNOWN_USER)
    subscriber_id = subscriber_for(session, ctx, identity=f"voucher:{code}", kind=LoginMethod.VOUCHER)
    decisions.start_voucher(session, voucher, subscriber_id=subscriber_id, now=ctx.now)
    remember_device(session, ctx, subscriber_id)
    record_consent(session, ctx, subscriber_id, purpose=PURPOSE)
    return LoginResult(method=LoginMethod.VOUCHER, credentials=Credentials(username=code, password=code),
                       subscriber_id=subscriber_id, policy_id=verdict.policy_id, voucher_id=voucher.id)
