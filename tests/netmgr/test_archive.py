"""netmgr backup / restore: a seeded installation comes back identical in an empty one (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.orm import Session

from captive_portal.portal import seed_demo_hotspot
from netmgr import migrate
from netmgr.db import make_engine
from netmgr.demo.seed import DEMO_ACTOR, seed_demo
from netmgr.errors import ArchiveError
from netmgr.models import Agency, ClosedPeriod, Device
from netmgr.security.secrets import SecretBox, generate_key
from netmgr.services import archive, periods
from netmgr.settings import Settings
from tests.conftest import make_settings
from tests.servers.postgres import postgres_admin_url, temporary_database

CLOSED_MONTH = date(2026, 10, 1)


@pytest.fixture
def seeded(session: Session, settings: Settings) -> Settings:
    """The demo regency with a month of usage, its hotspot and vouchers, a closed month and a spooled batch."""
    seed_demo(session, snmp_port=16161, usage_months=1, timezone="Asia/Jakarta")
    seed_demo_hotspot(session, DEMO_ACTOR)
    periods.close_month(session, DEMO_ACTOR, CLOSED_MONTH, settings, today=date(2026, 12, 7))
    session.commit()
    spool = settings.resolved_spool_dir / "v2"
    spool.mkdir(parents=True)
    (spool / "000001.lp").write_text("traffic,device=core in=1i 1764000000000000000\n")
    return settings


@pytest.fixture
def empty_target(tmp_path: Path, database_url: str) -> Iterator[Settings]:
    """A second installation with an empty database of the same kind as the source."""
    if database_url.startswith("sqlite"):
        yield make_settings(tmp_path / "restored")
        return
    with postgres_admin_url() as admin, temporary_database(admin) as url:
        yield make_settings(tmp_path / "restored", url)


def _dump(settings: Settings) -> dict[str, list[list[Any]]]:
    engine = make_engine(settings)
    meta = sa.MetaData()
    meta.reflect(bind=engine)
    out: dict[str, list[list[Any]]] = {}
    try:
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                out[table.name] = [[archive._encode(v) for v in row]
                                   for row in conn.execute(sa.select(table).order_by(*order))]
    finally:
        engine.dispose()
    return out


def test_a_restored_installation_is_identical_to_the_one_backed_up(seeded: Settings, empty_target: Settings,
                                                                   tmp_path: Path) -> None:
    source = make_engine(seeded)
    try:
        made = archive.backup(seeded, source, tmp_path / "backup.tar.gz")
    finally:
        source.dispose()
    assert made.tables["devices"] == 27 and made.tables["closed_periods"] == 1 and made.files == 1

    target = make_engine(empty_target)
    try:
        restored = archive.restore(empty_target, target, tmp_path / "backup.tar.gz")
    finally:
        target.dispose()
    assert restored.tables == made.tables and restored.files == 1

    before, after = _dump(seeded), _dump(empty_target)
    assert before.keys() == after.keys()
    for table in before:
        assert after[table] == before[table], f"table {table} differs after restore"
    assert (empty_target.resolved_spool_dir / "v2" / "000001.lp").read_text().startswith("traffic,device=core")

    target = make_engine(empty_target)
    try:
        with Session(target) as session:
            closed = session.scalar(sa.select(ClosedPeriod).where(ClosedPeriod.month == CLOSED_MONTH))
            assert closed is not None and hashlib.sha256(closed.content).hexdigest() == closed.sha256
            # ids continue after the restored ones (PostgreSQL's sequences were moved on)
            session.add(Agency(code="BARU", name="Dinas Baru"))
            session.commit()
    finally:
        target.dispose()


def test_an_archive_holds_no_key_and_restores_only_with_the_key_that_made_it(seeded: Settings,
                                                                              empty_target: Settings,
                                                                              tmp_path: Path) -> None:
    source = make_engine(seeded)
    try:
        archive.backup(seeded, source, tmp_path / "backup.tar.gz")
    finally:
        source.dispose()
    key = seeded.fernet_keys()[0]
    with tarfile.open(tmp_path / "backup.tar.gz") as tar:
        for member in tar.getmembers():
            fh = tar.extractfile(member)
            assert fh is None or key.encode() not in fh.read(), f"{member.name} holds the encryption key"

    stranger = empty_target.model_copy(update={"encryption_keys": SecretStr(generate_key())})
    target = make_engine(stranger)
    try:
        with pytest.raises(ArchiveError, match="NETMGR_ENCRYPTION_KEYS"):
            archive.restore(stranger, target, tmp_path / "backup.tar.gz")
        inspector_tables = sa.inspect(target).get_table_names()
        assert "devices" not in inspector_tables, "a refused restore wrote to the database"
    finally:
        target.dispose()


def test_restore_refuses_a_database_that_has_data(seeded: Settings, tmp_path: Path) -> None:
    engine = make_engine(seeded)
    try:
        archive.backup(seeded, engine, tmp_path / "backup.tar.gz")
        with pytest.raises(ArchiveError, match="not empty"):
            archive.restore(seeded, engine, tmp_path / "backup.tar.gz")
    finally:
        engine.dispose()


def test_a_damaged_archive_is_refused_before_anything_is_written(seeded: Settings, empty_target: Settings,
                                                                 tmp_path: Path) -> None:
    engine = make_engine(seeded)
    try:
        archive.backup(seeded, engine, tmp_path / "backup.tar.gz")
    finally:
        engine.dispose()
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(tmp_path / "backup.tar.gz") as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            fh = src.extractfile(member)
            data = fh.read() if fh else b""
            if member.name == "db/agencies.jsonl":
                data = data.replace(b"DISDIK", b"DISDUK")
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    target = make_engine(empty_target)
    try:
        with pytest.raises(ArchiveError, match="db/agencies.jsonl"):
            archive.restore(empty_target, target, damaged)
        assert "devices" not in sa.inspect(target).get_table_names()
    finally:
        target.dispose()


def _migrated(settings: Settings, revision: str = "head") -> Settings:
    engine = make_engine(settings)
    try:
        migrate.upgrade(engine, revision)
    finally:
        engine.dispose()
    return settings


def test_an_sqlite_archive_restores_into_postgresql(tmp_path: Path) -> None:
    source = _migrated(make_settings(tmp_path / "sqlite"))
    engine = make_engine(source)
    try:
        with Session(engine) as session:
            session.add_all([Agency(code="DISDIK", name="Dinas Pendidikan"),
                             Agency(code="BAPPEDA", name="Bappeda", notes="lantai 2 — ruang server")])
            session.commit()
        archive.backup(source, engine, tmp_path / "backup.tar.gz")
    finally:
        engine.dispose()

    with postgres_admin_url() as admin, temporary_database(admin) as url:
        target_settings = make_settings(tmp_path / "pg", url)
        target = make_engine(target_settings)
        try:
            archive.restore(target_settings, target, tmp_path / "backup.tar.gz")
            with Session(target) as session:
                names = session.scalars(sa.select(Agency.notes).order_by(Agency.id)).all()
                assert names == ["", "lantai 2 — ruang server"]
                session.add(Agency(code="DINKES", name="Dinas Kesehatan"))
                session.commit()  # the sequence was moved past the restored ids
        finally:
            target.dispose()


def test_an_archive_from_an_older_release_is_upgraded_on_restore(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """An older netmgr (schema at its first revision) made the archive; this version restores and upgrades it."""
    old = _migrated(make_settings(tmp_path / "old"), "0001_initial")
    engine = make_engine(old)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO agencies (id, code, name, notes) VALUES (7, 'DISDIK', "
                                 "'Dinas Pendidikan', '')"))
            conn.execute(sa.text("INSERT INTO sites (id, name, kind, agency_id, address, notes) VALUES "
                                 "(3, 'Kantor Disdik', 'office', 7, 'Jl. Merdeka 1', '')"))
        monkeypatch.setattr(migrate, "head_revision", lambda: "0001_initial")  # the older release's newest
        made = archive.backup(old, engine, tmp_path / "old.tar.gz")
    finally:
        engine.dispose()
    monkeypatch.undo()
    assert made.revision == "0001_initial"

    new = make_settings(tmp_path / "new")
    target = make_engine(new)
    try:
        archive.restore(new, target, tmp_path / "old.tar.gz")
        assert migrate.current_revision(target) == migrate.head_revision()
        with Session(target) as session:
            agency = session.get(Agency, 7)
            assert agency is not None and agency.code == "DISDIK"
            assert [site.name for site in agency.sites] == ["Kantor Disdik"]
    finally:
        target.dispose()


def test_an_archive_with_keys_is_private_and_restores_where_the_keys_differ(seeded: Settings,
                                                                            empty_target: Settings,
                                                                            tmp_path: Path) -> None:
    source = make_engine(seeded)
    try:
        made = archive.backup(seeded, source, tmp_path / "backup.tar.gz", with_keys=True)
        with Session(source) as session:
            community = session.scalars(sa.select(Device).order_by(Device.id)).first()
            assert community is not None
            secret = SecretBox(seeded.fernet_keys()).decrypt(community.snmp_community_encrypted or "")
    finally:
        source.dispose()
    assert made.with_keys
    assert (tmp_path / "backup.tar.gz").stat().st_mode & 0o777 == 0o600
    assert archive.read_manifest(tmp_path / "backup.tar.gz")["with_keys"] is True

    stranger = empty_target.model_copy(update={"encryption_keys": SecretStr(generate_key())})
    target = make_engine(stranger)
    try:
        restored = archive.restore(stranger, target, tmp_path / "backup.tar.gz")
        assert restored.with_keys
        with Session(target) as session:
            device = session.scalars(sa.select(Device).order_by(Device.id)).first()
            assert device is not None
            # re-encrypted under this installation's own key: it runs without the old key configured
            assert SecretBox(stranger.fernet_keys()).decrypt(device.snmp_community_encrypted or "") == secret
    finally:
        target.dispose()


def test_a_backup_without_keys_says_so_in_its_manifest(seeded: Settings, tmp_path: Path) -> None:
    source = make_engine(seeded)
    try:
        made = archive.backup(seeded, source, tmp_path / "backup.tar.gz")
    finally:
        source.dispose()
    assert not made.with_keys
    assert archive.read_manifest(tmp_path / "backup.tar.gz")["with_keys"] is False


def test_the_backup_command_warns_that_an_archive_with_keys_is_a_secret(tmp_path: Path) -> None:
    netmgr = str(Path(sys.executable).parent / "netmgr")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETMGR_")}
    env |= {"NETMGR_DATA_DIR": str(tmp_path / "var"), "COLUMNS": "200"}
    subprocess.run([netmgr, "db", "upgrade"], env=env, cwd=tmp_path, check=True, capture_output=True, timeout=120)
    done = subprocess.run([netmgr, "backup", "--with-keys", "keys.tar.gz"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "warning:" in done.stderr and "encryption keys" in done.stderr
    assert "mode 0600" in done.stdout
    assert (tmp_path / "keys.tar.gz").stat().st_mode & 0o777 == 0o600
    assert archive.read_manifest(tmp_path / "keys.tar.gz")["with_keys"] is True
