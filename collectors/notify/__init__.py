"""Alert notifications: a ``Notifier`` per channel (e-mail, Telegram), found by name in ``NOTIFIERS``.

collectors.alerts → ``Message`` (Indonesian text) → each enabled notifier → one ``Delivery`` per recipient.
A notifier never raises for a failed send: the failure is in its Delivery, and the other recipients still
get theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from netmgr.registry import Registry
from netmgr.settings import NotifySettings


@dataclass(frozen=True)
class Message:
    """What to tell people: a short subject (e-mail) and the text (both channels)."""

    subject: str
    text: str


@dataclass(frozen=True)
class Delivery:
    """The outcome of sending one message to one recipient on one channel."""

    channel: str
    recipient: str
    ok: bool
    error: str = ""


@runtime_checkable
class Notifier(Protocol):
    """Sends a message to every recipient configured for its channel."""

    channel: str

    def send(self, message: Message) -> list[Delivery]:
        """One Delivery per recipient; never raises for a server that refuses or is unreachable."""
        ...


NotifierFactory = Callable[[NotifySettings], Notifier]

NOTIFIERS: Registry[NotifierFactory] = Registry("notifier")
"""Channel name → factory building the notifier from the ``notify`` settings."""


def _enabled(settings: NotifySettings) -> list[str]:
    channels = []
    if settings.email_enabled:
        channels.append("email")
    if settings.telegram_enabled:
        channels.append("telegram")
    return channels


def build_notifiers(settings: NotifySettings) -> list[Notifier]:
    """The notifiers of every channel enabled in ``settings`` (none connects until it sends)."""
    return [NOTIFIERS.get(name)(settings) for name in _enabled(settings)]


def _register_builtin() -> None:
    from collectors.notify.email import EmailNotifier
    from collectors.notify.telegram import TelegramNotifier

    NOTIFIERS.register("email", EmailNotifier.from_settings)
    NOTIFIERS.register("telegram", TelegramNotifier.from_settings)


_register_builtin()

__all__ = ["NOTIFIERS", "Delivery", "Message", "Notifier", "NotifierFactory", "build_notifiers"]
