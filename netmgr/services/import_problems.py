"""An import's problems in the reader's language (the import page and the API): each ``RowError.code`` (a pydantic
error type, or the importer's own for a row or for the whole file) has one wording here with the error's names and
figures; a problem without a known code is shown as the importer said it (in English)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netmgr.errors import RowError
from netmgr.i18n import N_

_IP = N_("must be an IP address such as 10.20.1.1")
_WHOLE = N_("must be a whole number")
_ONE_OF = N_("must be one of: %(expected)s")

WORDING = {
    "missing": N_("a value is required"),
    "string_too_long": N_("at most %(max_length)s characters"),
    "string_too_short": N_("at least %(min_length)s characters"),
    "int_parsing": _WHOLE,
    "int_from_float": _WHOLE,
    "int_type": _WHOLE,
    "float_parsing": N_("must be a number"),
    "greater_than_equal": N_("must be at least %(ge)s"),
    "greater_than": N_("must be more than %(gt)s"),
    "less_than_equal": N_("must be at most %(le)s"),
    "less_than": N_("must be less than %(lt)s"),
    "enum": _ONE_OF,
    "literal_error": _ONE_OF,
    "bool_parsing": N_("must be yes or no (true or false)"),
    "ip_any_address": _IP,
    "ip_v4_address": _IP,
    "ip_v6_address": _IP,
    "ip_any_network": N_("must be a network such as 10.20.8.0/24"),
    "ip_v4_network": N_("must be a network such as 10.20.8.0/24"),
    "string_pattern_mismatch": N_("does not have the expected form"),
    "unknown_reference": N_("%(value)s does not exist"),
    "duplicate": N_("%(value)s is also on row %(first)s; each may appear only once"),
    "extra_cells": N_("%(n)s more cell(s) than the header has columns: is a value with a comma unquoted, or is "
                     "the separator not the one the header uses?"),
    "unknown_columns": N_("unknown column(s) %(names)s; expected columns: %(expected)s"),
    "missing_columns": N_("missing required column(s) %(names)s; expected columns: %(expected)s"),
    "duplicate_columns": N_("column(s) %(names)s appear more than once"),
    "one_column_header": N_("the header is one column, %(header)s: separate the columns with commas or semicolons "
                            "(as Excel's 'CSV UTF-8' or 'CSV (semicolon)' does)"),
    "row_separator": N_("this row is one cell but the header has several columns: are its values separated by "
                        "%(found)s while the header uses %(expected)s?"),
    # the whole file
    "not_utf8": N_("the file is not UTF-8 text: a byte at line %(line)s cannot be read (save it as UTF-8)"),
    "not_utf8_excel": N_("the file is not UTF-8 text: a byte at line %(line)s cannot be read; an Excel workbook "
                         "must first be saved as 'CSV UTF-8'"),
    "binary_file": N_("this is a binary file, not %(format)s text (NUL byte at line %(line)s); an Excel workbook "
                      "must first be saved as 'CSV UTF-8'"),
    "empty_file": N_("the file is empty; expected a header row naming: %(expected)s"),
    "too_many_rows": N_("too many rows; import at most %(max)s at a time"),
    "unreadable_csv": N_("this is not a readable CSV file (%(error)s)"),
    "invalid_yaml": N_("invalid YAML at line %(line)s, column %(column)s: %(error)s"),
    "invalid_yaml_file": N_("invalid YAML: %(error)s"),
    "yaml_not_a_list": N_("expected a list of %(kind)s (or a mapping with the one key %(kind)s); found %(found)s"),
    "yaml_item_not_mapping": N_("each item must be a mapping of column: value; expected columns: %(expected)s"),
    "file_too_large": N_("the file is larger than %(mb)s MB; split it"),
    "unknown_format": N_("cannot tell the format of %(name)s: name it .csv, .yaml or .yml, or give the format "
                         "explicitly"),
}
SUGGESTION = N_("did you mean %(names)s?")


def problem_text(error: RowError, translate: Callable[..., str]) -> str:
    """``error`` worded in the reader's language by ``translate`` (``PageContext._``)."""
    wording = WORDING.get(error.code)
    values: dict[str, Any] = dict(error.values)
    if wording is None:
        return error.reason
    try:
        text = translate(wording, **values)
    except (KeyError, ValueError):  # a pydantic message without the figures this wording needs
        return error.reason
    if error.code == "unknown_reference" and values.get("suggestions"):
        text += "; " + translate(SUGGESTION, names=values["suggestions"])
    return text
