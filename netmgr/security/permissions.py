"""Who may do what: roles map to permissions, and every service checks the acting user's.

Enforcement lives in the services, so the API, the web UI, imports and the CLI all get it.
Agency viewers are additionally scoped to their own agency's rows (see ``Actor.agency_scope``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from netmgr.errors import PermissionDenied
from netmgr.models.enums import Role


class Permission(StrEnum):
    INVENTORY_READ = "inventory.read"
    INVENTORY_WRITE = "inventory.write"
    SECRETS_WRITE = "secrets.write"
    USERS_MANAGE = "users.manage"
    AUDIT_READ = "audit.read"
    REPORTS_READ = "reports.read"
    NETWORK_CHANGE = "network.change"
    PORTAL_MANAGE = "portal.manage"
    TOKENS_OWN = "tokens.own"
    ALERTS_ACK = "alerts.ack"
    FINANCE_MANAGE = "finance.manage"
    """Close report months and set the yearly internet budget (pagu)."""
    BANDWIDTH_REQUEST = "bandwidth.request"
    """Ask for more or less bandwidth (agency viewers: for their own office only)."""
    LEADERSHIP_READ = "leadership.read"
    """Read the public-service dashboard and its open-data export (aggregates only, small counts suppressed)."""


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.OPERATOR: frozenset(
        {
            Permission.INVENTORY_READ,
            Permission.INVENTORY_WRITE,
            Permission.SECRETS_WRITE,
            Permission.REPORTS_READ,
            Permission.NETWORK_CHANGE,
            Permission.PORTAL_MANAGE,
            Permission.TOKENS_OWN,
            Permission.ALERTS_ACK,
            Permission.BANDWIDTH_REQUEST,
            Permission.LEADERSHIP_READ,
        }
    ),
    Role.FINANCE: frozenset({Permission.INVENTORY_READ, Permission.REPORTS_READ, Permission.TOKENS_OWN,
                             Permission.FINANCE_MANAGE}),
    Role.AGENCY_VIEWER: frozenset({Permission.INVENTORY_READ, Permission.REPORTS_READ, Permission.TOKENS_OWN,
                                   Permission.BANDWIDTH_REQUEST}),
    Role.LEADERSHIP: frozenset({Permission.LEADERSHIP_READ, Permission.TOKENS_OWN}),
}


@dataclass(frozen=True)
class Actor:
    """The person (or system job) on whose behalf a service runs."""

    user_id: int | None
    username: str
    role: Role
    agency_id: int | None = None
    source_ip: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(f"your role ({self.role.value}) does not allow {permission.value}")

    @property
    def agency_scope(self) -> int | None:
        """The only agency this actor may see, or None when it sees all of them."""
        return self.agency_id if self.role == Role.AGENCY_VIEWER else None


SYSTEM = Actor(user_id=None, username="system", role=Role.ADMIN)
