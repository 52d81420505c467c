"""The audit log page (admins): newest first, filters, and before/after as a readable diff."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.responses import Response

from netmgr.models import AuditLog
from netmgr.services import audit, audit_messages
from netmgr.web import audit_texts
from netmgr.web.context import Page
from netmgr.web.labels import AUDIT_ACTIONS, ENTITY_TYPES
from netmgr.web.pages import Pager, page_router, query

router = page_router()


@dataclass(frozen=True)
class Change:
    """One field of an audit entry: its value before and after, and whether it changed."""

    field: str
    before: str
    after: str
    changed: bool


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def diff(entry: AuditLog) -> list[Change]:
    """Changed fields first; on create/delete (one side missing) every field is listed."""
    before, after = entry.before or {}, entry.after or {}
    keys = list(dict.fromkeys([*before, *after]))
    skip = {"created_at", "updated_at"}
    rows = [Change(k, _show(before.get(k)) if entry.before is not None else "",
                   _show(after.get(k)) if entry.after is not None else "", before.get(k) != after.get(k))
            for k in keys if k not in skip]
    if entry.before is not None and entry.after is not None:
        rows = [r for r in rows if r.changed]
    return rows


def summary(entry: AuditLog, gettext: audit_messages.Gettext, lang: str) -> str:
    """The entry's sentence in the reader's language: rendered from its key and values; an entry written before
    audit entries kept them (no ``message``) is recognised by its stored English shape."""
    if entry.message in audit_messages.MESSAGES:
        return audit_messages.render(entry.message, entry.params, gettext, lang)
    return audit_texts.summary_text(entry.summary, gettext, lang)


@router.get("/audit")
def audit_page(ctx: Page) -> Response:
    pager = Pager.build(query(ctx, "page"))
    filters = {"entity_type": query(ctx, "entity_type"), "username": query(ctx, "username"), "q": query(ctx, "q")}
    result = audit.list_audit(ctx.db, ctx.signed_in, offset=pager.offset, limit=pager.limit, **filters)
    entries = [(e, diff(e), summary(e, ctx._, ctx.lang)) for e in result.items]
    return ctx.render("audit.html", title=ctx._("Audit log"), entries=entries, pager=pager.with_total(result.total),
                      filters=filters, entity_types=ENTITY_TYPES, actions=AUDIT_ACTIONS)
