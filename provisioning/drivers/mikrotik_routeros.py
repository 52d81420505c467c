"""MikroTik RouterOS: config read with ``/export terse``, changed one full-path command at a time.

Templates are written in terse export form (``/ip dns set servers=1.1.1.1``). A device complies when
every template line has a matching exported line: same menu, same verb, same ``[ find … ]`` selector,
and at least the template's ``key=value`` pairs. The self-revert is a one-shot ``/system scheduler``
entry that ``/import``s the pre-push export unless netmgr removes it after reconnecting.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from netmgr.errors import DeviceRejected
from provisioning import messages as msg
from provisioning.drivers.base import (
    MASK,
    Connection,
    DeviceBackup,
    LinePlan,
    LineProblem,
    PushOutput,
    find_rejections,
    mask_repeats,
    mask_url_passwords,
)

PROMPT = r"\] >"
BACKUP_NAME = "netmgr-backup"
REVERT_NAME = "netmgr-revert"
REJECTIONS = [
    re.compile(p)
    for p in (
        r"bad command name",
        r"expected end of command",
        r"^failure:",
        r"input does not match",
        r"no such item",
        r"syntax error",
        r"invalid value",
        r"ambiguous value",
        r"missing value",
    )
]
#: Settings RouterOS documents as secret, in whatever menu they appear (v6 and v7; ``security.`` and other
#: dotted prefixes of v7's inline properties are ignored, so ``security.passphrase=`` counts as ``passphrase``).
SECRET_KEYS = frozenset((
    "password", "secret", "passphrase", "pre-shared-key", "preshared-key", "private-key", "private-pre-shared-key",
    "wpa-pre-shared-key", "wpa2-pre-shared-key", "static-key-0", "static-key-1", "static-key-2", "static-key-3",
    "static-sta-private-key", "management-protection-key", "mschapv2-password", "eap-password",
    "authentication-password", "encryption-password", "trap-community", "ipsec-secret", "shared-secret",
    "secrets", "otp-secret", "tcp-md5-key", "authentication-key", "auth-key", "xauth-password",
    "export-passphrase", "passphrase-file", "enc-key", "registry-password",
))
#: Settings that are secret only in one menu: the ``/snmp community`` name *is* the community, an LTE
#: ``pin`` is the SIM's PIN, an NTP ``key`` is the symmetric key.
SECRET_KEYS_IN = {
    "/snmp community": frozenset(("name",)),
    "/interface lte": frozenset(("pin",)),
    "/system ntp key": frozenset(("key",)),
}
#: ``key=value``: the value quoted, quoted with escaped quotes inside a script's ``source="…"``, or bare.
_PAIR = re.compile(r'(?P<pre>^|[\s\[])(?P<key>[a-z][a-z0-9.-]*)='
                   r'(?P<value>\\"(?:(?!\\").)*\\"|"(?:\\.|[^"\\])*"|(?:[^\s\]"\\]|\\[^\s"])*)')
_ECHO_PROMPT = re.compile(r"^\[[^\]\s]+\]\s*(?:/[\w/ -]*)?>\s*")  # `[admin@rtr] > ` or `[admin@rtr] /ip dns> `
_VERBS = {"add", "set", "remove", "enable", "disable"}
#: Verbs whose effect an export shows, so a template line with one is compared with the running config.
#: Any other line (``remove``, ``/tool fetch …``, a mistyped verb) is pushed every time as written and the
#: device judges it: a command it refuses fails the push and rolls the device back.
_COMPARED = {"add", "set"}
_FIND = re.compile(r"\[\s*find\b(?P<q>[^\]]*)\]")


@dataclass(frozen=True)
class Command:
    """One parsed RouterOS command line: ``/ip address add address=… interface=…``."""

    path: str
    verb: str
    selector: str
    params: dict[str, str]
    text: str
    lines: tuple[int, ...] = ()  # where it came from (from 1), its menu header included


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"')
    return value


_TOKEN = re.compile(r'(?:[^\s"\[\]]|"(?:\\.|[^"\\])*")+|\[|\]')


def _tokens(text: str) -> list[str]:
    """Whitespace-separated words, keeping ``key="a b"`` together."""
    return _TOKEN.findall(text)


def logical_lines(text: str) -> list[str]:
    """The export's lines with ``\\``-continued lines joined exactly as RouterOS split them.

    RouterOS wraps a verbose export anywhere, also inside a value (``wpa-pre-shared-key=\\`` with the
    value on the next line): the backslash and the next line's indentation go, nothing is added.
    """
    return [line for _, line in _joined(text)]


def _joined(text: str) -> list[tuple[tuple[int, ...], str]]:
    """``logical_lines`` with the source line numbers (from 1) each joined line came from."""
    lines: list[tuple[tuple[int, ...], str]] = []
    buf: str | None = None
    numbers: tuple[int, ...] = ()
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        line = raw.rstrip()
        piece = line if buf is None else buf + line.lstrip()
        numbers += (number,)
        if line.endswith("\\"):
            buf = piece[:-1]
            continue
        buf = None
        lines.append((numbers, piece))
        numbers = ()
    if buf is not None:
        lines.append((numbers, buf))
    return lines


def numbered_lines(text: str) -> list[tuple[tuple[int, ...], str]]:
    """Export lines with ``\\``-continued lines joined and comments dropped, each with its line numbers (from 1)."""
    return [(numbers, line.strip()) for numbers, line in _joined(text)
            if line.strip() and not line.strip().startswith("#")]


def join_continuations(text: str) -> list[str]:
    """Export lines with ``\\``-continued lines joined, comments and blank lines dropped."""
    return [line for _, line in numbered_lines(text)]


def _split_path(line: str) -> tuple[str, str]:
    """(menu path, rest) of a line that starts with ``/``: ``/ip dns set servers=…`` → (``/ip dns``, ``set …``)."""
    words = line.split()
    idx = next((i for i, w in enumerate(words) if w in _VERBS or "=" in w or w.startswith("[")), len(words))
    path = " ".join(words[:idx])
    return path, line.strip()[len(path):].strip()


@dataclass(frozen=True)
class _Parsed:
    commands: list[Command]
    problems: list[LineProblem]


def _parse(text: str) -> _Parsed:
    section = "/"
    header: tuple[int, ...] = ()
    used = True  # whether the current menu header has governed a command yet
    out: list[Command] = []
    problems: list[LineProblem] = []

    def unused_header() -> None:
        if not used:
            problems.append(LineProblem(header[0], section, msg.EMPTY_MENU, header[1:]))

    for numbers, line in numbered_lines(text):
        if line.startswith("/"):
            path, rest = _split_path(line)
            if not rest:
                unused_header()
                section, header, used = path, numbers, False
                continue
            lines = numbers
        else:
            if section == "/":
                problems.append(LineProblem(numbers[0], line, msg.OUTSIDE_MENU, numbers[1:]))
                continue
            path, rest, lines, used = section, line, header + numbers, True
        full = f"{path} {rest}"
        selector = ""
        match = _FIND.search(rest)
        if match:
            selector = " ".join(sorted(_tokens(match.group("q").strip())))
            rest = (rest[: match.start()] + rest[match.end():]).strip()
        tokens = _tokens(rest)
        verb = tokens[0] if tokens and tokens[0] in _VERBS else ""
        params: dict[str, str] = {}
        for token in tokens[1 if verb else 0:]:
            if "=" in token:
                key, value = token.split("=", 1)
                params[key] = _unquote(value)
            elif not selector:
                selector = token  # e.g. `set ether1 mtu=1500` or an item number
        out.append(Command(path=path, verb=verb, selector=selector, params=params, text=full, lines=lines))
    unused_header()
    return _Parsed(out, problems)


def parse(text: str) -> list[Command]:
    """Flatten an export (sectioned or terse) or a template into full-path commands."""
    return _parse(text).commands


def _satisfied(want: Command, have: list[Command]) -> bool:
    for cmd in have:
        if cmd.path != want.path or cmd.verb != want.verb:
            continue
        if want.verb == "set" and want.selector and cmd.selector != want.selector:
            continue
        if all(cmd.params.get(k) == v for k, v in want.params.items()):
            return True
    return False


class MikrotikRouterosDriver:
    """RouterOS v7 over SSH (netmiko ``mikrotik_routeros``)."""

    platform = "mikrotik_routeros"
    netmiko_device_type = "mikrotik_routeros"
    noise_patterns: Sequence[re.Pattern[str]] = (
        re.compile(r"^#.*\bby RouterOS\b"),
        re.compile(r"^# software id ="),
        re.compile(r"^#\s*$"),
    )
    #: Commands that cannot cut netmgr's path to the device: verified on the push session, no reconnect.
    management_safe: Sequence[re.Pattern[str]] = tuple(
        re.compile(p) for p in (r"/snmp(?: |$)", r"/system identity ", r"/system ntp client ", r"/system clock ",
                                r"/system logging ", r"/system note ", r"/ip dns ")
    )

    def _send(self, conn: Connection, command: str, read_timeout: float = 30) -> str:
        out: str = conn.send_command(command, expect_string=PROMPT, read_timeout=read_timeout)
        return out

    def _check(self, conn: Connection, command: str) -> str:
        out = self._send(conn, command)
        rejected = find_rejections(out, REJECTIONS)
        if rejected:
            raise DeviceRejected(f"`{command}`: {rejected[0]}")
        return out

    def get_running_config(self, conn: Connection) -> str:
        out = self._check(conn, "/export terse show-sensitive")
        return "\n".join(line.rstrip() for line in out.replace("\r\n", "\n").split("\n")).strip() + "\n"

    def missing_lines(self, running: str, desired: str) -> list[str]:
        have = parse(running)
        return [want.text for want in parse(desired) if want.verb in _COMPARED and not _satisfied(want, have)]

    def check_lines(self, desired: str) -> list[LineProblem]:
        return _parse(desired).problems

    def plan(self, running: str, desired: str) -> LinePlan:
        have = parse(running)
        parsed = _parse(desired)
        plan = LinePlan(problems=parsed.problems)
        for want in parsed.commands:
            if want.verb in _COMPARED and _satisfied(want, have):
                plan.compliant.update(want.lines)
                continue
            plan.pushed.update(want.lines)
            name = want.params.get("name")
            exists = name is not None and any(
                c.path == want.path and c.verb == "add" and c.params.get("name") == name for c in have
            )
            if want.verb == "add" and exists:
                # Re-adding a named item fails ("already have such name"); change it in place instead.
                pairs = " ".join(f"{k}={_quote(v)}" for k, v in want.params.items() if k != "name")
                plan.commands.append(f'{want.path} set [ find name={_quote(name or "")} ] {pairs}'.rstrip())
            else:
                plan.commands.append(want.text)
        # A header that governs both a compliant and a pushed command is pushed (it is part of that command).
        plan.compliant.difference_update(plan.pushed)
        return plan

    def commands_for(self, running: str, desired: str) -> list[str]:
        return self.plan(running, desired).commands

    def preview(self, running: str, desired: str) -> str:
        lines = running.rstrip("\n").split("\n") if running.strip() else []
        lines += self.commands_for(running, desired)
        return "\n".join(lines) + "\n"

    def push(self, conn: Connection, lines: Sequence[str]) -> PushOutput:
        log: list[str] = []
        for line in lines:
            out = self._send(conn, line)
            log.append(f"{line}\n{out}".rstrip())
            rejected = find_rejections(out, REJECTIONS)
            if rejected:
                return PushOutput("\n".join(log), [f"{line}: {rejected[0]}"])
        if any(line.startswith("/system identity") for line in lines):
            conn.set_base_prompt()  # the prompt carries the identity
        return PushOutput("\n".join(log))

    def save(self, conn: Connection) -> None:
        """RouterOS writes every change to flash as it is made; nothing to do."""

    def backup(self, conn: Connection, running: str | None = None) -> DeviceBackup:
        """A binary ``/system backup`` (exact restore) plus an ``.rsc`` export people can read."""
        text = running if running is not None else self.get_running_config(conn)
        self._check(conn, f"/export show-sensitive file={BACKUP_NAME}")
        out = self._check(conn, f"/system backup save name={BACKUP_NAME} dont-encrypt=yes")
        if "saved" not in out.lower():
            raise DeviceRejected(f"/system backup save did not confirm: {out.strip()[-200:]}")
        return DeviceBackup(ref=f"{BACKUP_NAME}.backup", text=text)

    def arm_revert(self, conn: Connection, backup: DeviceBackup, seconds: int) -> None:
        # The backup predates this scheduler entry, so loading it also removes the entry: it fires once.
        if f"name={REVERT_NAME}" in backup.text:  # a leftover from a run that died before disarming
            self.disarm_revert(conn)
        event = f"/system backup load name={backup.ref}"
        self._check(conn, f'/system scheduler add name={REVERT_NAME} interval={int(seconds)}s on-event="{event}"')

    def disarm_revert(self, conn: Connection) -> None:
        self._check(conn, f"/system scheduler remove [find name={REVERT_NAME}]")

    def rollback(self, conn: Connection, backup: DeviceBackup) -> None:
        """Load the binary backup; RouterOS reboots, so this session ends (reconnect to look again)."""
        from netmiko.exceptions import ReadException

        try:
            # A one-key question: send a bare CR so no stray LF answers "N" for us, then the key itself.
            conn.write_channel(f"/system backup load name={backup.ref}\r")
            out: str = conn.read_until_pattern(r"\[y/N\]|bad command|failure|no such|expected", read_timeout=30)
            rejected = find_rejections(out, REJECTIONS)
            if rejected:
                raise DeviceRejected(f"rollback refused: {rejected[0]}")
            conn.write_channel("y")
            conn.read_until_pattern(r"rebooting|restored|\] >", read_timeout=30)
        except (OSError, EOFError, ReadException):
            pass  # the device reboots into the backup and drops the session, as expected

    def verify(self, conn: Connection, expected_lines: Sequence[str]) -> list[str]:
        return self.missing_lines(self.get_running_config(conn), "\n".join(expected_lines))

    def mask_secrets(self, text: str, known: Collection[str] = ()) -> str:
        """Mask every secret setting (``SECRET_KEYS``, ``SECRET_KEYS_IN``), then every repeat of a secret value.

        Continued lines are joined first, so the masked text has one line per command whatever the width
        the export was wrapped at.
        """
        out: list[str] = []
        learnt: set[str] = set()
        section = "/"
        for line in logical_lines(text):
            stripped = _ECHO_PROMPT.sub("", line.strip())  # a push log echoes commands after the prompt
            if not stripped or stripped.startswith("#"):
                out.append(line)
                continue
            path = section
            if stripped.startswith("/"):
                path, rest = _split_path(stripped)
                if not rest:
                    section = path
            out.append(mask_url_passwords(_mask_pairs(line, path, learnt), learnt))
        variants = {v for k in known for v in (k, _escape(k))}
        return mask_repeats("\n".join(out), learnt | variants)


def _is_secret(path: str, key: str) -> bool:
    name = key.rsplit(".", 1)[-1]
    return name in SECRET_KEYS or name in SECRET_KEYS_IN.get(path, frozenset())


def _mask_pairs(line: str, path: str, learnt: set[str]) -> str:
    """``line`` with the values of its secret ``key=value`` pairs masked; their values go to ``learnt``."""

    def mask(match: re.Match[str]) -> str:
        value = match["value"]
        if not _is_secret(path, match["key"]):
            if value.startswith(('"', '\\"')):  # a script's source or a scheduler's on-event holds commands too
                return f'{match["pre"]}{match["key"]}={_PAIR.sub(mask, value)}'
            return match[0]
        learnt.update(v for v in (value, _unquote(value), value[2:-2] if value.startswith('\\"') else "") if v)
        return f'{match["pre"]}{match["key"]}={MASK}'

    return _PAIR.sub(mask, line)


def _escape(value: str) -> str:
    """A value as RouterOS writes it inside quotes (``\\``, ``"`` and ``$`` escaped)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")


def _quote(value: str) -> str:
    return f'"{value}"' if re.search(r"[\s;\"]", value) or value == "" else value
