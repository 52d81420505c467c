"""Shapes shared by every endpoint: lists, errors, and moments sent in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, Field

from netmgr.localtime import as_utc

T = TypeVar("T")

UtcInstant = Annotated[datetime, AfterValidator(as_utc)]
"""A moment sent in (body or query): one without an offset is UTC; every value reaches the services aware UTC."""


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items`` plus the ``total`` matching the filters."""

    items: list[T]
    total: int
    offset: int
    limit: int


class PageParams(BaseModel):
    offset: int = Field(0, ge=0)
    limit: int = Field(50, ge=1, le=1000)
    q: str | None = Field(None, description="free-text search")


class ProblemRead(BaseModel):
    """One thing wrong with a request: the field (or bulk-import row) and what is wrong with it."""

    field: str | None = None
    row: int | None = Field(None, description="1-based row of a bulk import file")
    problem: str


class ErrorRead(BaseModel):
    """The body of every error answer of the API, e.g. ``{"detail": "device 7 does not exist", "error": "NotFound"}``.

    ``detail`` says what broke and what to do, for a person; ``errors`` lists each bad field when there are some.
    """

    detail: str
    error: str | None = Field(None, description="kind of error, e.g. NotFound, ValidationFailed, BodyTooLarge")
    errors: list[ProblemRead] | None = None
