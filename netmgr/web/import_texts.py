"""An import's row problems in the reader's language: each ``RowError.code`` (a pydantic error type or the
importer's own) has one wording here with the error's names and figures; a problem without a known code is
shown as the importer said it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netmgr.errors import RowError
from netmgr.web.labels import _

_IP = _("must be an IP address such as 10.20.1.1")
_WHOLE = _("must be a whole number")
_ONE_OF = _("must be one of: %(expected)s")

WORDING = {
    "missing": _("a value is required"),
    "string_too_long": _("at most %(max_length)s characters"),
    "string_too_short": _("at least %(min_length)s characters"),
    "int_parsing": _WHOLE,
    "int_from_float": _WHOLE,
    "int_type": _WHOLE,
    "float_parsing": _("must be a number"),
    "greater_than_equal": _("must be at least %(ge)s"),
    "greater_than": _("must be more than %(gt)s"),
    "less_than_equal": _("must be at most %(le)s"),
    "less_than": _("must be less than %(lt)s"),
    "enum": _ONE_OF,
    "literal_error": _ONE_OF,
    "bool_parsing": _("must be yes or no (true or false)"),
    "ip_any_address": _IP,
    "ip_v4_address": _IP,
    "ip_v6_address": _IP,
    "ip_any_network": _("must be a network such as 10.20.8.0/24"),
    "ip_v4_network": _("must be a network such as 10.20.8.0/24"),
    "string_pattern_mismatch": _("does not have the expected form"),
    "unknown_reference": _("%(value)s does not exist"),
    "duplicate": _("%(value)s is also on row %(first)s; each may appear only once"),
    "extra_cells": _("%(n)s more cell(s) than the header has columns: is a value with a comma unquoted, or is "
                     "the separator not the one the header uses?"),
    "unknown_columns": _("unknown column(s) %(names)s; expected columns: %(expected)s"),
    "missing_columns": _("missing required column(s) %(names)s; expected columns: %(expected)s"),
}
SUGGESTION = _("did you mean %(names)s?")


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
