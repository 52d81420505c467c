"""Config backups: taken on demand, on a schedule and around every push; history, diffs and drift.

Data flow: device → driver.get_running_config → noise stripped, secrets masked → ``config_texts``
(one row per distinct text, keyed by SHA-256) + a ``config_backups`` row per backup.
Drift: a device whose newest backup differs from the config netmgr left on it after its last push.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from netmgr import localtime
from netmgr.db import dialect_insert
from netmgr.errors import NotFound
from netmgr.models import ConfigBackup, ConfigText, Device
from netmgr.models.provisioning import BackupSource
from netmgr.registry import Registry
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit
from netmgr.services.devices import get_device
from provisioning.access import require_config_read
from provisioning.connections import Connector, DeviceTarget, target_for
from provisioning.diff import normalise, text_diff
from provisioning.drivers import driver_for
from provisioning.drivers.base import Driver
from provisioning.locks import device_lock


def store_backup(session: Session, device_id: int, running: str, driver: Driver, *, source: BackupSource,
                 job_id: int | None = None, taken_at: datetime | None = None,
                 known: Collection[str] = ()) -> ConfigBackup:
    """Record a backup; the text is stored once however many backups share it.

    ``known`` are the device's inventory secrets (``DeviceTarget.secrets``), masked wherever they appear.
    """
    text = normalise(driver, running, known)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if session.get(ConfigText, digest) is None:
        session.add(ConfigText(sha256=digest, text=text, size=len(text.encode("utf-8"))))
        session.flush()
    row = ConfigBackup(device_id=device_id, sha256=digest, source=source, job_id=job_id)
    if taken_at is not None:
        row.taken_at = taken_at
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class NewBackup:
    """A backup to record with ``add_backups``."""

    device_id: int
    driver: Driver
    running: str
    source: BackupSource
    secrets: tuple[str, ...] = field(default=(), repr=False)


def add_backups(session: Session, backups: Sequence[NewBackup], *, job_id: int | None = None) -> None:
    """Record backups in the caller's transaction with two statements (each distinct text stored once):
    what a provisioning run keeps around its pushes. ``store_backup`` is the one-at-a-time form."""
    if not backups:
        return
    distinct: dict[str, str] = {}
    rows = []
    for b in backups:
        text = normalise(b.driver, b.running, b.secrets)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        distinct[digest] = text
        rows.append({"device_id": b.device_id, "sha256": digest, "source": b.source, "job_id": job_id})
    new_texts = dialect_insert(session)(ConfigText.__table__).on_conflict_do_nothing(index_elements=["sha256"])
    session.execute(new_texts, [{"sha256": d, "text": t, "size": len(t.encode("utf-8"))} for d, t in distinct.items()])
    session.execute(insert(cast(Table, ConfigBackup.__table__)), rows)


def take_backup(session: Session, factory: sessionmaker[Session], actor: Actor, device_id: int, *,
                drivers: Registry[Driver], connect: Connector,
                source: BackupSource = BackupSource.ON_DEMAND) -> ConfigBackup:
    """Read a device's running config over SSH and store it.

    Raises:
        NotFound: no such device, or no driver for its platform (the message lists the known ones).
        DeviceError: the device could not be reached or refused.
        Conflict: a provisioning run holds the device.
    """
    actor.require(Permission.NETWORK_CHANGE)
    device = get_device(session, actor, device_id)
    driver = driver_for(drivers, str(device.platform))
    target: DeviceTarget = target_for(session, device)
    with device_lock(factory, device.id, f"backup:{actor.username}", ttl_s=300), \
            connect(target, driver.netmiko_device_type) as conn:
        running = driver.get_running_config(conn)
    row = store_backup(session, device.id, running, driver, source=source, known=target.secrets.texts())
    audit.record(session, actor, action="backup", entity_type="device", entity_id=device.id,
                 message="device.backed_up",
                 params={"name": device.name, "backup_source": source.value, "sha": row.sha256[:12]})
    return row


def latest_backup(session: Session, device_id: int) -> ConfigBackup | None:
    return session.scalar(select(ConfigBackup).where(ConfigBackup.device_id == device_id)
                          .order_by(ConfigBackup.taken_at.desc(), ConfigBackup.id.desc()).limit(1))


def backup_history(session: Session, actor: Actor, device_id: int, *, limit: int = 50) -> list[ConfigBackup]:
    """Newest first."""
    require_config_read(actor)
    get_device(session, actor, device_id)
    return list(session.scalars(select(ConfigBackup).where(ConfigBackup.device_id == device_id)
                                .order_by(ConfigBackup.taken_at.desc(), ConfigBackup.id.desc()).limit(limit)))


def get_backup(session: Session, actor: Actor, backup_id: int) -> ConfigBackup:
    require_config_read(actor)
    row = session.get(ConfigBackup, backup_id)
    if row is None:
        raise NotFound(f"config backup {backup_id} does not exist")
    return row


def previous_backup(session: Session, backup: ConfigBackup) -> ConfigBackup | None:
    """The same device's backup taken just before ``backup``, if any."""
    return session.scalar(select(ConfigBackup).where(
        ConfigBackup.device_id == backup.device_id,
        (ConfigBackup.taken_at < backup.taken_at)
        | ((ConfigBackup.taken_at == backup.taken_at) & (ConfigBackup.id < backup.id)))
        .order_by(ConfigBackup.taken_at.desc(), ConfigBackup.id.desc()).limit(1))


def backup_text(session: Session, backup: ConfigBackup) -> str:
    content = session.get(ConfigText, backup.sha256)
    if content is None:
        raise NotFound(f"backup {backup.id} has lost its text")
    return content.text


def _header(backup: ConfigBackup, tz: str) -> str:
    """``backup 7 (2026-02-01 00:00 WITA)``: when it was taken, in the installation's zone like the rest of the page."""
    return f"backup {backup.id} ({localtime.to_local(backup.taken_at, tz):%Y-%m-%d %H:%M} {localtime.zone_label(tz)})"


def diff_backups(session: Session, older: ConfigBackup, newer: ConfigBackup, *, tz: str) -> str:
    """A unified diff of two backups whose headers give local times in zone ``tz`` (``Settings.timezone``)."""
    return text_diff(backup_text(session, older), backup_text(session, newer),
                     a_name=_header(older, tz), b_name=_header(newer, tz))


def device_diff(session: Session, actor: Actor, device_id: int, *, tz: str) -> str:
    """What changed between the device's two newest backups (empty if they match or there is only one)."""
    history = backup_history(session, actor, device_id, limit=2)
    if len(history) < 2:
        return ""
    return diff_backups(session, history[1], history[0], tz=tz)


@dataclass(frozen=True)
class DeviceBackups:
    """A device with its backup count and newest backup (None when it was never backed up)."""

    device: Device
    count: int
    latest: ConfigBackup | None


def backups_by_device(session: Session, actor: Actor) -> list[DeviceBackups]:
    """Every device whose platform netmgr can back up, with its newest backup, by device name."""
    require_config_read(actor)
    newest = (select(ConfigBackup.device_id, func.max(ConfigBackup.id).label("id"),
                     func.count(ConfigBackup.id).label("n")).group_by(ConfigBackup.device_id).subquery())
    latest_row = aliased(ConfigBackup)
    stmt = (select(Device, newest.c.n, latest_row)
            .outerjoin(newest, newest.c.device_id == Device.id)
            .outerjoin(latest_row, latest_row.id == newest.c.id)
            .where(Device.platform.in_(("mikrotik_routeros", "cisco_ios", "linux")))
            .order_by(Device.name))
    return [DeviceBackups(device, int(n or 0), latest) for device, n, latest in session.execute(stmt)]


@dataclass(frozen=True)
class Drift:
    """A device whose running config moved away from what netmgr last pushed to it."""

    device_id: int
    device_name: str
    pushed: ConfigBackup
    latest: ConfigBackup


def find_drift(session: Session, actor: Actor) -> list[Drift]:
    """Devices whose newest backup differs from the config left by their last successful push."""
    require_config_read(actor)
    newest = (select(ConfigBackup.device_id, func.max(ConfigBackup.id).label("id"))
              .group_by(ConfigBackup.device_id).subquery())
    pushed = (select(ConfigBackup.device_id, func.max(ConfigBackup.id).label("id"))
              .where(ConfigBackup.source == BackupSource.POST_PUSH).group_by(ConfigBackup.device_id).subquery())
    latest_row, pushed_row = aliased(ConfigBackup), aliased(ConfigBackup)
    stmt = (select(Device, pushed_row, latest_row)
            .join(pushed, pushed.c.device_id == Device.id)
            .join(newest, newest.c.device_id == Device.id)
            .join(pushed_row, pushed_row.id == pushed.c.id)
            .join(latest_row, latest_row.id == newest.c.id)
            .where(pushed_row.sha256 != latest_row.sha256)
            .order_by(Device.name))
    return [Drift(device.id, device.name, p, latest) for device, p, latest in session.execute(stmt)]
