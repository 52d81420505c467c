"""Monitoring records written by the collectors: device up/down events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
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
