"""The leaders' page (Wi-Fi Publik): what the free Wi-Fi gives citizens this month, and its open-data files.

Browser → handler → ``netmgr.services.leadership.monthly_dashboard`` (already suppressed) → charts → template;
the downloads are the service's open-data package, exactly as an open-data portal receives it.
"""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.responses import Response

from netmgr import localtime
from netmgr.errors import NotFound, ValidationFailed
from netmgr.security.permissions import Permission
from netmgr.services import leadership, reports
from netmgr.web import i18n, nav
from netmgr.web.charts import BarChart, HeatMap, bar_chart, heat_map
from netmgr.web.context import Page, PageContext
from netmgr.web.labels import _
from netmgr.web.pages import page_router, query

router = page_router()

WEEKDAYS = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))


def ensure_nav(registry: nav.NavRegistry | None = None) -> None:
    """Register "Wi-Fi Publik" once (several apps may share a process)."""
    registry = registry or nav.NAV
    item = nav.NavItem("leadership", _("Public Wi-Fi"), "/leadership", Permission.LEADERSHIP_READ, 55,
                       labels={"id": "Wi-Fi Publik"})
    if item.key not in registry:
        registry.register(item)


def _month(ctx: PageContext) -> tuple[date, str | None]:
    today = localtime.local_today(ctx.settings.timezone)
    raw = query(ctx, "month")
    try:
        return reports.parse_month(raw, today=today), None
    except ValidationFailed:
        message = ctx._("%(value)s is not a month like 2025-05; showing last month.", value=raw or "")
        return reports.parse_month(None, today=today), message


def figure(ctx: PageContext, value: int | None, k: int) -> str:
    """A published figure in the reader's language, or ``<5`` when it is hidden."""
    return f"<{k}" if value is None else i18n.format_number(value, ctx.lang)


def change(ctx: PageContext, current: int | None, earlier: int | None) -> tuple[str, str]:
    """Percent change as text and its CSS class; ``–`` when either side is hidden or there is nothing before."""
    if current is None or not earlier:
        return "–", ""
    percent = 100 * (current - earlier) / earlier
    sign = "+" if percent >= 0 else "−"
    return f"{sign}{i18n.format_number(abs(percent), ctx.lang, decimals=1)} %", (
        "up-trend" if percent >= 0 else "down-trend")


def _park_chart(ctx: PageContext, board: leadership.Dashboard) -> BarChart:
    rows = [(p.name, [board.park_month[p.id].public()["unique_devices"]]) for p in board.parks]
    return bar_chart([(name, [None if v is None else float(v) for v in values]) for name, values in rows],
                     [(ctx._("unique devices"), "use")],
                     format_value=lambda v: i18n.format_number(round(v), ctx.lang))


def _heat(ctx: PageContext, board: leadership.Dashboard) -> HeatMap:
    k = board.threshold
    values = [[None if c.suppressed and c.sessions else float(c.sessions) for c in row] for row in board.heat]
    return heat_map(values, row_labels=[ctx._(day) for day in WEEKDAYS],
                    format_value=lambda v: ctx._("%(n)s sessions", n=figure(ctx, None if v is None else int(v), k)))


@router.get("/leadership")
def leadership_page(ctx: Page) -> Response:
    month, problem = _month(ctx)
    board = leadership.monthly_dashboard(ctx.db, ctx.signed_in, month, ctx.settings)
    trend = board.trend
    measures = [(ctx._("Unique devices"), "unique_devices"), (ctx._("Sessions"), "sessions"),
                (ctx._("Data served (MB)"), "data_mb")]
    trend_rows = [(label, trend.current[key], change(ctx, trend.current[key], trend.previous[key]),
                   change(ctx, trend.current[key], trend.last_year[key])) for label, key in measures]
    key = month.strftime("%Y-%m")
    return ctx.render(
        "leadership.html", title=ctx._("Public Wi-Fi for citizens %(month)s", month=key), month=key,
        problem=problem, board=board, trend_rows=trend_rows, park_chart=_park_chart(ctx, board),
        heat=_heat(ctx, board), k=board.threshold, figure=lambda v: figure(ctx, v, board.threshold),
        previous=(month - timedelta(days=1)).strftime("%Y-%m"),
        following=(month + timedelta(days=32)).strftime("%Y-%m"),
        files=list(leadership.open_data_files(board, ctx.settings)))


@router.get("/leadership/open-data/{name}")
def open_data_file(ctx: Page, name: str) -> Response:
    month, _problem = _month(ctx)
    board = leadership.monthly_dashboard(ctx.db, ctx.signed_in, month, ctx.settings)
    files = leadership.open_data_files(board, ctx.settings)
    if name not in files:
        raise NotFound(f"no open-data file {name!r}")
    media_type, text = files[name]
    return Response(text.encode("utf-8"), media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
