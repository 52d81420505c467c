"""The columns every export shows, in one place: key in the report, heading (an English msgid, translated when
written), kind (text, idr, gb, number, percent) and how a cell reads in the reader's language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from netmgr import formats

Kind = Literal["text", "idr", "gb", "number", "percent"]
Translate = Callable[..., str]


def _(message: str) -> str:
    """Marks a msgid for extraction (``python -m netmgr.web.catalogs update``); exports translate it."""
    return message


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    kind: Kind
    width: int = 14
    derive: Callable[[dict[str, Any], Translate], Any] | None = None
    """Computes the cell from the whole row and the reader's translator (instead of reading ``key``)."""

    def value(self, row: dict[str, Any], t: Translate | None = None) -> Any:
        """The cell's value: a number for numeric kinds (machine-readable), a string or None otherwise."""
        value = row.get(self.key) if self.derive is None else self.derive(row, t or formats.translator("en"))
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value

    def text(self, row: dict[str, Any], lang: str) -> str:
        """The cell as a person reads it in ``lang``: ``Rp 27.500.000``, ``67.069,8``, ``12,5 %``."""
        value = self.value(row, formats.translator(lang))
        if value is None:
            return formats.EMPTY
        if self.kind == "idr":
            return formats.rupiah(value, lang)
        if self.kind == "gb":
            return formats.number(value, lang, decimals=1)
        if self.kind == "percent":
            return formats.percent(value, lang)
        if self.kind == "number":
            return formats.number(round(value, 2), lang)
        return str(value)


def contract_note(row: dict[str, Any], t: Translate) -> str | None:
    """How much of the month a contract covers: a month without one is not billed.

    None for reports closed before contract coverage was recorded (report version 1).
    """
    status = row.get("contract_status")
    if status is None:
        return None
    if status == "none":
        return t(_("no contract, not billed"))
    days = f"{row['contract_days']}/{row['days_in_month']}"
    if status == "partial":
        return t(_("%(days)s days, pro rata"), days=days)
    return t(_("%(days)s days"), days=days)


UPLINK_COLUMNS = (
    Column("name", _("Uplink"), "text", 22),
    Column("isp_name", _("ISP"), "text", 24),
    Column("capacity_mbps", _("Capacity (Mbps)"), "number"),
    Column("price_idr", _("Price before tax"), "idr", 16),
    Column("tax_idr", _("PPN"), "idr"),
    Column("cost_idr", _("Cost incl. PPN"), "idr", 16),
    Column("gb", _("GB"), "gb"),
    Column("avg_mbps", _("Average Mbps"), "number"),
    Column("p95_mbps", _("95th percentile Mbps"), "number", 18),
    Column("p95_utilisation_percent", _("95th pct. % of capacity"), "percent", 18),
    Column("cost_per_mbps_used_idr", _("Cost per Mbps used"), "idr", 16),
    Column("cost_per_gb_idr", _("Cost per GB"), "idr"),
    Column("contract_status", _("Contract"), "text", 24, derive=contract_note),
)

AGENCY_COLUMNS = (
    Column("code", _("Code"), "text", 16),
    Column("name", _("Agency"), "text", 40),
    Column("cir_mbps", _("CIR Mbps"), "number", 10),
    Column("mir_mbps", _("MIR Mbps"), "number", 10),
    Column("gb", _("GB"), "gb", 10),
    Column("p95_mbps", _("95th percentile Mbps"), "number", 18),
    Column("use_of_cir_percent", _("% of CIR used"), "percent", 12),
    Column("use_of_mir_percent", _("% of MIR used"), "percent", 12),
    Column("cost_by_allocation_idr", _("Cost share by allocation"), "idr", 20),
    Column("cost_by_use_idr", _("Cost share by use"), "idr", 18),
    Column("change_percent", _("Change in GB vs previous month %"), "percent", 16),
)

HOTSPOT_COLUMNS = (
    Column("name", _("Hotspot"), "text", 28),
    Column("sessions", _("Sessions"), "number", 10),
    Column("unique_devices", _("Unique devices"), "number", 12),
    Column("gb", _("GB"), "gb", 10),
    Column("peak_hours", _("Peak hours"), "text", 14),
    Column("cost_idr", _("Cost share"), "idr", 16),
    Column("cost_per_session_idr", _("Cost per session"), "idr", 16),
)

SUMMED = {"price_idr", "tax_idr", "cost_idr", "gb", "cost_by_allocation_idr", "cost_by_use_idr", "sessions"}
"""Columns whose totals row is the sum of the rows (the rest stay empty: a sum of percentiles means nothing)."""

SECTION_TITLES = {"uplinks": _("Uplinks"), "agencies": _("Agencies"), "hotspots": _("Public hotspots"),
                  "recommendations": _("Recommendations")}
