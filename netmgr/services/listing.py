"""Sorted, paged lists: each list names its sort keys once, and only a key's name comes from the browser.

A page parses ``sort``, ``order``, ``page`` and ``size`` with ``ListRequest.parse`` (unknown or absurd values
fall back to the defaults); the list's service turns the key into ORDER BY columns with ``Sorting.order_by``,
always ending with a unique column so rows never swap places between pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import QueryableAttribute

from netmgr.errors import ValidationFailed

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = PAGE_SIZES[0]
MAX_PAGE = 100_000
"""Past this page every list is empty anyway; the cap keeps OFFSET inside a 64-bit integer."""

SortColumn = ColumnElement[Any] | QueryableAttribute[Any]


@dataclass(frozen=True)
class Sorting:
    """The sort keys a list offers: ``{"name": (Device.name,), "site": (Site.name,)}``.

    ``tie_breaker`` is a unique column (the primary key) appended to every order, so equal values keep a
    stable order and paging neither repeats nor skips a row.
    """

    keys: Mapping[str, tuple[SortColumn, ...]]
    default: str
    tie_breaker: SortColumn
    default_descending: bool = False
    unique: frozenset[str] = frozenset()
    """Keys whose columns are unique already: no tie-breaker, so their unique index alone serves the order."""

    def order_by(self, key: str | None = None, descending: bool | None = None) -> list[ColumnElement[Any]]:
        """ORDER BY clauses for ``key`` (the default when None).

        Raises:
            ValidationFailed: ``key`` is not one of this list's sort keys.
        """
        key = key or self.default
        if key not in self.keys:
            raise ValidationFailed(f"cannot sort by {key!r}; choose one of {', '.join(self.keys)}", field="sort")
        desc = self.default_descending if descending is None else descending
        columns = [*self.keys[key]] if key in self.unique else [*self.keys[key], self.tie_breaker]
        return [c.desc() if desc else c.asc() for c in columns]


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:  # not a number, or more digits than Python converts
        return None


@dataclass(frozen=True)
class ListRequest:
    """Which page of a list a person asked for, every value bounded."""

    sort: str
    descending: bool
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @classmethod
    def parse(cls, params: Mapping[str, str], sorting: Sorting) -> ListRequest:
        """Read ``sort``, ``order`` (asc/desc), ``page`` and ``size`` from a query string; never raises."""
        sort = params.get("sort") or sorting.default
        if sort not in sorting.keys:
            sort = sorting.default
        order = params.get("order")
        if order in ("asc", "desc"):
            descending = order == "desc"
        else:  # the default order is the default key's; another key starts ascending, as its heading link does
            descending = sorting.default_descending and sort == sorting.default
        size = _int(params.get("size"))
        page = _int(params.get("page")) or 1
        return cls(sort=sort, descending=descending, page=min(max(page, 1), MAX_PAGE),
                   size=size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE)
