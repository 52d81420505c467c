"""Bandwidth finance: plans that share the central uplinks between offices, budgets, requests, closed months.

Data flow: a plan version's allocations → core-router queues (provisioning) and → the monthly reports,
which join them with the usage rollups and the uplink contracts; a closed month freezes one report.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from netmgr.models.base import Base, TimestampMixin, utcnow
from netmgr.models.inventory import Agency, Device, Uplink


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    SUPERSEDED = "superseded"


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


bandwidth_plan_uplinks = Table(
    "bandwidth_plan_uplinks",
    Base.metadata,
    Column("plan_id", ForeignKey("bandwidth_plans.id", ondelete="CASCADE"), primary_key=True),
    Column("uplink_id", ForeignKey("uplinks.id", ondelete="CASCADE"), primary_key=True),
)


class BandwidthPlan(TimestampMixin, Base):
    """How one group of uplinks is shared out, realised as queues on one core router.

    For example, "Internet Pemkab Kotim": Telkom Astinet 500 + Icon+ 200 on ``core-diskominfo``, shared
    between 15 offices and the public hotspot pool. Its content lives in numbered versions.
    """

    __tablename__ = "bandwidth_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    wan_interface: Mapped[str] = mapped_column(String(64), default="")
    lan_interface: Mapped[str] = mapped_column(String(64), default="")

    device: Mapped[Device | None] = relationship()
    uplinks: Mapped[list[Uplink]] = relationship(secondary=bandwidth_plan_uplinks, order_by="Uplink.name")
    versions: Mapped[list[PlanVersion]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanVersion.number"
    )


class PlanVersion(Base):
    """One version of a plan: draft while edited, active once applied, superseded by the next active one.

    The capacity is copied from the plan's uplinks when the version is made, so an old version keeps
    the numbers it was approved with.
    """

    __tablename__ = "bandwidth_plan_versions"
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_bandwidth_plan_versions_plan_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("bandwidth_plans.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[PlanStatus] = mapped_column(String(12), default=PlanStatus.DRAFT, index=True)
    capacity_down_mbps: Mapped[float] = mapped_column(Float)
    capacity_up_mbps: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    activated_at: Mapped[datetime | None] = mapped_column()
    activated_by: Mapped[str | None] = mapped_column(String(64))
    provision_job_id: Mapped[int | None] = mapped_column(ForeignKey("provision_jobs.id", ondelete="SET NULL"))

    plan: Mapped[BandwidthPlan] = relationship(back_populates="versions")
    allocations: Mapped[list[Allocation]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="Allocation.position"
    )


class Allocation(Base):
    """One office's (or the public hotspot pool's) share in a plan version.

    For example, DUKCAPIL: 20 Mbps guaranteed (CIR), up to 30 Mbps (MIR), priority 4, for 10.20.8.0/24.
    ``schedule`` optionally varies the rates over the week, as windows that together cover every minute
    exactly once: ``[{"days": [0,1,2,3,4], "start": "07:30", "end": "16:00", "cir_mbps": 20, "mir_mbps": 30},
    ...]`` (days 0 = Monday; ``end`` "24:00" is midnight). Without a schedule the rates hold all week.
    """

    __tablename__ = "bandwidth_allocations"
    __table_args__ = (UniqueConstraint("version_id", "name", name="uq_bandwidth_allocations_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("bandwidth_plan_versions.id", ondelete="CASCADE"),
                                            index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(64))
    """The queue name on the router, also the meter the usage rollups are read from (e.g. ``DUKCAPIL``)."""
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"), index=True)
    is_hotspot_pool: Mapped[bool] = mapped_column(Boolean, default=False)
    target: Mapped[str] = mapped_column(String(64))
    cir_mbps: Mapped[float] = mapped_column(Float)
    mir_mbps: Mapped[float] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer, default=8)
    schedule: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    version: Mapped[PlanVersion] = relationship(back_populates="allocations")
    agency: Mapped[Agency | None] = relationship()


class BudgetYear(TimestampMixin, Base):
    """The internet budget ceiling (pagu) of one budget year (= calendar year), e.g. 2025: Rp 520.000.000."""

    __tablename__ = "budget_years"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    pagu_idr: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text, default="")


class BandwidthRequest(TimestampMixin, Base):
    """An office asks for more (or less) bandwidth; someone else approves or rejects it (maker-checker).

    For example, DUKCAPIL asks for CIR 30 / MIR 40 Mbps because e-KTP uploads queue every morning.
    Approval makes a new plan version with the change.
    """

    __tablename__ = "bandwidth_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("bandwidth_plans.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    cir_mbps: Mapped[float] = mapped_column(Float)
    mir_mbps: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[RequestStatus] = mapped_column(String(10), default=RequestStatus.PENDING, index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_by: Mapped[str] = mapped_column(String(64))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column()
    decision_note: Mapped[str] = mapped_column(Text, default="")
    version_id: Mapped[int | None] = mapped_column(ForeignKey("bandwidth_plan_versions.id", ondelete="SET NULL"))

    plan: Mapped[BandwidthPlan] = relationship()
    agency: Mapped[Agency] = relationship()


class ClosedPeriod(Base):
    """A month whose report is frozen: the canonical JSON bytes as computed at closing, and their SHA-256.

    For example, 2025-05 closed by ``keuangan`` on 3 June; later rollups never change its figures.
    """

    __tablename__ = "closed_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(unique=True)
    """The first day of the month."""
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_by: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
