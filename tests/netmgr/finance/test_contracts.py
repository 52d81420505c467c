"""Money only within contracts: an uplink bills only the days a contract covers, prorated by days, each part
of a month at its own contract's price; a month without a contract costs nothing and says so. The budget
year's projection uses the same periods; an expired contract raises a reminder; a closed month never moves.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.models import UplinkContractHistory
from netmgr.models.enums import BillingModel
from netmgr.reports_tasks import send_contract_reminders, smtp_sender
from netmgr.schemas.finance import BudgetSet
from netmgr.schemas.inventory import UplinkUpdate
from netmgr.security.permissions import SYSTEM
from netmgr.services import budget, periods, uplinks
from netmgr.services.contracts import ContractTerms, billing_periods
from netmgr.settings import Settings
from tests.netmgr.finance.conftest import MONTH, World, standard_month
from tests.servers.smtp import smtp_server

TELKOM = 27_500_000  # a month before PPN; February 2025 has 28 days
ICON = 9_000_000


def _edit(session: Session, uplink_id: int, **changes: Any) -> None:
    uplinks.update_uplink(session, SYSTEM, uplink_id, UplinkUpdate(**changes))
    session.commit()


def _row(report: dict[str, Any], uplink_id: int) -> dict[str, Any]:
    return next(u for u in report["uplinks"] if u["id"] == uplink_id)


def _report(session: Session, settings: Settings, month: date = MONTH) -> dict[str, Any]:
    return periods.compute(session, month, settings)


def test_contract_starting_mid_month_bills_only_the_days_from_its_start(session: Session, world: World,
                                                                        settings: Settings) -> None:
    _edit(session, world.telkom, contract_start=date(2025, 2, 15))
    row = _row(_report(session, settings), world.telkom)
    # 15..28 February: 14 of 28 days
    assert (row["price_idr"], row["tax_idr"], row["cost_idr"]) == (13_750_000, 1_512_500, 15_262_500)
    assert (row["contract_days"], row["days_in_month"], row["contract_status"]) == (14, 28, "partial")
    assert row["contract_periods"] == [{"start": "2025-02-15", "end": "2025-02-28", "days": 14,
                                        "monthly_price_idr": TELKOM, "billing_model": "flat",
                                        "price_idr": 13_750_000, "tax_idr": 1_512_500}]


def test_contract_ending_mid_month_bills_only_the_days_until_its_end(session: Session, world: World,
                                                                     settings: Settings) -> None:
    _edit(session, world.iconplus, contract_end=date(2025, 2, 10))
    report = _report(session, settings)
    row = _row(report, world.iconplus)
    # 9.000.000 × 10 / 28 = 3.214.285,71 → 3.214.286; PPN 353.571,46 → 353.571
    assert (row["price_idr"], row["tax_idr"], row["cost_idr"]) == (3_214_286, 353_571, 3_567_857)
    assert row["contract_days"] == 10 and row["contract_status"] == "partial"
    assert report["totals"]["cost_idr"] == 30_525_000 + 3_567_857
    # the month after, Icon+ costs nothing
    march = _row(_report(session, settings, date(2025, 3, 1)), world.iconplus)
    assert (march["cost_idr"], march["contract_status"], march["contract_periods"]) == (0, "none", [])


def test_renewal_at_a_new_price_mid_month_bills_each_part_at_its_own_price(session: Session, world: World,
                                                                           settings: Settings) -> None:
    _edit(session, world.telkom, contract_start=date(2025, 1, 1), contract_end=date(2025, 2, 14))
    _edit(session, world.telkom, contract_start=date(2025, 2, 15), contract_end=date(2026, 2, 14),
          monthly_price_idr=22_000_000)
    row = _row(_report(session, settings), world.telkom)
    assert [(p["start"], p["end"], p["monthly_price_idr"], p["price_idr"]) for p in row["contract_periods"]] == [
        ("2025-02-01", "2025-02-14", TELKOM, 13_750_000), ("2025-02-15", "2025-02-28", 22_000_000, 11_000_000)]
    assert (row["price_idr"], row["tax_idr"]) == (24_750_000, 1_512_500 + 1_210_000)
    assert row["contract_days"] == 28 and row["contract_status"] == "full"
    # January is billed whole at the old price, March whole at the new one
    assert _row(_report(session, settings, date(2025, 1, 1)), world.telkom)["price_idr"] == TELKOM
    assert _row(_report(session, settings, date(2025, 3, 1)), world.telkom)["price_idr"] == 22_000_000
    # fixing a typo in the new terms (same start) replaces them: no second archived row, no double billing
    _edit(session, world.telkom, monthly_price_idr=22_500_000)
    assert len(list(session.scalars(select(UplinkContractHistory)))) == 1
    fixed = _row(_report(session, settings), world.telkom)
    assert fixed["price_idr"] == 13_750_000 + 11_250_000 and fixed["contract_days"] == 28


def test_start_date_moved_later_alone_is_a_correction_and_bills_nothing_before_it(session: Session, world: World,
                                                                                  settings: Settings) -> None:
    _edit(session, world.telkom, contract_start=date(2025, 2, 1))
    _edit(session, world.telkom, contract_start=date(2025, 2, 15))  # mistyped: it began on the 15th
    assert not list(session.scalars(select(UplinkContractHistory)))
    assert _row(_report(session, settings), world.telkom)["contract_days"] == 14


def test_gap_between_contracts_costs_nothing(session: Session, world: World, settings: Settings) -> None:
    _edit(session, world.telkom, contract_start=date(2025, 1, 1), contract_end=date(2025, 2, 5))
    _edit(session, world.telkom, contract_start=date(2025, 2, 20), contract_end=date(2026, 2, 19))
    row = _row(_report(session, settings), world.telkom)
    # 1..5 and 20..28 February: 14 days billed, the 14 days between cost nothing
    assert [(p["start"], p["end"]) for p in row["contract_periods"]] == [("2025-02-01", "2025-02-05"),
                                                                         ("2025-02-20", "2025-02-28")]
    assert row["price_idr"] == 13_750_000 and row["contract_days"] == 14


def test_month_before_any_contract_costs_nothing_and_the_report_says_so(session: Session, world: World,
                                                                        settings: Settings) -> None:
    standard_month(session, world)  # traffic flows, but nobody has signed anything yet
    _edit(session, world.telkom, contract_start=date(2025, 3, 1))
    _edit(session, world.iconplus, contract_start=date(2025, 3, 1))
    report = _report(session, settings)
    for uplink_id in (world.telkom, world.iconplus):
        row = _row(report, uplink_id)
        assert row["gb"] > 0
        assert (row["price_idr"], row["tax_idr"], row["cost_idr"]) == (0, 0, 0)
        assert (row["contract_days"], row["contract_status"]) == (0, "none")
    assert report["totals"]["cost_idr"] == 0 and report["totals"]["by_use_idr"] == 0
    # no advice to downgrade a line nobody pays for this month
    assert not [r for r in report["recommendations"] if r["kind"] == "downgrade_uplink"]


def test_per_gb_and_burstable_charges_are_prorated_as_a_whole(session: Session, world: World,
                                                              settings: Settings) -> None:
    standard_month(session, world)
    whole = _row(_report(session, settings), world.telkom)
    _edit(session, world.telkom, billing_model=BillingModel.PER_GB, price_per_gb_idr=1_000)
    per_gb = _row(_report(session, settings), world.telkom)
    expected = TELKOM + round(whole["gb"] * 1_000)
    assert abs(per_gb["price_idr"] - expected) <= 1
    _edit(session, world.telkom, contract_start=date(2025, 2, 22))  # 7 of 28 days
    quarter = _row(_report(session, settings), world.telkom)
    assert abs(quarter["price_idr"] - per_gb["price_idr"] / 4) <= 1


def test_closed_month_stays_byte_for_byte_the_same_after_a_contract_is_edited(session: Session, world: World,
                                                                              settings: Settings) -> None:
    standard_month(session, world)
    closed = periods.close_month(session, SYSTEM, MONTH, settings, today=date(2025, 3, 5))
    session.commit()
    frozen = periods.report_bytes(session, MONTH, settings)
    assert frozen == closed.content
    _edit(session, world.telkom, contract_start=date(2025, 1, 1), contract_end=date(2025, 2, 9))
    _edit(session, world.telkom, contract_start=date(2025, 2, 10), contract_end=date(2026, 2, 9),
          monthly_price_idr=20_000_000)
    _edit(session, world.iconplus, contract_end=date(2025, 2, 20))
    # recomputed, the month would now be billed in two parts for Telkom and in part for Icon+ …
    recomputed = periods.compute(session, MONTH, settings)
    assert [p["monthly_price_idr"] for p in _row(recomputed, world.telkom)["contract_periods"]] == [TELKOM,
                                                                                                   20_000_000]
    assert _row(recomputed, world.iconplus)["contract_days"] == 20
    assert periods.canonical_json(recomputed) != frozen
    # … but the closed month is what everyone sees, byte for byte
    assert periods.report_bytes(session, MONTH, settings) == frozen
    shown = periods.full_report(session, MONTH, settings)
    assert shown.closed is not None and periods.canonical_json(shown.report) == frozen
    assert [p["monthly_price_idr"] for p in _row(shown.report, world.telkom)["contract_periods"]] == [TELKOM]
    assert _row(shown.report, world.iconplus)["contract_days"] == 28


def test_budget_projection_prorates_contract_months_like_the_report(session: Session, world: World,
                                                                    settings: Settings) -> None:
    _edit(session, world.telkom, contract_start=date(2025, 1, 1), contract_end=date(2025, 6, 10))
    _edit(session, world.telkom, contract_start=date(2025, 6, 21), contract_end=date(2026, 6, 20),
          monthly_price_idr=30_000_000)
    _edit(session, world.iconplus, contract_start=date(2025, 4, 16))
    budget.set_budget(session, SYSTEM, 2025, BudgetSet(pagu_idr=500_000_000))
    status = budget.budget_status(session, SYSTEM, 2025, settings, today=date(2025, 1, 20))
    projected = {s.month: s.cost_idr for s in status.months if s.projected}
    for month in (date(2025, 3, 1), date(2025, 4, 1), date(2025, 6, 1), date(2025, 12, 1)):
        # no usage written: the report bills the base prices, exactly what the budget projects
        assert projected[month] == _report(session, settings, month)["totals"]["cost_idr"], month
    assert projected[date(2025, 3, 1)] == 30_525_000  # Icon+ not yet contracted
    assert projected[date(2025, 4, 1)] == 30_525_000 + 4_995_000  # Icon+ 15 of 30 days


def test_expired_contract_raises_a_reminder_until_it_is_renewed(session: Session, world: World,
                                                                settings: Settings) -> None:
    today = date(2026, 6, 1)  # Telkom ended 31 Dec 2025, Icon+ 28 Feb 2026: both long over
    due = {c.name: c for c in budget.due_reminders(session, SYSTEM, settings.finance, today=today)}
    assert set(due) == {"telkom-astinet-500", "iconplus-200"} and all(c.expired for c in due.values())
    _edit(session, world.telkom, contract_start=date(2026, 1, 1), contract_end=date(2027, 12, 31))
    due = {c.name: c for c in budget.due_reminders(session, SYSTEM, settings.finance, today=today)}
    assert set(due) == {"iconplus-200"}


def test_expired_contract_reminder_is_mailed_and_says_the_uplink_is_not_billed(session: Session, world: World,
                                                                               settings: Settings) -> None:
    with smtp_server() as box:
        configured = settings.model_copy(update={
            "notify": settings.notify.model_copy(update={"smtp_host": box.host, "smtp_port": box.port}),
            "finance": settings.finance.model_copy(update={"statement_recipients": ["bpkad@kotimkab.go.id"]})})
        assert send_contract_reminders(session, configured, smtp_sender(configured), today=date(2026, 6, 1)) == 1
    ((to, message),) = box.messages
    body = message.get_content()
    assert to == ["bpkad@kotimkab.go.id"] and "2 sudah berakhir" in message["Subject"]
    assert "iconplus-200 (PLN Icon Plus): KONTRAK SUDAH BERAKHIR 2026-02-28" in body
    assert "tidak ditagihkan" in body


@given(st.lists(st.tuples(st.integers(0, 70), st.integers(0, 40)), max_size=5))
def test_each_day_is_billed_once_by_the_latest_contract_that_covers_it(spans: list[tuple[int, int]]) -> None:
    origin = date(2025, 1, 10)
    contracts = [ContractTerms(origin + timedelta(days=a), origin + timedelta(days=a + n), 1_000 * (i + 1), 11.0,
                               "flat", None, None) for i, (a, n) in enumerate(spans)]
    month = date(2025, 2, 1)
    periods_ = billing_periods(contracts, month)
    billed = {p.first + timedelta(days=d): p.terms for p in periods_ for d in range(p.days)}
    assert sum(p.days for p in periods_) == len(billed)  # no day twice
    for offset in range(28):
        day = month + timedelta(days=offset)
        covering = [c for c in contracts if c.covers(day)]
        assert billed.get(day) is (covering[-1] if covering else None)
