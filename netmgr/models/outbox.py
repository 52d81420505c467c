"""The task outbox: Celery tasks a transaction asked for, kept in the database until the broker has taken them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from netmgr.models.base import Base, utcnow


class OutboxTask(Base):
    """A named task waiting to be sent, e.g. ``provisioning.run_job`` with ``{"job_id": 7}``.

    It is written in the same transaction as the rows the task reads (the queued job), so a committed job always
    has its task: sent right after the commit, or, while the broker refuses, by the periodic sweep once it is back.
    """

    __tablename__ = "task_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(Text, default="")
