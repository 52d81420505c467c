"""Bulk import/export carries an uplink's probe address and SLA terms (latency, loss, restitution cap)."""

from __future__ import annotations

import yaml
from sqlalchemy.orm import Session

from netmgr.models.enums import Role
from netmgr.security.permissions import Actor
from netmgr.services import uplinks
from netmgr.services.inventory_io import DataFormat, ImportKind, export_inventory, import_inventory

OPERATOR = Actor(user_id=None, username="operator", role=Role.OPERATOR)
UPLINKS = """
uplinks:
  - name: astinet-500
    isp_name: Telkom Astinet
    capacity_down_mbps: 500
    capacity_up_mbps: 500
    monthly_price_idr: 27500000
    sla_availability_percent: 99.5
    sla_max_latency_ms: 20
    sla_max_loss_percent: 1
    sla_restitution_cap_percent: 100
    probe_address: 203.0.113.1
  - name: iconplus-300
    isp_name: Icon+
    capacity_down_mbps: 300
    capacity_up_mbps: 300
    monthly_price_idr: 19000000
    probe_address: gw.iconpln.invalid
"""


def test_uplink_probe_address_and_sla_terms_round_trip_through_import_and_export(session: Session) -> None:
    report = import_inventory(session, OPERATOR, kind=ImportKind.UPLINKS, fmt=DataFormat.YAML, content=UPLINKS,
                              dry_run=False)
    assert report.applied and report.created == 2, report.errors
    session.commit()
    (astinet,) = uplinks.list_uplinks(session, OPERATOR, q="astinet").items
    assert (astinet.probe_address, astinet.sla_max_latency_ms, astinet.sla_max_loss_percent,
            astinet.sla_restitution_cap_percent) == ("203.0.113.1", 20.0, 1.0, 100.0)
    exported = yaml.safe_load(export_inventory(session, OPERATOR, kind=ImportKind.UPLINKS, fmt=DataFormat.YAML))
    by_name = {u["name"]: u for u in exported["uplinks"]}
    assert by_name["astinet-500"]["probe_address"] == "203.0.113.1"
    assert by_name["astinet-500"]["sla_restitution_cap_percent"] == 100
    assert by_name["iconplus-300"]["probe_address"] == "gw.iconpln.invalid"


def test_a_bad_probe_address_is_reported_on_its_row(session: Session) -> None:
    bad = UPLINKS.replace("203.0.113.1", "203.0.113.300")
    report = import_inventory(session, OPERATOR, kind=ImportKind.UPLINKS, fmt=DataFormat.YAML, content=bad,
                              dry_run=False)
    assert not report.applied
    assert any("203.0.113.300" in e.reason and e.field == "probe_address" for e in report.errors), report.errors
