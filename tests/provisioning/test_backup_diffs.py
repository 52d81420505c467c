"""A backup diff names each side by when it was taken, in the installation's zone like every other shown time."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy.orm import Session

from netmgr.models import ConfigBackup, ConfigText
from netmgr.models.provisioning import BackupSource
from netmgr.security.permissions import SYSTEM
from provisioning import backups
from tests import factories
from tests.zones import ZONES, local


def _backup(session: Session, device_id: int, text: str, tz: str, minute: int) -> None:
    sha = hashlib.sha256(text.encode()).hexdigest()
    session.add(ConfigText(sha256=sha, text=text, size=len(text)))
    session.add(ConfigBackup(device_id=device_id, sha256=sha, source=BackupSource.SCHEDULED,
                             taken_at=local(tz, 2026, 2, 1, 0, minute)))
    session.commit()


@pytest.mark.parametrize(("tz", "label"), list(zip(ZONES, ("WIB", "WITA", "WIT"), strict=True)))
def test_backup_diff_headers_show_local_times_with_the_zone_label(session: Session, tz: str, label: str) -> None:
    device = factories.device(session, site_id=factories.site(session).id)
    _backup(session, device.id, "/system identity set name=a\n", tz, 0)
    _backup(session, device.id, "/system identity set name=b\n", tz, 5)

    diff = backups.device_diff(session, SYSTEM, device.id, tz=tz)

    assert f" (2026-02-01 00:00 {label})\n" in diff and f" (2026-02-01 00:05 {label})\n" in diff
