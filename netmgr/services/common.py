"""Helpers every inventory service shares: paging, snapshots for the audit log, unique checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from netmgr.errors import Conflict

T = TypeVar("T")


@dataclass(frozen=True)
class ListResult(Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


def paginate(session: Session, stmt: Select[T], *, offset: int, limit: int) -> ListResult[T]:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(session.scalars(stmt.offset(offset).limit(limit)).unique())
    return ListResult(items=items, total=total, offset=offset, limit=limit)


def snapshot(obj: Any) -> dict[str, Any]:
    """Column values of an ORM object, for before/after in the audit log."""
    mapper = inspect(type(obj))
    return {attr.key: getattr(obj, attr.key) for attr in mapper.column_attrs}


def ensure_unique(session: Session, model: Any, field: str, value: object, *, exclude_id: int | None = None,
                  label: str | None = None) -> None:
    """Raise Conflict with a clear message if another row already has ``field == value``."""
    column = getattr(model, field)
    stmt = select(model.id).where(column == value)
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    if session.scalar(stmt) is not None:
        thing = label or model.__tablename__.rstrip("s")
        raise Conflict(f"a {thing} with {field} {value!r} already exists")


def flush_or_conflict(session: Session, what: str) -> None:
    """Flush, translating a unique-constraint race into Conflict."""
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"{what} conflicts with an existing record: {exc.orig}") from exc
