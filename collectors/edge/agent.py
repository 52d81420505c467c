"""The edge box's side: a local copy of its site's inventory, the centre's own poller, and forwarding.

Each cycle: refresh the inventory when the centre answers (else keep the local copy) → probe availability and
poll every device with the same code the centre runs, into a local SQLite database → forward metrics
(through a disk spool that keeps them, with their original timestamps, while the link is down), 5-minute usage
totals of every hour changed since the last acknowledged report, device status and events. Nothing is deleted
locally before the centre acknowledged it, so an edge restarted while offline forwards everything later.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from collectors.availability import check_availability
from collectors.edge.protocol import (
    EDGE_PREFIX,
    Applied,
    BucketItem,
    DeviceStatusItem,
    EventItem,
    InterfaceStatusItem,
    Inventory,
    StatusReport,
    UsageReport,
)
from collectors.scheduler import poll_batch, pollable_device_ids
from collectors.snmp.client import MultiVersionClient
from netmgr import __version__
from netmgr.db import secret_box
from netmgr.errors import AuthenticationFailed, MetricsWriteError, NetmgrError
from netmgr.localtime import as_utc
from netmgr.metrics.influx import GZIP_MIN_BYTES, InfluxMetricsStore, WriteRejected
from netmgr.metrics.spool import Spool
from netmgr.migrate import upgrade
from netmgr.models import (
    Agency,
    Device,
    DeviceEvent,
    Interface,
    Site,
    Traffic5m,
    TrafficDirtyHour,
    TrafficMeter,
    Uplink,
)
from netmgr.models.base import utcnow
from netmgr.models.enums import DeviceRole, Platform, SiteKind, SnmpAuthProtocol, SnmpPrivProtocol, SnmpVersion
from netmgr.settings import Settings
from netmgr.state import AppState

log = logging.getLogger(__name__)

SPOOL_SEGMENT_BYTES = 512 * 1024
"""One forwarded metrics request at most (the centre's body limit is 1 MiB)."""
STATE_FILE = "edge-state.json"


class CentreUnreachable(NetmgrError):
    """The centre did not answer (link down, centre down): the edge keeps everything and tries again."""

    http_status = 503


class CentreClient:
    """HTTPS calls to the centre with the edge's token; transport failures become CentreUnreachable."""

    def __init__(self, url: str, token: str, *, timeout_s: float = 10.0, verify: bool | str = True,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not url:
            raise NetmgrError("set NETMGR_EDGE__CENTRE_URL to the centre's address, e.g. https://netmgr.example")
        if not token:
            raise NetmgrError("set NETMGR_EDGE__TOKEN to the token `netmgr edge register` printed at the centre")
        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=self.url + EDGE_PREFIX, timeout=timeout_s, verify=verify,
                                    headers={"Authorization": f"Bearer {token}"}, transport=transport)

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            raise CentreUnreachable(f"the centre at {self.url} is unreachable: {exc}") from exc
        if response.status_code == 401:
            raise AuthenticationFailed(f"the centre at {self.url} refused this edge's token: register the edge "
                                       "again with `netmgr edge register` and set NETMGR_EDGE__TOKEN")
        if response.status_code >= 500:
            raise CentreUnreachable(f"the centre at {self.url} answered HTTP {response.status_code}")
        return response

    def inventory(self) -> Inventory:
        response = self.request("GET", "/inventory")
        response.raise_for_status()
        return Inventory.model_validate_json(response.content)

    def send(self, path: str, report: UsageReport | StatusReport) -> Applied:
        response = self.request("POST", path, content=report.model_dump_json(),
                                headers={"Content-Type": "application/json"})
        if response.status_code != 200:
            raise NetmgrError(f"the centre refused the {path.strip('/')} report: HTTP {response.status_code} "
                              f"{response.text[:300]}")
        return Applied.model_validate_json(response.content)

    def close(self) -> None:
        self._client.close()


class CentreLineWriter:
    """``LineWriter`` that forwards line protocol to the centre; the store spools it while this fails."""

    def __init__(self, client: CentreClient) -> None:
        self._client = client
        self.target = client.url

    def write(self, body: bytes) -> None:
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if len(body) >= GZIP_MIN_BYTES:
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        try:
            response = self._client.request("POST", "/metrics", content=body, headers=headers)
        except (CentreUnreachable, AuthenticationFailed) as exc:
            raise MetricsWriteError(exc.message) from exc
        if response.status_code in (400, 413, 422):
            raise WriteRejected(f"the centre refused forwarded points: {response.text[:300]}")
        if response.status_code != 200:
            raise MetricsWriteError(f"the centre at {self.target} answered HTTP {response.status_code}")

    def close(self) -> None:
        return None


# --- the local inventory ------------------------------------------------------------------------------------


def sync_inventory(session: Session, inv: Inventory) -> None:
    """Make the local database hold exactly the centre's inventory of this site (same ids, secrets re-encrypted
    with the edge's own key). Local poll state, usage and events of devices that remain are kept."""
    box = secret_box(session)
    for a in inv.agencies:
        agency = session.get(Agency, a.id) or Agency(id=a.id)
        agency.code, agency.name = a.code, a.name
        session.add(agency)
    session.flush()
    site = session.get(Site, inv.site.id) or Site(id=inv.site.id)
    site.name, site.kind, site.agency_id = inv.site.name, SiteKind(inv.site.kind), inv.site.agency_id
    session.add(site)
    session.flush()
    wanted = {d.id for d in inv.devices}
    for stale in session.scalars(select(Device).where(Device.id.not_in(wanted))):
        session.delete(stale)
    session.flush()
    for d in inv.devices:
        device = session.get(Device, d.id) or Device(id=d.id)
        device.name, device.site_id, device.role = d.name, site.id, DeviceRole(d.role)
        device.platform, device.mgmt_address, device.snmp_port = Platform(d.platform), d.mgmt_address, d.snmp_port
        device.snmp_version = SnmpVersion(d.snmp_version)
        device.snmp_community_encrypted = box.encrypt_optional(d.snmp_community)
        device.snmp_v3_user, device.snmp_context, device.vendor = d.snmp_v3_user, d.snmp_context, d.vendor
        device.snmp_v3_auth_protocol = SnmpAuthProtocol(d.snmp_v3_auth_protocol) if d.snmp_v3_auth_protocol else None
        device.snmp_v3_priv_protocol = SnmpPrivProtocol(d.snmp_v3_priv_protocol) if d.snmp_v3_priv_protocol else None
        device.snmp_v3_auth_key_encrypted = box.encrypt_optional(d.snmp_v3_auth_key)
        device.snmp_v3_priv_key_encrypted = box.encrypt_optional(d.snmp_v3_priv_key)
        session.add(device)
    session.flush()
    wanted_if = {i.id for i in inv.interfaces}
    session.execute(delete(Interface).where(Interface.id.not_in(wanted_if)))
    for i in inv.interfaces:
        row_if = session.get(Interface, i.id) or Interface(id=i.id)
        row_if.device_id, row_if.if_index, row_if.name = i.device_id, i.if_index, i.name
        row_if.speed_mbps, row_if.monitored, row_if.agency_id = i.speed_mbps, i.monitored, i.agency_id
        if row_if.oper_status in (None, "", "unknown"):
            row_if.oper_status = i.oper_status
        session.add(row_if)
    session.flush()
    session.execute(delete(Uplink).where(Uplink.id.not_in({u.id for u in inv.uplinks})))
    for u in inv.uplinks:
        row_up = session.get(Uplink, u.id) or Uplink(id=u.id, isp_name="", capacity_down_mbps=0,
                                                        capacity_up_mbps=0, monthly_price_idr=0)
        row_up.name, row_up.device_id, row_up.interface_id = u.name, u.device_id, u.interface_id
        row_up.interface_name = u.interface_name
        session.add(row_up)
    session.flush()


# --- what the edge forwards ---------------------------------------------------------------------------------


def pending_usage(session: Session) -> tuple[UsageReport, list[tuple[datetime, datetime]]]:
    """Every 5-minute bucket of the hours changed since the centre last acknowledged them, as totals."""
    marks = [(as_utc(h), as_utc(m)) for h, m in session.execute(select(TrafficDirtyHour.hour_start,
                                                                       TrafficDirtyHour.marked_at))]
    if not marks:
        return UsageReport(buckets=[]), []
    hours = [h for h, _ in marks]
    rows = session.execute(
        select(TrafficMeter.device_id, TrafficMeter.kind, TrafficMeter.name, TrafficMeter.interface_id,
               TrafficMeter.agency_id, TrafficMeter.billing, Traffic5m.bucket_start, Traffic5m.in_octets,
               Traffic5m.out_octets, Traffic5m.covered_s)
        .join(TrafficMeter, TrafficMeter.id == Traffic5m.meter_id)
        .where(Traffic5m.hour_start.in_(hours)))
    buckets = [BucketItem(device_id=r[0], kind=str(r[1]), name=r[2], interface_id=r[3], agency_id=r[4],
                          billing=bool(r[5]), bucket_start=as_utc(r[6]), in_octets=int(r[7]),
                          out_octets=int(r[8]), covered_s=min(300.0, float(r[9]))) for r in rows]
    return UsageReport(buckets=buckets), marks


def acknowledge_usage(session: Session, marks: list[tuple[datetime, datetime]]) -> None:
    """Forget the hours the centre took, unless a poll changed them again after they were read."""
    for hour, marked_at in marks:
        session.execute(delete(TrafficDirtyHour).where(TrafficDirtyHour.hour_start == hour,
                                                       TrafficDirtyHour.marked_at <= marked_at))


def prune_forwarded(session: Session, *, keep_days: int) -> int:
    """Drop local 5-minute rows older than ``keep_days`` whose hour the centre has taken (the edge is no archive)."""
    cutoff = utcnow() - timedelta(days=keep_days)
    waiting = select(TrafficDirtyHour.hour_start)
    result = session.execute(delete(Traffic5m).where(Traffic5m.bucket_start < cutoff,
                                                     Traffic5m.hour_start.not_in(waiting)))
    return int(getattr(result, "rowcount", 0) or 0)


def status_report(session: Session, *, after_event_id: int, backlog_points: int) -> tuple[StatusReport, int]:
    """Devices' and interfaces' status now, and the events after ``after_event_id``; returns the new watermark."""
    devices = [DeviceStatusItem(id=d.id, status=str(d.status), status_changed_at=d.status_changed_at,
                                last_seen_at=d.last_seen_at, last_latency_ms=d.last_latency_ms)
               for d in session.scalars(select(Device).order_by(Device.id))]
    events = list(session.scalars(select(DeviceEvent).where(DeviceEvent.id > after_event_id)
                                  .order_by(DeviceEvent.id).limit(10_000)))
    interfaces = [InterfaceStatusItem(id=i.id, oper_status=i.oper_status) for i in session.scalars(select(Interface))]
    report = StatusReport(agent_version=__version__, backlog_points=backlog_points, devices=devices,
                          events=[EventItem(device_id=e.device_id, at=e.at, kind=e.kind, detail=e.detail,
                                            latency_ms=e.latency_ms) for e in events],
                          interfaces=interfaces)
    return report, events[-1].id if events else after_event_id


# --- the agent ----------------------------------------------------------------------------------------------


@dataclass
class CycleResult:
    """One cycle of the edge: what was polled, and whether the centre took what there was to send."""

    polled: int
    ok: int
    link_up: bool
    buckets_sent: int
    backlog_points: int
    error: str = ""


class EdgeAgent:
    """Runs the edge's cycles against its local database in ``settings.data_dir``."""

    def __init__(self, settings: Settings, *, client: CentreClient | None = None) -> None:
        self.settings = settings
        self.state = AppState.build(settings)
        upgrade(self.state.engine)
        cfg = settings.edge
        verify: bool | str = str(cfg.ca_file) if cfg.ca_file else True
        self.client = client or CentreClient(cfg.centre_url, cfg.token.get_secret_value(), timeout_s=cfg.timeout_s,
                                             verify=verify)
        spool = Spool(settings.data_dir / "edge-spool", max_bytes=cfg.spool_max_bytes,
                      segment_bytes=SPOOL_SEGMENT_BYTES)
        self.store = InfluxMetricsStore(CentreLineWriter(self.client), None, spool=spool, batch_size=2000,
                                        flush_interval_s=3600.0, replay_budget_s=20.0, backoff_min_s=0.0,
                                        backoff_max_s=0.0)
        self._state_path = settings.data_dir / STATE_FILE

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self.state.session_factory

    # the forwarded-events watermark survives restarts in a small JSON file beside the database
    def _event_watermark(self) -> int:
        try:
            return int(json.loads(self._state_path.read_text()).get("events_sent_through", 0))
        except (OSError, ValueError, AttributeError):
            return 0

    def _save_event_watermark(self, value: int) -> None:
        tmp = self._state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"events_sent_through": value}))
        os.replace(tmp, self._state_path)

    def refresh_inventory(self) -> bool:
        """Take the centre's inventory; False (keeping the local copy) when the centre cannot be reached."""
        try:
            inv = self.client.inventory()
        except CentreUnreachable as exc:
            log.warning("edge: %s; polling from the local inventory copy", exc.message)
            return False
        with self.session_factory() as session:
            sync_inventory(session, inv)
            session.commit()
        return True

    def has_inventory(self) -> bool:
        with self.session_factory() as session:
            return session.scalar(select(Site.id).limit(1)) is not None

    async def poll(self) -> tuple[int, int]:
        snmp_settings = self.settings.snmp
        with self.session_factory() as session:
            ids = pollable_device_ids(session)
        async with MultiVersionClient(max_in_flight=snmp_settings.max_in_flight) as snmp:
            await check_availability(self.session_factory, snmp=snmp, settings=snmp_settings)
            result = await poll_batch(ids, session_factory=self.session_factory, snmp=snmp, store=self.store,
                                      settings=snmp_settings, timezone=self.settings.timezone)
        return len(ids), result.count("ok")

    def backlog_points(self) -> int:
        stats = self.store.stats()
        return max(0, stats.points_spooled - stats.points_replayed)

    def forward(self) -> tuple[bool, int, str]:
        """Send metrics, usage and status; (link up, buckets the centre took, error for the operator)."""
        self.store.flush()
        if self.store.stats().last_error:
            return False, 0, self.store.stats().last_error
        try:
            with self.session_factory() as session:
                report, marks = pending_usage(session)
            sent = 0
            if report.buckets:
                self.client.send("/usage", report)
                sent = len(report.buckets)
                with self.session_factory() as session:
                    acknowledge_usage(session, marks)
                    prune_forwarded(session, keep_days=self.settings.snmp.keep_5m_days)
                    session.commit()
            with self.session_factory() as session:
                status, watermark = status_report(session, after_event_id=self._event_watermark(),
                                                  backlog_points=self.backlog_points())
            self.client.send("/status", status)
            self._save_event_watermark(watermark)
        except NetmgrError as exc:
            return False, 0, exc.message
        return True, sent, ""

    def run_cycle(self, *, refresh: bool = True) -> CycleResult:
        if refresh:
            self.refresh_inventory()
        if not self.has_inventory():
            return CycleResult(0, 0, False, 0, 0, "the edge has no inventory yet: the centre must answer once "
                                                  f"({self.client.url}) before it can poll")
        polled, ok = asyncio.run(self.poll())
        link_up, sent, error = self.forward()
        return CycleResult(polled, ok, link_up, sent, self.backlog_points(), error)

    def run(self, stop: threading.Event, *, refresh_every: int = 10) -> None:
        """Cycle every ``snmp.poll_interval_s`` until ``stop`` is set (the inventory every ``refresh_every``)."""
        interval = float(self.settings.snmp.poll_interval_s)
        cycle = 0
        while not stop.is_set():
            started = time.monotonic()
            result = self.run_cycle(refresh=cycle % refresh_every == 0)
            if result.error:
                log.warning("edge: %s", result.error)
            cycle += 1
            stop.wait(max(0.0, interval - (time.monotonic() - started)))
        link_up, _, error = self.forward()  # a last try, so a planned stop leaves nothing behind that could go
        if not link_up:
            log.warning("edge: stopping with data still waiting for the centre (kept on disk): %s", error)

    def close(self) -> None:
        self.store.close()
        self.client.close()
        self.state.engine.dispose()
