"""A report's recommendations in the reader's language, each with its rupiah effect: one wording for the
report page and every export (the report dict keeps the facts; the words are made here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from netmgr import formats
from netmgr.reports_export.columns import _

KINDS = {"downgrade_uplink": _("Smaller uplink contract"), "saturated_uplink": _("Uplink at its limit"),
         "move_cir": _("Move guaranteed rate (CIR)")}


def generated(moment: datetime, lang: str, tz: str) -> str:
    """The line that dates a printout or file: "Dibuat 7 Desember 2026 23.45 WIB" (the installation's zone)."""
    return formats.translator(lang)(_("Generated on %(when)s"), when=formats.long_datetime(moment, lang, tz))


@dataclass(frozen=True)
class Recommendation:
    kind: str
    kind_label: str
    subject: str
    text: str
    saving_idr: int
    saving_text: str


def recommendations(report: dict[str, Any], lang: str) -> list[Recommendation]:
    """Every recommendation of ``report`` worded in ``lang``."""
    t = formats.translator(lang)
    uplinks = {u["name"]: u for u in report["uplinks"]}

    def num(value: float) -> str:
        return formats.number(value, lang)

    out = []
    for rec in report["recommendations"]:
        kind, saving = rec["kind"], int(rec.get("saving_idr") or 0)
        amount = formats.rupiah(abs(saving), lang)
        p95 = num(uplinks[rec["subject"]]["p95_mbps"]) if rec["subject"] in uplinks else "?"
        if kind == "downgrade_uplink":
            text = t(_("%(name)s: the 95th percentile is only %(p95)s Mbps of %(from)s Mbps; a %(to)s Mbps "
                       "contract is enough."), name=rec["subject"], p95=p95, to=num(rec["to_mbps"]),
                     **{"from": num(rec["from_mbps"])})
            effect = t(_("Saves about %(amount)s a month"), amount=amount)
        elif kind == "saturated_uplink":
            text = t(_("%(name)s is saturated at peak (95th percentile %(p95)s Mbps of %(from)s Mbps); "
                       "%(to)s Mbps would be enough."), name=rec["subject"], p95=p95, to=num(rec["to_mbps"]),
                     **{"from": num(rec["from_mbps"])})
            effect = t(_("Costs about %(amount)s a month more"), amount=amount)
        elif kind == "move_cir" and not (rec["from"] and rec["to"]):
            # An agency viewer sees the advice only as it concerns its own office (no other office named).
            if rec["from"]:
                text = t(_("%(name)s uses little of its guaranteed rate (CIR); part of it can move to offices "
                           "that are at their ceiling."), name=rec["subject"])
            else:
                text = t(_("%(name)s is at its ceiling; it can receive guaranteed rate (CIR) that other offices "
                           "leave unused."), name=rec["subject"])
            effect = t(_("Idle guaranteed rate worth about %(amount)s a month"), amount=amount)
        elif kind == "move_cir":
            text = t(_("Move %(mbps)s Mbps of guaranteed rate (CIR) from %(donors)s, which barely use it, to "
                       "%(takers)s, which are at their ceiling."), mbps=num(rec["mbps"]),
                     donors=", ".join(rec["from"]), takers=", ".join(rec["to"]))
            effect = t(_("Idle guaranteed rate worth about %(amount)s a month"), amount=amount)
        else:
            text, effect = rec.get("message", kind), amount
        label = t(KINDS[kind]) if kind in KINDS else kind
        out.append(Recommendation(kind, label, rec["subject"], text, saving, effect))
    return out
