"""Backs up a whole installation into one archive and restores it into an empty one.

Data flow: every table of the database (read in primary-key order, whatever its revision) + the metrics spool →
``netmgr-backup-*.tar.gz`` (a manifest, one JSON-lines file per table, the spool files). Restore: an empty database
→ migrated to the archive's revision → rows inserted in dependency order → sequences moved past the restored ids →
migrated to this version's newest revision. The dump is logical (JSON), so SQLite and PostgreSQL archives restore
into either kind of database.

The encryption keys are not in the archive unless asked for (``with_keys``): an archive that leaks must not leak the
device secrets with it. The manifest records a fingerprint of the key that encrypted the secrets, and a restore
refuses to write anything when no key it has (the archive's, then the configured ones) can decrypt them. An archive
with keys is created readable by its owner only (0600); its secrets are re-encrypted under the configured key on
restore, so the restored installation runs with its own NETMGR_ENCRYPTION_KEYS.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, MetaData, Table, func, select, text
from sqlalchemy.exc import SAWarning

from netmgr import migrate
from netmgr.errors import ArchiveError, SecretError
from netmgr.security.secrets import SecretBox
from netmgr.settings import Settings

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
KEYS_MEMBER = "keys/encryption_keys"
BATCH = 1000
SKIPPED_TABLES = {"alembic_version"}
ENCRYPTED_SUFFIX = "_encrypted"

Progress = Callable[[str, int, int], None]
"""Called as ``progress(step, done, total)`` while a backup or restore runs (a CLI draws a bar with it)."""


@dataclass
class ArchiveSummary:
    """What a backup wrote or a restore read: rows per table and files."""

    path: Path
    revision: str
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    with_keys: bool = False
    """The archive holds the encryption keys (it is then as secret as the keys themselves)."""

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def key_fingerprint(key: str) -> str:
    """A short, one-way name for an encryption key (shown to people; says nothing about the key)."""
    return hashlib.sha256(f"netmgr-key:{key}".encode()).hexdigest()[:16]


# --- values ----------------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    """A cell as JSON: JSON's own types stay, the others are tagged (so decoding needs no column types)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, bytes | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict | list):
        return {"$json": value}
    raise ArchiveError(f"cannot archive a value of type {type(value).__name__}")


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((tag, raw),) = value.items()
    if tag == "$dt":
        return datetime.fromisoformat(raw)
    if tag == "$date":
        return date.fromisoformat(raw)
    if tag == "$dec":
        return Decimal(raw)
    if tag == "$b64":
        return base64.b64decode(raw)
    if tag == "$json":
        return raw
    raise ArchiveError(f"unknown value tag {tag!r} in the archive")


# --- backup ----------------------------------------------------------------------------------------


def _reflect(engine: Engine) -> MetaData:
    meta = MetaData()
    meta.reflect(bind=engine)
    return meta


def _ordered(meta: MetaData) -> list[Table]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # a cycle only changes the order, restore copes with it
        return [t for t in meta.sorted_tables if t.name not in SKIPPED_TABLES]


def _rows(engine: Engine, table: Table) -> Iterator[list[Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
            select(table).order_by(*order))
        for row in result:
            yield [_encode(v) for v in row]


def backup(settings: Settings, engine: Engine, target: Path, *, progress: Progress | None = None,
           with_keys: bool = False) -> ArchiveSummary:
    """Write the database and the metrics spool into ``target`` (a .tar.gz); nothing is changed.

    Args:
        with_keys: also store the configured encryption keys; the archive is then created with mode 0600.

    Raises:
        ArchiveError: the database is not at this version's newest revision, or ``target`` exists.
    """
    revision = migrate.current_revision(engine)
    head = migrate.head_revision()
    if revision is None:
        raise ArchiveError("the database has no netmgr schema: nothing to back up (run `netmgr db upgrade`)")
    if revision != head:
        raise ArchiveError(f"the database is at revision {revision}, this netmgr expects {head}: "
                           "run `netmgr db upgrade` before backing up")
    if target.exists():
        raise ArchiveError(f"{target} exists already: choose a new file name")
    meta = _reflect(engine)
    tables = _ordered(meta)
    summary = ArchiveSummary(path=target, revision=revision, with_keys=with_keys)
    counts = {t.name: _count(engine, t) for t in tables}
    total = sum(counts.values())
    done = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    checksums: dict[str, str] = {}
    try:
        if with_keys:  # private before the first byte is written
            partial.touch(mode=0o600)
            partial.chmod(0o600)
        with tarfile.open(partial, "w:gz") as tar:
            for table in tables:
                with tempfile.TemporaryFile() as tmp:
                    digest = hashlib.sha256()
                    header = {"table": table.name, "columns": [c.name for c in table.columns]}
                    for line in [json.dumps(header), *(_line(row) for row in _rows(engine, table))]:
                        data = line.encode() + b"\n"
                        tmp.write(data)
                        digest.update(data)
                        done += 1
                        if progress and done % BATCH == 0:
                            progress("database", min(done, total), total)
                    name = f"db/{table.name}.jsonl"
                    checksums[name] = digest.hexdigest()
                    _add(tar, name, tmp)
                summary.tables[table.name] = counts[table.name]
            if progress:
                progress("database", total, total)
            for path, name in _spool_files(settings):
                tar.add(path, arcname=name, recursive=False)
                summary.files += 1
            if with_keys:
                keys = ",".join(settings.fernet_keys()).encode()
                checksums[KEYS_MEMBER] = hashlib.sha256(keys).hexdigest()
                info = tarfile.TarInfo(KEYS_MEMBER)
                info.size, info.mode = len(keys), 0o600
                tar.addfile(info, io.BytesIO(keys))
            manifest = {
                "format": FORMAT,
                "netmgr_version": metadata.version("netmgr"),
                "revision": revision,
                "created_at": datetime.now(UTC).isoformat(),
                "database": engine.dialect.name,
                "key_fingerprint": key_fingerprint(settings.fernet_keys()[0]),
                "tables": summary.tables,
                "sha256": checksums,
                "files": summary.files,
                "with_keys": with_keys,
            }
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    log.info("backup %s: %d rows in %d tables, %d spool files", target, summary.rows, len(summary.tables),
             summary.files)
    return summary


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def _line(row: list[Any]) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def _add(tar: tarfile.TarFile, name: str, fh: IO[bytes]) -> None:
    info = tarfile.TarInfo(name)
    info.size = fh.tell()
    fh.seek(0)
    tar.addfile(info, fh)


def _spool_files(settings: Settings) -> Iterator[tuple[Path, str]]:
    spool = settings.resolved_spool_dir
    if not spool.is_dir():
        return
    for path in sorted(spool.rglob("*")):
        if path.is_file():
            yield path, f"spool/{path.relative_to(spool)}"


# --- restore ---------------------------------------------------------------------------------------


def read_manifest(archive: Path) -> dict[str, Any]:
    """The archive's manifest; ArchiveError when the file is not a netmgr backup."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest: dict[str, Any] = json.load(member)
    except (OSError, tarfile.TarError, KeyError, json.JSONDecodeError) as exc:
        raise ArchiveError(f"{archive} is not a netmgr backup ({exc})") from exc
    if manifest.get("format") != FORMAT:
        raise ArchiveError(f"{archive} has backup format {manifest.get('format')}; this netmgr reads {FORMAT}")
    return manifest


def restore(settings: Settings, engine: Engine, archive: Path, *,
            progress: Progress | None = None) -> ArchiveSummary:
    """Bring an archive into an empty installation, then migrate it to this version's newest revision.

    Raises:
        ArchiveError: the archive is damaged, the database is not empty, or the configured encryption keys cannot
            decrypt the archive's secrets (nothing is written then).
    """
    manifest = read_manifest(archive)
    revision = str(manifest["revision"])
    known = migrate.known_revisions()
    if revision not in known:
        raise ArchiveError(f"the archive is at revision {revision}, which this netmgr does not know: restore it with "
                           f"netmgr {manifest.get('netmgr_version')} or newer")
    _require_empty(engine)
    with tempfile.TemporaryDirectory(prefix="netmgr-restore-") as tmp:
        workdir = Path(tmp)
        _extract(archive, workdir, manifest)
        archived_keys = _archived_keys(workdir)
        reader = SecretBox(archived_keys + settings.fernet_keys())
        _check_keys(settings, reader, workdir, manifest)
        recrypt = _recrypter(reader, SecretBox(settings.fernet_keys())) if archived_keys else None
        migrate.upgrade(engine, revision)
        summary = ArchiveSummary(path=archive, revision=revision, with_keys=bool(archived_keys))
        meta = _reflect(engine)
        total = sum(int(n) for n in manifest["tables"].values())
        done = 0
        with engine.begin() as conn:
            for table in _ordered(meta):
                source = workdir / "db" / f"{table.name}.jsonl"
                if not source.exists():
                    summary.tables[table.name] = 0
                    continue
                inserted = 0
                for batch in _batches(source, table, recrypt):
                    conn.execute(table.insert(), batch)
                    inserted += len(batch)
                    done += len(batch)
                    if progress:
                        progress("database", done, total)
                summary.tables[table.name] = inserted
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn, _ordered(meta))
        migrate.upgrade(engine, "head")
        summary.files = _restore_spool(settings, workdir)
    log.info("restored %s: %d rows, %d spool files, now at revision %s", archive, summary.rows, summary.files,
             migrate.current_revision(engine))
    return summary


def _require_empty(engine: Engine) -> None:
    meta = _reflect(engine)
    for table in _ordered(meta):
        if _count(engine, table) > 0:
            raise ArchiveError(f"the database is not empty (table {table.name} has rows): restore into a new, empty "
                               "database (NETMGR_DATABASE_URL) or data directory (NETMGR_DATA_DIR)")


def _extract(archive: Path, workdir: Path, manifest: dict[str, Any]) -> None:
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(workdir, filter="data")
    for name, expected in manifest.get("sha256", {}).items():
        path = workdir / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            raise ArchiveError(f"the archive is damaged: {name} is missing or does not match its checksum")


def _archived_keys(workdir: Path) -> list[str]:
    path = workdir / KEYS_MEMBER
    if not path.is_file():
        return []
    return [k.strip() for k in path.read_text().split(",") if k.strip()]


def _recrypter(reader: SecretBox, writer: SecretBox) -> Callable[[str, Any], Any]:
    """Re-encrypts the archive's secrets under the configured key (the archive's keys read them)."""

    def recrypt(column: str, value: Any) -> Any:
        if column.endswith(ENCRYPTED_SUFFIX) and isinstance(value, str) and value:
            return writer.encrypt(reader.decrypt(value))
        return value

    return recrypt


def _batches(source: Path, table: Table,
             recrypt: Callable[[str, Any], Any] | None = None) -> Iterator[list[dict[str, Any]]]:
    with source.open("rb") as fh:
        header = json.loads(fh.readline())
        columns = header["columns"]
        unknown = set(columns) - {c.name for c in table.columns}
        if unknown:
            raise ArchiveError(f"table {table.name} in the archive has columns this database lacks: {sorted(unknown)}")
        batch: list[dict[str, Any]] = []
        for line in fh:
            values = {c: _decode(v) for c, v in zip(columns, json.loads(line), strict=True)}
            if recrypt is not None:
                values = {c: recrypt(c, v) for c, v in values.items()}
            batch.append(values)
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


def _check_keys(settings: Settings, box: SecretBox, workdir: Path, manifest: dict[str, Any]) -> None:
    """Refuse before writing anything when neither the archive's keys nor the configured ones read its secrets."""
    for source in sorted((workdir / "db").glob("*.jsonl")):
        with source.open("rb") as fh:
            columns = json.loads(fh.readline())["columns"]
            secret_at = [i for i, c in enumerate(columns) if c.endswith(ENCRYPTED_SUFFIX)]
            if not secret_at:
                continue
            for line in fh:
                row = json.loads(line)
                for i in secret_at:
                    if isinstance(row[i], str) and row[i]:
                        try:
                            box.decrypt(row[i])
                        except SecretError as exc:
                            ours = ", ".join(key_fingerprint(k) for k in settings.fernet_keys())
                            raise ArchiveError(
                                "the configured encryption keys cannot read the archive's secrets: set "
                                "NETMGR_ENCRYPTION_KEYS to the key of the installation that made it (its fingerprint "
                                f"is {manifest.get('key_fingerprint')}; yours: {ours})") from exc
                        return


def _reset_sequences(conn: Any, tables: list[Table]) -> None:
    for table in tables:
        for column in table.primary_key.columns:
            sequence = conn.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name})
            if sequence:
                conn.execute(text(f"SELECT setval(:s, COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, "  # noqa: S608 - names come from the reflected schema
                                  "false)"), {"s": sequence})


def _restore_spool(settings: Settings, workdir: Path) -> int:
    source = workdir / "spool"
    if not source.is_dir():
        return 0
    target = settings.resolved_spool_dir
    count = 0
    for path in sorted(source.rglob("*")):
        if path.is_file():
            dest = target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
            count += 1
    return count


def default_archive_name(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"netmgr-backup-{stamp}.tar.gz"


__all__ = ["ArchiveError", "ArchiveSummary", "backup", "default_archive_name", "key_fingerprint",
           "read_manifest", "restore"]
