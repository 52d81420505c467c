"""A named registry of plugins (drivers, profiles, senders), keyed by platform or kind name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from netmgr.errors import NotFound

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to implementations. Each instance owns its dict; duplicates raise.

    >>> drivers: Registry[str] = Registry("driver")
    >>> drivers.register("linux", "LinuxDriver")
    >>> drivers.get("linux")
    'LinuxDriver'
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> None:
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "(none)"
            raise NotFound(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))
