"""The columns every export shows, in one place: key in the report, heading, and kind (idr, number, text)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["text", "idr", "number", "percent"]


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    kind: Kind
    width: int = 14

    def value(self, row: dict[str, Any]) -> Any:
        value = row.get(self.key)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return value


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
