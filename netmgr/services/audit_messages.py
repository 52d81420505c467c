"""Every sentence the audit log can hold: an entry stores a key and its values, a page renders the key's wording in
the reader's language (gettext at display time), so an Indonesian page never shows an English entry.

A key names one sentence shape (``"user.signed_in"`` → "%(name)s signed in"). Values are names, numbers and dates;
a value that is a word (a role, a job's status) is a key of :data:`WORDS` and is translated with the sentence.
Values named ``*_idr`` are rupiah amounts and values named ``*_date`` ISO dates, shown in the reader's format.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from netmgr import formats
from netmgr.i18n import N_

Gettext = Callable[[str], str]

MESSAGES: dict[str, str] = {
    # users and sign-in
    "user.created": N_("created user %(name)s (%(role)s)"),
    "user.changed": N_("changed user %(name)s"),
    "user.password_changed": N_("changed the password of %(name)s"),
    "user.signed_in": N_("%(name)s signed in"),
    "user.wrong_password": N_("wrong password"),
    "api_token.created": N_("created API token %(name)s (%(prefix)s…)"),
    "api_token.revoked": N_("revoked API token %(name)s"),
    # inventory
    "agency.created": N_("created agency %(name)s"),
    "agency.changed": N_("changed agency %(name)s"),
    "agency.deleted": N_("deleted agency %(name)s"),
    "site.created": N_("created site %(name)s"),
    "site.changed": N_("changed site %(name)s"),
    "site.deleted": N_("deleted site %(name)s"),
    "device.created": N_("created device %(name)s"),
    "device.changed": N_("changed device %(name)s"),
    "device.deleted": N_("deleted device %(name)s"),
    "device.discovered": N_("found %(count)s interfaces on %(name)s: %(created)s new, %(updated)s changed, "
                            "%(vanished)s gone"),
    "device.tagged": N_("tagged device %(name)s with %(tag)s"),
    "device.untagged": N_("removed the tag %(tag)s from device %(name)s"),
    "interface.changed": N_("changed interface %(name)s"),
    "uplink.created": N_("created uplink %(name)s"),
    "uplink.changed": N_("changed uplink %(name)s"),
    "uplink.changed_terms_kept": N_("changed uplink %(name)s; the previous contract terms still apply to the days "
                                    "until %(until_date)s"),
    "uplink.deleted": N_("deleted uplink %(name)s"),
    "inventory.imported": N_("imported %(rows)s %(import_kind)s from %(format)s: %(created)s created, "
                             "%(updated)s updated"),
    # monitoring and alerts
    "edge.registered": N_("registered edge collector %(name)s for site %(site)s"),
    "edge.removed": N_("removed edge collector %(name)s"),
    "alert.acknowledged": N_("acknowledged the alert %(alert_kind)s on %(name)s"),
    "alert_transport.created": N_("created alert transport %(name)s (%(transport_kind)s)"),
    "alert_transport.changed": N_("changed alert transport %(name)s"),
    "alert_transport.deleted": N_("deleted alert transport %(name)s"),
    "alert_transport.tested": N_("test message: %(delivered)s of %(count)s delivered"),
    "alert_route.created": N_("created alert route to %(name)s"),
    # finance
    "budget_year.set": N_("set the %(year)s internet budget (pagu) to %(pagu_idr)s"),
    "bandwidth_plan.created": N_("created bandwidth plan %(name)s"),
    "plan_version.created": N_("created draft version %(number)s of bandwidth plan %(name)s"),
    "plan_version.changed": N_("changed draft version %(number)s of bandwidth plan %(name)s"),
    "plan_version.applied": N_("applied version %(number)s of bandwidth plan %(name)s on %(device)s "
                               "(provisioning job %(job)s)"),
    "plan_version.dry_run": N_("dry run of version %(number)s of bandwidth plan %(name)s on %(device)s "
                               "(provisioning job %(job)s)"),
    "plan_version.activated": N_("activated version %(number)s of bandwidth plan %(name)s without a push"),
    "bandwidth_request.created": N_("%(agency)s asked for CIR %(cir)s / MIR %(mir)s Mbps"),
    "bandwidth_request.approved": N_("approved request %(number)s of %(agency)s: draft version %(version)s of "
                                     "%(name)s"),
    "bandwidth_request.rejected": N_("rejected request %(number)s of %(agency)s: %(note)s"),
    "closed_period.closed": N_("closed report month %(month)s (SHA-256 %(sha)s…)"),
    "secrets.rotated": N_("re-encrypted %(values)s secret(s) in %(rows)s row(s) under the newest key"),
    # provisioning
    "config_template.saved": N_("saved template %(name)s (%(platform)s, %(purpose)s), version %(version)s"),
    "provision_job.created": N_("created provisioning job %(job)s (%(purpose)s) for %(count)s device(s)"),
    "provision_job.created_dry_run": N_("created dry-run job %(job)s (%(purpose)s) for %(count)s device(s)"),
    "provision_job.copied": N_("created provisioning job %(job)s from job %(source)s (%(purpose)s) for "
                               "%(count)s device(s)"),
    "provision_job.copied_dry_run": N_("created dry-run job %(job)s from job %(source)s (%(purpose)s) for "
                                       "%(count)s device(s)"),
    "provision_job.approved": N_("approved provisioning job %(job)s"),
    "provision_job.approval_void": N_("the approval of provisioning job %(job)s by %(approver)s is void: its "
                                      "templates or variables changed afterwards"),
    "provision_job.queued": N_("started provisioning job %(job)s"),
    "provision_job.cancelled": N_("cancelled provisioning job %(job)s"),
    "provision_job.ran": N_("provisioning job %(job)s (%(purpose)s) ended: %(status)s"),
    "provision_job.dry_ran": N_("dry-run job %(job)s (%(purpose)s) ended: %(status)s"),
    "device.provisioned": N_("provisioning job %(job)s: %(name)s %(result)s"),
    "device.backed_up": N_("backed up the config of %(name)s (%(backup_source)s, SHA-256 %(sha)s)"),
    # captive portal
    "hotspot.created": N_("created hotspot %(name)s"),
    "hotspot.changed": N_("changed hotspot %(name)s"),
    "hotspot.deleted": N_("deleted hotspot %(name)s"),
    "hotspot_portal.changed": N_("portal settings of %(name)s"),
    "hotspot_policy.created": N_("created policy %(name)s"),
    "hotspot_policy.changed": N_("changed policy %(name)s: %(affected)s session(s) over the new limits"),
    "hotspot_policy.deleted": N_("deleted policy %(name)s"),
    "hotspot_session.disconnected": N_("disconnected %(mac)s at %(name)s"),
    "voucher_batch.created": N_("voucher batch %(name)s: %(count)s codes"),
    "voucher_batch.revoked": N_("revoked %(count)s vouchers of batch %(name)s"),
    "voucher_batch.extended": N_("extended voucher batch %(name)s"),
    "sms_gateway.test_taken": N_("test SMS to %(phone)s through %(name)s: taken"),
    "sms_gateway.test_failed": N_("test SMS to %(phone)s through %(name)s: failed"),
    "portal_person.exported": N_("exported the data of %(devices)s device(s), %(subscribers)s subscriber(s)"),
    "portal_person.erased": N_("erased a citizen's data on request (UU PDP): %(sessions)s session(s), "
                               "%(consents)s consent(s), %(grants)s access grant(s), %(otps)s OTP code(s), "
                               "%(attempts)s login attempt(s), %(devices)s device(s), %(subscribers)s "
                               "subscriber(s)"),
}

#: Values that are words: the parameter's name → the stored value → its wording (translated when shown).
WORDS: dict[str, dict[str, str]] = {
    "role": {"admin": N_("Administrator"), "operator": N_("Operator"), "finance": N_("Finance"),
             "agency_viewer": N_("Agency viewer"), "leadership": N_("Leadership (Bupati's office)")},
    "alert_kind": {"device_down": N_("device down"), "snmp_silent": N_("SNMP not answering"),
                   "site_down": N_("site down"), "uplink_saturated": N_("uplink saturated"),
                   "interface_errors": N_("interface errors"), "flapping": N_("flapping")},
    "import_kind": {"agencies": N_("agencies"), "sites": N_("sites"), "devices": N_("devices"),
                    "uplinks": N_("uplinks")},
    "transport_kind": {"email": N_("e-mail"), "telegram": N_("Telegram"), "http": N_("HTTP gateway")},
    "status": {"succeeded": N_("done"), "partly_done": N_("partly done"), "failed": N_("failed"),
               "halted": N_("halted"), "cancelled": N_("cancelled"), "pending": N_("waiting"),
               "queued": N_("queued"), "running": N_("running")},
    "result": {"changed": N_("configured"), "rolled_back": N_("rolled back"), "failed": N_("failed")},
    "backup_source": {"scheduled": N_("scheduled"), "pre_push": N_("before a push"), "post_push": N_("after a push"),
               "on_demand": N_("on request")},
}


class UnknownAuditMessage(KeyError):
    """A writer used a key :data:`MESSAGES` does not hold (a programming error, caught by the tests)."""


def check(message: str, params: Mapping[str, object]) -> None:
    """Raise unless ``message`` is a known key and ``params`` fill its wording (and name known words)."""
    if message not in MESSAGES:
        raise UnknownAuditMessage(message)
    MESSAGES[message] % _english(params)
    for name, words in WORDS.items():
        if name in params and str(params[name]) not in words:
            raise UnknownAuditMessage(f"{message}: {name}={params[name]!r}")


def _english(params: Mapping[str, object]) -> dict[str, object]:
    return render_values(params, lambda text: text, "en")


def render_values(params: Mapping[str, object], gettext: Gettext, lang: str) -> dict[str, object]:
    """The values as a reader of ``lang`` sees them: words translated, amounts and dates in their format."""
    out: dict[str, object] = {}
    for name, value in params.items():
        if name in WORDS and str(value) in WORDS[name]:
            out[name] = gettext(WORDS[name][str(value)])
        elif name.endswith("_idr") and isinstance(value, int | float):
            out[name] = formats.rupiah(value, lang)
        elif name.endswith("_date") and isinstance(value, str):
            out[name] = formats.long_date(date.fromisoformat(value), lang)
        elif isinstance(value, float):
            out[name] = formats.number(value, lang)
        else:
            out[name] = value
    return out


def render(message: str, params: Mapping[str, object] | None, gettext: Gettext, lang: str) -> str:
    """The sentence ``message`` with ``params`` in the reader's language."""
    return gettext(MESSAGES[message]) % render_values(params or {}, gettext, lang)


def english(message: str, params: Mapping[str, object] | None) -> str:
    """The English sentence, stored beside the key so the log stays searchable and readable without netmgr."""
    return render(message, params, lambda text: text, "en")
