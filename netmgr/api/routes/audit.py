"""/api/v1/audit: the audit log, newest first, for admins."""

from __future__ import annotations

from fastapi import APIRouter

from netmgr.api.deps import AuditReader, Limit, Offset, Search, SessionDep
from netmgr.schemas.audit import AuditEntryRead
from netmgr.schemas.common import Page
from netmgr.services import audit

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEntryRead])
def list_audit(session: SessionDep, actor: AuditReader, entity_type: str | None = None,
               username: str | None = None, q: Search = None, offset: Offset = 0,
               limit: Limit = 50) -> Page[AuditEntryRead]:
    result = audit.list_audit(session, actor, entity_type=entity_type, username=username, q=q, offset=offset,
                              limit=limit)
    return Page[AuditEntryRead](items=[AuditEntryRead.model_validate(e) for e in result.items], total=result.total,
                                offset=offset, limit=limit)
