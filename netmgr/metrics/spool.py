"""A bounded on-disk FIFO of line-protocol batches, for while InfluxDB is unreachable.

Batches are appended to segment files (``<seq>.lp``, plain line protocol) in a *lane* directory that one
process holds with an exclusive ``flock``; the store replays segments oldest first and removes each only
after InfluxDB acknowledged it. Lanes left by dead processes are adopted by the next process that starts.

Durability: every append is written, flushed and ``fsync``-ed before ``append`` returns, and the lane
directory is fsync-ed when a segment is created or removed, so an acknowledged ``flush()`` survives a
crash or power loss. A crash in the middle of an append leaves at most a torn last line, which is cut
off when the segment is read. When the spool exceeds its size limit the oldest segments are dropped,
loudly and counted.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

SEGMENT_SUFFIX = ".lp"
MAX_SEGMENT_BYTES = 1024 * 1024
"""Segments are sent as one write request each; 1 MiB keeps requests well under InfluxDB's body limit."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One spooled file, read whole: ``data`` is newline-terminated line protocol."""

    path: Path
    data: bytes
    points: int


class Spool:
    """Append-only segment files under ``root/lane-N/``, bounded by ``max_bytes`` in total.

    Not thread-safe: the owning store serialises calls.
    """

    def __init__(self, root: Path, *, max_bytes: int, segment_bytes: int | None = None, fsync: bool = True) -> None:
        if max_bytes <= 0:
            raise ValueError("a spool needs a positive max_bytes")
        self.root = root
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes or max(4096, min(MAX_SEGMENT_BYTES, max_bytes // 8))
        self.fsync = fsync
        self.dropped_points = 0
        self.dropped_segments = 0
        self.lost_points = 0
        self.errors = 0
        self.last_error = ""
        root.mkdir(parents=True, exist_ok=True)
        self.lane, self._lock = self._acquire_lane()
        self._segments: list[Path] = sorted(self.lane.glob(f"*{SEGMENT_SUFFIX}"))
        self._sizes: dict[Path, int] = {p: p.stat().st_size for p in self._segments}
        self._next_seq = self._seq(self._segments[-1]) + 1 if self._segments else 1
        self._current: IO[bytes] | None = None
        self._adopt_orphans()

    # -- lanes -------------------------------------------------------------------------------------------

    def _acquire_lane(self) -> tuple[Path, IO[bytes]]:
        index = 0
        while True:
            lane = self.root / f"lane-{index}"
            lane.mkdir(exist_ok=True)
            lock = (lane / ".lock").open("ab")
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                index += 1
                continue
            return lane, lock

    def _adopt_orphans(self) -> None:
        """Move segments of lanes whose process is gone into ours, after our own, keeping their order."""
        for lane in sorted(self.root.glob("lane-*")):
            if lane == self.lane or not lane.is_dir():
                continue
            try:
                lock = (lane / ".lock").open("ab")
            except OSError:
                continue
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.close()
                continue  # a live process owns it
            try:
                orphans = sorted(lane.glob(f"*{SEGMENT_SUFFIX}"))
                for path in orphans:
                    target = self.lane / f"{self._next_seq:016d}{SEGMENT_SUFFIX}"
                    self._next_seq += 1
                    os.replace(path, target)
                    self._segments.append(target)
                    self._sizes[target] = target.stat().st_size
                if orphans:
                    logger.info("metrics spool: adopted %d segment(s) left in %s", len(orphans), lane)
                    self._sync_dir()
            finally:
                lock.close()

    @staticmethod
    def _seq(path: Path) -> int:
        try:
            return int(path.stem)
        except ValueError:
            return 0

    # -- state -------------------------------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        return bool(self._segments)

    @property
    def size_bytes(self) -> int:
        return sum(self._sizes.values())

    @property
    def segments(self) -> int:
        return len(self._segments)

    # -- writing -----------------------------------------------------------------------------------------

    def append(self, body: bytes, points: int) -> bool:
        """Add one newline-terminated batch; False (logged and counted as lost) if the disk refused it."""
        if not body:
            return True
        current = self._segments[-1] if self._current is not None else None
        if current is not None and self._sizes[current] > 0 and self._sizes[current] + len(body) > self.segment_bytes:
            self._seal()
            current = None
        try:
            if current is None:
                current = self._open_segment()
            assert self._current is not None  # noqa: S101 - _open_segment sets it
            before = self._sizes[current]
            try:
                self._current.write(body)
                self._current.flush()
                if self.fsync:
                    os.fsync(self._current.fileno())
            except OSError:
                self._undo_partial(current, before)
                raise
        except OSError as exc:
            self.errors += 1
            self.lost_points += points
            full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
            self.last_error = f"{'disk full' if full else 'I/O error'} writing {self.lane}: {exc}"
            logger.error("metrics spool: cannot write %d point(s) to %s (%s%s); they are lost (%d lost so far)",
                         points, self.lane, "disk full: " if full else "", exc, self.lost_points)
            return False
        self._sizes[current] = before + len(body)
        self._enforce_limit()
        return True

    def _open_segment(self) -> Path:
        path = self.lane / f"{self._next_seq:016d}{SEGMENT_SUFFIX}"
        self._next_seq += 1
        self._current = path.open("ab")
        self._segments.append(path)
        self._sizes[path] = 0
        self._sync_dir()
        return path

    def _undo_partial(self, path: Path, size: int) -> None:
        """Cut a half-written batch off, so later appends do not follow a torn line; else seal the segment.

        A segment that holds nothing is removed, so a file the disk never took does not linger.
        """
        if size == 0:
            self._seal()
            with contextlib.suppress(OSError):
                self._forget(path)
            return
        try:
            assert self._current is not None  # noqa: S101
            self._current.truncate(size)
        except (OSError, ValueError):
            self._seal()

    def _seal(self) -> None:
        if self._current is not None:
            with contextlib.suppress(OSError):
                self._current.close()
            self._current = None

    def _enforce_limit(self) -> None:
        while self._segments and self.size_bytes > self.max_bytes:
            oldest = self._segments[0]
            if oldest == self._segments[-1]:
                self._seal()
            points = self._count_points(oldest)
            self._forget(oldest)
            self.dropped_points += points
            self.dropped_segments += 1
            logger.warning("metrics spool is full (limit %d bytes): dropped the oldest segment %s with %d point(s); "
                           "%d point(s) dropped so far. Raise influx.spool_max_bytes or bring InfluxDB back.",
                           self.max_bytes, oldest.name, points, self.dropped_points)

    # -- reading -----------------------------------------------------------------------------------------

    def oldest(self) -> Segment | None:
        """The oldest segment (sealed first, so nothing is appended to it while it is sent)."""
        while self._segments:
            path = self._segments[0]
            if len(self._segments) == 1:
                self._seal()
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                self._segments.pop(0)
                self._sizes.pop(path, None)
                continue
            cut = data.rfind(b"\n") + 1
            if cut < len(data):
                logger.warning("metrics spool: %s ends with a torn line (crash while writing); ignoring %d bytes",
                               path.name, len(data) - cut)
                data = data[:cut]
            if not data:
                self.remove(path)
                continue
            return Segment(path=path, data=data, points=data.count(b"\n"))
        return None

    def remove(self, path: Path) -> None:
        """Forget a segment InfluxDB has acknowledged (or rejected for good)."""
        if self._segments and self._segments[-1] == path:
            self._seal()
        self._forget(path)

    def _forget(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        if path in self._sizes:
            del self._sizes[path]
            self._segments.remove(path)
        self._sync_dir()

    def _count_points(self, path: Path) -> int:
        try:
            return path.read_bytes().count(b"\n")
        except OSError:
            return 0

    def _sync_dir(self) -> None:
        if not self.fsync:
            return
        try:
            fd = os.open(self.lane, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)

    def close(self) -> None:
        """Close the open segment and give the lane up (its segments stay for the next process)."""
        self._seal()
        with contextlib.suppress(OSError):
            self._lock.close()
