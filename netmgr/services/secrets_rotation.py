"""Re-encrypts every stored secret under the newest encryption key (``netmgr secrets rotate-key``).

Reads each ``*_encrypted`` column of every table in the metadata, rotates the ciphertext with the
session's SecretBox (newest key first, older keys still decrypt) and writes it back in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, MetaData, Row, Table, Update, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

import netmgr.models  # noqa: F401 - registers every core table on Base.metadata
from netmgr.db import secret_box
from netmgr.errors import SecretError
from netmgr.models.base import Base
from netmgr.security.permissions import Actor, Permission
from netmgr.security.secrets import SecretBox
from netmgr.services import audit

ENCRYPTED_SUFFIX = "_encrypted"
_BATCH = 500


@dataclass
class RotationResult:
    """How many rows and secret values were re-encrypted, per table."""

    rows: int = 0
    values: int = 0
    per_table: dict[str, int] = field(default_factory=dict)


def encrypted_columns(metadata: MetaData = Base.metadata) -> dict[Table, list[Column[str]]]:
    """Every table with secret columns (named ``*_encrypted``) and those columns, found from the metadata."""
    out: dict[Table, list[Column[str]]] = {}
    for table in metadata.sorted_tables:
        columns = [c for c in table.columns if c.name.endswith(ENCRYPTED_SUFFIX)]
        if columns:
            out[table] = columns
    return out


def rotate_encryption_key(
    session: Session,
    actor: Actor,
    *,
    metadata: MetaData = Base.metadata,
    progress: Callable[[int, int], None] | None = None,
) -> RotationResult:
    """Re-encrypt every secret under the first key of NETMGR_ENCRYPTION_KEYS, in the caller's transaction.

    Every key in the list must still be able to decrypt what is stored; run this after putting the new key
    first and before removing the old one. The caller commits (all rows or none).

    Args:
        progress: called with (rows done, rows with secrets) as rows are rewritten.

    Raises:
        PermissionDenied: the actor may not change secrets.
        SecretError: a stored secret cannot be decrypted with any configured key (nothing is changed).
    """
    actor.require(Permission.SECRETS_WRITE)
    box = secret_box(session)
    session.flush()
    targets = encrypted_columns(metadata)
    # NULL and '' both mean "no secret stored" (an empty string is never a Fernet token): nothing to rotate.
    filters = {table: or_(*(and_(c.is_not(None), c != "") for c in columns)) for table, columns in targets.items()}
    total = sum(session.scalar(select(func.count()).select_from(t).where(filters[t])) or 0 for t in targets)
    result = RotationResult()
    for table, columns in targets.items():
        keys = list(table.primary_key.columns)
        stmt = (
            update(table)
            .where(*(k == bindparam(f"pk_{k.name}") for k in keys))
            .values({c.name: bindparam(f"new_{c.name}") for c in columns})
        )
        rows = session.execute(select(*keys, *columns).where(filters[table]).order_by(*keys)).all()
        batch: list[dict[str, object]] = []
        done_in_table = 0
        for row in rows:
            params: dict[str, object] = {f"pk_{k.name}": row._mapping[k] for k in keys}
            for column in columns:
                value = row._mapping[column]
                params[f"new_{column.name}"] = value if not value else _rotate(box, table, row, keys, column)
                result.values += bool(value)
            batch.append(params)
            if len(batch) >= _BATCH:
                done_in_table += _write(session, stmt, batch)
                result.rows += len(batch)
                batch = []
                if progress is not None:
                    progress(result.rows, total)
        if batch:
            done_in_table += _write(session, stmt, batch)
            result.rows += len(batch)
            if progress is not None:
                progress(result.rows, total)
        result.per_table[table.name] = done_in_table
    audit.record(session, actor, action="rotate_key", entity_type="secrets",
                 message="secrets.rotated", params={"values": result.values, "rows": result.rows},
                 after={"rows": result.rows, "values": result.values, "tables": dict(result.per_table)})
    session.flush()
    return result


def _rotate(box: SecretBox, table: Table, row: Row[Any], keys: list[Column[Any]], column: Column[str]) -> str:
    try:
        return box.rotate(row._mapping[column])
    except SecretError as exc:
        where = ", ".join(f"{k.name}={row._mapping[k]}" for k in keys)
        raise SecretError(
            f"{table.name} {where}: the secret in column {column.name} cannot be decrypted with any key in "
            "NETMGR_ENCRYPTION_KEYS. Add the key it was made with, or set that secret again (edit the row in the "
            "UI), then run the rotation again; nothing was changed") from exc


def _write(session: Session, stmt: Update, batch: list[dict[str, object]]) -> int:
    session.connection().execute(stmt, batch)
    return len(batch)
