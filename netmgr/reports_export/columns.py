"""The columns every export shows, in one place: key in the report, heading, and kind (idr, number, text)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["text", "idr", "number", "percent"]


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    kind: Kind
    width: int = 14
    derive: Callable[[dict[str, Any]], Any] | None = None
    """Computes the cell from the whole row (instead of reading ``key``)."""

    def value(self, row: dict[str, Any]) -> Any:
        value = row.get(self.key) if self.derive is None else self.derive(row)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value


def contract_note(row: dict[str, Any]) -> str | None:
    """How much of the month a contract covers, Indonesian first: a month without one is not billed.

    None for reports closed before contract coverage was recorded (report version 1).
    """
    status = row.get("contract_status")
    if status is None:
        return None
    if status == "none":
        return "tanpa kontrak, tidak ditagih (no contract, not billed)"
    days = f"{row['contract_days']}/{row['days_in_month']}"
    if status == "partial":
        return f"{days} hari, prorata ({days} days, pro rata)"
    return f"{days} hari ({days} days)"


UPLINK_COLUMNS = (
    Column("name", "Uplink", "text", 22),
    Column("isp_name", "ISP", "text", 24),
    Column("capacity_mbps", "Capacity (Mbps)", "number"),
    Column("price_idr", "Price before tax", "idr", 16),
    Column("tax_idr", "PPN", "idr"),
    Column("cost_idr", "Cost incl. PPN", "idr", 16),
    Column("gb", "GB", "number"),
    Column("avg_mbps", "Average Mbps", "number"),
    Column("p95_mbps", "95th percentile Mbps", "number", 18),
    Column("p95_utilisation_percent", "95th pct. % of capacity", "percent", 18),
    Column("cost_per_mbps_used_idr", "Cost per Mbps used", "idr", 16),
    Column("cost_per_gb_idr", "Cost per GB", "idr"),
    Column("contract_status", "Kontrak / Contract", "text", 24, derive=contract_note),
)

AGENCY_COLUMNS = (
    Column("code", "Code", "text", 16),
    Column("name", "Agency", "text", 40),
    Column("cir_mbps", "CIR Mbps", "number", 10),
    Column("mir_mbps", "MIR Mbps", "number", 10),
    Column("gb", "GB", "number", 10),
    Column("p95_mbps", "95th percentile Mbps", "number", 18),
    Column("use_of_cir_percent", "% of CIR used", "percent", 12),
    Column("use_of_mir_percent", "% of MIR used", "percent", 12),
    Column("cost_by_allocation_idr", "Cost share by allocation", "idr", 20),
    Column("cost_by_use_idr", "Cost share by use", "idr", 18),
    Column("change_percent", "Change in GB vs previous month %", "percent", 16),
)

HOTSPOT_COLUMNS = (
    Column("name", "Hotspot", "text", 28),
    Column("sessions", "Sessions", "number", 10),
    Column("unique_devices", "Unique devices", "number", 12),
    Column("gb", "GB", "number", 10),
    Column("peak_hours", "Peak hours", "text", 14),
    Column("cost_idr", "Cost share", "idr", 16),
    Column("cost_per_session_idr", "Cost per session", "idr", 16),
)
