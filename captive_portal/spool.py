"""Accounting from FreeRADIUS's detail spool: FreeRADIUS answers the gateway once the record is on disk, netmgr
applies the records later, in batches, whether it was up at the time or not.

Data flows ``<spool_dir>/detail-YYYYmmdd-HHMM`` (rlm_detail, one file a minute, written by the config
``captive_portal.radius_config`` generates) → ``SpoolReader.read_batch``: the next complete records after the
file's offset → ``aaa.parse_accounting_request`` (the same validation as the AAA endpoint) →
``accounting.apply_accounting_batch`` → usage points to the metrics store → the file's new offset in
``radius_spool_offsets`` → COMMIT. The offset moves in the same transaction as the records it covers, so a
reader killed at any moment repeats nothing and loses nothing; a record applied twice anyway (a file read again
by hand) is a no-op, as accounting counters only move forward. Read files are removed once FreeRADIUS has
stopped writing them. Run by ``netmgr radius-spool``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from captive_portal import aaa
from captive_portal.accounting import AccountingItem, AccountingSettings, apply_accounting_batch
from captive_portal.sessions import AccountingOutcome, DisconnectOrder, NasCache
from netmgr.errors import ValidationFailed
from netmgr.metrics import MetricsStore
from netmgr.models import RadiusSpoolOffset

log = logging.getLogger(__name__)

FILE_PATTERN = "detail-*"
FINISHED_AFTER_S = 120.0
"""A fully read file untouched this long is finished (FreeRADIUS writes each minute's records to a new file)."""
MAX_READ_BYTES = 8 * 2**20
"""Bytes read from a file per batch at most (records are under 5 KiB: ``max_attributes`` is 200)."""

_ESCAPE = re.compile(r"\\([0-7]{3}|.)")
_ESCAPED = {"n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True)
class DetailRecord:
    """One Accounting-Request as rlm_detail wrote it: its attributes (first value of each) and where it ends."""

    attributes: dict[str, str]
    end: int
    """The file offset just after the record."""

    @property
    def received(self) -> datetime | None:
        """When FreeRADIUS received it: ``Netmgr-Received`` (microseconds), else the ``Timestamp`` (seconds)."""
        seconds, _, micro = self.attributes.get("Netmgr-Received", "").partition(".")
        if not (seconds.isdigit() and micro.isdigit()):
            seconds, micro = self.attributes.get("Timestamp", ""), "0"
        try:
            return datetime.fromtimestamp(int(seconds), UTC) + timedelta(microseconds=int(micro))
        except (ValueError, OverflowError, OSError):
            return None


def _unquote(value: str) -> str:
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value

    def one(match: re.Match[str]) -> str:
        text = match.group(1)
        if len(text) == 3:
            return chr(int(text, 8))
        return _ESCAPED.get(text, text)

    return _ESCAPE.sub(one, value[1:-1])


def parse_record(block: str) -> dict[str, str]:
    """The attributes of one record (``\\tName = value`` lines after the time header); the first value wins."""
    attributes: dict[str, str] = {}
    for line in block.split("\n"):
        if not line.startswith("\t"):
            continue
        name, sep, value = line.strip().partition(" = ")
        if sep and name not in attributes:
            attributes[name] = _unquote(value)
    return attributes


def parse_records(data: bytes, start: int, limit: int) -> list[DetailRecord]:
    """The complete records in ``data`` (read from file offset ``start``), at most ``limit``.

    A record ends with an empty line; what follows the last one is a record FreeRADIUS is still writing.
    """
    records: list[DetailRecord] = []
    pos = 0
    while len(records) < limit:
        end = data.find(b"\n\n", pos)
        if end < 0:
            break
        block = data[pos : end + 1].decode("utf-8", errors="replace")
        pos = end + 2
        if block.strip():
            records.append(DetailRecord(parse_record(block), start + pos))
    return records


@dataclass
class SpoolPass:
    """What one ``read_batch`` did."""

    file: str = ""
    records: int = 0
    applied: int = 0
    skipped: int = 0
    removed: list[str] = field(default_factory=list)
    disconnects: list[DisconnectOrder] = field(default_factory=list, repr=False)


class SpoolReader:
    """Reads the detail files under ``spool_dir`` in name (= time) order and applies their records.

    Args:
        factory: sessions for the database.
        spool_dir: where FreeRADIUS writes (``NETMGR_RADIUS__SPOOL_DIR``).
        settings: time zone and defaults for new sessions and disconnects.
        store: where usage points go (written before the commit: a replay writes the same points again).
        batch: records per transaction at most.
        finished_after_s: a fully read file untouched this long is removed.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        spool_dir: Path,
        *,
        settings: AccountingSettings,
        store: MetricsStore | None = None,
        batch: int = 500,
        finished_after_s: float = FINISHED_AFTER_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._factory = factory
        self.spool_dir = spool_dir
        self._settings = settings
        self._store = store
        self._batch = max(1, batch)
        self._finished_after_s = finished_after_s
        self._clock = clock
        self._nas_cache = NasCache()
        self._one_at_a_time = False

    def files(self) -> list[Path]:
        return sorted(p for p in self.spool_dir.glob(FILE_PATTERN) if p.is_file())

    def backlog_bytes(self) -> int:
        """Bytes of the spool not applied yet (for the operator)."""
        with self._factory() as session:
            offsets = {r.file: r.offset for r in session.scalars(select(RadiusSpoolOffset))}
        return sum(max(0, p.stat().st_size - offsets.get(p.name, 0)) for p in self.files())

    def read_batch(self) -> SpoolPass:
        """Apply the next records (at most ``batch``, from one file) and commit; ``records == 0`` when all is read.

        Raises:
            sqlalchemy.exc.DBAPIError: the database is unreachable or failing; nothing moved, call again later.
        """
        done = SpoolPass()
        with self._factory() as session:
            offsets = {r.file: r for r in session.scalars(select(RadiusSpoolOffset))}
            for path in self.files():
                known = offsets.get(path.name)
                start = known.offset if known is not None else 0
                try:
                    stat = path.stat()
                    if stat.st_size > start:
                        with path.open("rb") as fh:
                            fh.seek(start)
                            data = fh.read(min(stat.st_size - start, MAX_READ_BYTES))
                        records = parse_records(data, start, 1 if self._one_at_a_time else self._batch)
                        if records:
                            return self._apply(session, path.name, known, records)
                    elif self._clock() - stat.st_mtime >= self._finished_after_s:
                        path.unlink()
                        done.removed.append(path.name)
                        if known is not None:
                            session.delete(known)
                except FileNotFoundError:  # removed by hand meanwhile
                    continue
            for name, row in offsets.items():  # offsets of files no longer there
                if not (self.spool_dir / name).exists():
                    session.delete(row)
            session.commit()
        return done

    def _apply(
        self, session: Session, name: str, known: RadiusSpoolOffset | None, records: list[DetailRecord]
    ) -> SpoolPass:
        done = SpoolPass(file=name, records=len(records))
        items: list[AccountingItem] = []
        for record in records:
            item = self._item(session, name, record)
            if item is None:
                done.skipped += 1
            else:
                items.append(item)
        try:
            outcomes = apply_accounting_batch(session, items, self._settings)
        except DBAPIError as exc:
            if exc.connection_invalidated or _unavailable(exc):
                raise
            outcomes = self._failed(session, name, exc)
            items, done.skipped = [], len(records)
        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the spool forever
            outcomes = self._failed(session, name, exc)
            items, done.skipped = [], len(records)
        else:
            self._one_at_a_time = False
        if known is None:
            known = RadiusSpoolOffset(file=name, offset=0, records=0)
            session.add(known)
        known.offset = records[-1].end
        known.records += len(records)
        known.updated_at = datetime.now(UTC)
        points = [p for o in outcomes for p in o.points]
        if points and self._store is not None:
            # Before the commit: a reader killed after this writes the same points (same time, same values) again.
            self._store.write(points)
            self._store.flush()
        session.commit()
        done.applied = len(items)
        done.disconnects = [o.disconnect for o in outcomes if o.disconnect is not None]
        return done

    def _failed(self, session: Session, name: str, exc: Exception) -> list[AccountingOutcome]:
        """A batch that failed for another reason than the database: again one record at a time, then skip it."""
        session.rollback()
        if not self._one_at_a_time:
            self._one_at_a_time = True
            raise exc
        log.error("spool %s: an accounting record failed and is skipped: %s", name, exc, exc_info=exc)
        self._one_at_a_time = False
        return []

    def _item(self, session: Session, name: str, record: DetailRecord) -> AccountingItem | None:
        received = record.received
        if received is None:
            log.warning("spool %s: a record without Timestamp skipped (before offset %d)", name, record.end)
            return None
        try:
            request = aaa.parse_accounting_request(
                record.attributes, now=received, client=record.attributes.get("Netmgr-Client", "")
            )
        except ValidationFailed as exc:
            log.warning("spool %s: a malformed accounting record skipped: %s", name, exc)
            return None
        if request is None:
            return None
        nas = self._nas_cache.find(
            session,
            client=request.client,
            nas_ip=request.nas_ip,
            nas_identifier=request.nas_identifier,
            called_station=request.called_station,
        )
        if nas is None:
            log.warning(
                "spool %s: accounting from unknown NAS %s (%s / %s) ignored",
                name,
                request.client,
                request.nas_ip,
                request.nas_identifier,
            )
            return None
        return AccountingItem(nas=nas, rec=request.rec, now=request.now)


def _unavailable(exc: DBAPIError) -> bool:
    """An error of the database's availability (retry later), not of one record's content."""
    return isinstance(exc, OperationalError | InterfaceError)


def drain(reader: SpoolReader, *, send: Callable[[DisconnectOrder], object] | None = None) -> int:
    """Apply every complete record in the spool now; returns how many records were read."""
    total = 0
    while True:
        done = reader.read_batch()
        for order in done.disconnects:
            if send is not None:
                send(order)
        total += done.records
        if done.records == 0:
            return total


def run(
    reader: SpoolReader,
    *,
    stop: threading.Event,
    poll_s: float = 1.0,
    send: Callable[[DisconnectOrder], object] | None = None,
    retry_s: float = 5.0,
) -> None:
    """Keep applying the spool until ``stop`` is set; waits ``poll_s`` when all is read, ``retry_s`` after an error."""
    while not stop.is_set():
        try:
            drain(reader, send=send)
        except Exception:  # noqa: BLE001 - the database is away or one batch failed: the spool keeps it, retry
            log.warning("applying the RADIUS accounting spool failed; again in %.0f s", retry_s, exc_info=True)
            stop.wait(retry_s)
            continue
        stop.wait(poll_s)
