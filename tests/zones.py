"""Indonesia's three zones, for tests of local-time rules that must hold in every regency (WIB, WITA, WIT)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")
"""WIB (Kotawaringin Timur), WITA (Badung, Banjarmasin, Tanah Bumbu, Sumbawa), WIT (Papua)."""


def local(tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """The UTC moment of a wall-clock time in zone ``tz`` (``local("Asia/Makassar", 2026, 2, 1)`` → 31 Jan 16:00Z)."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz)).astimezone(UTC)
