"""Migrations: one head, they build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from netmgr.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade
from netmgr.models import Base
from tests.servers.postgres import postgres_admin_url, temporary_database


def test_migrations_have_a_single_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several alembic heads {heads}: chain the newest migration after the others"


def _differences(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(ctx, Base.metadata)
    return list(diffs)


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
        assert _differences(engine) == []
    finally:
        engine.dispose()


def test_migrations_downgrade_to_empty_and_upgrade_again(tmp_path: object) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path}/m.sqlite3")
    try:
        upgrade(engine)
        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert sa.inspect(engine).get_table_names() == ["alembic_version"]
        upgrade(engine)
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


# --- upgrades with data ---------------------------------------------------------------------------------------

_WHEN = datetime(2026, 1, 15, 3, 4, 5, tzinfo=UTC)


def _value(column: sa.Column[Any], parents: dict[str, dict[str, Any]]) -> Any:
    """A plausible value for one column; a foreign key points at the row already made in its parent table."""
    for fk in column.foreign_keys:
        parent = parents.get(fk.column.table.name)
        if parent is not None:
            return parent[fk.column.name]
        return None
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.Integer):
        return 7
    if isinstance(kind, sa.Float | sa.Numeric):
        return 1.5 if isinstance(kind, sa.Float) else Decimal("1.50")
    if isinstance(kind, sa.DateTime):
        return _WHEN
    if isinstance(kind, sa.Date):
        return date(2026, 1, 1)
    if isinstance(kind, sa.Time):
        return time(6, 0)
    if isinstance(kind, sa.JSON):
        return []
    if isinstance(kind, sa.LargeBinary):
        return b"\x89PNG"
    if isinstance(kind, sa.String):
        text = f"{column.table.name}.{column.name}"
        return text[-kind.length:] if kind.length else text
    raise AssertionError(f"no sample value for {column.table.name}.{column.name} of type {kind!r}")


def _fill_empty_tables(engine: sa.Engine) -> set[str]:
    """Put one row with every column set into every empty table (parents first); returns the tables with data."""
    meta = sa.MetaData()
    meta.reflect(bind=engine)
    made: dict[str, dict[str, Any]] = {}
    with engine.begin() as conn:
        for table in meta.sorted_tables:
            if table.name == "alembic_version":
                continue
            row = conn.execute(sa.select(table).limit(1)).mappings().first()
            if row is None:
                values = {c.name: _value(c, made) for c in table.columns
                          if not (c.primary_key and isinstance(c.type, sa.Integer) and not c.foreign_keys)}
                pk = list(table.primary_key.columns)
                conn.execute(sa.insert(table).values(values))
                row = conn.execute(sa.select(table).order_by(*(c.desc() for c in pk))).mappings().first()
            assert row is not None
            made[table.name] = dict(row)
    return set(made)


def _counts(engine: sa.Engine, tables: set[str]) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.select(sa.func.count()).select_from(sa.table(t))).scalar_one()
                for t in sorted(tables)}


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path}/upgrade.sqlite3")
        yield engine
        engine.dispose()
        return
    with postgres_admin_url() as admin, temporary_database(admin) as url:
        engine = sa.create_engine(url)
        yield engine
        engine.dispose()


def test_every_migration_upgrades_a_database_holding_data_in_every_table(empty_database: sa.Engine) -> None:
    """From the oldest revision to head, each step runs over a row in every table, and no row is lost."""
    revisions = [s.revision for s in reversed(list(ScriptDirectory.from_config(alembic_config()).walk_revisions()))]
    tables: set[str] = set()
    before: dict[str, int] = {}
    for revision in revisions:
        upgrade(empty_database, revision)
        assert _counts(empty_database, tables) == before, f"rows lost in the step to {revision}"
        tables = _fill_empty_tables(empty_database)
        before = _counts(empty_database, tables)
    assert current_revision(empty_database) == head_revision()
    assert all(n >= 1 for n in before.values())

    # the newest step can be taken back and taken again with the data in place (rows of a table that step
    # creates go with it)
    downgrade(empty_database, "-1")
    assert current_revision(empty_database) == revisions[-2]
    kept = tables & set(sa.inspect(empty_database).get_table_names())
    upgrade(empty_database)
    assert current_revision(empty_database) == head_revision()
    assert _counts(empty_database, kept) == {t: before[t] for t in sorted(kept)}


def test_two_upgrades_at_once_wait_for_each_other(empty_database: sa.Engine) -> None:
    """Two `netmgr db upgrade` started together (two deploy scripts, two containers): both succeed, once."""
    other = sa.create_engine(empty_database.url)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(engine: sa.Engine) -> None:
        start.wait()
        try:
            upgrade(engine)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=run, args=(e,)) for e in (empty_database, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        other.dispose()
    assert errors == []
    assert current_revision(empty_database) == head_revision()
    assert _differences(empty_database) == []


def test_terms_versions_migration_keeps_each_hotspots_terms_and_links_past_consents(
        empty_database: sa.Engine) -> None:
    """0022_i13: the terms each hotspot shows become its first kept version; consents to it point at it."""
    upgrade(empty_database, "0027_i15p")
    _fill_empty_tables(empty_database)
    with empty_database.begin() as conn:
        conn.execute(sa.text("UPDATE hotspots SET terms_version = '2026-01', terms_text = 'Gunakan dengan bijak.'"))
        conn.execute(sa.text("UPDATE consent_records SET terms_version = '2026-01'"))
    upgrade(empty_database, "0022_i13")
    with empty_database.connect() as conn:
        kept = conn.execute(sa.text("SELECT id, version, terms_text, privacy_text FROM hotspot_terms_versions")).all()
        linked = conn.execute(sa.text("SELECT terms_version_id FROM consent_records")).scalars().all()
    assert [(v, t, p) for _, v, t, p in kept] == [("2026-01", "Gunakan dengan bijak.", "")]
    assert linked == [kept[0][0]]
