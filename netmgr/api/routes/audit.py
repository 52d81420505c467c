"""/api/v1/audit: the audit log, newest first, for admins."""

from __future__ import annotations

from fastapi import APIRouter

from netmgr import formats
from netmgr.api.deps import ApiLanguage, AuditReader, Limit, Offset, Search, SessionDep
from netmgr.models import AuditLog
from netmgr.schemas.audit import AuditEntryRead
from netmgr.schemas.common import Page
from netmgr.services import audit, audit_messages

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEntryRead])
def list_audit(session: SessionDep, actor: AuditReader, lang: ApiLanguage, entity_type: str | None = None,
               username: str | None = None, q: Search = None, offset: Offset = 0,
               limit: Limit = 50) -> Page[AuditEntryRead]:
    """Each entry's ``summary`` is in the language of ``Accept-Language`` (English when it names none);
    ``message`` and ``params`` are the sentence's key and values for programs."""
    result = audit.list_audit(session, actor, entity_type=entity_type, username=username, q=q, offset=offset,
                              limit=limit)
    return Page[AuditEntryRead](items=[_read(e, lang) for e in result.items], total=result.total, offset=offset,
                                limit=limit)


def _read(entry: AuditLog, lang: str) -> AuditEntryRead:
    read = AuditEntryRead.model_validate(entry)
    if entry.message in audit_messages.MESSAGES and lang != "en":
        read.summary = audit_messages.render(entry.message, entry.params, formats.translations(lang).gettext, lang)
    return read
