"""HTML page handlers: parse the request, call one service, render a template."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from fastapi import APIRouter

from netmgr.services.listing import MAX_PAGE
from netmgr.web.context import PageContext
from netmgr.web.routing import PageRoute

PAGE_SIZE = 25
E = TypeVar("E", bound=StrEnum)


def page_router() -> APIRouter:
    return APIRouter(route_class=PageRoute, include_in_schema=False)


@dataclass(frozen=True)
class Pager:
    page: int
    pages: int
    total: int
    offset: int
    limit: int

    @classmethod
    def build(cls, raw_page: str | None, total: int = 0, limit: int = PAGE_SIZE) -> Pager:
        page = min(max(1, int_or_none(raw_page) or 1), MAX_PAGE)
        return cls(page=page, pages=max(1, math.ceil(total / limit)), total=total, offset=(page - 1) * limit,
                   limit=limit)

    def with_total(self, total: int) -> Pager:
        return Pager(page=self.page, pages=max(1, math.ceil(total / self.limit)), total=total, offset=self.offset,
                     limit=self.limit)


def int_or_none(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def enum_or_none(enum: type[E], raw: str | None) -> E | None:
    try:
        return enum(raw) if raw else None
    except ValueError:
        return None


def query(ctx: PageContext, name: str) -> str | None:
    value = ctx.request.query_params.get(name)
    return value.strip() if value and value.strip() else None
