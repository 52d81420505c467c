"""Column types shared by every model: the one home of "stored in UTC, read back aware"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, TypeDecorator


class NaiveDatetimeError(ValueError):
    """A naive datetime reached the database: its zone is unknown, so it is refused rather than guessed."""


class UtcDateTime(TypeDecorator[datetime]):
    """A moment stored in UTC and read back as an aware UTC datetime on every database.

    PostgreSQL keeps the offset; SQLite keeps naive text, which would drop a bound ``00:00+08:00``'s offset (eight
    hours off) and return naive values. Converting at this one boundary gives every reader an aware UTC value,
    so no reader needs a "make it aware" helper and the API serialises times in ISO 8601 with their offset.
    A naive datetime written or compared is refused (``NaiveDatetimeError``): the code that made it must say
    its zone (``netmgr.localtime.as_utc`` for a naive UTC value from outside).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"naive datetime {value.isoformat()} given to a UtcDateTime column; "
                                     "give it a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime):
            return None
        # SQLite hands back the naive UTC text it stored; PostgreSQL an aware value in the session's zone.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
