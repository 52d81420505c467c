"""netmgr watching itself: Prometheus figures for ``/metrics``.

Two kinds, chosen by where the truth lives:

* **Events** (poll batch duration, devices polled by outcome, AAA request latency, AAA batch size) happen inside
  uvicorn workers and Celery worker processes. They are prometheus_client counters and histograms in
  *multiprocess mode*: each process writes its own small file in ``NETMGR_PROMETHEUS__MULTIPROC_DIR`` (default
  ``<data_dir>/prometheus``) and a scrape adds them up, so every API worker answers with the whole installation.
* **State** (poll lag, devices by last poll outcome, spool depth, Celery queue lengths, provisioning jobs by state)
  is read from the database, the broker and the spool directory at scrape time. Those already hold it, shared by
  every process, so no process has to keep a copy that could disagree (and a gauge in multiprocess mode would be
  per process anyway).

Data flow: ``record_*`` calls in the AAA fast lane, the AAA worker and the poll task → files in the multiprocess
directory; ``render(settings, engine)`` → those files + database/broker/spool → the text exposition format.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kombu.connection import Connection
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from netmgr.errors import AuthenticationFailed, PermissionDenied
from netmgr.jobs import QUEUES
from netmgr.models import Device, PollState, ProvisionJob
from netmgr.services.health import spool_bytes
from netmgr.settings import Settings

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client's own switch: its multiprocess values find their directory only through this variable."""

AAA_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)
POLL_BUCKETS = (0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)


@dataclass(frozen=True)
class Instruments:
    """The event metrics of one process (created once, after ``configure``)."""

    poll_batch_seconds: Histogram
    devices_polled: Counter
    aaa_request_seconds: Histogram
    aaa_batch_size: Histogram


_instruments: Instruments | None = None


def multiproc_dir(settings: Settings) -> Path:
    """Where each process writes its event metrics: the setting, or ``<data_dir>/prometheus``."""
    configured = settings.prometheus.multiproc_dir
    return configured if configured is not None else settings.data_dir / "prometheus"


def configure(settings: Settings) -> None:
    """Switch this process to multiprocess mode in the settings' directory (entry points call it at start-up).

    Must run before the first ``record_*`` call. prometheus_client reads the directory from the environment, so
    it is set here from the settings (and inherited by the processes this one forks).
    """
    global _instruments
    path = multiproc_dir(settings)
    path.mkdir(parents=True, exist_ok=True)
    if os.environ.get(MULTIPROC_ENV) != str(path):
        os.environ[MULTIPROC_ENV] = str(path)
        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
        _instruments = None  # instruments made before now would write elsewhere


def instruments() -> Instruments:
    """This process's instruments, made on first use (in its own registry: ``render`` reads the files)."""
    global _instruments
    if _instruments is None:
        registry = CollectorRegistry()
        _instruments = Instruments(
            poll_batch_seconds=Histogram("netmgr_poll_batch_duration_seconds",
                                         "Time to poll one batch of devices (SNMP, rates, storing)",
                                         buckets=POLL_BUCKETS, registry=registry),
            devices_polled=Counter("netmgr_devices_polled", "Device polls by outcome (ok, failed, timeout, busy, "
                                   "skipped)", ["outcome"], registry=registry),
            aaa_request_seconds=Histogram("netmgr_aaa_request_duration_seconds",
                                          "Time to answer one FreeRADIUS AAA request", ["endpoint"],
                                          buckets=AAA_LATENCY_BUCKETS, registry=registry),
            aaa_batch_size=Histogram("netmgr_aaa_batch_size", "AAA database jobs committed in one transaction",
                                     buckets=BATCH_BUCKETS, registry=registry),
        )
    return _instruments


def record_poll_batch(duration_s: float, outcomes: dict[str, int]) -> None:
    """One poll batch finished: its duration and how many devices ended in each outcome."""
    found = instruments()
    found.poll_batch_seconds.observe(duration_s)
    for outcome, count in outcomes.items():
        if count:
            found.devices_polled.labels(outcome=outcome).inc(count)


def record_aaa_request(endpoint: str, duration_s: float) -> None:
    instruments().aaa_request_seconds.labels(endpoint=endpoint).observe(duration_s)


def record_aaa_batch(size: int) -> None:
    instruments().aaa_batch_size.observe(size)


# --- state, read at scrape time -------------------------------------------------------------------


class _StateCollector(Collector):
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        yield from self._polls()
        yield from self._jobs()
        spool = GaugeMetricFamily("netmgr_spool_bytes", "Measurements waiting in the spool for InfluxDB")
        spool.add_metric([], spool_bytes(self.settings))
        yield spool
        yield self._queues()

    def _polls(self) -> Iterator[Metric]:
        now = datetime.now(UTC)
        failing = func.coalesce(PollState.last_error, "") != ""
        with self.engine.connect() as conn:
            # A failing device keeps its last good poll time, so it would read as lag: only answering devices count.
            oldest = conn.scalar(select(func.min(PollState.polled_at)).join(Device, Device.id == PollState.device_id)
                                 .where(~failing))
            rows = conn.execute(select(failing.label("failing"), func.count())
                                .select_from(PollState).join(Device, Device.id == PollState.device_id)
                                .group_by(failing)).all()
        lag = GaugeMetricFamily("netmgr_poll_lag_seconds",
                                "Age of the oldest last poll of the devices that answer (grows when polling falls "
                                "behind its interval)")
        if oldest is not None:
            lag.add_metric([], max(0.0, (now - oldest).total_seconds()))
        yield lag
        devices = GaugeMetricFamily("netmgr_devices_last_poll", "Devices by the outcome of their last poll",
                                    labels=["outcome"])
        counts = {bool(failed): int(n) for failed, n in rows}
        devices.add_metric(["ok"], counts.get(False, 0))
        devices.add_metric(["failed"], counts.get(True, 0))
        yield devices

    def _jobs(self) -> Iterator[Metric]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(ProvisionJob.status, func.count()).group_by(ProvisionJob.status)).all()
        jobs = GaugeMetricFamily("netmgr_provisioning_jobs", "Provisioning jobs by state", labels=["state"])
        for state, count in sorted((str(s), int(n)) for s, n in rows):
            jobs.add_metric([state], count)
        yield jobs

    def _queues(self) -> Metric:
        queues = GaugeMetricFamily("netmgr_celery_queue_length", "Tasks waiting in each Celery queue",
                                   labels=["queue"])
        try:
            with Connection(self.settings.resolved_broker_url, connect_timeout=2) as conn:  # type: ignore[no-untyped-call]
                channel = conn.default_channel
                for name in QUEUES:
                    queues.add_metric([name], _queue_length(channel, name))
        except Exception as exc:  # noqa: BLE001 - a broker that is away must not break the scrape
            log.warning("Celery queue lengths unavailable: %s", exc)
        return queues


def _queue_length(channel: object, name: str) -> int:
    try:
        declared = channel.queue_declare(queue=name, passive=True)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a queue nobody declared yet holds nothing
        return 0
    return int(declared.message_count or 0)


def render(settings: Settings, engine: Engine) -> bytes:
    """The whole installation's figures in Prometheus's text format."""
    registry = CollectorRegistry()
    path = multiproc_dir(settings)
    if path.is_dir():
        MultiProcessCollector(registry, path=str(path))  # type: ignore[no-untyped-call]
    registry.register(_StateCollector(settings, engine))
    return generate_latest(registry)


__all__ = ["CONTENT_TYPE", "check_access", "configure", "instruments", "multiproc_dir", "record_aaa_batch",
           "record_aaa_request", "record_poll_batch", "render"]


def check_access(settings: Settings, *, client_host: str | None, authorization: str | None) -> None:
    """Who may read /metrics: with a token configured, whoever sends it; without one, loopback clients only.

    Raises:
        AuthenticationFailed: a token is configured and the request does not carry it.
        PermissionDenied: no token is configured and the client is not on this machine.
    """
    token = settings.prometheus.token.get_secret_value()
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise AuthenticationFailed("/metrics needs the token of NETMGR_PROMETHEUS__TOKEN as "
                                       "'Authorization: Bearer <token>'")
        return
    try:
        local = client_host is not None and ipaddress.ip_address(client_host).is_loopback
    except ValueError:
        local = False
    if not local:
        raise PermissionDenied("/metrics answers only this machine; set NETMGR_PROMETHEUS__TOKEN to let a "
                               "Prometheus server elsewhere scrape it")
