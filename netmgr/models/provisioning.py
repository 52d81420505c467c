"""Provisioning records: config templates, jobs and their per-device results, config backups, device locks.

The provisioning engine (``provisioning/``) writes these; the inventory is read-only to it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from netmgr.models.base import Base, TimestampMixin, utcnow
from netmgr.models.inventory import Device


class JobStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    """Sent to a worker (``provisioning.run_job``); not started yet."""
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTLY_DONE = "partly_done"
    """Some devices failed (e.g. one was unreachable) and the others finished."""
    FAILED = "failed"
    HALTED = "halted"
    CANCELLED = "cancelled"
    """Stopped by a person: devices not started yet are skipped; one being configured finishes safely."""


#: A job in one of these has ended; it will not run again (copy it to run the change again).
FINISHED_JOB_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.PARTLY_DONE, JobStatus.FAILED, JobStatus.HALTED,
                                   JobStatus.CANCELLED})


class JobPolicy(StrEnum):
    """What a job does after a device fails: keep going, or stop starting new devices."""

    CONTINUE = "continue"
    HALT = "halt"


class ResultStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    NO_CHANGE = "no_change"
    CHANGED = "changed"
    DRY_RUN = "dry_run"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    SKIPPED = "skipped"


class BackupSource(StrEnum):
    SCHEDULED = "scheduled"
    PRE_PUSH = "pre_push"
    POST_PUSH = "post_push"
    ON_DEMAND = "on_demand"


class ConfigTemplate(TimestampMixin, Base):
    """A Jinja2 config template stored in the database, overriding the shipped one for its platform and purpose.

    For example, ``hotspot-taman`` for ``mikrotik_routeros`` with purpose ``hotspot``. Every edit bumps
    ``version`` and keeps the previous body in ``config_template_versions``.
    """

    __tablename__ = "config_templates"
    __table_args__ = (UniqueConstraint("name", "platform", name="uq_config_templates_name_platform"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    description: Mapped[str] = mapped_column(Text, default="")

    versions: Mapped[list[ConfigTemplateVersion]] = relationship(
        back_populates="template", cascade="all, delete-orphan", order_by="ConfigTemplateVersion.version"
    )


class ConfigTemplateVersion(Base):
    """One past body of a config template (version 1, 2, …), kept so a job can say what it rendered."""

    __tablename__ = "config_template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version", name="uq_config_template_versions_template_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("config_templates.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")

    template: Mapped[ConfigTemplate] = relationship(back_populates="versions")


class ProvisionJob(TimestampMixin, Base):
    """One configuration change to many devices: targets + template + variables, run device by device.

    For example, "set the hotspot SSID to *Sampit Free WiFi* on every device tagged ``taman``", first
    on a canary of 2 devices, halting if more than 10 % fail. Secret variables are stored encrypted.
    """

    __tablename__ = "provision_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    template_name: Mapped[str] = mapped_column(String(100), default="")
    targets: Mapped[dict[str, Any]] = mapped_column(JSON)
    variables: Mapped[dict[str, Any]] = mapped_column(JSON)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[JobStatus] = mapped_column(String(20), default=JobStatus.PENDING, index=True)
    canary_size: Mapped[int] = mapped_column(Integer, default=0)
    failure_threshold: Mapped[float] = mapped_column(default=0.0)
    policy: Mapped[JobPolicy] = mapped_column(String(10), default=JobPolicy.CONTINUE)
    concurrency: Mapped[int] = mapped_column(Integer, default=10)
    revert_after_s: Mapped[int] = mapped_column(Integer, default=300)
    summary: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    approved_by: Mapped[str | None] = mapped_column(String(64))
    #: What the approver approved: the digest of each template the job uses and of its variables, e.g.
    #: ``{"templates": {"mikrotik_routeros/access_point": "db:taman v3 sha256:…"}, "variables": "sha256:…"}``.
    #: A run whose templates or variables no longer match refuses to push and voids the approval.
    approved_pin: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()

    results: Mapped[list[ProvisionResultRecord]] = relationship(
        back_populates="job", cascade="all, delete-orphan", order_by="ProvisionResultRecord.id"
    )


class ProvisionResultRecord(Base):
    """What one job did to one device: status, the (secret-masked) diff, the session log and any error."""

    __tablename__ = "provision_results"
    __table_args__ = (UniqueConstraint("job_id", "device_id", name="uq_provision_results_job_id_device_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("provision_jobs.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), index=True)
    device_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[ResultStatus] = mapped_column(String(20), default=ResultStatus.PENDING)
    diff: Mapped[str] = mapped_column(Text, default="")
    log: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()

    job: Mapped[ProvisionJob] = relationship(back_populates="results")
    device: Mapped[Device | None] = relationship()


class ConfigText(Base):
    """A config text stored once, keyed by its SHA-256; many backups of unchanged devices share one row."""

    __tablename__ = "config_texts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConfigBackup(Base):
    """A device's running config at one moment, with secrets masked and noise (dates, uptimes) removed.

    For example, the pre-push backup of ``core-diskominfo`` taken by job 42. The text itself lives in
    ``config_texts`` so a thousand nightly backups of an unchanged device cost one text row.
    """

    __tablename__ = "config_backups"
    __table_args__ = (Index("ix_config_backups_device_id_taken_at", "device_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    sha256: Mapped[str] = mapped_column(ForeignKey("config_texts.sha256", ondelete="RESTRICT"), index=True)
    source: Mapped[BackupSource] = mapped_column(String(20))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("provision_jobs.id", ondelete="SET NULL"))

    content: Mapped[ConfigText] = relationship()
    device: Mapped[Device] = relationship()


class DeviceLock(Base):
    """A device held by one provisioning run, so two jobs never configure the same device at once.

    A row per held device; it expires so a crashed worker cannot hold a device forever.
    """

    __tablename__ = "device_locks"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
