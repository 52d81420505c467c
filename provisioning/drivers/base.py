"""The ``Driver`` seam: what the runner needs from one platform, plus helpers every driver shares.

A driver turns "desired config" (a rendered template) into commands, pushes them over a netmiko
connection, and knows the platform's own way to back up, arm a self-revert, roll back and save.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# netmiko's BaseConnection; kept as Any so drivers can be driven by anything with its methods.
Connection = Any


@dataclass(frozen=True)
class PushOutput:
    """What the device said while taking a list of commands; ``rejected`` holds its own error lines."""

    output: str
    rejected: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected


@dataclass(frozen=True)
class LineProblem:
    """A rendered template line a driver can neither compare nor push, e.g. a command outside any menu.

    ``number`` counts the rendered config's lines from 1 (``continued`` holds the further lines of a command
    written over several); ``reason`` is English source text for gettext.
    """

    number: int
    text: str
    reason: str
    continued: tuple[int, ...] = ()


@dataclass(frozen=True)
class LinePlan:
    """Where every line of a rendered template goes: into ``commands``, already on the device, or refused.

    ``pushed`` and ``compliant`` hold rendered line numbers (from 1). A driver builds the commands it
    pushes, the dry run's list and the diff from this one plan, so no line can go missing in between.
    """

    commands: list[str] = field(default_factory=list)
    pushed: set[int] = field(default_factory=set)
    compliant: set[int] = field(default_factory=set)
    problems: list[LineProblem] = field(default_factory=list)


@dataclass(frozen=True)
class DeviceBackup:
    """A copy of the running config kept on the device (``ref``) and in memory (``text``) before a push."""

    ref: str
    text: str


class Driver(Protocol):
    """One platform's way of reading, changing, reverting and saving its configuration."""

    platform: str
    netmiko_device_type: str
    noise_patterns: Sequence[re.Pattern[str]]

    def get_running_config(self, conn: Connection) -> str:
        """The running configuration as text, the same shape templates are written in."""
        ...

    def missing_lines(self, running: str, desired: str) -> list[str]:
        """Lines of ``desired`` that ``running`` does not yet contain (empty: the device complies)."""
        ...

    def check_lines(self, desired: str) -> list[LineProblem]:
        """The lines of ``desired`` this driver refuses, with the reason; empty when every line can be handled."""
        ...

    def plan(self, running: str, desired: str) -> LinePlan:
        """Account for every line of ``desired``: pushed (and by which commands), already compliant, or refused."""
        ...

    def commands_for(self, running: str, desired: str) -> list[str]:
        """The commands that bring ``running`` to include ``desired``; empty when it already does."""
        ...

    def preview(self, running: str, desired: str) -> str:
        """The running config as it will read after the change (for the diff shown to people)."""
        ...

    def push(self, conn: Connection, lines: Sequence[str]) -> PushOutput:
        """Send configuration commands; reports the lines the device refused instead of raising."""
        ...

    def save(self, conn: Connection) -> None:
        """Make the running config survive a reboot."""
        ...

    def backup(self, conn: Connection, running: str | None = None) -> DeviceBackup:
        """Keep a copy of the running config on the device, for ``arm_revert`` and ``rollback``.

        ``running`` is the config this session has just read (``get_running_config``); a driver uses it as
        the backup's text instead of reading the config again.
        """
        ...

    def arm_revert(self, conn: Connection, backup: DeviceBackup, seconds: int) -> None:
        """Make the device restore ``backup`` by itself unless ``disarm_revert`` comes first."""
        ...

    def disarm_revert(self, conn: Connection) -> None:
        """Confirm the change: the armed revert will not fire."""
        ...

    def rollback(self, conn: Connection, backup: DeviceBackup) -> None:
        """Restore ``backup`` now."""
        ...

    def verify(self, conn: Connection, expected_lines: Sequence[str]) -> list[str]:
        """Read the config back; return the expected lines that are missing."""
        ...

    def mask_secrets(self, text: str, known: Collection[str] = ()) -> str:
        """``text`` with passwords, keys and communities replaced by ``MASK``.

        Every setting the platform documents as secret is masked where it is set, and every later
        occurrence of a secret value (learnt from ``text`` itself, or ``known``: netmgr's inventory
        secrets for the device) is masked wherever it stands as a word of its own (``mask_repeats``).
        The result is stable: the same config always masks to the same text.
        """
        ...


def is_blank_or_comment(line: str, comment: str) -> bool:
    """Whether a rendered line carries nothing to configure: blank, or a comment in the platform's syntax."""
    stripped = line.strip()
    return not stripped or stripped.startswith(comment)


def find_rejections(output: str, patterns: Sequence[re.Pattern[str]]) -> list[str]:
    """Lines of device output that match one of the platform's error patterns, in order."""
    found: list[str] = []
    for line in output.splitlines():
        stripped = line.strip()
        if stripped and any(p.search(stripped) for p in patterns):
            found.append(stripped)
    return found


def strip_noise(text: str, patterns: Sequence[re.Pattern[str]]) -> str:
    """``text`` without lines that change on their own (timestamps, uptimes, clock drift)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    kept = [line for line in lines if not any(p.search(line) for p in patterns)]
    while kept and not kept[0].strip():
        kept.pop(0)
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept) + ("\n" if kept else "")


def mask_with(text: str, rules: Sequence[tuple[re.Pattern[str], str]]) -> str:
    for pattern, replacement in rules:
        text = pattern.sub(replacement, text)
    return text


#: What every masked secret reads as, whatever its length or encoding, so masked configs diff quietly.
MASK = "********"
#: Shorter secret values are masked where they are set but not hunted elsewhere: they would match
#: ordinary numbers and words (VLAN ids, ``on``, ``yes``) and mask half the config.
MIN_REPEAT_LEN = 4
#: A placeholder that stands in for a secret in previews and dry runs (``provisioning.secrets.placeholder``):
#: already no secret, so not a value to hunt for elsewhere.
_PLACEHOLDER = re.compile(r"<secret:[A-Za-z0-9_]+>")


def is_placeholder(value: str) -> bool:
    return _PLACEHOLDER.fullmatch(value) is not None


_URL_PASSWORD = re.compile(r"(?P<pre>\b[a-z][a-z0-9+.-]*://[^\s:/@\"']+:)(?P<v>[^\s@/\"']+)@")


def mask_url_passwords(text: str, learnt: set[str]) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` URL masked (and added to ``learnt``).

    Fetch scripts, archive paths and copy commands carry credentials this way on every platform.
    """

    def mask(match: re.Match[str]) -> str:
        learnt.add(match["v"])
        return f"{match['pre']}{MASK}@"

    return _URL_PASSWORD.sub(mask, text)


def mask_repeats(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of a known secret value replaced by ``MASK``.

    An occurrence counts when the value stands as a word of its own: not preceded or followed by a
    letter, digit, ``_``, ``-`` or ``.`` (so ``k0mun`` does not mask ``k0mun1tas`` or ``pk0mun``), and
    not followed by ``=`` (a RouterOS key name is never masked). Longer values are replaced first, so a
    secret that contains another is masked whole.
    """
    values = sorted({s for s in secrets if len(s) >= MIN_REPEAT_LEN and s != MASK and not is_placeholder(s)},
                    key=lambda s: (-len(s), s))
    if not values:
        return text
    alternatives = "|".join(re.escape(v) for v in values)
    return re.sub(rf"(?<![\w.-])(?:{alternatives})(?![\w.-]|=)", MASK, text)
