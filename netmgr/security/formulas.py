"""Spreadsheet formula injection: text a spreadsheet shows as text, never runs as a formula.

Every exporter (report CSV/XLSX, inventory CSV) passes its text cells through here; the inventory import
undoes the CSV prefix, so an exported file reads back unchanged. The rule is OWASP's "CSV injection" one.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these may be evaluated by Excel, LibreOffice or Google Sheets."""

QUOTE = "'"


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet could read ``text`` as a formula (leading quotes looked past, see ``csv_text``)."""
    return text.lstrip(QUOTE).startswith(FORMULA_TRIGGERS)


def csv_text(value: Any) -> Any:
    """``value`` for a CSV cell: text that could start a formula gets a leading ``'``; numbers stay numbers.

    Text that already starts with quotes before a trigger gets one more, so ``restore_csv_text`` is exact.
    """
    if isinstance(value, str) and looks_like_formula(value):
        return QUOTE + value
    return value


def restore_csv_text(text: str) -> str:
    """The text ``csv_text`` was given: one leading ``'`` before a formula trigger removed."""
    if text.startswith(QUOTE) and looks_like_formula(text):
        return text[1:]
    return text


class SafeCsvWriter:
    """``csv.writer`` (CRLF lines) whose every cell passes through ``csv_text``, so no row can skip the rule."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([csv_text(value) for value in row])
