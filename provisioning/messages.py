"""What provisioning writes for people (log lines, device errors, job summaries): stored in English, shown translated.

The runner writes each message with ``say(msgid, **values)``; a page reads the stored text back through
``translate`` (or ``translate_summary``), which recognises each line by its msgid, translates the msgid
and the values that are messages themselves, and leaves the device's own words as the device wrote them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

Gettext = Callable[[str], str]


def _(message: str) -> str:
    """Marks a msgid for extraction; it is translated when shown."""
    return message


#: What a device's result status is called on the pages (also the words of a job's summary).
RESULT_STATUS = {"pending": _("waiting"), "running": _("running"), "no_change": _("no change"),
                 "changed": _("changed"), "dry_run": _("would change"), "failed": _("failed"),
                 "rolled_back": _("rolled back"), "skipped": _("skipped")}

RENDERED = _("rendered %(template)s: %(lines)s lines")
COMPLIES = _("device already complies; nothing pushed")
WOULD_PUSH = _("dry run: %(count)s command(s) would be pushed")
BACKED_UP = _("backed up the running config on the device as %(ref)s")
ARMED = _("armed a self-revert in %(seconds)s s")
SAME_SESSION = _("the change cannot cut management; verifying on the same session")
RECONNECTED = _("reconnected after the push")
DISARMED = _("disarmed the self-revert")
PUSHED = _("pushed %(count)s command(s), verified and saved")
RESTORED = _("read the config back: the device is at its pre-push config")
NOT_READ_BACK = _("; could not read the config back after the rollback: %(error)s")
STILL_DIFFERS = _("; WARNING: the config read back after the rollback still differs from the backup")
REFUSED = _("%(device)s refused %(rejection)s; rolled back to the pre-push config%(tail)s")
NOT_KEPT = _("%(device)s did not keep %(count)s line(s) after the push (%(lines)s); rolled back to the "
             "pre-push config%(tail)s")
SELF_RESTORES = _("%(error)s; the device restores its pre-push config by itself within %(seconds)s s")
ERROR = _("error: %(message)s")
INTERNAL = _("internal error: %(error)s")
NOT_STARTED_CANCELLED = _("not started: the job was cancelled")
SKIPPED_CANCELLED = _("skipped: the job was cancelled")
NOT_STARTED_HALTED = _("not started: the job halted")
SKIPPED_HALTED = _("skipped: the job halted")
NOTHING_TO_RUN = _("nothing to run")
NO_DRIVER = _("no driver for platform %(platform)s; netmgr configures %(known)s")
WORKER_LOST = _("no result from the worker running this device in %(seconds)s s (worker lost?)")
BUSY = _("device %(device)s is busy: %(holder)s holds it")
NO_ANSWER = _("%(device)s did not answer in time: %(reason)s")
LOGIN_REFUSED = _("%(device)s refused the login: %(reason)s")
UNREACHABLE = _("%(device)s could not be reached: %(reason)s")
HALTED = _("halted: %(reason)s")
CANARY = _("canary: %(failed)s of %(count)s device(s) failed, above the %(threshold)s threshold")
POLICY_HALT = _("a device failed and the job's policy is halt")
TEMPLATE_REFUSED = _("template %(template)s refused, %(problems)s")
TEMPLATE_LINE = _("line %(number)s: %(reason)s: `%(text)s`")
RENDERED_LINE = _("rendered line %(number)s: %(reason)s: `%(text)s`")

#: Why a driver refuses a template line (``LineProblem.reason``); the drivers use these constants.
OUTSIDE_MENU = _("a command outside any menu: start the line with its menu, e.g. /ip address add …")
EMPTY_MENU = _("a menu with no command after it (or a command RouterOS needs arguments for)")
IOS_END = _("'end' leaves config mode in the middle of the push; netmgr leaves it by itself")
IOS_SHOW_OUTPUT = _("pasted 'show running-config' output, not a command")
OUTSIDE_FILE = _("a line outside any file: start the file with '### file NAME'")
BAD_FILE_NAME = _("bad file name: use letters, digits, '.', '_' or '-'")

MESSAGES = (RENDERED, COMPLIES, WOULD_PUSH, BACKED_UP, ARMED, SAME_SESSION, RECONNECTED, DISARMED, PUSHED, RESTORED,
            NOT_READ_BACK, STILL_DIFFERS, REFUSED, NOT_KEPT, SELF_RESTORES, ERROR, INTERNAL,
            NOT_STARTED_CANCELLED, SKIPPED_CANCELLED, NOT_STARTED_HALTED, SKIPPED_HALTED, NOTHING_TO_RUN,
            NO_DRIVER, WORKER_LOST, BUSY, NO_ANSWER, LOGIN_REFUSED, UNREACHABLE, HALTED, CANARY, POLICY_HALT,
            TEMPLATE_REFUSED, TEMPLATE_LINE, RENDERED_LINE, OUTSIDE_MENU, EMPTY_MENU, IOS_END,
            IOS_SHOW_OUTPUT, OUTSIDE_FILE, BAD_FILE_NAME)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_COUNTS = re.compile(r"^(\d+) (\w+)$")


def say(msgid: str, **values: object) -> str:
    """The English message as stored (``msgid`` is one of :data:`MESSAGES`)."""
    return msgid % values if values else msgid


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for msgid in MESSAGES:
        parts = _PLACEHOLDER.split(msgid)  # literal, name, literal, name, …
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)" for i, p in enumerate(parts))
        out.append((re.compile(f"^{regex}$", re.DOTALL), msgid))
    # A message that starts with its own words ("error: …") before one that starts with a value, then the one
    # with more words of its own: "error: X did not answer" is an error whose message is "X did not answer".
    out.sort(key=lambda item: (-len(_PLACEHOLDER.split(item[1])[0]), -len(_PLACEHOLDER.sub("", item[1]))))
    return out


def translate(text: str, gettext: Gettext) -> str:
    """``text`` in the reader's language, line by line; lines that are no message (device output) stay as they are.

    Values that are messages themselves (an error inside "error: …", the problems of a refused template,
    joined by "; ") are translated too; device names, commands and the device's own words are not.
    """
    return "\n".join(_one(line, gettext, 0) for line in text.split("\n"))


def _one(line: str, gettext: Gettext, depth: int) -> str:
    if depth > 4:
        return line
    for pattern, msgid in _patterns():
        match = pattern.match(line)
        if match is None:
            continue
        values: dict[str, str] = {}
        for name, value in match.groupdict().items():
            if name == "problems":
                value = "; ".join(_one(p, gettext, depth + 1) for p in value.split("; "))
            elif name in ("message", "error", "reason", "tail"):
                value = _one(value, gettext, depth + 1)
            values[name] = value
        return gettext(msgid) % values if values else gettext(msgid)
    return line


def translate_summary(summary: str, gettext: Gettext) -> str:
    """A job's stored summary (``2 dry_run, 1 failed; halted: …``) in the reader's language."""
    parts = summary.split("; ")
    counts = [_COUNTS.match(p) for p in parts[0].split(", ")] if parts and parts[0] else []
    out: list[str] = []
    if counts and all(counts):
        out.append(", ".join(f"{m.group(1)} {gettext(RESULT_STATUS.get(m.group(2), m.group(2)))}"
                             for m in counts if m is not None))
        parts = parts[1:]
    out.extend(_one(p, gettext, 0) for p in parts)
    return "; ".join(out)
