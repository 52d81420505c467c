"""A small inventory in two agencies plus one signed-in API token per role, for the API tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import pytest
from sqlalchemy.orm import Session

from netmgr.models import (
    Alert,
    ConfigBackup,
    ConfigTemplate,
    ConfigText,
    Device,
    Hotspot,
    HotspotPolicy,
    Interface,
    ProvisionJob,
    ProvisionResultRecord,
    User,
    VoucherBatch,
)
from netmgr.models.alerts import AlertKind, AlertSeverity, AlertTransport, SubjectType, TransportKind
from netmgr.models.enums import Role
from netmgr.models.provisioning import BackupSource, JobStatus
from netmgr.security.passwords import hash_password
from netmgr.services import users
from tests import factories

ROLES = (Role.ADMIN, Role.OPERATOR, Role.FINANCE, Role.AGENCY_VIEWER, Role.LEADERSHIP)


@dataclass
class World:
    """Ids of rows in the viewer's own agency (``own_*``) and in another agency (``other_*``)."""

    own_agency: int
    other_agency: int
    own_site: int
    other_site: int
    own_device: int
    other_device: int
    own_interface: int
    other_interface: int
    uplink: int
    own_alert: int = 0
    other_alert: int = 0
    job: int = 0
    template: int = 0
    backup: int = 0
    hotspot: int = 0
    policy: int = 0
    batch: int = 0
    transport: int = 0
    usernames: dict[Role, str] = field(default_factory=dict)
    user_ids: dict[Role, int] = field(default_factory=dict)
    tokens: dict[Role, str] = field(default_factory=dict)

    def headers(self, role: Role | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}


@cache
def password_hash() -> str:
    """Argon2 is slow on purpose; hash the shared test password once per run, not per user."""
    return hash_password(factories.PASSWORD)


def _user(session: Session, role: Role, agency_id: int | None) -> User:
    user = User(username=f"u-{role.value}", password_hash=password_hash(), role=role, agency_id=agency_id)
    session.add(user)
    session.commit()
    return user


def _interface(session: Session, device_id: int, name: str) -> int:
    row = Interface(device_id=device_id, if_index=1, name=name, descr=name)
    session.add(row)
    session.commit()
    return row.id


def _alert(session: Session, device_id: int, site_id: int, agency_id: int) -> int:
    row = Alert(kind=AlertKind.DEVICE_DOWN, severity=AlertSeverity.CRITICAL, subject_type=SubjectType.DEVICE,
                subject_id=device_id, subject_name=f"device {device_id}", agency_id=agency_id, site_id=site_id,
                device_id=device_id, message="🔴 PERANGKAT MATI", ack_note="")
    session.add(row)
    session.commit()
    return row.id


def _provisioning_rows(session: Session, device_id: int, device_name: str) -> tuple[int, int, int]:
    """A pending job made by someone else (so any writer may approve it), a stored template and a backup."""
    job = ProvisionJob(purpose="snmp", template_name="", targets={"devices": [device_name]}, variables={},
                       dry_run=False, status=JobStatus.PENDING, created_by="someone-else")
    session.add(job)
    session.flush()
    session.add(ProvisionResultRecord(job_id=job.id, device_id=device_id, device_name=device_name))
    template = ConfigTemplate(name="snmp-noc", platform="mikrotik_routeros", purpose="snmp", body="/snmp\n")
    session.add(ConfigText(sha256="0" * 64, text="/system identity set name=x\n", size=27))
    session.flush()
    backup = ConfigBackup(device_id=device_id, sha256="0" * 64, source=BackupSource.ON_DEMAND)
    session.add_all([template, backup])
    session.commit()
    return job.id, template.id, backup.id


def _hotspot_rows(session: Session, site_id: int, device_id: int) -> tuple[int, int, int]:
    policy = HotspotPolicy(name="Gratis 1 jam", session_timeout_s=3600)
    session.add(policy)
    session.flush()
    hotspot = Hotspot(name="Taman Kota", slug="taman-kota", site_id=site_id, gateway_device_id=device_id,
                      login_methods=["click_through"], default_policy_id=policy.id)
    session.add(hotspot)
    session.flush()
    batch = VoucherBatch(name="Uji", hotspot_id=hotspot.id, policy_id=policy.id, count=0)
    session.add(batch)
    session.flush()
    return hotspot.id, policy.id, batch.id


def _transport(session: Session) -> int:
    """An HTTP gateway transport on a closed loopback port: a test send there fails fast, it never leaves the host."""
    row = AlertTransport(name="WhatsApp NOC", kind=TransportKind.HTTP, enabled=True,
                         config={"url": "http://127.0.0.1:9/send", "recipients": ["081200000000"], "timeout_s": 1})
    session.add(row)
    session.commit()
    return row.id


@pytest.fixture
def world(session: Session) -> World:
    own, other = factories.agency(session, code="DISDIK"), factories.agency(session, code="DINKES")
    own_site = factories.site(session, agency_id=own.id, name="SMPN 1 Sampit")
    other_site = factories.site(session, agency_id=other.id, name="Puskesmas Baamang")
    own_device = factories.device(session, site_id=own_site.id, name="ap-smpn1", mgmt_address="10.1.0.1")
    other_device = factories.device(session, site_id=other_site.id, name="ap-puskesmas", mgmt_address="10.2.0.1")
    w = World(
        own_agency=own.id, other_agency=other.id, own_site=own_site.id, other_site=other_site.id,
        own_device=own_device.id, other_device=other_device.id,
        own_interface=_interface(session, own_device.id, "ether1"),
        other_interface=_interface(session, other_device.id, "ether1"),
        uplink=factories.uplink(session, name="telkom-astinet-1").id,
    )
    w.own_alert, w.other_alert = (_alert(session, own_device.id, own_site.id, own.id),
                                  _alert(session, other_device.id, other_site.id, other.id))
    own_name = session.get(Device, own_device.id).name  # type: ignore[union-attr]
    w.job, w.template, w.backup = _provisioning_rows(session, own_device.id, own_name)
    w.hotspot, w.policy, w.batch = _hotspot_rows(session, own_site.id, own_device.id)
    w.transport = _transport(session)
    for role in ROLES:
        user = _user(session, role, own.id if role == Role.AGENCY_VIEWER else None)
        _, plain = users.create_api_token(session, users.actor_for(user), name="tests")
        session.commit()
        w.usernames[role], w.user_ids[role], w.tokens[role] = user.username, user.id, plain
    return w
