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
BILLING_MODELS = {"flat": _("Flat monthly"), "burstable_95th": _("Burstable (95th percentile)"),
                  "per_gb": _("Per GB")}
ROLES = {"admin": _("Administrator"), "operator": _("Operator"), "finance": _("Finance"),
         "agency_viewer": _("Agency viewer"), "leadership": _("Leadership (Bupati's office)")}
LANGUAGE_LABELS = {"id": "Bahasa Indonesia", "en": "English"}
AUDIT_ACTIONS = {"create": _("created"), "update": _("changed"), "delete": _("deleted"), "login": _("signed in"),
                 "login_failed": _("failed sign-in"), "revoke": _("revoked"), "import": _("imported")}
ENTITY_TYPES = {"agency": _("Agency"), "site": _("Site"), "device": _("Device"), "uplink": _("Uplink"),
                "interface": _("Interface"), "user": _("User"), "api_token": _("API token")}
