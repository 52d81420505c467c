"""Human labels (English msgids, translated when shown) for the stable enum values of the models."""

from __future__ import annotations


def _(message: str) -> str:
    """Marks a msgid for extraction; templates translate it when rendering."""
    return message


SITE_KINDS = {"office": _("Office"), "public_hotspot": _("Public hotspot"), "pop": _("POP / core")}
DEVICE_ROLES = {
    "core_router": _("Core router"),
    "distribution": _("Distribution switch"),
    "access_point": _("Access point"),
    "hotspot_gateway": _("Hotspot gateway"),
}
DEVICE_STATUS = {"up": _("up"), "down": _("down"), "unknown": _("unknown")}
REACHABILITY = {"up": _("up"), "snmp_silent": _("SNMP not answering (check community, v3 credentials or ACL)"),
                "unreachable": _("unreachable"), "unknown": _("unknown")}
REACHABILITY_CSS = {"up": "up", "snmp_silent": "partial", "unreachable": "down", "unknown": "unknown"}
BILLING_MODELS = {"flat": _("Flat monthly"), "burstable_95th": _("Burstable (95th percentile)"),
                  "per_gb": _("Per GB")}
ROLES = {"admin": _("Administrator"), "operator": _("Operator"), "finance": _("Finance"),
         "agency_viewer": _("Agency viewer"), "leadership": _("Leadership (Bupati's office)")}
LANGUAGE_LABELS = {"id": "Bahasa Indonesia", "en": "English"}
AUDIT_ACTIONS = {"create": _("created"), "update": _("changed"), "delete": _("deleted"), "login": _("signed in"),
                 "login_failed": _("failed sign-in"), "revoke": _("revoked"), "import": _("imported"),
                 "acknowledge": _("acknowledged"), "activate": _("activated"), "apply": _("applied"),
                 "approve": _("approved"), "backup": _("backed up"), "cancel": _("cancelled"), "close": _("closed"),
                 "discover": _("discovered"), "erase": _("erased"), "export": _("exported"), "queue": _("queued"),
                 "reject": _("rejected"), "rotate_key": _("re-encrypted"), "run": _("ran"), "save": _("saved"),
                 "void_approval": _("approval voided"), "dry_run": _("dry run"), "provision": _("provisioned"),
                 "sms_test": _("test SMS"), "test": _("tested"), "disconnect": _("disconnected")}
ENTITY_TYPES = {"agency": _("Agency"), "site": _("Site"), "device": _("Device"), "uplink": _("Uplink"),
                "interface": _("Interface"), "user": _("User"), "api_token": _("API token"), "alert": _("Alert"),
                "bandwidth_plan": _("Bandwidth plan"), "plan_version": _("Plan version"),
                "bandwidth_request": _("Bandwidth request"), "budget_year": _("Budget year"),
                "closed_period": _("Closed month"), "config_template": _("Config template"),
                "provision_job": _("Provisioning job"), "hotspot_portal": _("Hotspot portal"),
                "voucher_batch": _("Voucher batch"), "portal_person": _("Citizen's data"),
                "secrets": _("Secrets"), "alert_transport": _("Alert transport"), "alert_route": _("Alert route"),
                "sms_gateway": _("SMS gateway"), "hotspot": _("Hotspot"), "hotspot_policy": _("Hotspot policy"),
                "hotspot_session": _("Hotspot session"), "edge_collector": _("Edge collector")}
