"""Inventory services: uniqueness, agency scoping, secrets encrypted at rest, and the audit trail."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from netmgr.errors import Conflict, NotFound, PermissionDenied
from netmgr.models import AuditLog, Device
from netmgr.models.enums import Role
from netmgr.schemas.inventory import DeviceUpdate, SiteUpdate
from netmgr.security.permissions import Actor
from netmgr.services import contracts, devices, reports, sites, uplinks
from tests import factories


def test_device_secrets_are_stored_as_ciphertext_and_decrypt_back(session: Session) -> None:
    s = factories.site(session)
    d = factories.device(session, site_id=s.id)
    raw = session.execute(sa.text("SELECT snmp_community_encrypted, ssh_password_encrypted FROM devices")).one()
    assert "s3cret" not in raw[0] and "s3cret" not in raw[1]
    assert raw[0].startswith("gAAAAA")
    creds = devices.device_credentials(session, d)
    assert creds.snmp_community == "s3cret-community"
    assert "s3cret" not in repr(creds)


def test_duplicate_device_name_or_address_is_a_conflict(session: Session) -> None:
    s = factories.site(session)
    factories.device(session, site_id=s.id, name="ap-1", mgmt_address="10.0.0.1")
    with pytest.raises(Conflict, match="name 'ap-1'"):
        factories.device(session, site_id=s.id, name="ap-1", mgmt_address="10.0.0.2")
    session.rollback()
    with pytest.raises(Conflict, match="mgmt_address '10.0.0.1'"):
        factories.device(session, site_id=s.id, name="ap-2", mgmt_address="10.0.0.1")


def test_agency_viewer_sees_only_its_own_sites_and_devices(session: Session) -> None:
    mine, other = factories.agency(session), factories.agency(session)
    my_site, other_site = factories.site(session, agency_id=mine.id), factories.site(session, agency_id=other.id)
    factories.device(session, site_id=my_site.id)
    hidden = factories.device(session, site_id=other_site.id)
    viewer = Actor(user_id=99, username="v", role=Role.AGENCY_VIEWER, agency_id=mine.id)
    assert [x.id for x in sites.list_sites(session, viewer).items] == [my_site.id]
    assert len(devices.list_devices(session, viewer).items) == 1
    with pytest.raises(NotFound):
        devices.get_device(session, viewer, hidden.id)


def test_finance_cannot_change_inventory(session: Session) -> None:
    s = factories.site(session)
    finance = Actor(user_id=5, username="fin", role=Role.FINANCE)
    with pytest.raises(PermissionDenied):
        sites.update_site(session, finance, s.id, SiteUpdate(name="renamed"))


def test_every_change_is_audited_with_secrets_masked(session: Session) -> None:
    s = factories.site(session)
    d = factories.device(session, site_id=s.id)
    ops = factories.user(session, role=Role.OPERATOR, username="ops")
    devices.update_device(session, Actor(ops.id, "ops", Role.OPERATOR), d.id,
                          DeviceUpdate.model_validate({"ssh_password": "new-s3cret", "notes": "moved"}))
    session.commit()
    entry = session.scalars(sa.select(AuditLog).where(AuditLog.entity_type == "device")
                            .order_by(AuditLog.id.desc())).first()
    assert entry is not None and entry.actor == "ops" and entry.action == "update"
    assert entry.after is not None and entry.after["notes"] == "moved"
    dumped = str(entry.before) + str(entry.after)
    assert "s3cret" not in dumped and "gAAAAA" not in dumped
    assert entry.after["ssh_password"] == "********"
    assert session.get(Device, d.id) is not None


@pytest.mark.parametrize(("price", "tax", "with_tax"),
                         [(550, 11.0, 611), (15, 10.0, 17), (10_000_000, 11.0, 11_100_000)])
def test_an_uplinks_price_with_ppn_is_rounded_as_the_monthly_report_rounds_it(session: Session, price: int,
                                                                              tax: float, with_tax: int) -> None:
    """PPN is rounded to the rupiah halves up, on the page, in the API and in the report alike."""
    uplink = factories.uplink(session, monthly_price_idr=price, tax_percent=tax)
    month = reports.prorated_cost(contracts.current_terms(uplink), None, 1, 1)
    assert uplinks.price_with_tax(uplink) == sum(month) == with_tax
