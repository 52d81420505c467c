"""Audit-log schemas: one entry as the API shows it (secrets were masked when it was recorded)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    user_id: int | None
    actor: str
    action: str
    entity_type: str
    entity_id: str | None
    summary: str
    """The sentence in English (pages show it in the reader's language from ``message`` and ``params``)."""
    message: str | None
    """Which sentence, e.g. ``"site.created"`` (absent on entries written before keys were kept)."""
    params: dict[str, Any] | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    source_ip: str | None
