"""The installation's one time zone (``NETMGR_TIMEZONE``): local "now", local days and months as UTC bounds, labels.

Data flows one way: times are stored in UTC; every daily or monthly rule and every time shown to a person goes
through here to the installation's zone (WIB ``Asia/Jakarta``, WITA ``Asia/Makassar``, WIT ``Asia/Jayapura``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIMEZONE = "Asia/Jakarta"
"""WIB; a WITA regency sets ``Asia/Makassar``, a WIT one ``Asia/Jayapura``."""

ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
"""Indonesia's own names for its zones; any other zone is labelled by its UTC offset."""


@lru_cache(maxsize=16)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (e.g. ``Asia/Makassar``).

    Raises:
        ValueError: not an IANA zone; the message says what to set instead.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"NETMGR_TIMEZONE={name!r} is not an IANA time zone; set Asia/Jakarta (WIB), "
            "Asia/Makassar (WITA) or Asia/Jayapura (WIT)"
        ) from exc


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; a naive one is UTC already.

    The one rule for a moment that arrives without a zone from outside (an API body or query parameter, a
    stored JSON string). Columns need no such help: ``netmgr.models.types.UtcDateTime`` reads them aware.
    """
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_local(moment: datetime, tz: str) -> datetime:
    """``moment`` (aware, or naive UTC) as wall-clock time in zone ``tz``."""
    return as_utc(moment).astimezone(zone(tz))


def local_now(tz: str, now: datetime | None = None) -> datetime:
    """The current local time in zone ``tz`` (``now`` when given, for tests and replays)."""
    return to_local(now if now is not None else datetime.now(UTC), tz)


def local_today(tz: str, now: datetime | None = None) -> date:
    """The local calendar day in zone ``tz``."""
    return local_now(tz, now).date()


def day_start_utc(day: date, tz: str) -> datetime:
    """Local midnight at the start of ``day`` in zone ``tz``, in UTC (``2026-02-01`` WITA → ``2026-01-31 16:00Z``).

    UTC because it is compared with stored times in SQL: SQLite keeps them as naive UTC text, and a bound
    ``00:00+08:00`` would be written as ``00:00``, eight hours late.
    """
    return datetime.combine(day, time.min, tzinfo=zone(tz)).astimezone(UTC)


def local_day_bounds(moment: datetime, tz: str) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC of the local day that holds ``moment`` (daily quotas reset at ``start``)."""
    day = to_local(moment, tz).date()
    return day_start_utc(day, tz), day_start_utc(day + timedelta(days=1), tz)


def month_bounds_utc(month: date, tz: str) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC of the local calendar month holding ``month`` (reports and billing cut here)."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return day_start_utc(first, tz), day_start_utc(following, tz)


def local_month(moment: datetime, tz: str) -> date:
    """The first day of the local month holding ``moment`` (31 Jan 16:00 UTC is February in WITA)."""
    return to_local(moment, tz).date().replace(day=1)


def zone_label(tz: str, moment: datetime | None = None) -> str:
    """``WIB``, ``WITA`` or ``WIT`` for Indonesia's zones; ``UTC+hh:mm`` for any other zone."""
    if tz in ZONE_LABELS:
        return ZONE_LABELS[tz]
    offset = local_now(tz, moment).utcoffset() or timedelta(0)
    minutes = int(offset / timedelta(minutes=1))
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_day_start(moment: datetime, tz: str) -> datetime:
    """Local midnight of ``moment``'s day in zone ``tz``, in UTC: when daily quotas and allowances reset."""
    return local_day_bounds(moment, tz)[0]


def last_minute_utc(day: date, tz: str) -> datetime:
    """23:59 local time on ``day`` in UTC: the end of a "use before" date a person picked (31 Jan → 15:59Z in WITA)."""
    return day_start_utc(day + timedelta(days=1), tz) - timedelta(minutes=1)
