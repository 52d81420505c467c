"""InfluxDB backends of ``MetricsStore``: batched writes, a disk spool while the server is away, InfluxQL reads.

Points flow: ``write`` → in-memory batch → writer (v2: influxdb-client to ``/api/v2/write``; v1: httpx to
``/write``) → InfluxDB; on a transient failure the batch goes to the ``Spool`` and is replayed, in order,
by a later ``flush`` once the server answers. Reads go through ``InfluxQLClient`` (``/query``).

There is no background thread: ``write`` sends when a batch is full or the flush interval has passed,
and callers (the poller) call ``flush()`` at the end of each cycle.
"""

from __future__ import annotations

import gzip
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, cast

import httpx
import urllib3.exceptions
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException

from netmgr.errors import MetricsQueryError, MetricsWriteError
from netmgr.metrics import MetricsStoreStats, Point
from netmgr.metrics.query import InfluxQLClient
from netmgr.metrics.spool import Spool
from netmgr.settings import InfluxApi, Settings

logger = logging.getLogger(__name__)

_REJECT_STATUSES = {400, 413, 422}
"""Malformed data: retrying or spooling cannot help (InfluxDB already kept the good points of a partial write)."""
_DROPPED = re.compile(r"dropped=(\d+)")
GZIP_MIN_BYTES = 1024


class WriteRejected(MetricsWriteError):
    """InfluxDB refused (part of) a batch as malformed; ``dropped`` is how many points it refused, if it said."""

    def __init__(self, message: str, *, dropped: int | None = None) -> None:
        super().__init__(message)
        self.dropped = dropped


class LineWriter(Protocol):
    """Sends one newline-terminated line-protocol body (nanosecond timestamps).

    Raises WriteRejected for malformed data, MetricsWriteError for anything worth retrying later.
    """

    target: str

    def write(self, body: bytes) -> None: ...

    def close(self) -> None: ...


def _classify(status: int, detail: str, target: str) -> MetricsWriteError:
    detail = detail.strip()[:300]
    if status in _REJECT_STATUSES:
        match = _DROPPED.search(detail)
        return WriteRejected(f"InfluxDB at {target} refused points: {detail}",
                             dropped=int(match.group(1)) if match else None)
    return MetricsWriteError(f"InfluxDB at {target} answered HTTP {status}: {detail}")


class InfluxV1Writer:
    """Writes to InfluxDB 1.x's ``/write`` with httpx (gzip for bodies over 1 KiB); creates the database if missing."""

    def __init__(self, url: str, database: str, *, retention_policy: str = "", timeout_s: float = 5.0,
                 auth: tuple[str, str] | None = None, transport: httpx.BaseTransport | None = None) -> None:
        self.target = url.rstrip("/")
        self.database = database
        self._params = {"db": database, "precision": "ns"}
        if retention_policy:
            self._params["rp"] = retention_policy
        self._client = httpx.Client(base_url=self.target, timeout=timeout_s, auth=auth, transport=transport)

    def write(self, body: bytes) -> None:
        response = self._post(body)
        if response.status_code == 404 and "database not found" in response.text:
            self._create_database()
            response = self._post(body)
        if response.status_code != 204:
            raise _classify(response.status_code, response.text, self.target)

    def _post(self, body: bytes) -> httpx.Response:
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if len(body) >= GZIP_MIN_BYTES:
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        try:
            return self._client.post("/write", params=self._params, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise MetricsWriteError(f"InfluxDB at {self.target} is unreachable: {exc}") from exc

    def _create_database(self) -> None:
        logger.info("InfluxDB database %r does not exist at %s; creating it", self.database, self.target)
        quoted = self.database.replace("\\", "\\\\").replace('"', '\\"')
        try:
            response = self._client.post("/query", data={"q": f'CREATE DATABASE "{quoted}"'})
        except httpx.HTTPError as exc:
            raise MetricsWriteError(f"InfluxDB at {self.target} is unreachable: {exc}") from exc
        if response.status_code != 200 or '"error"' in response.text:
            raise MetricsWriteError(f"InfluxDB at {self.target} has no database {self.database!r} and refused to "
                                    f"create it: {response.text[:200]}")

    def close(self) -> None:
        self._client.close()


class InfluxV2Writer:
    """Writes through influxdb-client's synchronous write API (gzip) to ``/api/v2/write``: 2.x, 3.x and 1.8+.

    Batching and retrying are the store's (with its spool), not the client's background thread.
    """

    def __init__(self, url: str, *, bucket: str, org: str, token: str, timeout_s: float = 5.0) -> None:
        self.target = url.rstrip("/")
        self.bucket = bucket
        self.org = org
        self._client = InfluxDBClient(url=self.target, token=token, org=org, enable_gzip=True,
                                      timeout=int(timeout_s * 1000))
        self._api = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, body: bytes) -> None:
        try:
            self._api.write(bucket=self.bucket, org=self.org, record=body,
                            write_precision=cast(WritePrecision, WritePrecision.NS))
        except ApiException as exc:
            raise _classify(int(exc.status or 0), str(exc.body or exc.reason or ""), self.target) from exc
        except (urllib3.exceptions.HTTPError, InfluxDBError, OSError) as exc:
            raise MetricsWriteError(f"InfluxDB at {self.target} is unreachable: {exc}") from exc

    def close(self) -> None:
        self._api.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]


class InfluxMetricsStore:
    """``MetricsStore`` on InfluxDB: batches points, spools what the server cannot take, replays it in order.

    Args:
        writer: sends line-protocol bodies (``InfluxV1Writer`` or ``InfluxV2Writer``).
        reader: runs InfluxQL; None for a store that only forwards (an edge collector's).
        spool: where batches wait while the server is away; None loses them (counted, logged).
        batch_size: points per request.
        flush_interval_s: ``write`` sends a partial batch once this much time passed since the last send.
        replay_budget_s: how long one ``flush`` may spend replaying the spool before returning.
        clock: monotonic seconds (injectable for tests).
    """

    def __init__(self, writer: LineWriter, reader: InfluxQLClient | None, *, spool: Spool | None,
                 batch_size: int = 5000, flush_interval_s: float = 1.0, replay_budget_s: float = 30.0,
                 backoff_min_s: float = 1.0, backoff_max_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._writer = writer
        self._reader = reader
        self._spool = spool
        self._batch_size = max(1, batch_size)
        self._flush_interval_s = flush_interval_s
        self._replay_budget_s = replay_budget_s
        self._backoff_min_s = backoff_min_s
        self._backoff_max_s = backoff_max_s
        self._clock = clock
        self._lock = threading.Lock()
        self._buffer: list[str] = []
        self._last_flush = clock()
        self._retry_at = 0.0
        self._failures = 0
        self._stats = MetricsStoreStats()

    # -- MetricsStore --------------------------------------------------------------------------------------

    def write(self, points: Iterable[Point]) -> None:
        lines: list[str] = []
        bad = 0
        for point in points:
            try:
                lines.append(point.to_line())
            except (ValueError, TypeError) as exc:
                bad += 1
                logger.error("metrics: skipping a point that cannot be written: %s", exc)
        with self._lock:
            self._stats.points_rejected += bad
            self._buffer.extend(lines)
            if len(self._buffer) >= self._batch_size or self._clock() - self._last_flush >= self._flush_interval_s:
                self._flush_locked(explicit=False)

    def write_lines(self, lines: Sequence[str]) -> None:
        with self._lock:
            self._buffer.extend(lines)
            if len(self._buffer) >= self._batch_size or self._clock() - self._last_flush >= self._flush_interval_s:
                self._flush_locked(explicit=False)

    def flush(self) -> None:
        with self._lock:
            self._flush_locked(explicit=True)

    def close(self) -> None:
        with self._lock:
            self._flush_locked(explicit=True)
            self._writer.close()
            if self._reader is not None:
                self._reader.close()
            if self._spool is not None:
                self._spool.close()

    def query(self, influxql: str, params: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
        if self._reader is None:
            raise MetricsQueryError(f"this store only forwards points to {self._writer.target}; it cannot be queried")
        return self._reader.query(influxql, params)

    def stats(self) -> MetricsStoreStats:
        with self._lock:
            snapshot = MetricsStoreStats(**{k: v for k, v in vars(self._stats).items() if k != "extra"})
            if self._spool is not None:
                snapshot.points_dropped = self._spool.dropped_points
                snapshot.points_lost += self._spool.lost_points
                snapshot.spool_errors = self._spool.errors
                snapshot.spool_bytes = self._spool.size_bytes
                snapshot.spool_segments = self._spool.segments
                snapshot.last_error = self._stats.last_error or self._spool.last_error
            return snapshot

    # -- internals -----------------------------------------------------------------------------------------

    def _take_batches(self) -> list[tuple[bytes, int]]:
        lines, self._buffer = self._buffer, []
        batches = []
        for start in range(0, len(lines), self._batch_size):
            chunk = lines[start:start + self._batch_size]
            chunk.append("")
            batches.append(("\n".join(chunk).encode(), len(chunk) - 1))
        return batches

    def _flush_locked(self, *, explicit: bool) -> None:
        now = self._clock()
        self._last_flush = now
        batches = self._take_batches()
        may_try = explicit or now >= self._retry_at
        if self._spool is not None and (self._spool.pending or not may_try):
            # Keep the order: new batches queue behind what is already spooled.
            for body, count in batches:
                self._to_spool(body, count)
            if may_try:
                self._replay(deadline=now + (self._replay_budget_s if explicit else 1.0))
            return
        for index, (body, count) in enumerate(batches):
            try:
                self._writer.write(body)
            except WriteRejected as exc:
                self._rejected(count, exc)
                continue
            except MetricsWriteError as exc:
                self._failed(exc)
                for rest_body, rest_count in batches[index:]:
                    self._to_spool(rest_body, rest_count)
                return
            self._stats.points_written += count
            self._succeeded()

    def _replay(self, *, deadline: float) -> None:
        assert self._spool is not None  # noqa: S101 - only called with a spool
        replayed = 0
        while self._spool.pending and self._clock() < deadline:
            segment = self._spool.oldest()
            if segment is None:
                break
            try:
                self._writer.write(segment.data)
            except WriteRejected as exc:
                self._rejected(segment.points, exc)
            except MetricsWriteError as exc:
                self._failed(exc)
                return
            else:
                replayed += segment.points
                self._stats.points_replayed += segment.points
            self._spool.remove(segment.path)
            self._succeeded()
        if replayed:
            logger.info("metrics: replayed %d point(s) from the spool to %s; %d segment(s) still waiting",
                        replayed, self._writer.target, self._spool.segments)

    def _to_spool(self, body: bytes, count: int) -> None:
        if self._spool is None:
            self._stats.points_lost += count
            logger.warning("metrics: %d point(s) lost: InfluxDB at %s is unavailable and no spool is configured",
                           count, self._writer.target)
            return
        if self._spool.append(body, count):
            self._stats.points_spooled += count

    def _failed(self, exc: MetricsWriteError) -> None:
        self._failures += 1
        delay = min(self._backoff_max_s, self._backoff_min_s * 2 ** (self._failures - 1))
        self._retry_at = self._clock() + delay
        self._stats.last_error = exc.message
        if self._failures == 1:
            where = self._spool.lane if self._spool is not None else "nowhere (no spool)"
            logger.warning("metrics: %s; spooling to %s until it answers", exc.message, where)
        else:
            logger.debug("metrics: still failing (%d): %s; next try in %.0fs", self._failures, exc.message, delay)

    def _succeeded(self) -> None:
        if self._failures:
            logger.warning("metrics: InfluxDB at %s answers again after %d failed attempt(s)",
                           self._writer.target, self._failures)
        self._failures = 0
        self._retry_at = 0.0
        self._stats.last_error = ""

    def _rejected(self, count: int, exc: WriteRejected) -> None:
        refused = exc.dropped if exc.dropped is not None and exc.dropped <= count else count
        self._stats.points_rejected += refused
        self._stats.points_written += count - refused
        logger.error("metrics: %s (%d of %d point(s) refused; not retried)", exc.message, refused, count)


def _split_bucket(bucket: str) -> tuple[str, str]:
    database, _, retention_policy = bucket.partition("/")
    return database, retention_policy


def make_influx_store(settings: Settings, *, spool: Spool | None = None) -> InfluxMetricsStore:
    """The InfluxDB store described by ``settings.influx`` (v1 or v2 writes, InfluxQL reads, disk spool).

    The spool lives in ``settings.resolved_spool_dir``; with ``spool_max_bytes`` 0 there is none.
    Whatever an earlier process left in the spool is replayed by the first ``flush``.
    """
    cfg = settings.influx
    timeout_s = cfg.timeout_ms / 1000
    bucket_db, bucket_rp = _split_bucket(cfg.bucket)
    database = cfg.database or bucket_db
    retention_policy = cfg.retention_policy or ("" if cfg.database else bucket_rp)
    writer: LineWriter
    if cfg.api is InfluxApi.V1:
        auth = (cfg.username, cfg.password.get_secret_value()) if cfg.username else None
        writer = InfluxV1Writer(cfg.url, database, retention_policy=retention_policy, timeout_s=timeout_s, auth=auth)
        reader = InfluxQLClient(cfg.url, database, retention_policy=retention_policy, timeout_s=max(timeout_s, 10),
                                auth=auth)
    else:
        token = cfg.token.get_secret_value()
        writer = InfluxV2Writer(cfg.url, bucket=cfg.bucket, org=cfg.org, token=token, timeout_s=timeout_s)
        headers = {"Authorization": f"Token {token}"} if token else {}
        reader = InfluxQLClient(cfg.url, database, retention_policy=retention_policy, timeout_s=max(timeout_s, 10),
                                headers=headers)
    if spool is None and cfg.spool_max_bytes > 0:
        try:
            spool = Spool(settings.resolved_spool_dir, max_bytes=cfg.spool_max_bytes)
        except OSError as exc:
            # Metrics must not stop the poller: run without a spool, and say loudly what that costs.
            logger.error("metrics: cannot use the spool directory %s (%s); points written while InfluxDB is "
                         "unavailable will be lost", settings.resolved_spool_dir, exc)
    return InfluxMetricsStore(writer, reader, spool=spool, batch_size=cfg.batch_size,
                              flush_interval_s=cfg.flush_interval_ms / 1000)
