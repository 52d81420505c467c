"""The SMS gateway's health as operators see it: failed sends open one alert per hour, a good send resolves it.

A caller whose send failed (the portal, after its own transaction rolled back) → ``record_failure`` in a
transaction of its own → the ``alerts`` table, whose ``value`` counts the failures of the hour.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.errors import SmsError, SmsRejected
from netmgr.models.alerts import ACTIVE_STATES, Alert, AlertKind, AlertState, SubjectType
from netmgr.services import alerts


def record_failure(session: Session, *, error: SmsError, now: datetime) -> Alert:
    """Count one failed send on the installation's SMS gateway alert of this hour (opened by the first)."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    alert = alerts.raise_once(session, kind=AlertKind.SMS_GATEWAY, subject_type=SubjectType.INSTALLATION,
                              subject_id=0, subject_name=f"SMS gateway {error.gateway}", message="",
                              window_start=hour, now=now, value=0)
    alert.value = (alert.value or 0) + 1
    what = "menolak nomor atau pesan" if isinstance(error, SmsRejected) else "tidak dapat dipakai"
    alert.message = (f"🔴 GATEWAY SMS GAGAL: {error.gateway} {what} ({int(alert.value)} kali dalam jam ini); warga "
                     f"diarahkan ke cara login lain. Terakhir: {error.message}")[:2000]
    return alert


def record_recovery(session: Session, *, gateway: str, now: datetime) -> int:
    """Resolve the active SMS gateway alerts after a send went through again; returns how many."""
    rows = session.scalars(select(Alert).where(
        Alert.kind == AlertKind.SMS_GATEWAY, Alert.subject_type == SubjectType.INSTALLATION, Alert.subject_id == 0,
        Alert.state.in_(ACTIVE_STATES))).all()
    for row in rows:
        row.state = AlertState.RESOLVED
        row.resolved_at = now
    return len(rows)


def active_alert(session: Session) -> Alert | None:
    """The open or acknowledged SMS gateway alert, if the gateway has been failing."""
    return session.scalar(select(Alert).where(
        Alert.kind == AlertKind.SMS_GATEWAY, Alert.subject_type == SubjectType.INSTALLATION, Alert.subject_id == 0,
        Alert.state.in_(ACTIVE_STATES)).order_by(Alert.id.desc()).limit(1))
