"""Per-device locks in the database, so two jobs (or a job and a backup) never drive one device at once.

A row in ``device_locks`` per held device; inserting it is the atomic step on SQLite and PostgreSQL
alike. Locks expire, so a worker that died cannot hold a device for ever.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from netmgr.errors import Conflict
from netmgr.models import DeviceLock


def _now() -> datetime:
    return datetime.now(UTC)


def acquire(factory: sessionmaker[Session], device_id: int, holder: str, *, ttl_s: int = 1800) -> bool:
    """Take the device's lock for ``holder``; False if someone else holds an unexpired one."""
    now = _now()
    with factory() as session:
        session.add(DeviceLock(device_id=device_id, holder=holder, acquired_at=now,
                               expires_at=now + timedelta(seconds=ttl_s)))
        try:
            session.commit()
            return True
        except IntegrityError:
            session.rollback()
        current = session.get(DeviceLock, device_id)
        if current is None or current.expires_at < now or current.holder == holder:
            # Stale lock (or ours): take it over atomically by deleting exactly the row we saw.
            if current is not None:
                gone = session.execute(delete(DeviceLock).where(DeviceLock.device_id == device_id,
                                                                DeviceLock.holder == current.holder,
                                                                DeviceLock.acquired_at == current.acquired_at))
                session.commit()
                if getattr(gone, "rowcount", 0) != 1:
                    return False
            return acquire(factory, device_id, holder, ttl_s=ttl_s)
        return False


_LOCKS = cast(Table, DeviceLock.__table__)
_HELD = select(_LOCKS.c.holder, _LOCKS.c.acquired_at, _LOCKS.c.expires_at).where(
    _LOCKS.c.device_id == bindparam("b_device"))
_TAKE_OVER = delete(_LOCKS).where(_LOCKS.c.device_id == bindparam("b_device"),
                                  _LOCKS.c.holder == bindparam("b_holder"),
                                  _LOCKS.c.acquired_at == bindparam("b_acquired"))
_LOCK = insert(_LOCKS)
_UNLOCK = delete(_LOCKS).where(_LOCKS.c.device_id == bindparam("b_device"), _LOCKS.c.holder == bindparam("b_holder"))


def take(session: Session, device_id: int, holder: str, *, ttl_s: int = 1800) -> str | None:
    """Take the device's lock inside the caller's transaction (the caller commits): None when taken, else
    who holds it. An expired lock, or one ``holder`` already has, is taken over.

    Raises:
        IntegrityError: another process inserted the lock row meanwhile; roll back and call again.
    """
    now = _now()
    current = session.execute(_HELD, {"b_device": device_id}).first()
    if current is not None:
        if current.expires_at >= now and current.holder != holder:
            return str(current.holder)
        gone = session.execute(_TAKE_OVER, {"b_device": device_id, "b_holder": current.holder,
                                            "b_acquired": current.acquired_at})
        if getattr(gone, "rowcount", 0) != 1:
            return str(current.holder)  # someone else took the stale lock over first
    session.execute(_LOCK, {"device_id": device_id, "holder": holder, "acquired_at": now,
                            "expires_at": now + timedelta(seconds=ttl_s)})
    return None


def drop(session: Session, device_ids: Sequence[int], holder: str) -> None:
    """Release ``holder``'s locks on the devices inside the caller's transaction (nothing where it has none)."""
    if device_ids:
        session.execute(_UNLOCK, [{"b_device": d, "b_holder": holder} for d in device_ids])


def holder_of(factory: sessionmaker[Session], device_id: int) -> str | None:
    with factory() as session:
        row = session.get(DeviceLock, device_id)
        return None if row is None or row.expires_at < _now() else row.holder


def release(factory: sessionmaker[Session], device_id: int, holder: str) -> None:
    with factory() as session:
        drop(session, [device_id], holder)
        session.commit()


@contextmanager
def device_lock(factory: sessionmaker[Session], device_id: int, holder: str, *, ttl_s: int = 1800) -> Iterator[None]:
    """Hold the device for the block.

    Raises:
        Conflict: another job holds it; the message says which.
    """
    if not acquire(factory, device_id, holder, ttl_s=ttl_s):
        raise Conflict(f"device {device_id} is busy: {holder_of(factory, device_id) or 'another run'} holds it")
    try:
        yield
    finally:
        release(factory, device_id, holder)
