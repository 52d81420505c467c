"""Shapes of bandwidth plans, budgets and bandwidth requests as the API and the web forms exchange them."""

from __future__ import annotations

import re
from datetime import datetime
from ipaddress import IPv4Network
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from netmgr.models.finance import PlanStatus, RequestStatus

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
QueueName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")]


class ScheduleWindow(BaseModel):
    """Rates in force on some days between two times, e.g. Mon-Fri 07:30-16:00 at CIR 20 / MIR 30 Mbps."""

    model_config = ConfigDict(extra="forbid")
    days: list[int] = Field(min_length=1, description="0 = Monday … 6 = Sunday")
    start: str = Field(description="HH:MM, local time")
    end: str = Field(description="HH:MM after start; 24:00 is midnight at the end of the day")
    cir_mbps: float = Field(ge=0)
    mir_mbps: float = Field(gt=0)

    @field_validator("days")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if any(d < 0 or d > 6 for d in value):
            raise ValueError("days are 0 (Monday) to 6 (Sunday)")
        return sorted(set(value))

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError(f"{value!r} is not a time like 07:30 (24:00 allowed as an end)")
        return value


class AllocationIn(BaseModel):
    """One share of the plan: an agency's office, or the public hotspot pool (``agency_id`` null)."""

    model_config = ConfigDict(extra="forbid")
    name: QueueName
    agency_id: int | None = None
    is_hotspot_pool: bool = False
    target: IPv4Network
    cir_mbps: float = Field(ge=0)
    mir_mbps: float = Field(gt=0)
    priority: int = Field(default=8, ge=1, le=8)
    schedule: list[ScheduleWindow] = Field(default_factory=list)


class AllocationRead(AllocationIn):
    id: int
    agency_code: str | None = None


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    device_id: int | None = None
    wan_interface: str = ""
    lan_interface: str = ""
    uplink_ids: list[int] = Field(min_length=1)


class VersionCreate(BaseModel):
    """A new draft; without ``allocations`` it starts as a copy of the active version (or is empty)."""

    model_config = ConfigDict(extra="forbid")
    note: str = ""
    allocations: list[AllocationIn] | None = None


class VersionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = None
    allocations: list[AllocationIn]


class VersionRead(BaseModel):
    id: int
    plan_id: int
    number: int
    status: PlanStatus
    capacity_down_mbps: float
    capacity_up_mbps: float
    note: str
    created_at: datetime
    created_by: str
    activated_at: datetime | None
    activated_by: str | None
    provision_job_id: int | None
    allocations: list[AllocationRead]
    problems: list[str] = Field(default_factory=list)


class PlanRead(BaseModel):
    id: int
    name: str
    description: str
    device_id: int | None
    wan_interface: str
    lan_interface: str
    uplink_ids: list[int]
    capacity_down_mbps: float
    versions: list[VersionRead]


class ApplyResult(BaseModel):
    version_id: int
    job_id: int
    dry_run: bool
    task: str


class RequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    plan_id: int
    agency_id: int | None = Field(default=None, description="defaults to the agency viewer's own agency")
    cir_mbps: float = Field(ge=0)
    mir_mbps: float = Field(gt=0)
    reason: str = Field(min_length=3, max_length=2000)


class RequestDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = ""


class RequestRead(BaseModel):
    id: int
    plan_id: int
    agency_id: int
    agency_code: str
    cir_mbps: float
    mir_mbps: float
    current_cir_mbps: float | None
    current_mir_mbps: float | None
    reason: str
    status: RequestStatus
    requested_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str
    version_id: int | None


class BudgetSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pagu_idr: int = Field(ge=0)
    note: str = ""


def plain(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")
