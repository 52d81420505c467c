"""Who may see provisioning data: device configs, templates, jobs and backups span every agency.

Operators and admins change things (``network.change``); finance may read; agency viewers, who see only
their own office elsewhere, are refused here because one config or job covers many offices.
"""

from __future__ import annotations

from netmgr.errors import PermissionDenied
from netmgr.security.permissions import Actor, Permission


def require_config_read(actor: Actor) -> None:
    """Raise PermissionDenied unless ``actor`` may read configs, templates, jobs and backups."""
    actor.require(Permission.INVENTORY_READ)
    if actor.agency_scope is not None:
        raise PermissionDenied("device configurations and provisioning jobs cover every agency; "
                               "your role (agency_viewer) cannot see them")


def require_template_preview(actor: Actor) -> None:
    """Raise PermissionDenied unless ``actor`` may render templates for a device (operators and admins).

    A render is built from the device's inventory; finance and agency viewers have no reason to make one.
    """
    actor.require(Permission.NETWORK_CHANGE)
    require_config_read(actor)
