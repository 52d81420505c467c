"""Usage rollups in the database: 5-minute buckets → hourly → daily octets and 95th percentiles, for reports.

Pipeline adds octets to ``traffic_5m`` and marks the hours it touched; ``rollup_pending`` recomputes those
hours and their days from the rows below them (an upsert, so running it twice changes nothing and a late
poll's bytes land in the hours they belong to). Finance reads ``traffic_daily`` and, for a month's 95th
percentile, the 5-minute rows kept for uplinks and queues (``netmgr.services.reports``, which owns the billing
percentile and the rate-sample rule both use).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

from netmgr.localtime import as_utc
from netmgr.models import Traffic5m, TrafficDaily, TrafficDirtyHour, TrafficHourly, TrafficMeter
from netmgr.models.base import utcnow
from netmgr.models.traffic import BUCKET_S
from netmgr.services.reports import MIN_SAMPLE_COVERAGE_S, percentile_95, sample_bps

log = logging.getLogger(__name__)

UPSERT_CHUNK = 500


def bucket_of(epoch_s: float) -> datetime:
    """The UTC start of the 5-minute bucket holding ``epoch_s``."""
    start = int(epoch_s // BUCKET_S) * BUCKET_S
    return datetime.fromtimestamp(start, UTC)


def hour_of(moment: datetime) -> datetime:
    return as_utc(moment).replace(minute=0, second=0, microsecond=0)


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return as_utc(moment).astimezone(tz).date()


def split_into_buckets(start: float, end: float, octets: int) -> list[tuple[datetime, int, float]]:
    """Spread ``octets`` carried evenly over [start, end] (epoch seconds) into 5-minute buckets.

    Returns (bucket start, octets, seconds of the bucket covered); the octets add up to ``octets`` exactly.
    """
    if end <= start:
        return [(bucket_of(end), octets, 0.0)]
    out: list[tuple[datetime, int, float]] = []
    total = end - start
    given = 0
    cursor = start
    while cursor < end:
        bucket_start = int(cursor // BUCKET_S) * BUCKET_S
        piece_end = min(end, bucket_start + BUCKET_S)
        share = round(octets * (piece_end - start) / total) - given  # cumulative rounding conserves the total
        given += share
        out.append((datetime.fromtimestamp(bucket_start, UTC), share, piece_end - cursor))
        cursor = piece_end
    return out


def upsert(session: Session, model: type[DeclarativeBase], rows: Iterable[dict[str, Any]], *, keys: Sequence[str],
           increment: Sequence[str] = (), replace: Sequence[str] = ()) -> None:
    """INSERT … ON CONFLICT DO UPDATE on SQLite and PostgreSQL: ``increment`` columns add, ``replace`` overwrite."""
    batch = list(rows)
    if not batch:
        return
    dialect = session.get_bind().dialect.name
    insert_fn: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table: Any = model.__table__
    for i in range(0, len(batch), UPSERT_CHUNK):
        stmt = insert_fn(table).values(batch[i:i + UPSERT_CHUNK])
        updates = {c: table.c[c] + stmt.excluded[c] for c in increment}
        updates.update({c: stmt.excluded[c] for c in replace})
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=updates) if updates else \
            stmt.on_conflict_do_nothing(index_elements=list(keys))
        session.execute(stmt)


def add_usage(session: Session, rows: dict[tuple[int, datetime], list[float]], *, tz: ZoneInfo,
              now: datetime | None = None) -> None:
    """Add octets to 5-minute buckets and mark their hours for the next rollup. Not committed here.

    Args:
        rows: (meter id, bucket start) → [in octets, out octets, covered seconds].
    """
    if not rows:
        return
    moment = now or utcnow()
    upsert(session, Traffic5m, (
        {"meter_id": meter_id, "bucket_start": bucket, "hour_start": hour_of(bucket), "day": local_day(bucket, tz),
         "in_octets": int(v[0]), "out_octets": int(v[1]), "covered_s": float(v[2])}
        for (meter_id, bucket), v in sorted(rows.items())
    ), keys=("meter_id", "bucket_start"), increment=("in_octets", "out_octets", "covered_s"))
    hours = sorted({hour_of(bucket) for _, bucket in rows})
    upsert(session, TrafficDirtyHour, ({"hour_start": h, "marked_at": moment} for h in hours),
           keys=("hour_start",), replace=("marked_at",))


@dataclass(frozen=True)
class RollupResult:
    hours: int
    days: int
    hourly_rows: int
    daily_rows: int


def rollup_hours(session: Session, hours: Sequence[datetime], *, tz: ZoneInfo) -> int:
    """Recompute ``traffic_hourly`` for these hours from ``traffic_5m`` (upsert); returns rows written."""
    if not hours:
        return 0
    rows = session.execute(
        select(Traffic5m.meter_id, Traffic5m.hour_start, func.sum(Traffic5m.in_octets), func.sum(Traffic5m.out_octets),
               func.sum(Traffic5m.covered_s))
        .where(Traffic5m.hour_start.in_(list(hours)))
        .group_by(Traffic5m.meter_id, Traffic5m.hour_start)
    ).all()
    upsert(session, TrafficHourly, (
        {"meter_id": meter_id, "hour_start": hour, "day": local_day(hour, tz), "in_octets": int(i or 0),
         "out_octets": int(o or 0), "covered_s": float(c or 0)}
        for meter_id, hour, i, o, c in rows
    ), keys=("meter_id", "hour_start"), replace=("day", "in_octets", "out_octets", "covered_s"))
    return len(rows)


def rollup_days(session: Session, days: Iterable[date]) -> int:
    """Recompute ``traffic_daily`` for these local days: octets from the hours, p95 and max from 5-minute rows."""
    wanted = sorted(set(days))
    if not wanted:
        return 0
    totals = session.execute(
        select(TrafficHourly.meter_id, TrafficHourly.day, func.sum(TrafficHourly.in_octets),
               func.sum(TrafficHourly.out_octets))
        .where(TrafficHourly.day.in_(wanted)).group_by(TrafficHourly.meter_id, TrafficHourly.day)
    ).all()
    samples: dict[tuple[int, date], tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for meter_id, day, i, o, covered in session.execute(
            select(Traffic5m.meter_id, Traffic5m.day, Traffic5m.in_octets, Traffic5m.out_octets, Traffic5m.covered_s)
            .where(Traffic5m.day.in_(wanted), Traffic5m.covered_s >= MIN_SAMPLE_COVERAGE_S)):
        ins, outs = samples[(meter_id, day)]
        ins.append(sample_bps(i, covered))
        outs.append(sample_bps(o, covered))
    now = utcnow()
    rows = []
    for meter_id, day, i, o in totals:
        ins, outs = samples.get((meter_id, day), ([], []))
        rows.append({"meter_id": meter_id, "day": day, "in_octets": int(i or 0), "out_octets": int(o or 0),
                     "p95_in_bps": percentile_95(ins), "p95_out_bps": percentile_95(outs),
                     "max_in_bps": max(ins, default=0.0), "max_out_bps": max(outs, default=0.0),
                     "samples": len(ins), "updated_at": now})
    upsert(session, TrafficDaily, rows, keys=("meter_id", "day"),
           replace=("in_octets", "out_octets", "p95_in_bps", "p95_out_bps", "max_in_bps", "max_out_bps", "samples",
                    "updated_at"))
    return len(rows)


def rollup_pending(session: Session, *, tz: ZoneInfo) -> RollupResult:
    """Roll up every hour marked since the last run, then the days they belong to. Commits."""
    marks = [(h, m) for h, m in session.execute(select(TrafficDirtyHour.hour_start, TrafficDirtyHour.marked_at))]
    if not marks:
        return RollupResult(0, 0, 0, 0)
    hours = [h for h, _ in marks]
    hourly_rows = rollup_hours(session, hours, tz=tz)
    days = {local_day(h, tz) for h in hours}
    daily_rows = rollup_days(session, days)
    for hour, marked_at in marks:
        # A poll that marked the hour again while we worked keeps its (newer) mark for the next run.
        session.execute(delete(TrafficDirtyHour).where(TrafficDirtyHour.hour_start == hour,
                                                       TrafficDirtyHour.marked_at <= marked_at))
    session.commit()
    log.info("rolled up %d hours (%d rows) and %d days (%d rows)", len(hours), hourly_rows, len(days), daily_rows)
    return RollupResult(len(hours), len(days), hourly_rows, daily_rows)


def prune_5m(session: Session, *, today: date, keep_days: int, keep_billing_days: int) -> int:
    """Delete 5-minute rows past their retention (ordinary meters sooner than billing ones). Commits."""
    billing = select(TrafficMeter.id).where(TrafficMeter.billing.is_(True))
    ordinary = session.execute(delete(Traffic5m).where(
        Traffic5m.day < today - timedelta(days=keep_days), Traffic5m.meter_id.not_in(billing)))
    kept = session.execute(delete(Traffic5m).where(
        Traffic5m.day < today - timedelta(days=keep_billing_days), Traffic5m.meter_id.in_(billing)))
    session.commit()
    return int(getattr(ordinary, "rowcount", 0) or 0) + int(getattr(kept, "rowcount", 0) or 0)
