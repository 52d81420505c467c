"""Monitoring records written by the collectors: device up/down events and hourly ping rollups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from netmgr.models.base import Base, utcnow


class DeviceEvent(Base):
    """A change in a device's reachability, e.g. ``core-diskominfo`` went ``down`` at 02:14 (no SNMP answer).

    ``latency_ms`` is the SNMP round trip when the device came up; ``detail`` says why it went down.
    """

    __tablename__ = "device_events"
    __table_args__ = (Index("ix_device_events_device_id_at", "device_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(10))
    detail: Mapped[str] = mapped_column(Text, default="")
    latency_ms: Mapped[float | None] = mapped_column(Float)


class PingHourly(Base):
    """One hour of ICMP probes of one target: a device's management address or an uplink's far end.

    For example, uplink Telkom Astinet (``subject_type`` ``uplink``) between 02:00 and 03:00 UTC: 60 rounds,
    57 answered, so ``up_s`` 3420 and ``down_s`` 180 (each round counts one ping interval), RTT 4.1 ms on
    average. The uplink SLA report sums these rows; InfluxDB keeps the per-round points for graphs.
    """

    __tablename__ = "ping_hourly"
    __table_args__ = (UniqueConstraint("subject_type", "subject_id", "hour_start",
                                       name="uq_ping_hourly_subject_type_subject_id_hour_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[int] = mapped_column(Integer)
    hour_start: Mapped[datetime] = mapped_column()
    rounds: Mapped[int] = mapped_column(Integer, default=0)
    up_rounds: Mapped[int] = mapped_column(Integer, default=0)
    up_s: Mapped[float] = mapped_column(Float, default=0.0)
    down_s: Mapped[float] = mapped_column(Float, default=0.0)
    rtt_sum_ms: Mapped[float] = mapped_column(Float, default=0.0)
    """Sum of each answered round's average RTT: divided by ``up_rounds`` it is the hour's mean."""
    rtt_min_ms: Mapped[float | None] = mapped_column(Float)
    rtt_max_ms: Mapped[float | None] = mapped_column(Float)
    loss_sum_percent: Mapped[float] = mapped_column(Float, default=0.0)
    """Sum of each round's loss %: divided by ``rounds`` it is the hour's mean loss."""
