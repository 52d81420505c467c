"""Is netmgr ready to serve? The database, the task broker and InfluxDB, each checked on its own.

``/healthz`` answers whether the web process is alive (cheap: load balancers and the benchmarks call it
constantly); ``/readyz`` runs these checks. The database and the broker are required: without them no page
or task works, so readiness fails. InfluxDB is not: while it is away measurements wait in the spool and
nothing is lost, so it is reported (with the spool's depth) without failing readiness.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

import httpx
from kombu.connection import Connection
from sqlalchemy import Engine, text

from netmgr import migrate
from netmgr.settings import Settings

TIMEOUT_S = 2.0


class CheckState(StrEnum):
    OK = "ok"
    FAILING = "failing"
    DISABLED = "disabled"


@dataclass(frozen=True)
class Check:
    state: CheckState
    detail: str = ""
    """What broke and what to do, for the operator (empty when all is well)."""
    required: bool = True
    latency_ms: float | None = None


@dataclass
class Readiness:
    checks: dict[str, Check] = field(default_factory=dict)
    spool_bytes: int = 0

    @property
    def ready(self) -> bool:
        return all(c.state is not CheckState.FAILING for c in self.checks.values() if c.required)

    def as_dict(self) -> dict[str, object]:
        return {
            "status": "ready" if self.ready else "not ready",
            "checks": {name: {"status": str(c.state), "required": c.required, "detail": c.detail,
                              "latency_ms": c.latency_ms} for name, c in self.checks.items()},
            "spool_bytes": self.spool_bytes,
        }


def _timed(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def check_database(engine: Engine) -> Check:
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        revision = migrate.current_revision(engine)
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        return Check(CheckState.FAILING, f"the database does not answer ({type(exc).__name__}): check that it "
                     "runs and NETMGR_DATABASE_URL", latency_ms=_timed(started))
    head = migrate.head_revision()
    if revision != head:
        return Check(CheckState.FAILING, f"the database schema is at {revision or 'nothing'}, this netmgr needs "
                     f"{head}: run `netmgr db upgrade`", latency_ms=_timed(started))
    return Check(CheckState.OK, latency_ms=_timed(started))


def check_broker(settings: Settings) -> Check:
    started = time.perf_counter()
    url = settings.resolved_broker_url
    try:
        with Connection(url, connect_timeout=TIMEOUT_S) as conn:  # type: ignore[no-untyped-call]
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=TIMEOUT_S)
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        shown = url.split("@")[-1]  # never the password
        return Check(CheckState.FAILING, f"the task broker at {shown} does not answer ({type(exc).__name__}): "
                     "background work (polling, jobs, reports) is stopped; start Redis or check "
                     "NETMGR_CELERY__BROKER_URL", latency_ms=_timed(started))
    return Check(CheckState.OK, latency_ms=_timed(started))


def check_influx(settings: Settings) -> Check:
    if not settings.influx.enabled:
        return Check(CheckState.DISABLED, "metrics are switched off (NETMGR_INFLUX__ENABLED=false)", required=False)
    started = time.perf_counter()
    target = settings.influx.url.rstrip("/")
    try:
        answer = httpx.get(f"{target}/ping", timeout=TIMEOUT_S)
        ok = answer.status_code in (200, 204)
        why = f"answers HTTP {answer.status_code}"
    except httpx.HTTPError as exc:
        ok, why = False, f"does not answer ({type(exc).__name__})"
    if not ok:
        return Check(CheckState.FAILING, f"InfluxDB at {target} {why}: measurements wait in the spool and are "
                     "sent when it is back; start InfluxDB or check NETMGR_INFLUX__URL", required=False,
                     latency_ms=_timed(started))
    return Check(CheckState.OK, required=False, latency_ms=_timed(started))


def spool_bytes(settings: Settings) -> int:
    root = settings.resolved_spool_dir
    if not root.exists():
        return 0
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def readiness(settings: Settings, engine: Engine) -> Readiness:
    """Every check, each on its own (one failing does not hide the others)."""
    return Readiness(checks={"database": check_database(engine), "broker": check_broker(settings),
                             "influxdb": check_influx(settings)},
                     spool_bytes=spool_bytes(settings))
