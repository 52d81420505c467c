"""Report files for finance staff: CSV, XLSX (numbers as numbers, rupiah format) and PDF with charts.

Data flow: a report dict (``netmgr.services.reports.compute_report`` or a closed month's frozen one) and the
reader's language (``lang``, Indonesian by default) → bytes. Each format has one module; they share the column
definitions in ``columns``, the recommendation wording in ``texts`` and the number formats of ``netmgr.formats``.
"""

from netmgr.reports_export.columns import AGENCY_COLUMNS, HOTSPOT_COLUMNS, UPLINK_COLUMNS, Column
from netmgr.reports_export.csvfile import to_csv
from netmgr.reports_export.pdf import to_pdf
from netmgr.reports_export.xlsx import to_xlsx

__all__ = ["AGENCY_COLUMNS", "HOTSPOT_COLUMNS", "UPLINK_COLUMNS", "Column", "to_csv", "to_pdf", "to_xlsx"]
