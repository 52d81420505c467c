"""Why an alert was raised: the checks that failed and their evidence, stored with the alert, worded when shown.

The collectors build a reason when an alert opens (``ping_check``, ``snmp_check``, …) and store it as JSON in
``Alert.reason``: a list of ``{"check": ..., <evidence>}`` items with times in UTC. ``describe`` words it in the
reader's language (the alert list, the NOC screen, the API) or in Indonesian for the notification text, e.g.
"ping 0/3 replies from 10.2.3.4 at 14:02 WITA; SNMP: no answer from 10.2.3.4:161 after 3 tries".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from netmgr import formats, localtime
from netmgr.i18n import N_

Gettext = Callable[[str], str]
Reason = list[dict[str, Any]]

# Each check's wording, English msgid (translated when shown); %(time)s is the local clock of ``at``.
TEXTS = {
    "ping": N_("ping %(received)s/%(sent)s replies from %(address)s at %(time)s"),
    "snmp": N_("SNMP: %(error)s at %(time)s"),
    "snmp_silent": N_("SNMP does not answer although ping does: community, v3 credentials or ACL rejected?"),
    "site": N_("no answer from %(names)s"),
    "traffic": N_("%(direction)s at %(percent)s%% of %(capacity)s Mbps for the last %(minutes)s minutes"),
    "errors": N_("%(errors)s interface errors in %(minutes)s minutes (before: %(previous)s)"),
    "flapping": N_("status changed %(changes)s times in %(minutes)s minutes"),
}
DIRECTIONS = {"down": N_("download"), "up": N_("upload")}
UNKNOWN_CHECK = N_("check %(check)s failed")


def _at(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return localtime.as_utc(moment).isoformat()


def ping_check(*, address: str, sent: int, received: int, at: datetime | None) -> dict[str, Any]:
    """The last ping round of a device: ``received`` of ``sent`` echo replies from ``address`` at ``at``."""
    return {"check": "ping", "address": address, "sent": sent, "received": received, "at": _at(at)}


def snmp_check(*, error: str, at: datetime | None) -> dict[str, Any]:
    """The SNMP poller's last failure on a device, e.g. "no answer from 10.2.3.4:161 after 3 tries"."""
    return {"check": "snmp", "error": error.strip()[:300] or "no answer", "at": _at(at)}


def check(name: str, **evidence: Any) -> dict[str, Any]:
    """Any other check (``site``, ``traffic``, ``errors``, ``flapping``, ``snmp_silent``) with its evidence."""
    return {"check": name, **{k: _at(v) if isinstance(v, datetime) else v for k, v in evidence.items()}}


def _clock(value: Any, timezone: str) -> str:
    if not isinstance(value, str):
        return "—"
    moment = datetime.fromisoformat(value)
    return f"{localtime.to_local(moment, timezone):%H:%M} {localtime.zone_label(timezone, moment)}"


def describe_check(item: Mapping[str, Any], *, gettext: Gettext, timezone: str) -> str:
    """One check in words, e.g. "ping 0/3 balasan dari 10.2.3.4 pukul 14:02 WITA" (Indonesian catalog)."""
    name = str(item.get("check", ""))
    values = {k: v for k, v in item.items() if k != "check"}
    values["time"] = _clock(item.get("at"), timezone)
    if "percent" in values and isinstance(values["percent"], int | float):
        values["percent"] = f"{values['percent']:.0f}"
    if "direction" in values:
        values["direction"] = gettext(DIRECTIONS.get(str(values["direction"]), str(values["direction"])))
    text = TEXTS.get(name)
    if text is None:
        return gettext(UNKNOWN_CHECK) % {"check": name}
    try:
        return gettext(text) % values
    except (KeyError, TypeError, ValueError):  # a reason stored by an older release without some evidence
        return gettext(UNKNOWN_CHECK) % {"check": name}


def describe(reason: Sequence[Mapping[str, Any]] | None, *, gettext: Gettext, timezone: str) -> str:
    """Every check of a stored reason in words, joined by "; " ("" when the alert has none)."""
    return "; ".join(describe_check(item, gettext=gettext, timezone=timezone) for item in reason or [])


def describe_in(reason: Sequence[Mapping[str, Any]] | None, lang: str, timezone: str) -> str:
    """``describe`` with the admin UI's catalog of ``lang`` (``id`` for the notifications sent)."""
    return describe(reason, gettext=formats.translations(lang).gettext, timezone=timezone)
