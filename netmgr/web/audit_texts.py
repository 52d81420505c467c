"""Audit entries written before the log kept a sentence's key and values (``AuditLog.message``): the audit page
recognises their stored English sentence by its shape and shows it translated, with names and figures kept; any
other old sentence is shown as stored. New entries are rendered by ``netmgr.services.audit_messages``."""

from __future__ import annotations

import re
from collections.abc import Callable

from netmgr.web.labels import _

_CRUD_KINDS = "site|device|agency|uplink|interface|user|bandwidth plan"

PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(?P<name>.+) signed in$"), _("%(name)s signed in")),
    (re.compile(r"^wrong password$"), _("wrong password")),
    (re.compile(rf"^created (?:{_CRUD_KINDS}) (?P<name>.+?)(?: \((?P<role>[a-z_]+)\))?$"), _("new: %(name)s")),
    (re.compile(r"^changed password of (?P<name>.+)$"), _("changed the password of %(name)s")),
    (re.compile(rf"^changed (?:{_CRUD_KINDS}) (?P<name>.+)$"), _("changed: %(name)s")),
    (re.compile(rf"^deleted (?:{_CRUD_KINDS}) (?P<name>.+)$"), _("deleted: %(name)s")),
    (re.compile(r"^created API token (?P<name>.+?)(?: \(.*\))?$"), _("new API token %(name)s")),
    (re.compile(r"^revoked API token (?P<name>.+)$"), _("revoked API token %(name)s")),
    (re.compile(r"^voucher batch (?P<name>.+): (?P<n>\d+) codes$"), _("voucher batch %(name)s: %(n)s codes")),
    (re.compile(r"^revoked (?P<n>\d+) vouchers of batch (?P<name>.+)$"),
     _("revoked %(n)s vouchers of batch %(name)s")),
    (re.compile(r"^closed report month (?P<month>\d{4}-\d{2}) \(sha256 (?P<sha>[0-9a-f]+)…\)$"),
     _("closed report month %(month)s (SHA-256 %(sha)s…)")),
    (re.compile(r"^set the (?P<year>\d{4}) internet budget \(pagu\) to Rp (?P<amount>[\d,]+)$"),
     _("set the %(year)s internet budget (pagu) to Rp %(amount)s")),
    (re.compile(r"^portal settings of (?P<name>.+)$"), _("portal settings of %(name)s")),
]


def summary_text(summary: str, gettext: Callable[[str], str], lang: str) -> str:
    """``summary`` in the reader's language when it has a known shape, else as stored."""
    for pattern, msgid in PATTERNS:
        match = pattern.match(summary)
        if match:
            values = {k: v for k, v in match.groupdict().items() if v is not None}
            if "amount" in values and lang == "id":
                values["amount"] = values["amount"].replace(",", ".")
            return gettext(msgid) % values
    return summary
