"""Migrations: one head, they build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from netmgr.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade
from netmgr.models import Base


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
