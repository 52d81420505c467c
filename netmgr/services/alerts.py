"""Alerts raised by a service outside the collectors' rounds (the captive portal's budgets), once per window.

A service calls ``raise_once`` when something crossed a line; the alert lands in the same ``alerts`` table
the monitoring pages and API read, keeping the rule of at most one active alert per kind and subject.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.models.alerts import ACTIVE_STATES, Alert, AlertKind, AlertSeverity, AlertState, SubjectType

log = logging.getLogger(__name__)


def raise_once(session: Session, *, kind: AlertKind, subject_type: SubjectType, subject_id: int,
               subject_name: str, message: str, window_start: datetime, now: datetime, value: float | None = None,
               site_id: int | None = None, severity: AlertSeverity = AlertSeverity.WARNING) -> Alert:
    """The active alert of ``kind`` for the subject in the window that began at ``window_start``.

    An active alert opened in this window is returned as it is (one alert per budget and window, not one per
    refused request); one left active from an earlier window is resolved first, so a new window's crossing
    opens a new alert.
    """
    active = session.scalar(select(Alert).where(
        Alert.kind == kind, Alert.subject_type == subject_type, Alert.subject_id == subject_id,
        Alert.state.in_(ACTIVE_STATES)).order_by(Alert.id.desc()).limit(1))
    if active is not None:
        if active.started_at >= window_start:
            return active
        active.state = AlertState.RESOLVED
        active.resolved_at = now
    alert = Alert(kind=kind, severity=severity, state=AlertState.OPEN, subject_type=subject_type,
                  subject_id=subject_id, subject_name=subject_name[:300], site_id=site_id, message=message,
                  value=value, started_at=window_start, opened_at=now, ack_note="")
    session.add(alert)
    session.flush()
    log.info("alert %s opened: %s", alert.id, message)
    return alert
