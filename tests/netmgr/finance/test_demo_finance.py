"""The demo seeds a plan, a pagu and usage, so last month's report exists on a fresh demo."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from netmgr.demo.finance import seed_finance
from netmgr.demo.seed import DEMO_ACTOR, seed_demo
from netmgr.services import periods, reports
from netmgr.settings import Settings


def test_fresh_demo_has_last_months_report_with_dukcapil_at_its_ceiling(session: Session,
                                                                        settings: Settings) -> None:
    seed_demo(session, snmp_port=16161)
    session.commit()
    assert seed_finance(session, DEMO_ACTOR) == {"usage_rows": 0}  # idempotent
    month = reports.parse_month(None, today=datetime.now(UTC).date())  # last month
    report = periods.compute(session, month, settings)
    rows = {a["code"]: a for a in report["agencies"]}
    assert len(rows) == 16 and report["totals"]["cost_idr"] == 30_525_000 + 9_990_000
    assert rows["DUKCAPIL"]["use_of_mir_percent"] >= 95
    assert rows["INSPEKTORAT"]["use_of_cir_percent"] < 20
    assert any(r["kind"] == "move_cir" for r in report["recommendations"])
    assert rows["DUKCAPIL"]["previous_gb"] is not None
