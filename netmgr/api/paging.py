"""Turns a service's ``ListResult`` into the API's ``Page`` of read schemas."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from netmgr.schemas.common import Page
from netmgr.services.common import ListResult

Row = TypeVar("Row")
Out = TypeVar("Out")


def page_of(result: ListResult[Row], to_read: Callable[[Row], Out]) -> Page[Out]:
    return Page[Out](items=[to_read(row) for row in result.items], total=result.total, offset=result.offset,
                     limit=result.limit)


def page_of_list(rows: list[Row], to_read: Callable[[Row], Out], *, offset: int, limit: int) -> Page[Out]:
    """A page cut from a short list the service returns whole (e.g. one device's interfaces)."""
    return Page[Out](items=[to_read(row) for row in rows[offset:offset + limit]], total=len(rows), offset=offset,
                     limit=limit)
