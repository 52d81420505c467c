"""Click-through: accept the terms and get the hotspot's free allowance (one session per device per day,
or as many as the hotspot's portal configuration allows)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from captive_portal.decisions import RefusalReason
from captive_portal.login_methods.base import (
    LoginContext,
    LoginRefused,
    LoginResult,
    check_quotas,
    default_policy,
    grant_credentials,
    record_consent,
    remember_device,
    require_method,
    subscriber_for,
    used_grants_today,
)
from netmgr.models.hotspot import LoginMethod

PURPOSE = "free public internet access (click-through)"


def login_with_terms(session: Session, ctx: LoginContext) -> LoginResult:
    """Grant the free allowance to this device, once its free sessions for today are not used up.

    Raises:
        LoginRefused: method off, terms not accepted, free sessions or daily quota used.
    """
    require_method(ctx, LoginMethod.CLICK_THROUGH)
    identity = f"device:{ctx.mac}"
    if used_grants_today(session, ctx, LoginMethod.CLICK_THROUGH, identity=identity) >= ctx.config.free_logins_per_day:
        raise LoginRefused(RefusalReason.FREE_SESSION_USED)
    policy = default_policy(session, ctx)
    subscriber_id = subscriber_for(session, ctx, identity=identity, kind=LoginMethod.CLICK_THROUGH)
    check_quotas(session, ctx, policy.limits, subscriber_id)
    remember_device(session, ctx, subscriber_id)
    record_consent(session, ctx, subscriber_id, purpose=PURPOSE)
    credentials = grant_credentials(session, ctx, subscriber_id=subscriber_id, policy_id=policy.id,
                              method=LoginMethod.CLICK_THROUGH)
    return LoginResult(method=LoginMethod.CLICK_THROUGH, credentials=credentials, subscriber_id=subscriber_id,
                       policy_id=policy.id)
