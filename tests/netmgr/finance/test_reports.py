"""Monthly reports: 95th percentiles with known answers, exact rupiah reconciliation, recommendations."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from netmgr.models import HotspotSession
from netmgr.models.enums import Role
from netmgr.models.hotspot import SessionStatus
from netmgr.schemas.finance import AllocationIn, VersionCreate
from netmgr.security.permissions import SYSTEM, Actor
from netmgr.services import periods, plans, reports
from netmgr.settings import Settings
from tests.captive_portal import portal_support as ps
from tests.netmgr.finance.conftest import MONTH, STANDARD_RATES, World, samples, standard_month
from tests.zones import ZONES, local


def independent_p95(values: list[float]) -> float:
    """The smallest sample that at most 5 % (rounded down) of the samples exceed — counted, not indexed."""
    allowed_above = len(values) * 5 // 100
    for candidate in sorted(set(values)):
        if sum(1 for v in values if v > candidate) <= allowed_above:
            return candidate
    raise AssertionError("no candidate")


@given(st.lists(st.floats(min_value=0, max_value=1e10, allow_nan=False), min_size=1, max_size=400))
def test_percentile_95_discards_the_top_five_percent_and_takes_the_highest_left(values: list[float]) -> None:
    assert reports.percentile_95(values) == independent_p95(values)


@given(st.integers(min_value=0, max_value=10**12),
       st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=40))
def test_largest_remainder_shares_add_up_to_the_total_exactly(total: int, weights: list[float]) -> None:
    shares = reports.largest_remainder(total, weights)
    assert sum(shares) == total
    assert all(s >= 0 for s in shares)
    whole = sum(weights)
    if whole > 0:
        for share, weight in zip(shares, weights, strict=True):
            assert abs(share - total * weight / whole) < 1 + 1e-6 * total  # never more than a rupiah off


def test_largest_remainder_gives_leftover_rupiah_to_the_biggest_fractions() -> None:
    assert reports.largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert reports.largest_remainder(10, [0.2, 0.5, 0.3]) == [2, 5, 3]
    assert reports.largest_remainder(7, [0, 0]) == [4, 3]


def test_month_report_matches_independently_computed_usage(session: Session, world: World,
                                                            settings: Settings) -> None:
    standard_month(session, world)
    report = periods.compute(session, MONTH, settings)
    by_name = {u["name"]: u for u in report["uplinks"]}
    telkom = [o for _, o in samples(STANDARD_RATES["telkom"], MONTH)]  # download is "in" on the uplink
    telkom_in = [i for i, _ in samples(STANDARD_RATES["telkom"], MONTH)]
    assert by_name["telkom-astinet-500"]["samples"] == 28 * 288
    assert by_name["telkom-astinet-500"]["p95_mbps"] == round(max(independent_p95(telkom_in),
                                                                  independent_p95(telkom)) / 1e6, 3)
    assert by_name["telkom-astinet-500"]["p95_mbps"] == 300.0
    gb = sum(i + o for i, o in samples(STANDARD_RATES["telkom"], MONTH)) * 300 / 8 / 1e9
    assert by_name["telkom-astinet-500"]["gb"] == round(gb, 3)
    # Price with PPN: 27,500,000 + 11 % = 30,525,000.
    assert by_name["telkom-astinet-500"]["cost_idr"] == 30_525_000
    assert by_name["iconplus-200"]["cost_idr"] == 9_990_000

    agencies = {a["code"]: a for a in report["agencies"]}
    inspektorat = [o for _, o in samples(STANDARD_RATES["INSPEKTORAT"], MONTH)]
    assert agencies["INSPEKTORAT"]["p95_mbps"] == round(independent_p95(inspektorat) / 1e6, 3)
    assert agencies["INSPEKTORAT"]["p95_mbps"] < 1.0  # the 9 Mbps spikes are in the discarded 5 %
    assert agencies["DUKCAPIL"]["p95_mbps"] == 29.6
    assert agencies["DUKCAPIL"]["use_of_mir_percent"] == round(100 * 29.6 / 30, 1)


def test_agency_shares_add_up_to_the_uplink_totals_to_the_rupiah(session: Session, world: World,
                                                                 settings: Settings) -> None:
    standard_month(session, world)
    report = periods.compute(session, MONTH, settings)
    total = 30_525_000 + 9_990_000
    assert report["totals"]["cost_idr"] == total
    assert sum(a["cost_by_allocation_idr"] for a in report["agencies"]) == total
    assert sum(a["cost_by_use_idr"] for a in report["agencies"]) == total
    # By allocation the CIRs 20 : 10 : 50 split 40,515,000 → 10,128,750 / 5,064,375 / 25,321,875.
    assert [a["cost_by_allocation_idr"] for a in report["agencies"]] == [10_128_750, 5_064_375, 25_321_875]
    assert sum(h["cost_idr"] for h in report["hotspots"]) in (0, report["agencies"][2]["cost_by_use_idr"])


def test_recommendations_downgrade_the_idle_uplink_and_move_idle_cir_to_the_office_at_its_ceiling(
        session: Session, world: World, settings: Settings) -> None:
    standard_month(session, world)
    report = periods.compute(session, MONTH, settings)
    kinds = {(r["kind"], r["subject"]): r for r in report["recommendations"]}
    down = kinds[("downgrade_uplink", "iconplus-200")]
    # 40 Mbps / 0.7 = 57 → a 60 Mbps contract; 140 Mbps fewer at 9,990,000 / 200 per Mbps = 6,993,000.
    assert (down["to_mbps"], down["saving_idr"]) == (60, 6_993_000)
    assert ("downgrade_uplink", "telkom-astinet-500") not in kinds
    move = kinds[("move_cir", "Internet Pemkab")]
    assert move["from"] == ["INSPEKTORAT"] and move["to"] == ["DUKCAPIL"]
    assert move["mbps"] == 9.0 and move["saving_idr"] > 0


def test_month_on_month_change_compares_with_the_previous_month(session: Session, world: World,
                                                                settings: Settings) -> None:
    standard_month(session, world, date(2025, 1, 1))
    standard_month(session, world, MONTH, scale=0.5)
    report = periods.compute(session, MONTH, settings)
    dukcapil = next(a for a in report["agencies"] if a["code"] == "DUKCAPIL")
    # February has 28 days against January's 31, at half the rate.
    assert dukcapil["previous_gb"] is not None
    assert dukcapil["change_percent"] == round(100 * (dukcapil["gb"] - dukcapil["previous_gb"])
                                               / dukcapil["previous_gb"], 1)
    assert dukcapil["change_percent"] < -50


def test_agency_viewer_sees_only_their_own_office_in_the_report(session: Session, world: World,
                                                                settings: Settings) -> None:
    standard_month(session, world)
    viewer = Actor(user_id=None, username="viewer", role=Role.AGENCY_VIEWER, agency_id=world.agency_idle)
    scoped = periods.monthly_report(session, viewer, MONTH, settings).report
    assert [a["code"] for a in scoped["agencies"]] == ["INSPEKTORAT"]
    assert scoped["uplinks"] == [] and scoped["hotspots"] == [] and scoped["totals"]["cost_idr"] is None
    full = periods.monthly_report(session, SYSTEM, MONTH, settings).report
    assert len(full["agencies"]) == 3


def test_agency_viewer_sees_a_shared_recommendation_only_as_it_concerns_their_office(
        session: Session, world: World, settings: Settings) -> None:
    standard_month(session, world)
    full = periods.monthly_report(session, SYSTEM, MONTH, settings).report
    move = next(r for r in full["recommendations"] if r["kind"] == "move_cir")
    assert "INSPEKTORAT" in move["from"] and "DUKCAPIL" in move["message"]
    viewer = Actor(user_id=None, username="viewer", role=Role.AGENCY_VIEWER, agency_id=world.agency_idle)
    scoped = periods.monthly_report(session, viewer, MONTH, settings).report
    [mine] = [r for r in scoped["recommendations"] if r["kind"] == "move_cir"]
    assert mine["subject"] == "INSPEKTORAT" and mine["to"] == []
    others = {a["code"] for a in full["agencies"]} - {"INSPEKTORAT"}
    assert not any(code in mine["message"] for code in others), mine["message"]


@pytest.mark.parametrize("tz", ZONES)
def test_a_report_month_runs_from_local_midnight_to_local_midnight(session: Session, world: World,
                                                                   settings: Settings, tz: str) -> None:
    local_settings = settings.model_copy(update={"timezone": tz})
    h = ps.hotspot(session)
    assert h.gateway_device_id is not None
    for n, started in enumerate([local(tz, 2026, 1, 31, 23, 59), local(tz, 2026, 2, 1, 0, 0)]):
        session.add(HotspotSession(hotspot_id=h.id, nas_device_id=h.gateway_device_id, acct_session_id=f"edge-{n}",
                                   mac=f"02:00:00:00:00:0{n}", status=SessionStatus.CLOSED, started_at=started,
                                   last_update_at=started, session_time_s=60))
    version = plans.create_version(session, SYSTEM, world.plan, VersionCreate(note="Februari", allocations=[
        AllocationIn(name="DUKCAPIL", agency_id=world.agency_busy, target="10.20.8.0/24", cir_mbps=25, mir_mbps=30)]))
    plans.activate_without_push(session, SYSTEM, version.id)
    version.activated_at = local(tz, 2026, 2, 1, 0, 0)  # 31 January 16:00 UTC in WITA
    session.commit()

    january = periods.compute(session, date(2026, 1, 1), local_settings)
    february = periods.compute(session, date(2026, 2, 1), local_settings)

    assert [(x["id"], x["sessions"]) for x in january["hotspots"]] == [(h.id, 1)]  # 23:59 on the 31st
    assert [(x["id"], x["sessions"]) for x in february["hotspots"]] == [(h.id, 1)]  # 00:00 on the 1st
    assert [p["version"] for p in january["plans"]] == [1]
    assert [p["version"] for p in february["plans"]] == [version.number]
