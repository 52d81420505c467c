"""Every stored moment goes through one column type, ``UtcDateTime``: UTC in, aware UTC out, naive refused."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from netmgr.models import Base
from netmgr.models.traffic import TrafficDirtyHour
from netmgr.models.types import NaiveDatetimeError, UtcDateTime
from netmgr.schemas.common import UtcInstant

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("netmgr", "collectors", "provisioning", "captive_portal")
WITA = timezone(timedelta(hours=8))


def test_every_datetime_column_of_every_model_uses_the_utc_type() -> None:
    plain = [f"{table.name}.{column.name}" for table in Base.metadata.tables.values() for column in table.columns
             if isinstance(column.type, sa.DateTime) or (
                 isinstance(column.type, sa.TypeDecorator) and not isinstance(column.type, UtcDateTime)
                 and isinstance(column.type.impl_instance, sa.DateTime))]
    assert plain == []
    assert any(isinstance(c.type, UtcDateTime) for t in Base.metadata.tables.values() for c in t.columns)


def test_a_moment_written_by_the_orm_reads_back_as_the_same_aware_utc_moment(session: Session) -> None:
    hour = datetime(2026, 3, 1, 8, tzinfo=WITA)  # 00:00 UTC
    session.add(TrafficDirtyHour(hour_start=hour, marked_at=hour + timedelta(minutes=5)))
    session.commit()
    session.expire_all()
    row = session.scalars(sa.select(TrafficDirtyHour)).one()
    assert row.hour_start == datetime(2026, 3, 1, tzinfo=UTC)
    assert row.hour_start.utcoffset() == timedelta(0)
    assert row.marked_at == datetime(2026, 3, 1, 0, 5, tzinfo=UTC)


def test_core_inserts_and_comparisons_go_through_the_same_type(session: Session) -> None:
    table = TrafficDirtyHour.__table__
    hour = datetime(2026, 3, 1, tzinfo=UTC)
    session.execute(sa.insert(table), [{"hour_start": hour.astimezone(WITA), "marked_at": hour}])
    found = session.execute(sa.select(table.c.hour_start, sa.func.max(table.c.marked_at))
                            .where(table.c.hour_start >= datetime(2026, 3, 1, 7, tzinfo=WITA))
                            .group_by(table.c.hour_start)).one()
    assert found == (hour, hour)
    assert found[1].tzinfo is not None


def test_a_naive_moment_is_refused_loudly_by_the_orm_and_by_core_sql(session: Session) -> None:
    naive = datetime(2026, 3, 1)
    session.add(TrafficDirtyHour(hour_start=naive, marked_at=datetime.now(UTC)))
    with pytest.raises(StatementError) as orm:
        session.flush()
    assert isinstance(orm.value.orig, NaiveDatetimeError)
    session.rollback()
    with pytest.raises(StatementError) as core:
        session.execute(sa.select(TrafficDirtyHour).where(TrafficDirtyHour.hour_start < naive))
    assert isinstance(core.value.orig, NaiveDatetimeError)


# The one rule for a naive moment from outside is netmgr.localtime.as_utc; the column type reads columns aware.
_ONE_HOME = {Path("netmgr/localtime.py"), Path("netmgr/models/types.py")}
_HELPER_NAMES = re.compile(r"^_?(as_utc|aware|utc|local|to_utc|ensure_utc|make_aware)$")
_NAIVE_FIX = re.compile(r"replace\(tzinfo=(UTC|timezone\.utc|[a-z_.]*tzinfo)\)|tzinfo is None|\.tzinfo else")


def _sources() -> list[Path]:
    return sorted(p.relative_to(ROOT) for package in PACKAGES for p in (ROOT / package).rglob("*.py")
                  if "migrations" not in p.parts)


def test_no_module_defines_its_own_make_it_aware_helper() -> None:
    defined = [f"{path}:{node.lineno} {node.name}" for path in _sources() if path not in _ONE_HOME
               for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8")))
               if isinstance(node, ast.FunctionDef) and _HELPER_NAMES.match(node.name)]
    assert defined == []


def test_no_module_patches_a_naive_datetime_outside_the_one_home() -> None:
    patched = [f"{path}:{n}: {line.strip()}" for path in _sources() if path not in _ONE_HOME
               for n, line in enumerate((ROOT / path).read_text(encoding="utf-8").splitlines(), 1)
               if _NAIVE_FIX.search(line)]
    assert patched == []


def test_a_moment_sent_without_an_offset_is_utc_and_one_with_an_offset_is_converted() -> None:
    sent = TypeAdapter(UtcInstant)
    assert sent.validate_python("2026-03-01T08:00:00") == datetime(2026, 3, 1, 8, tzinfo=UTC)
    converted = sent.validate_python("2026-03-01T08:00:00+08:00")
    assert converted == datetime(2026, 3, 1, tzinfo=UTC) and converted.tzinfo is UTC
