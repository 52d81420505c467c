"""Celery tasks of the captive portal: thin wrappers around ``captive_portal.sessions``.

Beat sends them by name (``captive_portal.close_stale_sessions`` every interim interval,
``captive_portal.enforce_quotas`` every minute, ``captive_portal.purge_expired_data`` daily; see docs/radius.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from celery import shared_task

from captive_portal import coa, management, sessions
from netmgr.db import session_scope
from netmgr.task_resources import task_resources


@shared_task(name="captive_portal.close_stale_sessions")  # type: ignore[untyped-decorator]
def close_stale_sessions() -> dict[str, Any]:
    """Close sessions that missed their interim updates for 2.5 × their interval (the NAS lost them)."""
    state = task_resources().state
    with session_scope(state.session_factory) as session:
        closed = sessions.close_stale_sessions(session, now=datetime.now(UTC),
                                               factor=state.settings.radius.stale_after_intervals)
    return {"closed": len(closed), "session_ids": closed}


@shared_task(name="captive_portal.enforce_quotas")  # type: ignore[untyped-decorator]
def enforce_quotas() -> dict[str, Any]:
    """Disconnect open sessions whose person or device has used up today's quota, or whose hotspot hours are over;
    returns per-session results."""
    state = task_resources().state
    radius = state.settings.radius
    with session_scope(state.session_factory) as session:
        now = datetime.now(UTC)
        orders = sessions.enforce_quotas(session, now=now, timezone=state.settings.timezone,
                                         default_coa_port=radius.coa_port)
        orders += management.close_for_opening_hours(session, now=now, timezone=state.settings.timezone,
                                                     default_coa_port=radius.coa_port)
    results = [coa.disconnect(order, timeout_s=radius.coa_timeout_s, retries=radius.coa_retries)
               for order in orders]
    with session_scope(state.session_factory) as session:
        for result in results:
            sessions.record_disconnect_result(session, result.session_id, acked=result.acked, detail=result.detail)
    return {"disconnects": [{"session_id": r.session_id, "acked": r.acked, "detail": r.detail} for r in results]}


@shared_task(name="captive_portal.purge_expired_data")  # type: ignore[untyped-decorator]
def purge_expired_data() -> dict[str, int]:
    """Delete citizens' personal data past its retention (sessions, attempts, OTPs, grants, consent)."""
    state = task_resources().state
    settings = state.settings
    with session_scope(state.session_factory) as session:
        return sessions.purge_expired_data(
            session, now=datetime.now(UTC), session_retention_days=settings.portal.retention_days,
            attempt_retention_days=settings.radius.login_attempt_retention_days)
