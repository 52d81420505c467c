"""The audit log: every change is recorded with who, when, what, and before/after (secrets masked)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from netmgr.models import AuditLog
from netmgr.security.permissions import Actor, Permission
from netmgr.security.secrets import MASK
from netmgr.services import audit_messages

SECRET_MARKERS = ("password", "secret", "community", "auth_key", "priv_key", "token", "_encrypted")


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def mask_secrets(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A copy of ``data`` fit for the audit log: secret fields show only whether they are set."""
    if data is None:
        return None
    out: dict[str, Any] = {}
    for key, value in data.items():
        if any(marker in key for marker in SECRET_MARKERS):
            out[key.removesuffix("_encrypted")] = MASK if value else None
        else:
            out[key] = _plain(value)
    return out


def record(
    session: Session,
    actor: Actor,
    *,
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    message: str,
    params: Mapping[str, object] | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditLog:
    """Add an audit entry to the session (committed with the change it describes).

    ``message`` is a key of :data:`audit_messages.MESSAGES` and ``params`` its values: pages render the sentence
    in the reader's language; the English sentence is stored beside them for search.
    """
    values = dict(params or {})
    audit_messages.check(message, values)
    entry = AuditLog(
        user_id=actor.user_id,
        actor=actor.username,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        summary=audit_messages.english(message, values),
        message=message,
        params=values,
        before=mask_secrets(before),
        after=mask_secrets(after),
        source_ip=actor.source_ip,
    )
    session.add(entry)
    return entry


def record_many(session: Session, actor: Actor,
                entries: Sequence[tuple[str, str, object, str, Mapping[str, object]]]) -> None:
    """Add many entries without before/after — ``(action, entity_type, entity_id, message, params)`` each — with
    one ``INSERT`` in the session's transaction: for writers that store results in batches."""
    for _action, _entity_type, _entity_id, message, params in entries:
        audit_messages.check(message, params)
    if entries:
        session.execute(insert(AuditLog), [
            {"user_id": actor.user_id, "actor": actor.username, "action": action, "entity_type": entity_type,
             "entity_id": None if entity_id is None else str(entity_id),
             "summary": audit_messages.english(message, params), "message": message, "params": dict(params),
             "source_ip": actor.source_ip}
            for action, entity_type, entity_id, message, params in entries])


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditLog]
    total: int


def list_audit(
    session: Session,
    actor: Actor,
    *,
    entity_type: str | None = None,
    username: str | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> AuditPage:
    """Newest first. Admins only."""
    actor.require(Permission.AUDIT_READ)
    stmt = select(AuditLog)
    if entity_type:
        stmt = stmt.where(AuditLog.entity_type == entity_type)
    if username:
        stmt = stmt.where(AuditLog.actor == username)
    if q:
        stmt = stmt.where(AuditLog.summary.ilike(f"%{q}%"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = session.scalars(stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc()).offset(offset).limit(limit))
    return AuditPage(items=list(items), total=total)
