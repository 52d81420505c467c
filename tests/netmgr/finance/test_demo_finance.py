"""The demo seeds a plan, a pagu and usage, so last month's report exists on a fresh demo; its contracts are
dated from the seeding day, so the demo never ages out."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.demo.finance import seed_finance
from netmgr.demo.seed import DEMO_ACTOR, seed_demo
from netmgr.models import UplinkContractHistory
from netmgr.services import budget, periods, reports
from netmgr.settings import Settings


def test_fresh_demo_has_last_months_report_with_dukcapil_at_its_ceiling(session: Session,
                                                                        settings: Settings) -> None:
    seed_demo(session, snmp_port=16161, timezone=settings.timezone)
    session.commit()
    assert seed_finance(session, DEMO_ACTOR, timezone=settings.timezone) == {"usage_rows": 0}  # idempotent
    month = reports.parse_month(None, today=datetime.now(UTC).date())  # last month
    report = periods.compute(session, month, settings)
    rows = {a["code"]: a for a in report["agencies"]}
    assert len(rows) == 16 and report["totals"]["cost_idr"] == 30_525_000 + 9_990_000
    assert rows["DUKCAPIL"]["use_of_mir_percent"] >= 95
    assert rows["INSPEKTORAT"]["use_of_cir_percent"] < 20
    assert any(r["kind"] == "move_cir" for r in report["recommendations"])
    assert rows["DUKCAPIL"]["previous_gb"] is not None


def test_demo_contracts_are_dated_from_the_seeding_day_and_an_aged_demo_renews_them(session: Session,
                                                                                     settings: Settings) -> None:
    seeded = seed_demo(session, snmp_port=16161, usage_months=None, today=date(2031, 1, 20),
                       timezone=settings.timezone)
    session.commit()
    assert seeded.created["uplinks"] == 2
    december = periods.compute(session, date(2030, 12, 1), settings)
    assert [u["contract_status"] for u in december["uplinks"]] == ["full", "full"]
    assert december["totals"]["cost_idr"] == 30_525_000 + 9_990_000
    # started again two and a half years later: both demo contracts have ended since, and are renewed
    later = date(2033, 6, 2)
    again = seed_demo(session, snmp_port=16161, usage_months=None, today=later, timezone=settings.timezone)
    session.commit()
    assert (again.total_created, again.contracts_renewed) == (0, 2)
    assert len(list(session.scalars(select(UplinkContractHistory)))) == 2
    may = periods.compute(session, date(2033, 5, 1), settings)
    assert [u["contract_status"] for u in may["uplinks"]] == ["full", "full"]
    assert may["totals"]["cost_idr"] == 30_525_000 + 9_990_000
    assert not [c for c in budget.due_reminders(session, DEMO_ACTOR, settings.finance, today=later) if c.expired]
    # the same day once more: nothing to create, nothing to renew
    assert seed_demo(session, snmp_port=16161, usage_months=None, today=later,
                     timezone=settings.timezone).contracts_renewed == 0


def test_demo_usage_months_are_cut_at_the_installations_time_zone(session: Session) -> None:
    """A demo run with NETMGR_TIMEZONE=Asia/Jayapura (WIT, UTC+9) backfills from 1 November 00:00 WIT, and each
    row's ``day`` is the WIT day, as the collectors' rollup would file it (not WIB's)."""
    from netmgr.demo.finance import backfill_usage
    from netmgr.models import Traffic5m

    seed_demo(session, snmp_port=16161, usage_months=None, timezone="Asia/Jayapura")
    now = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)  # 09:30 WIT on 1 December
    assert backfill_usage(session, now=now, months=1, timezone="Asia/Jayapura") > 0
    first = session.scalars(select(Traffic5m).order_by(Traffic5m.bucket_start).limit(1)).one()
    assert first.bucket_start.replace(tzinfo=UTC) == datetime(2026, 10, 31, 15, 0, tzinfo=UTC)
    assert first.day == date(2026, 11, 1)
    last = session.scalars(select(Traffic5m).order_by(Traffic5m.bucket_start.desc()).limit(1)).one()
    assert last.day == date(2026, 12, 1)  # 00:25 UTC is already 1 December in WIT (still 30 November in WIB)
