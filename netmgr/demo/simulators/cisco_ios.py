"""A Cisco IOS 15 CLI simulator: exec/enable/config modes, show run, archive and the confirmed-change revert timer.

Lines flow from :class:`IosShell` through a keyword grammar (:data:`EXEC`, :data:`CONFIG`, sub-mode grammars) that
expands abbreviations, reports errors as IOS does (caret marker, incomplete, ambiguous) and edits the running
configuration, a list of ``[line, children]`` blocks rendered by :func:`render`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netmgr.demo.simulators.base import Device, Shell

log = logging.getLogger(__name__)

Block = list[Any]  # [header: str, children: list[str] | None]
Config = list[Block]

IFACE_TYPES = ("GigabitEthernet", "FastEthernet", "Loopback", "Vlan", "Tunnel", "Port-channel", "Serial")
PHYSICAL = tuple(f"GigabitEthernet0/{n}" for n in range(4))
# Lines that exist "on" by default and are shown as "no ..." when turned off.
DEFAULT_ON = {"ip domain lookup", "ip http server", "aaa new-model", "service pad", "ip source-route"}


class IosError(Exception):
    def __init__(self, kind: str, column: int = 0) -> None:
        super().__init__(kind)
        self.kind = kind  # invalid | incomplete | ambiguous | unknown
        self.column = column


# ---------------------------------------------------------------------------------------------------------
# grammar
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Node:
    word: str = ""
    keywords: dict[str, Node] = field(default_factory=dict)
    params: list[tuple[str, Node]] = field(default_factory=list)
    action: tuple[str, Any] | None = None


def build(patterns: list[tuple[str, str, Any]]) -> Node:
    """Build a keyword tree from ``(pattern, action, argument)``; ``a|b`` are alternatives, ``<x>`` parameters."""
    root = Node()
    for pattern, action, arg in patterns:
        choices = [tok.split("|") for tok in pattern.split()]
        for words in itertools.product(*choices):
            node = root
            for word in words:
                if word.startswith("<"):
                    kind = word[1:-1]
                    nxt = next((n for k, n in node.params if k == kind), None)
                    if nxt is None:
                        nxt = Node(word)
                        node.params.append((kind, nxt))
                else:
                    nxt = node.keywords.setdefault(word.lower(), Node(word))
                node = nxt
            node.action = (action, arg)
    return root


@dataclass
class Tok:
    text: str
    start: int  # 0-based column


@dataclass
class Match:
    words: list[str]  # canonical keywords and the values as typed
    action: tuple[str, Any] | None
    values: list[str]


def lex(line: str) -> list[Tok]:
    return [Tok(m.group(), m.start()) for m in re.finditer(r"\S+", line)]


def _param_ok(kind: str, text: str) -> bool:
    if kind == "num":
        return text.isdigit()
    if kind in ("ip", "mask"):
        try:
            ipaddress.IPv4Address(text)
        except ValueError:
            return False
        return True
    return True


def parse_iface(text: str) -> str | None:
    m = re.fullmatch(r"([A-Za-z-]+)\s*(\d+(?:/\d+)*(?:\.\d+)?)", text.strip())
    if not m:
        return None
    kinds = [t for t in IFACE_TYPES if t.lower().startswith(m.group(1).lower())]
    if len(kinds) != 1:
        return None
    name = kinds[0] + m.group(2)
    if kinds[0] in ("GigabitEthernet",) and name.split(".")[0] not in PHYSICAL:
        return None
    return name


def match(root: Node, line: str, *, allow_prefix: bool = False) -> Match:
    """Walk the tree; raise IosError with the column of the offending character."""
    tokens = lex(line)
    node = root
    words: list[str] = []
    values: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        low = tok.text.lower()
        nxt = node.keywords.get(low)
        if nxt is None:
            candidates = [n for k, n in node.keywords.items() if k.startswith(low)]
            if len(candidates) > 1:
                raise IosError("ambiguous", tok.start)
            nxt = candidates[0] if candidates else None
        if nxt is not None:
            words.append(nxt.word)
            node = nxt
            i += 1
            continue
        for kind, child in node.params:
            if kind == "line":
                rest = line[tok.start:].rstrip()
                words.append(rest)
                values.append(rest)
                node = child
                i = len(tokens)
                break
            if kind == "iface":
                rest = " ".join(t.text for t in tokens[i:])
                name = parse_iface(rest)
                if name is None:
                    continue
                words.append(name)
                values.append(name)
                node = child
                i = len(tokens)
                break
            if _param_ok(kind, tok.text):
                words.append(tok.text)
                values.append(tok.text)
                node = child
                i += 1
                break
        else:
            raise IosError("invalid", tok.start + _common_prefix(low, node))
    if node.action is None and not allow_prefix:
        raise IosError("incomplete", len(line))
    return Match(words, node.action, values)


def _common_prefix(word: str, node: Node) -> int:
    best = 0
    for key in node.keywords:
        n = 0
        while n < min(len(word), len(key)) and word[n] == key[n]:
            n += 1
        best = max(best, n)
    return best if best < len(word) else 0


# (pattern, action, argument). Actions: set (argument = number of words forming the key; 0 = whole line),
# enter (argument = sub-mode), or a named handler.
USER_EXEC = [
    ("enable", "enable", None), ("exit|logout|quit", "exit", None),
    ("terminal length <num>", "term_length", None), ("terminal width <num>", "noop", None),
    ("terminal monitor", "noop", None), ("show version", "show_version", None), ("show clock", "show_clock", None),
    ("show ip interface brief", "show_ip_int_brief", None), ("show privilege", "show_privilege", None),
    ("ping <word>", "ping", None),
]
PRIV_EXEC = [
    *USER_EXEC, ("disable", "disable", None),
    ("show running-config", "show_run", None), ("show running-config interface <iface>", "show_run_if", None),
    ("show startup-config", "show_start", None), ("show archive", "show_archive", None),
    ("show flash:", "dir", None), ("dir", "dir", None), ("dir <word>", "dir", None),
    ("write", "write_mem", None), ("write memory", "write_mem", None), ("write terminal", "show_run", None),
    ("copy running-config startup-config", "copy_run_start", None),
    ("copy running-config <word>", "copy_run_file", None), ("copy startup-config running-config", "copy_start_run",
                                                               None),
    ("copy <word> running-config", "copy_file_run", None),
    ("configure terminal", "conf_t", None), ("configure terminal revert timer <num>", "conf_t_revert", None),
    ("configure confirm", "conf_confirm", None), ("configure revert now", "revert_now", None),
    ("configure revert timer <num>", "revert_timer", None),
    ("configure replace <word>", "conf_replace", False), ("configure replace <word> force", "conf_replace", True),
    ("archive config", "archive_config", None), ("delete <word>", "delete", None),
    ("delete /force <word>", "delete", None), ("reload", "reload", None),
]
CONFIG = [
    ("hostname <word>", "set", 1), ("interface <iface>", "enter", "if"),
    ("line vty <num> <num>", "enter", "line"), ("line vty <num>", "enter", "line"),
    ("line con|aux <num>", "enter", "line"),
    ("ip access-list standard <word>", "enter", "std-nacl"), ("ip access-list extended <word>", "enter", "ext-nacl"),
    ("archive", "enter", "archive"), ("vlan <num>", "enter", "vlan"), ("radius server <word>", "enter", "radius"),
    ("ip domain name <word>", "set", 3), ("ip domain lookup", "set", 0), ("ip name-server <line>", "set", 0),
    ("ip route <ip> <mask> <line>", "set", 0), ("ip default-gateway <ip>", "set", 2), ("ip http server", "set", 0),
    ("ip http secure-server", "set", 0), ("ip ssh version <num>", "set", 3), ("ip source-route", "set", 0),
    ("ip forward-protocol nd", "set", 0),
    ("ntp server <word>", "set", 0), ("ntp server <word> prefer", "set", 3),
    ("snmp-server community <word>", "set", 3), ("snmp-server community <word> <line>", "set", 3),
    ("snmp-server location <line>", "set", 2), ("snmp-server contact <line>", "set", 2),
    ("snmp-server host <line>", "set", 0),
    ("logging host <word>", "set", 0), ("logging buffered <line>", "set", 2), ("logging <ip>", "set", 0),
    ("username <word> <line>", "set", 2), ("enable secret <line>", "enable_secret", None),
    ("service password-encryption", "set", 0), ("service timestamps <line>", "set", 3),
    ("service pad", "set", 0), ("banner motd <line>", "set", 2), ("aaa new-model", "set", 0),
    ("clock timezone <line>", "set", 2), ("spanning-tree mode <word>", "set", 2),
    ("crypto key generate rsa <line>", "noop", None), ("do <line>", "do", None),
    ("end", "end", None), ("exit", "exit_mode", None),
]
SUB_COMMON = [("end", "end", None), ("exit", "exit_mode", None), ("do <line>", "do", None)]
SUBMODES: dict[str, list[tuple[str, str, Any]]] = {
    "if": [
        ("description <line>", "set", 1), ("ip address <ip> <mask>", "set", 2),
        ("ip address <ip> <mask> secondary", "set", 0), ("ip access-group <word> in|out", "set", (0, 1, 3)),
        ("shutdown", "set", 1), ("switchport mode access|trunk", "set", 2), ("switchport access vlan <num>", "set", 3),
        ("switchport trunk allowed vlan <line>", "set", 4), ("switchport trunk native vlan <num>", "set", 4),
        ("speed <word>", "set", 1), ("duplex <word>", "set", 1), ("bandwidth <num>", "set", 1),
        ("mtu <num>", "set", 1), ("ip nat inside|outside", "set", 2),
        ("service-policy input|output <word>", "set", 2), ("encapsulation dot1Q <num>", "set", 1),
        ("ip helper-address <ip>", "set", 0), ("negotiation auto", "set", 1),
    ],
    "line": [
        ("transport input <line>", "set", 2), ("login", "set", 1), ("login local", "set", 1),
        ("exec-timeout <num>", "set", 1), ("exec-timeout <num> <num>", "set", 1),
        ("access-class <word> in|out", "set", (0, 2)), ("password <line>", "set", 1),
        ("logging synchronous", "set", 0), ("privilege level <num>", "set", 1), ("session-timeout <num>", "set", 1),
    ],
    "std-nacl": [("permit|deny|remark <line>", "set", 0), ("<num> permit|deny|remark <line>", "acl_seq", None)],
    "ext-nacl": [("permit|deny|remark <line>", "set", 0), ("<num> permit|deny|remark <line>", "acl_seq", None)],
    "archive": [("path <word>", "set", 1), ("maximum <num>", "set", 1), ("write-memory", "set", 1),
                ("time-period <num>", "set", 1)],
    "vlan": [("name <word>", "set", 1)],
    "radius": [("address ipv4 <ip>", "set", 2), ("address ipv4 <ip> auth-port <num> acct-port <num>", "set", 2),
               ("key <line>", "set", 1), ("timeout <num>", "set", 1), ("retransmit <num>", "set", 1)],
}
PROMPT_SUFFIX = {"if": "config-if", "line": "config-line", "std-nacl": "config-std-nacl",
                 "ext-nacl": "config-ext-nacl", "archive": "config-archive", "vlan": "config-vlan",
                 "radius": "config-radius-server"}

TREES: dict[str, Node] = {"user": build(USER_EXEC), "priv": build(PRIV_EXEC), "config": build(CONFIG),
                          **{mode: build(p + SUB_COMMON) for mode, p in SUBMODES.items()}}


def line_key(words: list[str], spec: Any) -> list[str]:
    if isinstance(spec, tuple):
        return [words[i] for i in spec if i < len(words)]
    return words if not spec else words[:spec]


# ---------------------------------------------------------------------------------------------------------
# configuration text
# ---------------------------------------------------------------------------------------------------------
RANKS: tuple[tuple[str, int], ...] = (
    ("version", 1), ("service", 1), ("no service", 1), ("hostname", 3), ("boot-start-marker", 4),
    ("boot-end-marker", 4), ("logging buffered", 5),
    ("enable", 6), ("aaa", 7), ("no aaa", 7), ("clock", 8), ("ip domain", 10), ("no ip domain", 10),
    ("ip name-server", 10), ("username", 12), ("archive", 13), ("vlan", 14), ("spanning-tree", 14),
    ("interface", 20), ("router", 25), ("ip forward-protocol", 30), ("ip http", 31), ("no ip http", 31),
    ("ip default-gateway", 32), ("ip route", 32), ("ip ssh", 33), ("ip access-list", 34), ("logging", 36),
    ("snmp-server", 40), ("radius", 42), ("banner", 45), ("line", 50), ("ntp", 55),
)


def rank(header: str) -> int:
    best, length = 35, -1
    for prefix, value in RANKS:
        if (header == prefix or header.startswith(prefix + " ")) and len(prefix) > length:
            best, length = value, len(prefix)
    return best


def _iface_sort(header: str) -> tuple[int, list[int]]:
    name = header.split(" ", 1)[1] if " " in header else header
    kind = next((i for i, t in enumerate(IFACE_TYPES) if name.startswith(t)), 99)
    return kind, [int(n) for n in re.findall(r"\d+", name)]


def render_body(config: Config) -> str:
    """The configuration as ``show running-config`` prints it, from ``version`` to ``end``."""
    ordered = sorted(enumerate(config), key=lambda e: (rank(e[1][0]), _iface_sort(e[1][0])
                                                       if e[1][0].startswith("interface ") else (0, []), e[0]))
    out: list[str] = []
    previous = None
    for _, (header, children) in ordered:
        group = rank(header)
        if previous is not None and (group != previous or children is not None) and not (
                header.startswith("line ") and out and (out[-1].startswith(("line ", " ")))):
            out.append("!")
        out.append(header)
        if children is not None:
            kids = sorted(children, key=_child_rank) if header.startswith("interface ") else list(children)
            if header.startswith("interface ") and not any(c.startswith(("ip address", "switchport", "no ip address"))
                                                           for c in kids):
                kids.insert(0 if not kids or not kids[0].startswith("description") else 1, "no ip address")
            out.extend(" " + c for c in kids)
        previous = group if children is None else -1
    out.extend(["!", "end"])
    return "\n".join(out) + "\n"


IF_CHILD_RANKS = (("description", 0), ("encapsulation", 1), ("switchport", 2), ("ip address", 2),
                  ("no ip address", 2), ("ip access-group", 3), ("ip helper-address", 3), ("ip nat", 4),
                  ("service-policy", 4), ("shutdown", 5), ("bandwidth", 5), ("mtu", 5))


def _child_rank(child: str) -> int:
    return next((r for prefix, r in IF_CHILD_RANKS if child == prefix or child.startswith(prefix + " ")), 6)


def parse_config(text: str) -> Config:
    """Read a saved configuration (``show run`` format) back into blocks."""
    config: Config = []
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if (not stripped or stripped.startswith("!") or stripped == "end" or stripped.startswith("Building config")
                or stripped.startswith("Current configuration") or stripped.startswith("Using ")):
            continue
        if line.startswith(" ") and config:
            block = config[-1]
            if block[1] is None:
                block[1] = []
            if stripped != "no ip address":
                block[1].append(stripped)
        else:
            children: list[str] | None = [] if _is_block(stripped) else None
            config.append([stripped, children])
    return config


def _is_block(header: str) -> bool:
    return header.startswith(("interface ", "line ", "ip access-list ", "archive", "vlan ", "radius server ",
                              "router "))


def secret_hash(secret: str) -> str:
    digest = hashlib.sha256(secret.encode()).hexdigest()
    return f"$9${digest[:14]}${digest[14:57]}"


# ---------------------------------------------------------------------------------------------------------
# device
# ---------------------------------------------------------------------------------------------------------
class CiscoIosDevice(Device):
    """A simulated Cisco IOSv 15.9 router with GigabitEthernet0/0-0/3."""

    platform = "cisco_ios"

    def factory_state(self, hostname: str) -> dict[str, Any]:
        config: Config = [
            ["version 15.9", None], ["service timestamps debug datetime msec", None],
            ["service timestamps log datetime msec", None], ["no service password-encryption", None],
            [f"hostname {hostname}", None], ["boot-start-marker", None], ["boot-end-marker", None],
            [f"enable secret 9 {secret_hash(self.enable_secret)}", None], ["no aaa new-model", None],
            ["no ip domain lookup", None], ["ip domain name lab.local", None],
            [f"username {self.username} secret 9 {secret_hash(self.password)}", None],
        ]
        for n, name in enumerate(PHYSICAL):
            children = ["duplex auto", "speed auto", "media-type rj45"]
            config.append([f"interface {name}", children if n == 0 else ["shutdown", *children]])
        config += [
            ["ip forward-protocol nd", None], ["no ip http server", None], ["ip ssh version 2", None],
            ["line con 0", []], ["line aux 0", []], ["line vty 0 4", ["login local", "transport input ssh"]],
        ]
        return {"config": config, "startup": None, "files": {}, "archive_next": 1,
                "enable_secret": self.enable_secret, "last_change": _ios_time(), "revert": None}

    def after_load(self) -> None:
        super().after_load()
        self.enable_secret = self.state.get("enable_secret", self.enable_secret)
        revert = self.state.get("revert")
        if revert:
            self._arm_revert(max(revert["deadline"] - time.time(), 0.0))

    def open_shell(self, username: str) -> Shell:
        return IosShell(self, username)

    # -- config access ------------------------------------------------------------------------------------
    @property
    def config(self) -> Config:
        result: Config = self.state["config"]
        return result

    @property
    def hostname(self) -> str:
        for header, _ in self.config:
            if header.startswith("hostname "):
                return str(header.split(" ", 1)[1])
        return "Router"

    def running_config(self) -> str:
        body = render_body(self.config)
        head = (f"!\n! Last configuration change at {self.state['last_change']} by {self.username}\n!\n")
        text = head + body
        return f"Building configuration...\n\nCurrent configuration : {len(text)} bytes\n{text}"

    def touched(self) -> None:
        self.state["last_change"] = _ios_time()

    def block(self, header: str, create: bool) -> Block | None:
        for blk in self.config:
            if blk[0] == header:
                return blk
        if not create:
            return None
        blk = [header, []]
        self.config.append(blk)
        return blk

    def write_file(self, name: str, text: str) -> None:
        self.state["files"][name] = {"text": text, "time": time.strftime("%b %d %Y %H:%M:%S")}

    # -- archive and revert -------------------------------------------------------------------------------
    def archive_settings(self) -> tuple[str | None, int, bool]:
        blk = self.block("archive", create=False)
        path, maximum, on_write = None, 10, False
        for child in (blk[1] if blk else []) or []:
            if child.startswith("path "):
                path = child.split(" ", 1)[1].replace("$h", self.hostname)
            elif child.startswith("maximum "):
                maximum = int(child.split()[1])
            elif child == "write-memory":
                on_write = True
        return path, maximum, on_write

    def archive_files(self) -> list[str]:
        path, _, _ = self.archive_settings()
        if path is None:
            return []
        names = [n for n in self.state["files"] if re.fullmatch(re.escape(path) + r"-\d+", n)]
        return sorted(names, key=lambda n: int(n.rsplit("-", 1)[1]))

    def archive_now(self) -> str | None:
        path, maximum, _ = self.archive_settings()
        if path is None:
            return None
        name = f"{path}-{self.state['archive_next']}"
        self.state["archive_next"] += 1
        self.write_file(name, render_body(self.config))
        for old in self.archive_files()[:-maximum]:
            del self.state["files"][old]
        return name

    def replace_config(self, text: str) -> None:
        self.state["config"] = parse_config(text)
        self.touched()

    def _arm_revert(self, delay: float) -> None:
        self.call_later("revert", delay, self.revert_now)

    def start_revert(self, minutes: int) -> str:
        name = self.archive_now()
        if name is None:
            raise IosError("no-archive")
        self.state["revert"] = {"file": name, "deadline": time.time() + minutes * self.seconds_per_minute,
                                "minutes": minutes}
        self._arm_revert(minutes * self.seconds_per_minute)
        return name

    def revert_now(self) -> None:
        revert = self.state.get("revert")
        self.cancel_timer("revert")
        self.state["revert"] = None
        if not revert:
            return
        saved = self.state["files"].get(revert["file"])
        if saved is None:
            log.warning("rollback file %s is gone", revert["file"])
            return
        log.info("%s: rollback confirmed change timer expired, rolling back to %s", self.hostname, revert["file"])
        self.replace_config(saved["text"])
        for session in list(self.sessions):
            shell = session.shell
            if isinstance(shell, IosShell) and shell.mode not in ("user", "priv"):
                shell.mode, shell.block = "priv", None
        self.save()

    def confirm(self) -> bool:
        if not self.state.get("revert"):
            return False
        self.cancel_timer("revert")
        self.state["revert"] = None
        return True


def _ios_time() -> str:
    return time.strftime("%H:%M:%S UTC %a %b %d %Y", time.gmtime())


# ---------------------------------------------------------------------------------------------------------
# shell
# ---------------------------------------------------------------------------------------------------------
class IosShell(Shell):
    """One vty session: ``R1>`` → ``enable`` → ``R1#`` → ``configure terminal`` → ``R1(config)#``."""

    def __init__(self, device: CiscoIosDevice, username: str) -> None:
        self.device = device
        self.username = username
        self.mode = "priv" if self._privileged() else "user"
        self.block: Block | None = None
        self.page_length = 24
        self.pending: Callable[[str], str] | None = None
        self.password_tries = 0

    def _privileged(self) -> bool:
        for header, _ in self.device.config:
            words = str(header).split()
            if words[:2] == ["username", self.username] and "privilege" in words:
                return words[words.index("privilege") + 1] == "15"
        return False

    def greeting(self) -> str:
        for header, _ in self.device.config:
            if header.startswith("banner motd "):
                text = str(header).split(" ", 2)[2].replace("^C", "\x03")
                return "\n" + text[1:].split(text[0])[0] + "\n\n"
        return "\n"

    def prompt(self) -> str:
        if self.pending is not None:
            return ""
        host = self.device.hostname
        if self.mode == "user":
            return f"{host}>"
        if self.mode == "priv":
            return f"{host}#"
        suffix = "config" if self.mode == "config" else PROMPT_SUFFIX[self.mode]
        return f"{host[:20]}({suffix})#"

    def ctrl_z(self) -> str:
        if self.mode not in ("user", "priv"):
            self.mode, self.block = "priv", None
        return ""

    def interrupt(self) -> str:
        self.pending = None
        self.echo = True
        return ""

    def handle_line(self, line: str) -> str:
        if self.pending is not None:
            handler, self.pending = self.pending, None
            return handler(line)
        if not line.strip():
            return ""
        prompt = self.prompt()
        try:
            return self._dispatch(line)
        except IosError as exc:
            return self._error(exc, line, prompt)

    def _error(self, exc: IosError, line: str, prompt: str) -> str:
        if exc.kind == "ambiguous":
            return f'% Ambiguous command:  "{line.strip()}"\n'
        if exc.kind == "incomplete":
            return "% Incomplete command.\n\n"
        if exc.kind == "unknown":
            return (f'Translating "{line.strip()}"\n'
                    "% Unknown command or computer name, or unable to find computer address\n")
        if exc.kind == "no-archive":
            return "%Rollback Confirmed Change: archive path is not configured (archive / path flash:NAME)\n"
        if exc.kind == "denied":
            return "% Bad secrets\n\n"
        return " " * (len(prompt) + exc.column) + "^\n% Invalid input detected at '^' marker.\n\n"

    # -- dispatch -----------------------------------------------------------------------------------------
    def _dispatch(self, line: str) -> str:
        if self.mode in ("user", "priv"):
            return self._exec(line)
        return self._configure(line)

    def _exec(self, line: str) -> str:
        command, _, pipe = line.partition(" | ")
        tree = TREES[self.mode]
        try:
            m = match(tree, command)
        except IosError as exc:
            tokens = lex(command)
            if exc.kind == "invalid" and len(tokens) == 1 and exc.column == tokens[0].start:
                raise IosError("unknown") from exc
            raise
        if m.action is None:
            raise RuntimeError(f"the command tree matched {command!r} without an action")
        out = self._run_exec(m)
        return apply_filter(out, pipe) if pipe else out

    def _run_exec(self, m: Match) -> str:
        action, arg = m.action or ("noop", None)
        dev = self.device
        if action == "enable":
            return self._enable()
        if action == "disable":
            self.mode = "user"
            return ""
        if action == "exit":
            self.closed = True
            return ""
        if action == "term_length":
            self.page_length = int(m.values[0])
            return ""
        if action == "noop":
            return ""
        if action == "show_version":
            return self._show_version()
        if action == "show_clock":
            return "*" + time.strftime("%H:%M:%S.000 UTC %a %b %d %Y", time.gmtime()) + "\n"
        if action == "show_privilege":
            return f"Current privilege level is {15 if self.mode == 'priv' else 1}\n"
        if action == "ping":
            return ("Type escape sequence to abort.\nSending 5, 100-byte ICMP Echos to "
                    f"{m.values[0]}, timeout is 2 seconds:\n!!!!!\n"
                    "Success rate is 100 percent (5/5), round-trip min/avg/max = 1/1/2 ms\n")
        if action == "show_ip_int_brief":
            return self._show_ip_int_brief()
        if action == "show_run":
            return dev.running_config()
        if action == "show_run_if":
            blk = dev.block(f"interface {m.values[0]}", create=False)
            if blk is None:
                return "% Invalid input detected at '^' marker.\n\n"
            body = render_body([blk]).rsplit("!\nend\n", 1)[0]
            return f"Building configuration...\n\nCurrent configuration : {len(body)} bytes\n!\n{body}end\n"
        if action == "show_start":
            if dev.state["startup"] is None:
                return "startup-config is not present\n"
            text = render_body(dev.state["startup"])
            return f"Using {len(text)} out of 262144 bytes\n!\n{text}"
        if action == "show_archive":
            return self._show_archive()
        if action == "dir":
            return self._dir()
        if action == "write_mem":
            return self._write_mem()
        if action == "copy_run_start":
            return self._ask("Destination filename [startup-config]? ", lambda _: self._write_mem())
        if action == "copy_run_file":
            name = _flash(m.values[0])
            return self._ask(f"Destination filename [{name.split(':', 1)[1]}]? ", lambda _: self._copy_to(name))
        if action == "copy_start_run":
            if dev.state["startup"] is None:
                return "%Error opening nvram:startup-config (No such file or directory)\n"
            return self._ask("Destination filename [running-config]? ",
                             lambda _: self._merge(render_body(dev.state["startup"])))
        if action == "copy_file_run":
            name = _flash(m.values[0])
            saved = dev.state["files"].get(name)
            if saved is None:
                return f"%Error opening {name} (No such file or directory)\n"
            return self._ask("Destination filename [running-config]? ", lambda _: self._merge(saved["text"]))
        if action == "conf_t":
            self.mode = "config"
            return "Enter configuration commands, one per line.  End with CNTL/Z.\n"
        if action == "conf_t_revert":
            minutes = max(int(m.values[0]), 1)
            name = dev.start_revert(minutes)
            self.mode = "config"
            return (f"Rollback Confirmed Change: Backing up current running config to {name}\n\n"
                    "Enter configuration commands, one per line.  End with CNTL/Z.\n")
        if action == "conf_confirm":
            if not dev.confirm():
                return "% No Rollback Confirmed Change pending\n"
            return ""
        if action == "revert_now":
            if not dev.state.get("revert"):
                return "% No Rollback Confirmed Change pending\n"
            dev.revert_now()
            return "Rollback Done\n\n"
        if action == "revert_timer":
            revert = dev.state.get("revert")
            if not revert:
                return "% No Rollback Confirmed Change pending\n"
            minutes = int(m.values[0])
            revert["deadline"] = time.time() + minutes * dev.seconds_per_minute
            dev._arm_revert(minutes * dev.seconds_per_minute)
            return ""
        if action == "conf_replace":
            return self._configure_replace(_flash(m.values[0]), force=bool(arg))
        if action == "archive_config":
            if dev.archive_now() is None:
                return "%Archive path is not specified\n"
            return ""
        if action == "delete":
            name = _flash(m.values[0])
            if dev.state["files"].pop(name, None) is None:
                return f"%Error deleting {name} (No such file or directory)\n"
            return ""
        if action == "reload":
            return self._ask("Proceed with reload? [confirm]", lambda _: self._reload())
        return ""

    def _ask(self, question: str, then: Callable[[str], str]) -> str:
        self.pending = then
        return question

    def _enable(self) -> str:
        if self.mode == "priv":
            return ""
        self.echo = False
        self.password_tries = 0
        self.pending = self._enable_password
        return "Password: "

    def _enable_password(self, secret: str) -> str:
        if secret == self.device.enable_secret:
            self.echo = True
            self.mode = "priv"
            return ""
        self.password_tries += 1
        if self.password_tries >= 3:
            self.echo = True
            return "% Bad secrets\n\n"
        self.pending = self._enable_password
        return "Password: "

    def _write_mem(self) -> str:
        dev = self.device
        dev.state["startup"] = [[h, list(c) if c is not None else None] for h, c in dev.config]
        _, _, on_write = dev.archive_settings()
        if on_write:
            dev.archive_now()
        return "Building configuration...\n[OK]\n"

    def _copy_to(self, name: str) -> str:
        text = render_body(self.device.config)
        self.device.write_file(name, text)
        return f"{len(text)} bytes copied in 0.052 secs ({len(text) * 19} bytes/sec)\n"

    def _merge(self, text: str) -> str:
        """``copy X running-config``: run the file's lines as configuration commands."""
        saved_mode, saved_block = self.mode, self.block
        self.mode, self.block = "config", None
        for raw in text.splitlines():
            stripped = raw.strip()
            if not stripped or stripped.startswith("!") or stripped == "end":
                continue
            if not raw.startswith(" "):
                self.mode, self.block = "config", None
            try:
                self._configure(stripped)
            except IosError:
                log.info("merge skipped %r", stripped)
        self.mode, self.block = saved_mode, saved_block
        return f"{len(text)} bytes copied in 0.031 secs\n"

    def _configure_replace(self, name: str, *, force: bool) -> str:
        saved = self.device.state["files"].get(name)
        if saved is None:
            return f"%Error opening {name} (No such file or directory)\n"

        def apply(answer: str) -> str:
            if not force and not answer.strip().lower().startswith("y"):
                return ""
            self.device.replace_config(saved["text"])
            return "Total number of passes: 1\nRollback Done\n\n"

        if force:
            return apply("y")
        return self._ask("This will apply all necessary additions and deletions\nto replace the current running "
                         "configuration with the\ncontents of the specified configuration file, which is\nassumed to "
                         "be a complete configuration, not a partial\nconfiguration. Enter Y if you are sure you want "
                         "to proceed. ? [no]: ", apply)

    def _reload(self) -> str:
        dev = self.device
        startup = dev.state["startup"]
        if startup is not None:
            dev.state["config"] = [[h, list(c) if c is not None else None] for h, c in startup]
        dev.confirm()
        dev.disconnect_soon()
        return "\n"

    # -- show commands ------------------------------------------------------------------------------------
    def _show_version(self) -> str:
        up = int(time.time() - self.device.started)
        return (
            "Cisco IOS Software, IOSv Software (VIOS-ADVENTERPRISEK9-M), Version 15.9(3)M6, RELEASE SOFTWARE (fc1)\n"
            "Technical Support: http://www.cisco.com/techsupport\n"
            "Copyright (c) 1986-2022 by Cisco Systems, Inc.\n"
            "Compiled Fri 05-Aug-22 12:51 by prod_rel_team\n\n\n"
            "ROM: Bootstrap program is IOSv\n\n"
            f"{self.device.hostname} uptime is {up // 3600} hours, {up // 60 % 60} minutes\n"
            "System returned to ROM by reload\n"
            'System image file is "flash0:/vios-adventerprisek9-m"\n'
            "Last reload reason: Unknown reason\n\n\n\n"
            "Cisco IOSv (revision 1.0) with  with 460033K/62464K bytes of memory.\n"
            "Processor board ID 9ZEJ8XW1L4RDFQ7GFHBLS\n"
            f"{len(PHYSICAL)} Gigabit Ethernet interfaces\n"
            "DRAM configuration is 72 bits wide with parity disabled.\n"
            "256K bytes of non-volatile configuration memory.\n"
            "2097152K bytes of ATA System CompactFlash 0 (Read/Write)\n"
            "0K bytes of ATA CompactFlash 1 (Read/Write)\n\n"
            "Configuration register is 0x0\n\n")

    def _show_ip_int_brief(self) -> str:
        rows = ["Interface              IP-Address      OK? Method Status                Protocol"]
        blocks = sorted((b for b in self.device.config if b[0].startswith("interface ")),
                        key=lambda b: _iface_sort(b[0]))
        for header, children in blocks:
            name = header.split(" ", 1)[1]
            ip, method = "unassigned", "unset"
            for child in children or []:
                if child.startswith("ip address ") and not child.endswith("secondary"):
                    ip, method = child.split()[2], "manual"
            down = "shutdown" in (children or [])
            status, proto = ("administratively down", "down") if down else ("up", "up")
            rows.append(f"{name:<23}{ip:<16}YES {method:<7}{status:<22}{proto}")
        return "\n".join(rows) + "\n"

    def _show_archive(self) -> str:
        dev = self.device
        path, maximum, _ = dev.archive_settings()
        if path is None:
            return "Archive feature not enabled\n"
        files = dev.archive_files()
        lines = [f"The maximum archive configurations allowed is {maximum}.",
                 f"There are currently {len(files)} archive configurations saved.",
                 f"The next archive file will be named {path}-{dev.state['archive_next']}",
                 " Archive #  Name"]
        for n in range(maximum):
            name = files[n] if n < len(files) else ""
            mark = " <- Most Recent" if files and name == files[-1] else ""
            lines.append(f"   {n + 1:<2}       {name}{mark}".rstrip())
        revert = dev.state.get("revert")
        if revert:
            left = max(int(revert["deadline"] - time.time()), 0)
            lines.append(f"Rollback Confirmed Change timer expires in {left} seconds; rollback to {revert['file']}")
        return "\n".join(lines) + "\n"

    def _dir(self) -> str:
        files = self.device.state["files"]
        rows = ["Directory of flash:/", ""]
        total = 0
        for n, (name, meta) in enumerate(sorted(files.items()), start=1):
            size = len(meta["text"])
            total += size
            rows.append(f"{n:>5}  -rw-  {size:>10}  {meta['time']} +00:00  {name.split(':', 1)[1]}")
        rows += ["", f"2142715904 bytes total ({2142715904 - total} bytes free)"]
        return "\n".join(rows) + "\n"

    # -- configuration mode -------------------------------------------------------------------------------
    def _configure(self, line: str) -> str:
        words = lex(line)
        negate = bool(words) and "no".startswith(words[0].text.lower()) and len(words[0].text) >= 2
        body = line[words[1].start:] if negate and len(words) > 1 else ("" if negate else line)
        if negate and not body:
            raise IosError("incomplete")
        offset = words[1].start if negate else 0
        tree = TREES[self.mode]
        try:
            m = match(tree, body, allow_prefix=negate)
            in_mode = True
        except IosError as exc:
            if self.mode == "config":
                exc.column += offset
                raise
            # IOS falls back to the global configuration mode when a sub-mode does not know the command.
            try:
                m = match(TREES["config"], body, allow_prefix=negate)
            except IosError:
                exc.column += offset
                raise exc from None
            in_mode = False
        if not in_mode:
            self.mode, self.block = "config", None
        return self._apply(m, negate)

    def _apply(self, m: Match, negate: bool) -> str:
        dev = self.device
        action, arg = m.action or ("prefix", None)
        if action == "end":
            self.mode, self.block = "priv", None
            return ""
        if action == "exit_mode":
            if self.mode == "config":
                self.mode = "priv"
            else:
                self.mode, self.block = "config", None
            return ""
        if action == "do":
            saved = self.mode
            self.mode = "priv"
            try:
                return self._exec(m.values[0])
            finally:
                if self.mode == "priv":
                    self.mode = saved
        if action == "noop":
            return ""
        if action == "enable_secret" and not negate:
            secret = m.values[0].split()[-1]
            dev.enable_secret = secret
            dev.state["enable_secret"] = secret
            self._set(dev.config, ["enable", "secret", "9", secret_hash(secret)], 2)
            dev.touched()
            return ""
        if action == "acl_seq" and not negate:
            self._set(self._scope(), m.words[1:], 0)
            dev.touched()
            return ""
        if action == "enter" and not negate:
            header: str = " ".join(m.words)
            if header.startswith("line vty ") and len(m.words) == 3:
                # "line vty 0" edits the existing "line vty 0 4" range
                header = next((str(b[0]) for b in dev.config if str(b[0]).startswith(header + " ")), header)
            self.block = dev.block(header, create=True)
            self.mode = str(arg)
            dev.touched()
            return ""
        scope = self._scope()
        if negate:
            return self._remove(scope, m.words)
        spec = arg if action == "set" else 0
        self._set(scope, m.words, spec)
        dev.touched()
        return ""

    def _scope(self) -> list[Any]:
        if self.mode == "config" or self.block is None:
            return self.device.config
        if self.block[1] is None:
            self.block[1] = []
        children: list[Any] = self.block[1]
        return children

    def _set(self, scope: list[Any], words: list[str], spec: Any) -> None:
        key = line_key(words, spec)
        text = " ".join(words)
        is_global = scope is self.device.config
        entries = [e[0] if is_global else e for e in scope]
        # A line replaces the one with the same key, and its own "no" form.
        for index, existing in enumerate(entries):
            ex_words = existing.split()
            if line_key(ex_words, spec) == key or existing == "no " + text:
                scope[index] = [text, None] if is_global else text
                return
        scope.append([text, None] if is_global else text)

    def _remove(self, scope: list[Any], words: list[str]) -> str:
        is_global = scope is self.device.config
        text = " ".join(words)
        if is_global and words and words[0] == "interface" and len(words) > 1 and words[1].split(".")[0] in PHYSICAL \
                and "." not in words[1]:
            return "% Physical interface can not be removed\n"
        keep: list[Any] = []
        removed = False
        for entry in scope:
            header = entry[0] if is_global else entry
            if header.split()[:len(words)] == words:
                removed = True
                continue
            keep.append(entry)
        scope[:] = keep
        if text in DEFAULT_ON and is_global:
            scope.append(["no " + text, None])
        if removed or text in DEFAULT_ON:
            self.device.touched()
        return ""


def _flash(name: str) -> str:
    return name if ":" in name else f"flash:{name}"


def apply_filter(text: str, pipe: str) -> str:
    """``| include X``, ``| exclude X``, ``| begin X``, ``| section X`` (regular expressions, as on IOS)."""
    kind, _, pattern = pipe.strip().partition(" ")
    kinds = [k for k in ("include", "exclude", "begin", "section", "count") if k.startswith(kind.lower())]
    if len(kinds) != 1:
        return text
    lines = text.splitlines()
    regex = re.compile(pattern.strip())
    if kinds[0] == "include":
        lines = [x for x in lines if regex.search(x)]
    elif kinds[0] == "exclude":
        lines = [x for x in lines if not regex.search(x)]
    elif kinds[0] == "begin":
        start = next((i for i, x in enumerate(lines) if regex.search(x)), len(lines))
        lines = lines[start:]
    elif kinds[0] == "section":
        out: list[str] = []
        take = False
        for x in lines:
            if not x.startswith(" "):
                take = bool(regex.search(x))
            if take:
                out.append(x)
        lines = out
    else:
        return f"Number of lines which match regexp = {sum(1 for x in lines if regex.search(x))}\n"
    return "\n".join(lines) + ("\n" if lines else "")
