"""/api/v1/reports: monthly bandwidth finance reports (JSON, CSV, XLSX, PDF), closed months, budget, contracts.

Request → ``netmgr.services.periods`` / ``budget`` → JSON or a file. Agency viewers get their own office only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from netmgr import localtime
from netmgr.api.deps import CurrentActor, SessionDep, SettingsDep, require
from netmgr.models.base import utcnow
from netmgr.reports_export import to_csv, to_pdf, to_xlsx
from netmgr.schemas.finance import BudgetSet
from netmgr.security.permissions import Actor, Permission
from netmgr.services import budget, periods, reports

router = APIRouter(prefix="/reports", tags=["reports"])
FinanceManager = Annotated[Actor, require(Permission.FINANCE_MANAGE)]
Month = Annotated[str | None, Query(description="YYYY-MM; the previous month when left out",
                                    pattern=r"^\d{4}-\d{2}$")]
Lang = Annotated[Literal["id", "en"], Query(description="Language of the file: id (Bahasa Indonesia) or en")]


class CloseMonth(BaseModel):
    month: str = Field(pattern=r"^\d{4}-\d{2}$")


class BudgetYearSet(BudgetSet):
    year: int = Field(ge=2000, le=2100)


class ClosedRead(BaseModel):
    month: str
    closed_at: Any
    closed_by: str
    sha256: str


def _report(session: Any, actor: Actor, month: str | None, settings: Any) -> periods.MonthReport:
    today = localtime.local_today(settings.timezone)
    return periods.monthly_report(session, actor, reports.parse_month(month, today=today), settings)


@router.get("/monthly")
def monthly(session: SessionDep, actor: CurrentActor, settings: SettingsDep, month: Month = None) -> dict[str, Any]:
    result = _report(session, actor, month, settings)
    return {**result.report, "closed": result.closed is not None,
            "sha256": result.closed.sha256 if result.closed else None}


@router.get("/monthly/agencies/{agency_id}")
def agency_statement(agency_id: int, session: SessionDep, actor: CurrentActor, settings: SettingsDep,
                     month: Month = None) -> dict[str, Any]:
    """One agency's monthly statement (an agency viewer may ask only for their own)."""
    result = _report(session, actor, month, settings)
    return reports.agency_statement(result.report, actor, agency_id)


def _file(content: bytes, media: str, name: str) -> Response:
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/monthly.csv", response_class=Response)
def monthly_csv(session: SessionDep, actor: CurrentActor, settings: SettingsDep, month: Month = None,
                   lang: Lang = "id") -> Response:
    result = _report(session, actor, month, settings)
    return _file(to_csv(result.report, lang=lang, generated_at=utcnow(), tz=settings.timezone),
                 "text/csv; charset=utf-8",
                 f"laporan-bandwidth-{result.report['month']}.csv")


@router.get("/monthly.xlsx", response_class=Response)
def monthly_xlsx(session: SessionDep, actor: CurrentActor, settings: SettingsDep, month: Month = None,
                    lang: Lang = "id") -> Response:
    result = _report(session, actor, month, settings)
    return _file(to_xlsx(result.report, lang=lang, generated_at=utcnow(), tz=settings.timezone),
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 f"laporan-bandwidth-{result.report['month']}.xlsx")


@router.get("/monthly.pdf", response_class=Response)
def monthly_pdf(session: SessionDep, actor: CurrentActor, settings: SettingsDep, month: Month = None,
                   lang: Lang = "id") -> Response:
    result = _report(session, actor, month, settings)
    return _file(to_pdf(result.report, regency=settings.regency_name, lang=lang, generated_at=utcnow(),
                        tz=settings.timezone), "application/pdf",
                 f"laporan-bandwidth-{result.report['month']}.pdf")


@router.get("/closed", response_model=list[ClosedRead])
def closed_months(session: SessionDep, actor: CurrentActor) -> list[ClosedRead]:
    return [ClosedRead(month=reports.month_key(c.month), closed_at=c.closed_at, closed_by=c.closed_by,
                       sha256=c.sha256) for c in periods.list_closed(session, actor)]


@router.post("/closed", response_model=ClosedRead, status_code=status.HTTP_201_CREATED)
def close_month(data: CloseMonth, session: SessionDep, actor: FinanceManager, settings: SettingsDep) -> ClosedRead:
    row = periods.close_month(session, actor, reports.parse_month(data.month), settings)
    return ClosedRead(month=reports.month_key(row.month), closed_at=row.closed_at, closed_by=row.closed_by,
                      sha256=row.sha256)


@router.get("/budget")
def budget_status(session: SessionDep, actor: CurrentActor, settings: SettingsDep,
                  year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> dict[str, Any]:
    """Spend against the year's pagu and the projected year end (not for agency viewers: it is regency-wide)."""
    s = budget.budget_status(session, actor, year or localtime.local_today(settings.timezone).year, settings)
    return {"year": s.year, "pagu_idr": s.pagu_idr, "spent_idr": s.spent_idr, "projected_idr": s.projected_idr,
            "remaining_idr": s.remaining_idr, "over_budget": s.over_budget,
            "months": [{"month": reports.month_key(m.month), "cost_idr": m.cost_idr, "closed": m.closed,
                        "projected": m.projected} for m in s.months]}


@router.post("/budget", status_code=status.HTTP_200_OK)
def set_budget(data: BudgetYearSet, session: SessionDep, actor: FinanceManager) -> dict[str, Any]:
    row = budget.set_budget(session, actor, data.year, BudgetSet(pagu_idr=data.pagu_idr, note=data.note))
    return {"year": row.year, "pagu_idr": row.pagu_idr, "note": row.note}


@router.get("/contracts")
def contracts(session: SessionDep, actor: CurrentActor, settings: SettingsDep) -> list[dict[str, Any]]:
    return [c.__dict__ for c in budget.contract_register(session, actor, settings.finance)]


@router.get("/sla")
def sla(session: SessionDep, actor: CurrentActor, settings: SettingsDep, month: Month = None) -> list[dict[str, Any]]:
    month_start = reports.parse_month(month, today=localtime.local_today(settings.timezone))
    return [e.__dict__ for e in budget.sla_report(session, actor, month_start,
                                                  tz=settings.timezone)]
