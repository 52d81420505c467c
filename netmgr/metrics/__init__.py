"""Time-series metrics: the ``Point`` collectors produce and the ``MetricsStore`` seam they write through.

Data flows collectors → ``MetricsStore.write`` → InfluxDB (or the disk spool while it is away); reports
and pages read back with InfluxQL through ``MetricsStore.query``. Backends live in ``netmgr.metrics.influx``;
build one with ``make_metrics_store(settings)``. The schema is documented in docs/metrics.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from netmgr.settings import Settings

FieldValue = float | int | bool | str

# Line protocol escapes (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/).
_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ "})
_KEY_ESCAPES = str.maketrans({",": r"\,", " ": r"\ ", "=": r"\="})
_STRING_FIELD_ESCAPES = str.maketrans({'"': r"\"", "\\": "\\\\"})


def _check_name(kind: str, value: str) -> None:
    if not value:
        raise ValueError(f"empty {kind} in a metrics point")
    if "\n" in value or "\r" in value:
        raise ValueError(f"{kind} {value!r} contains a line break, which line protocol cannot carry")
    if value.endswith("\\"):
        raise ValueError(f"{kind} {value!r} ends with a backslash, which line protocol cannot carry")


# Names and tag values repeat on every poll (the same devices and interfaces), so their checked, escaped
# form is cached: encoding is most of the CPU a point costs.
@lru_cache(maxsize=65536)
def _escape_key(kind: str, value: str) -> str:
    _check_name(kind, value)
    return value.translate(_KEY_ESCAPES)


@lru_cache(maxsize=1024)
def _escape_measurement(value: str) -> str:
    _check_name("measurement", value)
    return value.translate(_MEASUREMENT_ESCAPES)


@lru_cache(maxsize=65536)
def _series(measurement: str, tags: tuple[tuple[str, str], ...]) -> str:
    """Measurement and sorted, escaped tags: the same few thousand series come back on every poll."""
    return ",".join([_escape_measurement(measurement)] + [
        f"{_escape_key('tag key', key)}={_escape_key('tag value', value)}" for key, value in sorted(tags) if value != ""
    ])


_FIELD_KEYS: dict[str, str] = {}
"""Field key → its escaped form, filled by ``_format_field`` (field keys are a small, fixed set)."""


def _format_field(key: str, value: FieldValue) -> str:
    escaped_key = _escape_key("field key", key)
    if len(_FIELD_KEYS) < 4096:
        _FIELD_KEYS[key] = escaped_key
    kind = type(value)
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise ValueError(f"field {key}={value} is not finite; InfluxDB refuses NaN and infinity")
        return f"{escaped_key}={value!r}"
    if kind is int:
        if not -(2**63) <= value < 2**63:  # type: ignore[operator]
            raise ValueError(f"field {key}={value} does not fit InfluxDB's 64-bit integer")
        return f"{escaped_key}={value}i"
    if kind is bool:
        return f"{escaped_key}={'true' if value else 'false'}"
    if kind is str:
        return f'{escaped_key}="{value.translate(_STRING_FIELD_ESCAPES)}"'  # type: ignore[union-attr]
    raise TypeError(f"field {key} has unsupported type {kind.__name__}; use float, int, bool or str")


@dataclass(frozen=True, slots=True)
class Point:
    """One measurement at one instant, e.g. an interface's traffic over the last poll interval.

    Example: ``Point("interface_traffic", {"device": "core-1", "interface": "ether1"},
    {"in_bps": 1.2e6, "in_octets": 9_000_000}, time_ns=1_700_000_000 * 10**9)``.
    The timestamp is always explicit, so writing the same point twice (a replayed spool) is idempotent.
    Empty tag values are left out (InfluxDB refuses them).
    """

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time_ns: int

    def to_line(self) -> str:
        """The point in InfluxDB line protocol, tags sorted by key, without the trailing newline."""
        if not self.fields:
            raise ValueError(f"point of {self.measurement} has no fields; InfluxDB needs at least one")
        series = _series(self.measurement, tuple(self.tags.items()))
        parts = []
        for key, value in self.fields.items():
            # Finite floats (rates) and ints of plain field names are nearly every field: format them inline.
            kind = type(value)
            escaped = _FIELD_KEYS.get(key)
            if escaped is not None and kind is float and -math.inf < value < math.inf:  # type: ignore[operator]
                parts.append(f"{escaped}={value!r}")
            elif escaped is not None and kind is int and -(2**63) <= value < 2**63:  # type: ignore[operator]
                parts.append(f"{escaped}={value}i")
            else:
                parts.append(_format_field(key, value))
        return f"{series} {','.join(parts)} {int(self.time_ns)}"


def encode_lines(points: Iterable[Point]) -> bytes:
    """Points as one newline-terminated line-protocol body."""
    lines = [p.to_line() for p in points]
    if not lines:
        return b""
    lines.append("")
    return "\n".join(lines).encode()


@dataclass
class MetricsStoreStats:
    """Counters a store keeps about its own health; shown by the CLI and exposed for monitoring.

    Every point that went in is, or will be, in exactly one of: written, spooled-and-still-pending,
    replayed, rejected, dropped (spool full) or lost (spool unwritable).
    """

    points_written: int = 0
    """Sent and acknowledged on the first try."""
    points_spooled: int = 0
    """Put on the disk spool because InfluxDB was unreachable or erroring."""
    points_replayed: int = 0
    """Sent from the spool and acknowledged."""
    points_rejected: int = 0
    """Refused by InfluxDB as malformed (HTTP 400): retrying cannot help, so they are not spooled."""
    points_dropped: int = 0
    """Lost because the spool was full: the oldest segments went first."""
    points_lost: int = 0
    """Lost because the spool could not be written (disk full, I/O error) or there is no spool."""
    spool_errors: int = 0
    """Spool writes that failed (each one logged with its reason)."""
    spool_bytes: int = 0
    spool_segments: int = 0
    last_error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class MetricsStore(Protocol):
    """Where time-series points go, and how they are read back."""

    def write(self, points: Iterable[Point]) -> None:
        """Queue points for writing; may send a batch when it is full or the flush interval passed.

        Never raises for an unreachable server: points wait in the spool instead.
        """

    def write_lines(self, lines: Sequence[str]) -> None:
        """Queue lines already in line protocol (points forwarded by an edge collector), like ``write``."""

    def flush(self) -> None:
        """Send everything queued now, replaying the spool first if InfluxDB is back."""

    def close(self) -> None:
        """Flush and release connections and the spool."""

    def query(self, influxql: str, params: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
        """Run InfluxQL (``$name`` placeholders bound from ``params``) and return one dict per row.

        Rows carry the series' tags (for GROUP BY) and ``time`` as integer nanoseconds.
        Raises MetricsQueryError when the server is unreachable or refuses the query.
        """
        ...

    def stats(self) -> MetricsStoreStats:
        """A snapshot of the store's counters."""
        ...


class DisabledMetricsStore:
    """The store when ``influx.enabled`` is false: points are counted and discarded, queries return nothing."""

    def __init__(self) -> None:
        self._stats = MetricsStoreStats()

    def write(self, points: Iterable[Point]) -> None:
        self._stats.points_lost += sum(1 for _ in points)

    def write_lines(self, lines: Sequence[str]) -> None:
        self._stats.points_lost += len(lines)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None

    def query(self, influxql: str, params: Mapping[str, object] | None = None) -> list[dict[str, Any]]:
        return []

    def stats(self) -> MetricsStoreStats:
        return MetricsStoreStats(**vars(self._stats))


def make_metrics_store(settings: Settings) -> MetricsStore:
    """The configured store: InfluxDB (v1 or v2 write API) with a disk spool, or a disabled store."""
    if not settings.influx.enabled:
        return DisabledMetricsStore()
    from netmgr.metrics.influx import make_influx_store

    return make_influx_store(settings)


__all__ = [
    "DisabledMetricsStore",
    "FieldValue",
    "MetricsStore",
    "MetricsStoreStats",
    "Point",
    "encode_lines",
    "make_metrics_store",
]
