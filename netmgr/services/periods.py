"""Closed months: a report frozen as canonical JSON bytes with their SHA-256, never recomputed afterwards.

Data flow: open month → ``reports.load_month`` + ``compute_report`` on every request; ``close_month`` stores
the bytes → from then on pages, exports and statements read the stored bytes, whatever rollups arrive later.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr import localtime
from netmgr.errors import Conflict, ValidationFailed
from netmgr.models.finance import ClosedPeriod
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit, reports
from netmgr.settings import Settings


def canonical_json(report: dict[str, Any]) -> bytes:
    """The one byte form of a report: sorted keys, no spaces, UTF-8."""
    return json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def get_closed(session: Session, month: date) -> ClosedPeriod | None:
    return session.scalar(select(ClosedPeriod).where(ClosedPeriod.month == month))


def list_closed(session: Session, actor: Actor) -> list[ClosedPeriod]:
    actor.require(Permission.REPORTS_READ)
    return list(session.scalars(select(ClosedPeriod).order_by(ClosedPeriod.month.desc())))


def compute(session: Session, month: date, settings: Settings) -> dict[str, Any]:
    """Recompute an open month from the rollups (no permission check: callers scope the result)."""
    inputs = reports.load_month(session, month, thresholds=settings.finance, tz=settings.timezone)
    return reports.compute_report(inputs)


@dataclass(frozen=True)
class MonthReport:
    month: date
    report: dict[str, Any]
    closed: ClosedPeriod | None


def full_report(session: Session, month: date, settings: Settings) -> MonthReport:
    """The whole report of ``month``: the frozen one when it is closed, else freshly computed."""
    closed = get_closed(session, month)
    if closed is not None:
        return MonthReport(month, json.loads(closed.content.decode("utf-8")), closed)
    return MonthReport(month, compute(session, month, settings), None)


def monthly_report(session: Session, actor: Actor, month: date, settings: Settings) -> MonthReport:
    """The report of ``month`` as ``actor`` may see it (an agency viewer: their own office only)."""
    actor.require(Permission.REPORTS_READ)
    whole = full_report(session, month, settings)
    return MonthReport(month, reports.scope_report(whole.report, actor), whole.closed)


def report_bytes(session: Session, month: date, settings: Settings) -> bytes:
    """Canonical bytes of the month's whole report (the stored ones for a closed month)."""
    closed = get_closed(session, month)
    if closed is not None:
        return closed.content
    return canonical_json(compute(session, month, settings))


def close_month(session: Session, actor: Actor, month: date, settings: Settings, *,
                today: date | None = None) -> ClosedPeriod:
    """Freeze ``month``'s report. Only a month that has ended can be closed, and only once.

    Raises:
        ValidationFailed: the month has not ended yet.
        Conflict: it is already closed.
    """
    actor.require(Permission.FINANCE_MANAGE)
    month = month.replace(day=1)
    if reports.month_end(month) >= (today or localtime.local_today(settings.timezone)):
        raise ValidationFailed(f"{reports.month_key(month)} has not ended yet; close it after its last day",
                               field="month")
    if get_closed(session, month) is not None:
        raise Conflict(f"{reports.month_key(month)} is already closed")
    content = canonical_json(compute(session, month, settings))
    row = ClosedPeriod(month=month, closed_by=actor.username, content=content,
                       sha256=hashlib.sha256(content).hexdigest())
    session.add(row)
    session.flush()
    audit.record(session, actor, action="close", entity_type="closed_period", entity_id=row.id,
                 message="closed_period.closed",
                 params={"month": reports.month_key(month), "sha": row.sha256[:12]},
                 after={"month": reports.month_key(month), "sha256": row.sha256})
    return row
