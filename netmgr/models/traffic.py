"""Traffic usage the collectors write to the database: meters, 5-minute, hourly and daily rollups, poll state.

Data flows poller → ``traffic_5m`` (octets per 5-minute bucket) → ``traffic_hourly`` → ``traffic_daily``
(with the day's 95th percentile); finance reports read these tables, not InfluxDB.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from netmgr.models.base import Base, utcnow
from netmgr.models.inventory import Device

BUCKET_S = 300
"""Every ``traffic_5m`` row is one 5-minute bucket (a UTC start on a multiple of 300 s)."""


class MeterKind(StrEnum):
    INTERFACE = "interface"
    QUEUE = "queue"


class TrafficMeter(Base):
    """A pair of octet counters whose usage is rolled up: a device interface or a router queue.

    For example the interface ``sfp-sfpplus1`` of ``core-diskominfo`` (an uplink), or the MikroTik simple
    queue ``DISDIK`` on the same router, attributed to the agency whose code is the queue's name.
    ``agency_id`` is the attribution reports use (the interface's agency, or the queue's agency);
    ``billing`` marks meters whose 5-minute rows are kept long enough for a monthly 95th percentile
    (uplink interfaces and queues). For a queue, ``in`` is MikroTik's bytes-in (upload from the target)
    and ``out`` its bytes-out (download to the target).
    """

    __tablename__ = "traffic_meters"
    __table_args__ = (UniqueConstraint("device_id", "kind", "name", name="uq_traffic_meters_device_id_kind_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    kind: Mapped[MeterKind] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    interface_id: Mapped[int | None] = mapped_column(ForeignKey("interfaces.id", ondelete="SET NULL"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="SET NULL"), index=True)
    billing: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    device: Mapped[Device] = relationship()


class Traffic5m(Base):
    """Octets one meter carried in one 5-minute bucket (UTC start), e.g. 112,500,000 in = 3 Mbit/s average.

    ``covered_s`` is how much of the bucket had a trustworthy rate; the bucket's rate is
    ``octets * 8 / covered_s``. ``hour_start`` and ``day`` (local date in the report time zone) are stored
    so rollups group portably.
    """

    __tablename__ = "traffic_5m"
    __table_args__ = (Index("ix_traffic_5m_hour_start", "hour_start"), Index("ix_traffic_5m_day", "day"))

    meter_id: Mapped[int] = mapped_column(ForeignKey("traffic_meters.id", ondelete="CASCADE"), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(primary_key=True)
    hour_start: Mapped[datetime] = mapped_column()
    day: Mapped[date] = mapped_column(Date)
    in_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    out_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    covered_s: Mapped[float] = mapped_column(Float, default=0.0)


class TrafficHourly(Base):
    """Octets one meter carried in one hour (UTC start): the sum of its 5-minute buckets."""

    __tablename__ = "traffic_hourly"
    __table_args__ = (Index("ix_traffic_hourly_day", "day"),)

    meter_id: Mapped[int] = mapped_column(ForeignKey("traffic_meters.id", ondelete="CASCADE"), primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    in_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    out_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    covered_s: Mapped[float] = mapped_column(Float, default=0.0)


class TrafficDaily(Base):
    """One meter's day (local date): octets, the 95th percentile and maximum of its 5-minute rates.

    The 95th percentile follows the billing convention: sort the day's 5-minute samples, discard the
    top 5 %, take the highest remaining. ``samples`` is how many 5-minute buckets had data.
    """

    __tablename__ = "traffic_daily"

    meter_id: Mapped[int] = mapped_column(ForeignKey("traffic_meters.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    in_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    out_octets: Mapped[int] = mapped_column(BigInteger, default=0)
    p95_in_bps: Mapped[float] = mapped_column(Float, default=0.0)
    p95_out_bps: Mapped[float] = mapped_column(Float, default=0.0)
    max_in_bps: Mapped[float] = mapped_column(Float, default=0.0)
    max_out_bps: Mapped[float] = mapped_column(Float, default=0.0)
    samples: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TrafficDirtyHour(Base):
    """An hour whose 5-minute rows changed since its rollup; ``collectors.rollup_traffic`` recomputes it.

    A poll that arrives late (after an outage) marks the past hours it filled, so their rollups follow.
    """

    __tablename__ = "traffic_dirty_hours"

    hour_start: Mapped[datetime] = mapped_column(primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)


class PollState(Base):
    """The last counter samples of one device (JSON), so a restarted poller computes rates without a gap."""

    __tablename__ = "poll_state"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    polled_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str] = mapped_column(Text, default="")
    cycle: Mapped[int | None] = mapped_column(BigInteger)
    """The poll cycle (its start, epoch milliseconds) this device was last polled in: a second batch of the same
    cycle (a redelivered or retried task) skips the device, so it is polled once per cycle."""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PollLease(Base):
    """A claim on one device's poll until ``expires_at``, so two workers never poll the same device at once."""

    __tablename__ = "poll_leases"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column()


class PollWorker(Base):
    """One poll worker process as the others see it: its heartbeat and what it polled in its latest cycle.

    For example ``poll@server-2/4711`` (Celery node ``poll@server-2``, process 4711) last seen 3 s ago, 250 devices in
    the cycle that started 14:05:00, finished 0 s late. A worker silent for three heartbeats is dead: its device
    leases are reclaimed by the others and the status shows it missing.
    """

    __tablename__ = "poll_workers"

    holder: Mapped[str] = mapped_column(String(200), primary_key=True)
    node: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    cycle: Mapped[int | None] = mapped_column(BigInteger)
    """The latest cycle it polled in (start, epoch milliseconds)."""
    devices: Mapped[int] = mapped_column(Integer, default=0)
    """Devices it polled in that cycle."""
    lateness_s: Mapped[float] = mapped_column(Float, default=0.0)
    """How long after that cycle's end (start + poll interval) its last batch of the cycle finished; 0 on time."""
