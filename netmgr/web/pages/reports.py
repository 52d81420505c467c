"""Finance report pages: the monthly bandwidth report (charts, recommendations, close month, downloads) and
the budget year (pagu, spend so far, projection, contract reminders).

Browser → handler → ``netmgr.services.periods`` / ``budget`` (one report per request) → template; the files
come from ``netmgr.reports_export`` exactly as the API's. Agency viewers see only their own office's rows.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.responses import Response

from netmgr import formats, localtime
from netmgr.errors import Conflict, ValidationFailed
from netmgr.models.base import utcnow
from netmgr.reports_export import texts, to_csv, to_pdf, to_xlsx
from netmgr.schemas.finance import BudgetSet
from netmgr.security.permissions import Permission
from netmgr.services import budget, periods, reports
from netmgr.web import i18n, nav
from netmgr.web.charts import BarChart, bar_chart
from netmgr.web.context import CsrfChecked, FormDep, Page, PageContext
from netmgr.web.labels import BILLING_MODELS, _
from netmgr.web.pages import int_or_none, page_router, query

router = page_router()

EXPORTS = {
    "csv": ("text/csv; charset=utf-8", to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx),
    "pdf": ("application/pdf", None),
}


def ensure_nav(registry: nav.NavRegistry | None = None) -> None:
    """Register "Laporan/Reports" once (several apps may share a process)."""
    registry = registry or nav.NAV
    item = nav.NavItem("reports", _("Reports"), "/reports", Permission.REPORTS_READ, 50, labels={"id": "Laporan"})
    if item.key not in registry:
        registry.register(item)


def _recommendations(ctx: PageContext, report: dict[str, Any]) -> list[texts.Recommendation]:
    """The report's recommendations in the reader's language, each with its rupiah effect spelled out."""
    return texts.recommendations(report, ctx.lang)


def _uplink_chart(ctx: PageContext, report: dict[str, Any]) -> BarChart:
    t = ctx.settings.finance
    return bar_chart(
        [(u["name"], [u["avg_utilisation_percent"], u["p95_utilisation_percent"]]) for u in report["uplinks"]],
        [(ctx._("average"), "avg"), (ctx._("95th percentile"), "p95")],
        format_value=lambda v: f"{i18n.format_number(round(v), ctx.lang)} %", top=100.0,
        guides=[(t.downgrade_below_percent, ctx._("right-size below")),
                (t.saturated_above_percent, ctx._("saturated above"))])


def _agency_chart(ctx: PageContext, report: dict[str, Any]) -> BarChart:
    return bar_chart(
        [(a["code"], [a["cost_by_allocation_idr"], a["cost_by_use_idr"]]) for a in report["agencies"]],
        [(ctx._("by allocation"), "alloc"), (ctx._("by use"), "use")],
        format_value=lambda v: i18n.format_rupiah(v, ctx.lang))


def _month_or_default(ctx: PageContext, raw: str | None) -> tuple[date, str | None]:
    today = localtime.local_today(ctx.settings.timezone)
    try:
        return reports.parse_month(raw, today=today), None
    except ValidationFailed:
        message = ctx._("%(value)s is not a month like 2025-05; showing last month.", value=raw or "")
        return reports.parse_month(None, today=today), message


@router.get("/reports")
def monthly_report_page(ctx: Page) -> Response:
    actor = ctx.signed_in
    month, problem = _month_or_default(ctx, query(ctx, "month"))
    result = periods.monthly_report(ctx.db, actor, month, ctx.settings)
    report = result.report
    viewer = not budget.sees_regency_wide(actor)
    today = localtime.local_today(ctx.settings.timezone)
    ended = reports.month_end(month) < today
    sla = [] if viewer else budget.sla_report(ctx.db, actor, month, tz=ctx.settings.timezone)
    reminders = [] if viewer else budget.due_reminders(ctx.db, actor, ctx.settings.finance, today=today)
    key = reports.month_key(month)
    return ctx.render(
        "reports/monthly.html", title=ctx._("Bandwidth report %(month)s", month=formats.month_name(key, ctx.lang)),
        month=key,
        month_date=month, report=report, closed=result.closed, ended=ended, problem=problem,
        viewer=viewer, can_close=ctx.can(Permission.FINANCE_MANAGE) and ended and result.closed is None,
        previous=reports.month_key(reports.previous_month(month)),
        following=reports.month_key(reports.month_end(month) + timedelta(days=1)),
        recommendations=_recommendations(ctx, report), sla=sla, reminders=reminders,
        uplink_chart=_uplink_chart(ctx, report) if report["uplinks"] else None,
        agency_chart=_agency_chart(ctx, report) if report["agencies"] else None,
        billing=BILLING_MODELS, downloads=list(EXPORTS))


@router.post("/reports/close", dependencies=[CsrfChecked])
def close_month(ctx: Page, form: FormDep) -> Response:
    actor = ctx.signed_in
    actor.require(Permission.FINANCE_MANAGE)
    raw = form.get("month")
    month, problem = _month_or_default(ctx, raw if isinstance(raw, str) else None)
    key = reports.month_key(month)
    if problem:
        ctx.flash(problem, "error")
        return ctx.redirect("/reports")
    try:
        row = periods.close_month(ctx.db, actor, month, ctx.settings)
    except ValidationFailed:
        ctx.db.rollback()
        ctx.flash(ctx._("%(month)s has not ended yet; close it after its last day.", month=key), "error")
    except Conflict:
        ctx.db.rollback()
        ctx.flash(ctx._("%(month)s is already closed.", month=key), "error")
    else:
        ctx.flash(ctx._("Month %(month)s closed; its figures no longer change (SHA-256 %(sha)s…).", month=key,
                        sha=row.sha256[:12]))
    return ctx.redirect(f"/reports?month={key}")


def _download(ctx: PageContext, kind: str) -> Response:
    month, _problem = _month_or_default(ctx, query(ctx, "month"))
    result = periods.monthly_report(ctx.db, ctx.signed_in, month, ctx.settings)
    media, export = EXPORTS[kind]
    now, tz = utcnow(), ctx.settings.timezone
    content = (to_pdf(result.report, regency=ctx.settings.regency_name, lang=ctx.lang, generated_at=now, tz=tz)
               if export is None else export(result.report, lang=ctx.lang, generated_at=now, tz=tz))
    name = f"laporan-bandwidth-{result.report['month']}.{kind}"
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/reports/monthly.csv")
def download_csv(ctx: Page) -> Response:
    return _download(ctx, "csv")


@router.get("/reports/monthly.xlsx")
def download_xlsx(ctx: Page) -> Response:
    return _download(ctx, "xlsx")


@router.get("/reports/monthly.pdf")
def download_pdf(ctx: Page) -> Response:
    return _download(ctx, "pdf")


def _budget_page(ctx: PageContext, year: int, *, pagu_error: str | None = None, pagu_value: str = "",
                 status_code: int = 200) -> Response:
    actor = ctx.signed_in
    status = budget.budget_status(ctx.db, actor, year, ctx.settings)
    contracts = budget.contract_register(ctx.db, actor, ctx.settings.finance)
    months = [(reports.month_key(m.month), m) for m in status.months]
    chart = bar_chart([(key, [m.cost_idr]) for key, m in months],
                      [(ctx._("spend per month"), "alloc")],
                      format_value=lambda v: i18n.format_rupiah(v, ctx.lang))
    return ctx.render("reports/budget.html", status_code=status_code, title=ctx._("Budget year %(year)s", year=year),
                      year=year, status=status, months=months, contracts=contracts, chart=chart,
                      can_set=ctx.can(Permission.FINANCE_MANAGE), pagu_error=pagu_error,
                      pagu_value=pagu_value or (str(status.pagu_idr) if status.pagu_idr is not None else ""))


@router.get("/reports/budget")
def budget_page(ctx: Page) -> Response:
    year = int_or_none(query(ctx, "year")) or localtime.local_today(ctx.settings.timezone).year
    return _budget_page(ctx, max(2000, min(2100, year)))


@router.post("/reports/budget", dependencies=[CsrfChecked])
def set_budget(ctx: Page, form: FormDep) -> Response:
    actor = ctx.signed_in
    actor.require(Permission.FINANCE_MANAGE)
    year = int_or_none(str(form.get("year") or "")) or localtime.local_today(ctx.settings.timezone).year
    raw = str(form.get("pagu_idr") or "").replace(".", "").replace(",", "").replace("Rp", "").strip()
    pagu = int_or_none(raw)
    if pagu is None or pagu < 0:
        return _budget_page(ctx, year, pagu_error=ctx._("Enter the pagu in whole rupiah, e.g. 520000000."),
                            pagu_value=str(form.get("pagu_idr") or ""), status_code=422)
    note = form.get("note")
    budget.set_budget(ctx.db, actor, year, BudgetSet(pagu_idr=pagu, note=note if isinstance(note, str) else ""))
    ctx.flash(ctx._("Pagu %(year)s saved: %(amount)s", year=year, amount=i18n.format_rupiah(pagu, ctx.lang)))
    return ctx.redirect(f"/reports/budget?year={year}")
