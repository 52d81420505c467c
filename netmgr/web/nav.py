"""The admin UI's navigation as a registry: each capability registers the pages it adds.

    from netmgr.web.nav import NavItem, register
    register(NavItem(key="monitoring", label="Monitoring", path="/monitoring",
                     permission=Permission.INVENTORY_READ, order=30, labels={"id": "Pemantauan"}))

``label`` is an English gettext msgid looked up in the UI catalogs; ``labels`` carries translations for
items whose msgid is not in netmgr's own catalogs (a capability package can ship them itself).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from netmgr.registry import Registry
from netmgr.security.permissions import Actor, Permission


@dataclass(frozen=True)
class NavItem:
    """One entry in the top navigation, shown only to actors holding ``permission``."""

    key: str
    label: str
    path: str
    permission: Permission
    order: int = 100
    labels: Mapping[str, str] = field(default_factory=dict)

    def title(self, gettext: Callable[[str], str], lang: str) -> str:
        translated = gettext(self.label)
        if translated == self.label and lang in self.labels:
            return self.labels[lang]
        return translated

    def is_active(self, path: str) -> bool:
        if self.path == "/":
            return path == "/"
        return path == self.path or path.startswith(self.path.rstrip("/") + "/")


class NavRegistry:
    """Nav items keyed by ``key``; a duplicate key raises (see ``netmgr.registry.Registry``)."""

    def __init__(self) -> None:
        self._items: Registry[NavItem] = Registry("nav item")

    def register(self, item: NavItem) -> None:
        self._items.register(item.key, item)

    def items(self) -> list[NavItem]:
        return sorted((self._items.get(k) for k in self._items), key=lambda i: (i.order, i.key))

    def visible_to(self, actor: Actor) -> list[NavItem]:
        return [item for item in self.items() if actor.can(item.permission)]

    def __contains__(self, key: object) -> bool:
        return key in self._items


def _(message: str) -> str:
    """Marks a msgid for extraction; the UI translates it when rendering."""
    return message


def core_items() -> list[NavItem]:
    """The inventory pages netmgr itself provides."""
    return [
        NavItem("overview", _("Overview"), "/", Permission.INVENTORY_READ, 10),
        NavItem("agencies", _("Agencies"), "/agencies", Permission.INVENTORY_READ, 20),
        NavItem("sites", _("Sites"), "/sites", Permission.INVENTORY_READ, 21),
        NavItem("devices", _("Devices"), "/devices", Permission.INVENTORY_READ, 22),
        NavItem("uplinks", _("Uplinks"), "/uplinks", Permission.INVENTORY_READ, 23),
        NavItem("import", _("Import"), "/import", Permission.INVENTORY_WRITE, 80),
        NavItem("audit", _("Audit log"), "/audit", Permission.AUDIT_READ, 90),
        NavItem("users", _("Users"), "/users", Permission.USERS_MANAGE, 91),
    ]


NAV = NavRegistry()
"""The process-wide navigation; capabilities add to it through ``register``."""


def register(item: NavItem) -> None:
    """Add a page to the admin navigation (raises ValueError if ``item.key`` is taken)."""
    NAV.register(item)


def ensure_core_items(registry: NavRegistry = NAV) -> None:
    """Register the core items once (idempotent, so several apps in one process are fine)."""
    for item in core_items():
        if item.key not in registry:
            registry.register(item)
