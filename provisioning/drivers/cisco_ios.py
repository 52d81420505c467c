"""Cisco IOS: config read with ``show running-config``, changed in config mode, reverted by IOS itself.

Templates are written like the running config (children indented under their parent). A device
complies when every template line is present under the same parent. The self-revert is IOS's own
commit-confirm: ``configure terminal revert timer N`` before the push, ``configure confirm`` after
netmgr reconnects; rollback is ``configure replace`` of the archived pre-push config.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

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

BACKUP_FILE = "flash:netmgr-backup"
ARCHIVE_PATH = "flash:netmgr-archive"
CONFIG_PROMPT = r"\(config[^)]*\)#"
ENABLE_PROMPT = r"#"
REJECTIONS = [
    re.compile(p)
    for p in (
        r"% Invalid input detected",
        r"% Incomplete command",
        r"% Ambiguous command",
        r"% Unknown command",
        r"^%\s*Error",
        r"% Rollback",
    )
]
_T = r"(?:(?P<t>[0-9])\s+)?"  # the encryption type before a secret: 0 plain, 5/8/9 hashes, 6 AES, 7 Vigenère
#: Secret-bearing IOS commands (Cisco's configuration guides; the lists Oxidized's ios.rb and RANCID's
#: cisco filter keep). Each line is masked by the first rule that matches it: every named group ``v…``
#: holds a secret; ``t`` is the type digit in front of ``v``. Matched against the line without indent.
SECRET_RULES: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p in (
    r"^ntp (?:server|peer) ",  # `… key 1` names an authentication key by number: nothing to mask
    r"^snmp-server community (?P<v>\S+)",
    # `snmp-server host 10.0.0.9 [vrf X] [informs|traps] [version 1|2c] <community> …` (v3 names a user)
    r"^snmp-server host \S+(?: vrf \S+)?(?: informs| traps)?(?: version (?:1|2c))? "
    r"(?P<v>(?!version\b|informs\b|traps\b|vrf\b)\S+)",
    r"^snmp-server user \S+ \S+(?: remote \S+(?: udp-port \d+)?)? v3(?: encrypted)? auth \S+ (?P<v>\S+)"
    r"(?: priv (?:des|3des|aes(?: \d+)?) (?P<v2>\S+))?",
    r"^key config-key password-encrypt (?P<v>\S+)",
    r"^crypto isakmp key " + _T + r"(?P<v>\S+)",
    r"(?:^|\s)pre-shared-key (?:address \S+(?: \S+)? |hostname \S+ )?key " + _T + r"(?P<v>\S+)",
    r"^pre-shared-key(?: local| remote)? " + _T + r"(?P<v>(?!key-chain\b|address\b|hostname\b)\S+)",
    r"(?:^|\s)wpa-psk (?:ascii|hex) " + _T + r"(?P<v>\S+)",
    r"(?:^|\s)psk set-key (?:ascii|hex) " + _T + r"(?P<v>\S+)",  # IOS-XE WLAN: `security wpa psk set-key …`
    r"(?:^|\s)key-string " + _T + r"(?P<v>\S+)",
    r"(?:^|\s)message-digest-key \d+ md5 " + _T + r"(?P<v>\S+)",
    r"^ntp authentication-key \d+ md5 (?P<v>\S+)",
    r"(?:^|\s)authentication-key " + _T + r"(?P<v>\S+)",
    r"(?:^|\s)(?:area|domain)-password " + _T + r"(?P<v>\S+)",
    r"^vrrp \d+ authentication text (?P<v>\S+)",
    r"^standby(?: \d+)? authentication (?:text )?(?P<v>(?!md5\b)\S+)",
    r"^ip nhrp authentication (?P<v>\S+)",
    r"^(?:enable|username \S+ .*?)\b(?:secret|password)(?: level \d+)? " + _T + r"(?P<v>\S+)",
    r"(?:^|\s)(?:secret|password)(?! encryption\b) " + _T + r"(?P<v>\S+)",
    # RADIUS/TACACS+ keys: `radius-server key`, `… host … key 7 …`, ` key …` in a server block, ` server-key …`
    r"(?:^|\s)(?:server-)?key " + _T + r"(?P<v>(?!config-key\b|chain\b)\S+)",
))
_ECHO_PROMPT = re.compile(r"^\S+\(config[^)]*\)#\s*")
#: How ``show running-config`` prints every banner's delimiter, whatever was typed.
_BANNER_END = "^C"
#: In a ``key chain`` block, ``key 1`` numbers a key (the secret is its ``key-string``).
_KEY_NUMBER = re.compile(r"^key \d+$")
#: Cisco's published type-7 key (RANCID, Oxidized and every type-7 decoder use it).
_TYPE7_KEY = "dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"
_SINGLE_VALUED = ("hostname ", "ip domain name ", "ip domain-name ", "clock timezone ", "snmp-server location ",
                  "snmp-server contact ", "banner motd ")
_SKIP = re.compile(r"^(!|end$|Building configuration|Current configuration)")


#: Lines of pasted ``show running-config`` output a template must not carry: netmgr enters and leaves
#: config mode itself, and the headers are not commands.
_REFUSED = {"end": msg.IOS_END, "Building configuration": msg.IOS_SHOW_OUTPUT,
            "Current configuration": msg.IOS_SHOW_OUTPUT}


def numbered(text: str) -> list[tuple[int, str, str]]:
    """(line number from 1, parent, line): top-level lines have parent "", children carry their block's header."""
    out: list[tuple[int, str, str]] = []
    parent = ""
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if not raw.strip() or _SKIP.match(raw.strip()):
            if raw.strip().startswith("!") and not raw.startswith(" "):
                parent = ""
            continue
        if raw.startswith(" ") and parent:
            out.append((number, parent, raw.strip()))
        else:
            parent = raw.strip()
            out.append((number, "", parent))
    return out


def flatten(text: str) -> list[tuple[str, str]]:
    """(parent, line) pairs: top-level lines have parent "", children carry their block's header."""
    return [(parent, line) for _, parent, line in numbered(text)]


class CiscoIosDriver:
    """Cisco IOS / IOS-XE over SSH (netmiko ``cisco_ios``)."""

    platform = "cisco_ios"
    netmiko_device_type = "cisco_ios"
    noise_patterns: Sequence[re.Pattern[str]] = (
        re.compile(r"^Building configuration"),
        re.compile(r"^Current configuration\s*:"),
        re.compile(r"^! Last configuration change"),
        re.compile(r"^! NVRAM config last updated"),
        re.compile(r"^! No configuration change since last restart"),
        re.compile(r"^ntp clock-period"),
        re.compile(r"uptime is"),
    )
    #: Commands that cannot cut netmgr's path to the device: verified on the push session, no reconnect.
    management_safe: Sequence[re.Pattern[str]] = tuple(
        re.compile(p) for p in (r"snmp-server ", r"ntp server ", r"logging host ", r"hostname ", r"clock timezone ")
    )

    def _enable(self, conn: Connection) -> None:
        if not conn.check_enable_mode():
            conn.enable()

    def _exec(self, conn: Connection, command: str, read_timeout: float = 30) -> str:
        out: str = conn.send_command(command, read_timeout=read_timeout)
        rejected = find_rejections(out, REJECTIONS)
        if rejected:
            raise DeviceRejected(f"`{command}`: {rejected[0]}")
        return out

    def get_running_config(self, conn: Connection) -> str:
        self._enable(conn)
        out = self._exec(conn, "show running-config", read_timeout=60)
        return "\n".join(line.rstrip() for line in out.replace("\r\n", "\n").split("\n")).strip() + "\n"

    def missing_lines(self, running: str, desired: str) -> list[str]:
        have = set(flatten(running))
        return [f"{p} / {line}" if p else line for p, line in flatten(desired) if (p, line) not in have]

    def check_lines(self, desired: str) -> list[LineProblem]:
        problems: list[LineProblem] = []
        for number, raw in enumerate(desired.replace("\r\n", "\n").split("\n"), start=1):
            line = raw.strip()
            reason = next((why for start, why in _REFUSED.items() if line == start or
                           (start != "end" and line.startswith(start))), None)
            if reason is not None:
                problems.append(LineProblem(number, line, reason))
        return problems

    def plan(self, running: str, desired: str) -> LinePlan:
        have = set(flatten(running))
        lines = numbered(desired)
        headers = {parent for _, parent, _ in lines if parent}
        plan = LinePlan(problems=self.check_lines(desired))
        block: str | None = None  # the block (e.g. an interface) the commands are being typed into
        for number, parent, line in lines:
            if (parent, line) in have:
                plan.compliant.add(number)
                continue
            plan.pushed.add(number)
            if parent:
                if block != parent:
                    if block is not None:
                        plan.commands.append("exit")
                    plan.commands.append(parent)
                    block = parent
                plan.commands.append(f" {line}")
                continue
            if block is not None:
                plan.commands.append("exit")
            plan.commands.append(line)
            block = line if line in headers else None
        return plan

    def commands_for(self, running: str, desired: str) -> list[str]:
        return self.plan(running, desired).commands

    def preview(self, running: str, desired: str) -> str:
        lines = [line for line in running.rstrip("\n").split("\n") if line.strip() != "end"]
        have = set(flatten(running))
        for parent, line in flatten(desired):
            if (parent, line) in have:
                continue
            have.add((parent, line))
            if not parent:
                prefix = next((p for p in _SINGLE_VALUED if line.startswith(p)), None)
                same = [i for i, old in enumerate(lines) if prefix and old.startswith(prefix)]
                if same:
                    lines[same[0]] = line  # e.g. a new hostname replaces the old one
                else:
                    lines.append(line)
                continue
            try:
                start = lines.index(parent)
            except ValueError:
                lines.append(parent)
                have.add(("", parent))
                start = len(lines) - 1
            end = start + 1
            while end < len(lines) and lines[end].startswith(" "):
                end += 1
            lines.insert(end, f" {line}")
        return "\n".join([*lines, "end"]) + "\n"

    def push(self, conn: Connection, lines: Sequence[str]) -> PushOutput:
        self._enable(conn)
        log: list[str] = []
        if not conn.check_config_mode():
            log.append(conn.config_mode())
        try:
            for line in lines:
                out: str = conn.send_command(line, expect_string=CONFIG_PROMPT, strip_prompt=False,
                                             strip_command=False, read_timeout=30)
                log.append(out.rstrip())
                rejected = find_rejections(out, REJECTIONS)
                if rejected:
                    return PushOutput("\n".join(log), [f"{line.strip()}: {rejected[0]}"])
        finally:
            renamed = [line.split()[1] for line in lines if line.startswith("hostname ") and len(line.split()) > 1]
            if renamed:
                conn.base_prompt = renamed[-1]  # the prompt carries the hostname; netmiko matches on it
            log.append(conn.exit_config_mode())
        return PushOutput("\n".join(log))

    def save(self, conn: Connection) -> None:
        self._enable(conn)
        out: str = conn.send_command("write memory", expect_string=ENABLE_PROMPT, read_timeout=60)
        if "[OK]" not in out and "OK" not in out:
            raise DeviceRejected(f"write memory did not confirm: {out.strip()[-200:]}")

    def backup(self, conn: Connection, running: str | None = None) -> DeviceBackup:
        text = running if running is not None else self.get_running_config(conn)
        if ("", "archive") not in set(flatten(text)):
            # The revert timer needs a configuration archive; set one up once, before the backup.
            conn.send_config_set(["archive", f" path {ARCHIVE_PATH}", " maximum 5"], cmd_verify=False)
            text = self.get_running_config(conn)
        out: str = conn.send_command(f"copy running-config {BACKUP_FILE}", expect_string=r"\?|#",
                                     read_timeout=60)
        if "?" in out:  # "Destination filename [netmgr-backup]?"
            out += conn.send_command("\n", expect_string=r"#", read_timeout=60, cmd_verify=False)
        if find_rejections(out, REJECTIONS):
            raise DeviceRejected(f"copy running-config {BACKUP_FILE}: {out.strip()}")
        return DeviceBackup(ref=BACKUP_FILE, text=text)

    def arm_revert(self, conn: Connection, backup: DeviceBackup, seconds: int) -> None:
        minutes = max(1, -(-int(seconds) // 60))
        self._enable(conn)
        out: str = conn.send_command(f"configure terminal revert timer {minutes}", expect_string=ENABLE_PROMPT)
        rejected = find_rejections(out, REJECTIONS)
        if conn.check_config_mode():
            conn.exit_config_mode()
        if rejected:
            raise DeviceRejected(f"cannot arm the revert timer: {rejected[0]} (is `archive` configured?)")

    def disarm_revert(self, conn: Connection) -> None:
        self._enable(conn)
        self._exec(conn, "configure confirm")

    def rollback(self, conn: Connection, backup: DeviceBackup) -> None:
        self._enable(conn)
        self._exec(conn, f"configure replace {backup.ref} force", read_timeout=120)
        conn.set_base_prompt()

    def verify(self, conn: Connection, expected_lines: Sequence[str]) -> list[str]:
        return self.missing_lines(self.get_running_config(conn), "\n".join(expected_lines))

    def mask_secrets(self, text: str, known: Collection[str] = ()) -> str:
        """Mask every ``SECRET_RULES`` secret, then every repeat of a secret value (type-7 ones decoded too)."""
        out: list[str] = []
        learnt: set[str] = set()
        in_banner = False  # a banner's text is prose ("enter your password to …"), not commands
        for line in text.replace("\r\n", "\n").split("\n"):
            prompt = _ECHO_PROMPT.match(line)  # a push log echoes each command after the config prompt
            body = line[prompt.end():] if prompt else line.lstrip()
            indent = line[: len(line) - len(body)]
            if in_banner:
                in_banner = _BANNER_END not in body
            elif body.startswith("banner ") and body.count(_BANNER_END) == 1:
                in_banner = True
            elif body and not body.startswith("!") and not _KEY_NUMBER.match(body):
                body = mask_url_passwords(_mask_line(body, learnt), learnt)
            out.append(indent + body)
        return mask_repeats("\n".join(out), learnt | set(known))


def _mask_line(body: str, learnt: set[str]) -> str:
    for rule in SECRET_RULES:
        match = rule.search(body)
        if match is None:
            continue
        spans = sorted((match.span(g), match[g]) for g in rule.groupindex if g.startswith("v") and match[g])
        for _, value in spans:
            learnt.add(value)
            if "t" in rule.groupindex and match["t"] == "7" and (plain := decode_type7(value)):
                learnt.add(plain)
        for (start, end), _ in reversed(spans):
            body = body[:start] + MASK + body[end:]
        return body
    return body


def decode_type7(value: str) -> str | None:
    """The plain text of an IOS type-7 password (``0822455D0A16`` → ``cisco``), None if it is not one."""
    if not re.fullmatch(r"\d{2}(?:[0-9A-Fa-f]{2})+", value):
        return None
    offset = int(value[:2])
    pairs = value[2:]
    chars = [chr(int(pairs[i:i + 2], 16) ^ ord(_TYPE7_KEY[(offset + i // 2) % len(_TYPE7_KEY)]))
             for i in range(0, len(pairs), 2)]
    return "".join(chars)
