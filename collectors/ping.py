"""ICMP availability, round trip and loss with fping: every device's management address and every uplink's far end.

Inventory (devices, uplinks with a probe address) → one ``fping -C`` batch (``Pinger``) → per target: InfluxDB
``ping`` points through the MetricsStore (spooled while InfluxDB is away), the current ping status on the row,
and the hourly rollup (``PingHourly``) the uplink SLA report sums. SNMP availability is separate
(collectors.availability); netmgr.services.reachability combines the two.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from collectors.edge.centre import edge_device_ids
from netmgr.errors import ConfigError
from netmgr.metrics import MetricsStore, Point
from netmgr.models import Device, PingHourly, Uplink
from netmgr.models.base import utcnow
from netmgr.models.enums import DeviceStatus
from netmgr.settings import PingSettings

log = logging.getLogger(__name__)

MEASUREMENT = "ping"

# ``fping -C 3 -q`` reports one line per target on stderr: ``10.0.0.1 : 0.52 - 0.47`` (``-`` is a lost reply).
_RESULT_LINE = re.compile(r"^(?P<target>\S+)\s+:\s+(?P<rtts>(?:[\d.]+|-)(?:\s+(?:[\d.]+|-))*)\s*$")


@dataclass(frozen=True)
class PingResult:
    """What ``sent`` echo requests to one address brought back: one RTT (ms) per answered request."""

    address: str
    sent: int
    rtts_ms: tuple[float, ...] = ()
    error: str = ""

    @property
    def received(self) -> int:
        return len(self.rtts_ms)

    @property
    def up(self) -> bool:
        """Up when at least one request was answered."""
        return bool(self.rtts_ms)

    @property
    def loss_percent(self) -> float:
        return 100.0 * (self.sent - self.received) / self.sent if self.sent else 100.0

    @property
    def rtt_min_ms(self) -> float | None:
        return min(self.rtts_ms) if self.rtts_ms else None

    @property
    def rtt_avg_ms(self) -> float | None:
        return sum(self.rtts_ms) / len(self.rtts_ms) if self.rtts_ms else None

    @property
    def rtt_max_ms(self) -> float | None:
        return max(self.rtts_ms) if self.rtts_ms else None


class Pinger(Protocol):
    """Sends ``count`` echo requests to each address and reports what came back; one result per address."""

    def ping(self, addresses: Sequence[str]) -> dict[str, PingResult]: ...


def parse_fping(output: str, addresses: Sequence[str], count: int) -> dict[str, PingResult]:
    """Results from ``fping -C count -q`` output; an address fping did not report is down, with fping's words."""
    found: dict[str, PingResult] = {}
    other: list[str] = []
    for line in output.splitlines():
        match = _RESULT_LINE.match(line.strip())
        if match is None:
            if line.strip():
                other.append(line.strip())
            continue
        rtts = tuple(float(v) for v in match["rtts"].split() if v != "-")
        found[match["target"]] = PingResult(match["target"], count, rtts)
    out: dict[str, PingResult] = {}
    for address in addresses:
        if address in found:
            out[address] = found[address]
            continue
        said = next((o for o in other if address in o), "fping reported nothing for this address")
        out[address] = PingResult(address, count, (), said[:300])
    return out


@dataclass
class Fping:
    """The ``fping`` binary in batch mode: every address in one run, ``-C count`` requests each, quiet output."""

    settings: PingSettings

    def command(self) -> list[str]:
        s = self.settings
        return [s.fping_path, "-C", str(s.count), "-q", "-p", str(s.period_ms), "-t", str(s.timeout_ms),
                "-i", str(s.gap_ms), "-r", "0", "-B", "1", "-f", "-"]

    def timeout_s(self, targets: int) -> float:
        """How long a run may take: twice the time fping should need, and at least most of the ping interval.

        fping paces its requests by ``-i``, but on a loaded machine 2,000 targets took 16 s instead of the
        ideal 6 s (docs/performance.md), so the ideal alone would cut healthy runs short.
        """
        s = self.settings
        ideal = (s.count * (s.period_ms + s.timeout_ms) + targets * s.count * s.gap_ms) / 1000
        return max(10.0 + 2 * ideal, 0.9 * s.interval_s)

    def ping(self, addresses: Sequence[str]) -> dict[str, PingResult]:
        """Ping ``addresses`` (duplicates once); raises ConfigError when fping cannot run at all."""
        unique = list(dict.fromkeys(addresses))
        if not unique:
            return {}
        try:
            done = subprocess.run(self.command(), input="\n".join(unique) + "\n", capture_output=True, text=True,  # noqa: S603
                                  timeout=self.timeout_s(len(unique)), check=False)
        except FileNotFoundError as exc:
            raise ConfigError(f"fping is not installed at {self.settings.fping_path}: install the Debian package "
                              "fping or set NETMGR_PING__FPING_PATH") from exc
        except subprocess.TimeoutExpired as exc:
            raise ConfigError(f"fping did not finish {len(unique)} targets within {exc.timeout:.0f} s; "
                              "lower NETMGR_PING__COUNT or NETMGR_PING__GAP_MS") from exc
        # 0: all answered, 1: some did not, 2: some names did not resolve; 3 and 4 are usage and system errors.
        if done.returncode not in (0, 1, 2):
            detail = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit status {done.returncode}"
            hint = (" (fping needs the cap_net_raw capability: sudo setcap cap_net_raw+ep "
                    f"{self.settings.fping_path})" if "permitted" in detail or "socket" in detail else "")
            raise ConfigError(f"fping failed: {detail}{hint}")
        return parse_fping(done.stderr, unique, self.settings.count)


# ---------------------------------------------------------------------------------------------- a round


@dataclass(frozen=True)
class PingTarget:
    """One thing to ping: a device (by its management address) or an uplink (by its probe address)."""

    subject_type: str
    subject_id: int
    name: str
    address: str


@dataclass(frozen=True)
class TargetResult:
    """A target's result in one round, and whether its ping status changed."""

    target: PingTarget
    result: PingResult
    changed: bool


@dataclass
class RoundResult:
    """What one ping round did: per-target results and the points handed to the metrics store."""

    targets: list[TargetResult] = field(default_factory=list)
    points: int = 0

    def count(self, up: bool) -> int:
        return sum(1 for t in self.targets if t.result.up == up)


def ping_targets(session: Session) -> list[PingTarget]:
    """Every device's management address and every uplink's probe address, devices first.

    Devices an edge collector polls are left to it: seen from the centre they vanish whenever the site's link
    drops, which is the edge's ``edge_link_down`` alert, not each device's."""
    behind_edges = edge_device_ids(session)
    out = [PingTarget("device", d.id, d.name, d.mgmt_address)
           for d in session.scalars(select(Device).order_by(Device.id)) if d.mgmt_address and d.id not in behind_edges]
    out += [PingTarget("uplink", u.id, u.name, u.probe_address.strip())
            for u in session.scalars(select(Uplink).where(Uplink.probe_address.is_not(None)).order_by(Uplink.id))
            if u.probe_address and u.probe_address.strip()]
    return out


def ping_point(target: PingTarget, result: PingResult, at: datetime) -> Point:
    """The InfluxDB point of one target's round: ``up`` (1/0), loss and, when answered, RTT min/avg/max."""
    fields: dict[str, float | int] = {"up": int(result.up), "loss_percent": round(result.loss_percent, 3),
                                      "sent": result.sent, "received": result.received}
    if result.up:
        fields.update(rtt_min_ms=float(result.rtt_min_ms or 0.0), rtt_avg_ms=float(result.rtt_avg_ms or 0.0),
                      rtt_max_ms=float(result.rtt_max_ms or 0.0))
    tags = {"kind": target.subject_type, target.subject_type: target.name, "address": target.address}
    return Point(MEASUREMENT, tags, fields, time_ns=int(at.timestamp()) * 10**9 + at.microsecond * 1000)


_HOUR_FIELDS = ("rounds", "up_rounds", "up_s", "down_s", "rtt_sum_ms", "rtt_min_ms", "rtt_max_ms", "loss_sum_percent")


def add_to_hour(hour_row: dict[str, Any], result: PingResult, *, interval_s: float) -> None:
    """Count one round into an hourly rollup (``PingHourly`` columns as a dict): ``interval_s`` up or down."""
    hour_row["rounds"] += 1
    hour_row["loss_sum_percent"] += result.loss_percent
    if result.up:
        hour_row["up_rounds"] += 1
        hour_row["up_s"] += interval_s
        hour_row["rtt_sum_ms"] += result.rtt_avg_ms or 0.0
        low, high = result.rtt_min_ms or 0.0, result.rtt_max_ms or 0.0
        hour_row["rtt_min_ms"] = low if hour_row["rtt_min_ms"] is None else min(hour_row["rtt_min_ms"], low)
        hour_row["rtt_max_ms"] = high if hour_row["rtt_max_ms"] is None else max(hour_row["rtt_max_ms"], high)
    else:
        hour_row["down_s"] += interval_s


def status_values(result: PingResult, at: datetime) -> dict[str, Any]:
    """The ping columns of a device or uplink row after ``result``."""
    return {"ping_status": DeviceStatus.UP if result.up else DeviceStatus.DOWN, "ping_checked_at": at,
            "ping_rtt_ms": None if result.rtt_avg_ms is None else round(result.rtt_avg_ms, 3),
            "ping_loss_percent": round(result.loss_percent, 3)}


def _store_round(session: Session, targets: list[PingTarget], results: dict[str, PingResult], *, at: datetime,
                 interval_s: float) -> list[TargetResult]:
    """Write every target's ping status and hourly rollup with a few executemany statements (not per row)."""
    known: dict[tuple[str, int], str] = {("device", i): status for i, status in session.execute(
        select(Device.id, Device.ping_status))}
    known.update({("uplink", i): status for i, status in session.execute(
        select(Uplink.id, Uplink.ping_status).where(Uplink.probe_address.is_not(None)))})
    hour = at.replace(minute=0, second=0, microsecond=0)
    existing = {(r.subject_type, r.subject_id): {"id": r.id, **{f: getattr(r, f) for f in _HOUR_FIELDS}}
                for r in session.execute(select(PingHourly.id, PingHourly.subject_type, PingHourly.subject_id,
                                                *(getattr(PingHourly, f) for f in _HOUR_FIELDS))
                                         .where(PingHourly.hour_start == hour))}
    updates: dict[str, list[dict[str, Any]]] = {"device": [], "uplink": []}
    new_hours: list[dict[str, Any]] = []
    out: list[TargetResult] = []
    for target in targets:
        key = (target.subject_type, target.subject_id)
        if key not in known:  # deleted while we pinged
            continue
        result = results[target.address]
        values = status_values(result, at)
        changed = known[key] != values["ping_status"]
        if changed:
            log.info("%s %s answers ping: %s%s", target.subject_type, target.name, values["ping_status"].value,
                     f" ({result.error})" if result.error else "")
        updates[target.subject_type].append({"id": target.subject_id, **values})
        hour_row = existing.get(key)
        if hour_row is None:
            hour_row = {"subject_type": target.subject_type, "subject_id": target.subject_id, "hour_start": hour,
                        "rounds": 0, "up_rounds": 0, "up_s": 0.0, "down_s": 0.0, "rtt_sum_ms": 0.0,
                        "rtt_min_ms": None, "rtt_max_ms": None, "loss_sum_percent": 0.0}
            new_hours.append(hour_row)
            existing[key] = hour_row
        add_to_hour(hour_row, result, interval_s=interval_s)
        out.append(TargetResult(target, result, changed))
    for model, rows in ((Device, updates["device"]), (Uplink, updates["uplink"])):
        if rows:
            session.execute(update(model), rows)
    changed_hours = [row for row in existing.values() if "id" in row]
    if changed_hours:
        session.execute(update(PingHourly), changed_hours)
    if new_hours:
        session.execute(insert(PingHourly), new_hours)
    return out


def ping_round(session_factory: sessionmaker[Session], *, pinger: Pinger, store: MetricsStore,
               settings: PingSettings, now: datetime | None = None) -> RoundResult:
    """Ping every target once, write the points, update each row's ping status and the hourly rollups.

    The points go to the store before the database commits, so a lost database leaves the graphs right; the
    store spools them while InfluxDB is away. A target deleted meanwhile is skipped.
    """
    with session_factory() as session:
        targets = ping_targets(session)
    results = pinger.ping([t.address for t in targets])
    moment = now or utcnow()
    out = RoundResult()
    points = [ping_point(t, results[t.address], moment) for t in targets]
    store.write(points)
    store.flush()
    out.points = len(points)
    with session_factory() as session:
        out.targets = _store_round(session, targets, results, at=moment, interval_s=float(settings.interval_s))
        session.commit()
    return out
