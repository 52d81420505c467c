"""From a polled ``DeviceSample`` to rates, metric points and 5-minute usage.

Sample + previous ``DeviceState`` → ``counter_rate`` per counter → ``Point``s (a gap after missed polls is
spread over one point per poll interval, so no traffic is lost) → ``MetricsStore``; the same rates split
into 5-minute buckets → ``traffic_5m`` (via ``collectors.rollups``). ``process_sample`` is pure;
``load_contexts`` and ``record_usage`` are the database ends.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from collectors.poller import DeviceSample, InterfaceSample
from collectors.rates import DEFAULT_CAPACITY_TOLERANCE, CounterSample, NoRate, Rate, counter_rate, restarted, spread
from collectors.rollups import add_usage, split_into_buckets
from collectors.state import DeviceState
from netmgr.metrics import FieldValue, Point
from netmgr.models import Agency, Device, Interface, MeterKind, TrafficMeter, Uplink

log = logging.getLogger(__name__)

NS = 1_000_000_000
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def agency_tag(code: str) -> str:
    """The ``agency`` tag of an agency: its code in lower case with dashes, e.g. ``KEC-BAAMANG`` → ``kec-baamang``."""
    return _NON_SLUG.sub("-", code.lower()).strip("-")


@dataclass(frozen=True)
class InterfaceInfo:
    """What the inventory says about an interface the poller sees (matched by name)."""

    interface_id: int | None = None
    agency_id: int | None = None
    agency: str = ""
    monitored: bool = True
    billing: bool = False
    oper_status: str = ""


@dataclass
class DeviceContext:
    """Inventory facts a poll of one device needs: names for the tags, attribution for the meters."""

    device_id: int
    name: str
    site: str = ""
    role: str = ""
    agency_id: int | None = None
    agency: str = ""
    platform: str = ""
    vendor: str = ""
    interfaces: dict[str, InterfaceInfo] = field(default_factory=dict)
    agencies_by_code: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Agency code → (id, tag): a queue named like an agency's code is that agency's."""

    def tags(self) -> dict[str, str]:
        return {"agency": self.agency, "site": self.site, "device": self.name, "role": self.role}

    def interface(self, name: str) -> InterfaceInfo:
        return self.interfaces.get(name) or InterfaceInfo(agency_id=self.agency_id, agency=self.agency)

    def queue_agency(self, name: str) -> tuple[int | None, str]:
        found = self.agencies_by_code.get(name) or self.agencies_by_code.get(name.upper())
        return found if found is not None else (None, "")


@dataclass(frozen=True)
class MeterUsage:
    """Octets a meter carried between two polls, to be added to 5-minute buckets."""

    kind: MeterKind
    name: str
    start: float
    end: float
    in_octets: int
    out_octets: int
    agency_id: int | None = None
    interface_id: int | None = None
    billing: bool = False


@dataclass
class CounterView:
    """One interface's or queue's rates for people (``netmgr poll``): None where there is no rate yet."""

    kind: MeterKind
    name: str
    oper_status: str = ""
    in_bps: float | None = None
    out_bps: float | None = None
    in_octets: int | None = None
    out_octets: int | None = None
    reason: str = ""


@dataclass
class ProcessResult:
    points: list[Point]
    usage: list[MeterUsage]
    state: DeviceState
    views: list[CounterView]


_DELTA_COUNTERS = ("in_ucast", "out_ucast", "in_errors", "out_errors", "in_discards", "out_discards")
_DELTA_FIELDS = ("in_pps", "out_pps", "in_errors", "out_errors", "in_discards", "out_discards")


@lru_cache(maxsize=65536)
def _interface_keys(name: str) -> tuple[str, str, tuple[str, ...]]:
    """State keys of an interface's counters (``if:ether1:in`` …), made once per name, not per poll."""
    key = f"if:{name}"
    return f"{key}:in", f"{key}:out", tuple(f"{key}:{counter}" for counter in _DELTA_COUNTERS)


class _Rates:
    """``counter_rate`` for every counter of one poll of one device, with the common case made cheap.

    All counters of a poll share the previous and current wall time and sysUpTime, so the interval (and any
    reboot verdict) is worked out once per device by ``counter_rate`` itself on a zero delta. A counter
    that simply grew within what its interface can carry then gets its Rate directly; anything else (first
    poll, reboot, wrap, width change, an impossible delta) goes through ``counter_rate`` in full, so the
    results are exactly ``counter_rate``'s.
    """

    __slots__ = ("counters", "current", "new", "poll_interval_s", "previous", "shared", "uptime", "wall")

    def __init__(self, state: DeviceState, sample: DeviceSample, new: DeviceState, poll_interval_s: float) -> None:
        self.counters = state.counters
        self.new = new.counters
        self.wall, self.uptime = sample.wall_time, sample.uptime_cs
        self.poll_interval_s = poll_interval_s
        self.previous = state.wall_time, state.uptime_cs
        shared = None
        if state.wall_time is not None:
            probe = counter_rate(CounterSample(0, state.wall_time, state.uptime_cs),
                                 CounterSample(0, sample.wall_time, sample.uptime_cs),
                                 poll_interval_s=poll_interval_s)
            shared = probe if isinstance(probe, Rate) else None
        self.shared = shared

    def rate(self, key: str, value: int | None, width: int, speed_bps: float | None) -> Rate | NoRate | None:
        """The rate of counter ``key`` (None when the device did not report it); remembers ``value``."""
        if value is None:
            return None
        self.new[key] = (value, width)
        found = self.counters.get(key)
        shared = self.shared
        if found is not None and shared is not None and found[1] == width and value >= found[0]:
            octets = value - found[0]
            interval_s = shared.interval_s
            if not speed_bps or octets * 8 <= speed_bps * interval_s * DEFAULT_CAPACITY_TOLERANCE:
                return Rate(octets, shared.start, shared.end, interval_s, octets * 8 / interval_s, shared.spans_gap)
        wall, uptime = self.previous
        previous = CounterSample(found[0], wall, uptime, found[1]) if found is not None and wall is not None else None
        return counter_rate(previous, CounterSample(value, self.wall, self.uptime, width), speed_bps=speed_bps,
                            poll_interval_s=self.poll_interval_s)


def _slices(rate: Rate, step_s: float) -> list[tuple[float, int, float, float]]:
    """``spread(rate, step_s)`` as (time, octets, interval_s, bit/s); the usual single slice without a generator."""
    if step_s <= 0:
        raise ValueError("step_s must be positive")
    if round(rate.interval_s / step_s) <= 1:  # what spread computes for one slice, term for term
        return [(rate.start + rate.interval_s, rate.octets, rate.interval_s, rate.octets * 8 / rate.interval_s)]
    return [(p.time, p.octets, p.interval_s, p.bits_per_second) for p in spread(rate, step_s)]


def _traffic_points(measurement: str, tags: dict[str, str], rate_in: Rate | NoRate | None,
                    rate_out: Rate | NoRate | None, step_s: float, extra: dict[str, FieldValue]) -> list[Point]:
    """One point per poll interval (several after a gap), fields for whichever direction has a rate."""
    slices: dict[int, dict[str, FieldValue]] = {}
    for bps_key, octets_key, rate in (("in_bps", "in_octets", rate_in), ("out_bps", "out_octets", rate_out)):
        if not isinstance(rate, Rate):
            continue
        for time_s, octets, interval_s, bps in _slices(rate, step_s):
            fields = slices.get(round(time_s * NS))
            if fields is None:
                fields = slices[round(time_s * NS)] = {"interval_s": float(interval_s)}
            fields[bps_key] = float(bps)
            fields[octets_key] = int(octets)
    if not slices:
        return []
    if len(slices) == 1:
        ((t, fields),) = slices.items()
        fields.update(extra)
        return [Point(measurement, tags, fields, time_ns=t)]
    slices[max(slices)].update(extra)
    return [Point(measurement, tags, fields, time_ns=t) for t, fields in sorted(slices.items())]


def _delta_fields(rates: _Rates, iface: InterfaceSample, keys: tuple[str, ...]) -> dict[str, FieldValue]:
    """Packets per second, errors and discards of the interval (only where both samples exist)."""
    out: dict[str, FieldValue] = {}
    pkt_width = iface.pkt_width
    values = ((iface.in_ucast_pkts, pkt_width), (iface.out_ucast_pkts, pkt_width), (iface.in_errors, 32),
              (iface.out_errors, 32), (iface.in_discards, 32), (iface.out_discards, 32))
    for n, (value, width) in enumerate(values):
        rate = rates.rate(keys[n], value, width, None)
        if not isinstance(rate, Rate):
            continue
        if n < 2:  # unicast packets: a rate; errors and discards: a count
            out[_DELTA_FIELDS[n]] = float(rate.octets / rate.interval_s)
        else:
            out[_DELTA_FIELDS[n]] = int(rate.octets)
    return out


def process_sample(ctx: DeviceContext, sample: DeviceSample, state: DeviceState, *,
                   poll_interval_s: float) -> ProcessResult:
    """Rates, points and usage from one poll; the returned state replaces ``state`` once they are stored.

    No rate (hence no point and no usage) on the first poll, after a reboot or a counter discontinuity:
    such intervals are unknown, not zero.
    """
    health = sample.extras.health
    new = DeviceState(wall_time=sample.wall_time, uptime_cs=sample.uptime_cs, hints=state.hints,
                      system_uptime_cs=health.system_uptime_cs)
    points: list[Point] = []
    usage: list[MeterUsage] = []
    views: list[CounterView] = []
    base_tags = ctx.tags()
    rates = _Rates(state, sample, new, poll_interval_s)
    unknown = InterfaceInfo(agency_id=ctx.agency_id, agency=ctx.agency)  # ctx.interface() of unlisted names
    for iface in sample.interfaces:
        info = ctx.interfaces.get(iface.name) or unknown
        if not info.monitored:
            continue
        key_in, key_out, delta_keys = _interface_keys(iface.name)
        rate_in = rates.rate(key_in, iface.in_octets, iface.width, iface.speed_bps)
        rate_out = rates.rate(key_out, iface.out_octets, iface.width, iface.speed_bps)
        extra = _delta_fields(rates, iface, delta_keys)
        tags = {**base_tags, "agency": info.agency or ctx.agency, "interface": iface.name}
        points += _traffic_points("interface_traffic", tags, rate_in, rate_out, poll_interval_s, extra)
        views.append(_view(MeterKind.INTERFACE, iface.name, iface.oper_status, rate_in, rate_out))
        if isinstance(rate_in, Rate) or isinstance(rate_out, Rate):
            usage.append(_usage(MeterKind.INTERFACE, iface.name, rate_in, rate_out, info.agency_id or ctx.agency_id,
                                info.interface_id, info.billing))
    for queue in sample.queues:
        agency_id, agency = ctx.queue_agency(queue.name)
        key = f"q:{queue.name}"
        rate_in = rates.rate(f"{key}:in", queue.in_octets, queue.width, None)
        rate_out = rates.rate(f"{key}:out", queue.out_octets, queue.width, None)
        tags = {**base_tags, "agency": agency, "queue": queue.name}
        points += _traffic_points("queue_traffic", tags, rate_in, rate_out, poll_interval_s, {})
        views.append(_view(MeterKind.QUEUE, queue.name, "", rate_in, rate_out))
        if isinstance(rate_in, Rate) or isinstance(rate_out, Rate):
            usage.append(_usage(MeterKind.QUEUE, queue.name, rate_in, rate_out, agency_id, None, True))
    points += _health_points(ctx, sample, rebooted=_rebooted(state, sample))
    return ProcessResult(points=points, usage=usage, state=new, views=views)


def _view(kind: MeterKind, name: str, oper: str, rate_in: Rate | NoRate | None,
          rate_out: Rate | NoRate | None) -> CounterView:
    view = CounterView(kind, name, oper)
    if isinstance(rate_in, Rate):
        view.in_bps, view.in_octets = rate_in.bits_per_second, rate_in.octets
    if isinstance(rate_out, Rate):
        view.out_bps, view.out_octets = rate_out.bits_per_second, rate_out.octets
    reasons = {r.reason.value for r in (rate_in, rate_out) if isinstance(r, NoRate)}
    view.reason = ", ".join(sorted(reasons))
    return view


def _usage(kind: MeterKind, name: str, rate_in: Rate | NoRate | None, rate_out: Rate | NoRate | None,
           agency_id: int | None, interface_id: int | None, billing: bool) -> MeterUsage:
    known = rate_in if isinstance(rate_in, Rate) else rate_out
    assert isinstance(known, Rate)  # noqa: S101 - the caller checked that one direction has a rate
    return MeterUsage(kind=kind, name=name, start=known.start, end=known.end,
                      in_octets=rate_in.octets if isinstance(rate_in, Rate) else 0,
                      out_octets=rate_out.octets if isinstance(rate_out, Rate) else 0,
                      agency_id=agency_id, interface_id=interface_id, billing=billing)


def _rebooted(state: DeviceState, sample: DeviceSample) -> bool:
    """Did the device restart since the last poll? hrSystemUptime (the system's) where both polls have it,
    else sysUpTime (the agent's: restarting snmpd alone also counts)."""
    system = sample.extras.health.system_uptime_cs
    if system is not None and state.system_uptime_cs is not None:
        return restarted(state.wall_time, state.system_uptime_cs, sample.wall_time, system)
    return restarted(state.wall_time, state.uptime_cs, sample.wall_time, sample.uptime_cs)


def _health_points(ctx: DeviceContext, sample: DeviceSample, *, rebooted: bool = False) -> list[Point]:
    e = sample.extras
    h = e.health
    fields: dict[str, FieldValue] = {"poll_ms": float(sample.duration_s * 1000), "interfaces": len(sample.interfaces)}
    if sample.uptime_cs is not None:
        fields["uptime_s"] = int(sample.uptime_cs // 100)
    if h.system_uptime_cs is not None:
        fields["system_uptime_s"] = int(h.system_uptime_cs // 100)
    if rebooted:
        fields["reboot"] = 1
    if e.cpu_load_pct is not None:
        fields["cpu_load_pct"] = float(e.cpu_load_pct)
    if e.memory_used_bytes is not None and e.memory_total_bytes:
        fields["memory_used_bytes"] = int(e.memory_used_bytes)
        fields["memory_used_pct"] = float(100.0 * e.memory_used_bytes / e.memory_total_bytes)
    if h.mempools and h.mempools[0].used_pct is not None:
        fields["memory_used_pct"] = float(h.mempools[0].used_pct)  # the maker's own figure where it gives one
    if e.wireless_clients is not None:
        fields["wireless_clients"] = int(e.wireless_clients)
    if e.wireless_signal_dbm is not None:
        fields["wireless_signal_dbm"] = float(e.wireless_signal_dbm)
    at = round(sample.wall_time * NS)
    tags = ctx.tags()
    points = [Point("device_health", tags, fields, time_ns=at)]
    for cpu in h.processors:
        points.append(Point("device_processor", {**tags, "processor": cpu.index}, {"load_pct": cpu.load_pct},
                            time_ns=at))
    for pool in h.mempools:
        pool_fields: dict[str, FieldValue] = {}
        if pool.used_bytes is not None and pool.total_bytes:
            pool_fields["used_bytes"], pool_fields["total_bytes"] = int(pool.used_bytes), int(pool.total_bytes)
        if pool.used_pct is not None:
            pool_fields["used_pct"] = float(pool.used_pct)
        if pool_fields:
            points.append(Point("device_memory", {**tags, "pool": pool.name}, pool_fields, time_ns=at))
    for sensor in h.sensors:
        points.append(Point("device_sensor", {**tags, "kind": sensor.kind, "sensor": sensor.name},
                            {"value": float(sensor.value)}, time_ns=at))
    for radio in h.wireless:
        points.append(Point("wireless_clients", {**tags, "ssid": radio.ssid, "radio": radio.radio,
                                                 "index": radio.index}, {"clients": int(radio.clients)}, time_ns=at))
    return points


# --- the database ends ---------------------------------------------------------------------------------------


def load_contexts(session: Session, device_ids: list[int]) -> dict[int, DeviceContext]:
    """The DeviceContext of each existing device (deleted ones are left out)."""
    if not device_ids:
        return {}
    agencies = {a.id: a for a in session.scalars(select(Agency))}
    by_code = {a.code: (a.id, agency_tag(a.code)) for a in agencies.values()}
    out: dict[int, DeviceContext] = {}
    for device in session.scalars(select(Device).where(Device.id.in_(device_ids))):
        site_agency = agencies.get(device.site.agency_id) if device.site.agency_id else None
        out[device.id] = DeviceContext(
            device_id=device.id, name=device.name, site=device.site.name, role=str(device.role),
            agency_id=site_agency.id if site_agency else None,
            agency=agency_tag(site_agency.code) if site_agency else "", platform=str(device.platform),
            vendor=device.vendor, agencies_by_code=by_code)
    uplinks = session.execute(select(Uplink.device_id, Uplink.interface_id, Uplink.interface_name)
                              .where(Uplink.device_id.in_(device_ids))).all()
    billing_ids = {iid for _, iid, _ in uplinks if iid is not None}
    billing_names = {(did, name) for did, _, name in uplinks if name}
    for iface in session.scalars(select(Interface).where(Interface.device_id.in_(device_ids))):
        ctx = out.get(iface.device_id)
        if ctx is None:
            continue
        agency = agencies.get(iface.agency_id) if iface.agency_id else None
        ctx.interfaces[iface.name] = InterfaceInfo(
            interface_id=iface.id, agency_id=agency.id if agency else ctx.agency_id,
            agency=agency_tag(agency.code) if agency else ctx.agency, monitored=iface.monitored,
            billing=iface.id in billing_ids or (iface.device_id, iface.name) in billing_names,
            oper_status=iface.oper_status)
    for did, _, name in uplinks:  # an uplink on an interface discovery has not stored yet
        ctx = out.get(did) if did is not None else None
        if ctx is not None and name and name not in ctx.interfaces:
            ctx.interfaces[name] = InterfaceInfo(agency_id=ctx.agency_id, agency=ctx.agency, billing=True)
    return out


def _meters(session: Session, device_id: int, usage: list[MeterUsage]) -> dict[tuple[str, str], int]:
    """Meter ids for the usage's interfaces and queues, creating missing meters and refreshing attribution."""
    wanted = {(str(u.kind), u.name): u for u in usage}
    existing = {(str(m.kind), m.name): m for m in session.scalars(
        select(TrafficMeter).where(TrafficMeter.device_id == device_id,
                                   or_(*[(TrafficMeter.kind == k) & (TrafficMeter.name == n) for k, n in wanted])))}
    for key, u in wanted.items():
        meter = existing.get(key)
        if meter is None:
            meter = TrafficMeter(device_id=device_id, kind=u.kind, name=u.name[:200], agency_id=u.agency_id,
                                 interface_id=u.interface_id, billing=u.billing)
            session.add(meter)
            existing[key] = meter
        elif (meter.agency_id, meter.interface_id, meter.billing) != (u.agency_id, u.interface_id, u.billing):
            meter.agency_id, meter.interface_id, meter.billing = u.agency_id, u.interface_id, u.billing
    session.flush()
    return {key: m.id for key, m in existing.items()}


def record_usage(session: Session, device_id: int, usage: list[MeterUsage], *, tz: ZoneInfo,
                 now: datetime | None = None) -> int:
    """Add a poll's usage to the 5-minute buckets of its meters (not committed). Returns buckets touched."""
    if not usage:
        return 0
    meter_ids = _meters(session, device_id, usage)
    rows: dict[tuple[int, datetime], list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for u in usage:
        meter_id = meter_ids[(str(u.kind), u.name)]
        ins = split_into_buckets(u.start, u.end, u.in_octets)
        outs = split_into_buckets(u.start, u.end, u.out_octets)
        for (bucket, in_octets, seconds), (_, out_octets, _) in zip(ins, outs, strict=True):
            row = rows[(meter_id, bucket)]
            row[0] += in_octets
            row[1] += out_octets
            row[2] += seconds
    add_usage(session, rows, tz=tz, now=now)
    return len(rows)


def update_oper_status(session: Session, ctx: DeviceContext, sample: DeviceSample) -> None:
    """Store interfaces' oper status in the inventory where it changed (status pages read it)."""
    changed = {i.name: i.oper_status for i in sample.interfaces
               if i.name in ctx.interfaces and ctx.interfaces[i.name].interface_id is not None
               and ctx.interfaces[i.name].oper_status != i.oper_status}
    if not changed:
        return
    for iface in session.scalars(select(Interface).where(Interface.device_id == ctx.device_id,
                                                         Interface.name.in_(list(changed)))):
        iface.oper_status = changed[iface.name]
