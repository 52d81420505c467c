"""A MikroTik RouterOS 7 CLI simulator: menus with items, add/set/remove/print/export, files, import, scheduler.

Lines flow in from :class:`RouterOsShell` (or from a script: ``/import``, a scheduler's ``on-event``) into
:meth:`RouterOsDevice.run`, which parses them against the menu table :data:`MENUS` and changes ``device.state``.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netmgr.demo.simulators.base import Device, Shell

log = logging.getLogger(__name__)

VERSION = "7.14"
BANNER = """

  MMM      MMM       KKK                          TTTTTTTTTTT      KKK
  MMMM    MMMM       KKK                          TTTTTTTTTTT      KKK
  MMM MMMM MMM  III  KKK  KKK  RRRRRR     OOOOOO      TTT     III  KKK  KKK
  MMM  MM  MMM  III  KKKKK     RRR  RRR  OOO  OOO     TTT     III  KKKKK
  MMM      MMM  III  KKK KKK   RRRRRR    OOO  OOO     TTT     III  KKK KKK
  MMM      MMM  III  KKK  KKK  RRR  RRR   OOOOOO      TTT     III  KKK  KKK

  MikroTik RouterOS {version} (c) 1999-2024       https://www.mikrotik.com/

Press F1 for help

"""

Items = list[dict[str, str]]


class RosSyntaxError(Exception):
    """A parse error, reported with its position: ``bad command name foo (line 1 column 1)``."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


class RosFailure(Exception):
    """A run-time refusal, reported as is: ``failure: already have such address``, ``no such item``."""


# ---------------------------------------------------------------------------------------------------------
# menu table
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Menu:
    """One RouterOS menu (``/ip address``): a list of items or a single set of properties."""

    path: tuple[str, ...]
    kind: str  # "list" | "single"
    fields: dict[str, str]  # property -> default ("" = unset)
    columns: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    unique: str | None = "name"
    unique_error: str = "failure: already have such name"
    builtin: tuple[dict[str, str], ...] = ()
    fixed: bool = False  # items can be changed but not added or removed
    sensitive: tuple[str, ...] = ()
    readonly: tuple[str, ...] = ()
    refs: dict[str, str] = field(default_factory=dict)  # property -> name of a value domain, see RouterOsDevice.domain
    export: bool = True
    always: tuple[str, ...] = ()  # exported even when default (a firewall rule's action)

    @property
    def key(self) -> str:
        return "/".join(self.path)


def _m(path: str, kind: str, fields: dict[str, str], **kw: Any) -> Menu:
    return Menu(tuple(path.split()), kind, {"comment": "", "disabled": "no", **fields} if kind == "list" else fields,
                **kw)


_ETHERS = tuple({"name": f"ether{i}", "default-name": f"ether{i}", "type": "ether", "mtu": "1500",
                 "mac-address": f"48:8F:5A:00:00:0{i}"} for i in range(1, 6))
_QUEUE_TYPES = tuple({"name": n, "kind": k} for n, k in (
    ("default", "pfifo"), ("ethernet-default", "pfifo"), ("wireless-default", "sfq"),
    ("synchronous-default", "red"), ("hotspot-default", "sfq"), ("pcq-upload-default", "pcq"),
    ("pcq-download-default", "pcq"), ("only-hardware-queue", "none"), ("multi-queue-ethernet-default", "mq-pfifo"),
    ("default-small", "pfifo")))

# In export order, as RouterOS prints them.
MENUS: tuple[Menu, ...] = (
    _m("interface", "list", {"name": "", "default-name": "", "type": "", "mtu": "1500", "mac-address": ""},
       columns=("name", "type", "mtu", "mac-address"), builtin=_ETHERS + (
           {"name": "wlan1", "default-name": "wlan1", "type": "wlan", "mtu": "1500",
            "mac-address": "48:8F:5A:00:00:10"},), fixed=True, readonly=("default-name", "type", "mac-address"),
       unique_error="failure: already have interface with such name"),
    _m("interface bridge", "list", {"name": "", "protocol-mode": "rstp", "vlan-filtering": "no"},
       columns=("name", "protocol-mode"), required=("name",),
       unique_error="failure: already have interface with such name"),
    _m("interface wireless", "list",
       {"name": "", "default-name": "", "ssid": "MikroTik", "mode": "station", "band": "2ghz-b/g/n",
        "frequency": "auto", "security-profile": "default", "country": "etsi", "hide-ssid": "no"},
       columns=("name", "ssid", "mode", "security-profile"),
       builtin=({"name": "wlan1", "default-name": "wlan1", "disabled": "yes"},), fixed=True,
       readonly=("default-name",), refs={"security-profile": "security-profile"}),
    _m("interface vlan", "list", {"name": "", "vlan-id": "1", "interface": "", "mtu": "1500"},
       columns=("name", "vlan-id", "interface", "mtu"), required=("name", "interface"),
       refs={"interface": "interface"}, unique_error="failure: already have interface with such name"),
    _m("interface wireless security-profiles", "list",
       {"name": "", "mode": "none", "authentication-types": "", "wpa2-pre-shared-key": "", "wpa-pre-shared-key": ""},
       columns=("name", "mode", "authentication-types"), builtin=({"name": "default"},),
       sensitive=("wpa2-pre-shared-key", "wpa-pre-shared-key"), required=("name",)),
    _m("ip hotspot profile", "list",
       {"name": "", "hotspot-address": "", "dns-name": "", "html-directory": "hotspot", "login-by": "cookie,http-chap",
        "use-radius": "no", "radius-accounting": "yes", "radius-interim-update": "received", "rate-limit": ""},
       columns=("name", "hotspot-address", "dns-name", "use-radius"), builtin=({"name": "default"},),
       required=("name",)),
    # DHCP options are defined before the pools, servers and networks that name them (as RouterOS exports).
    _m("ip dhcp-server option", "list", {"name": "", "code": "", "value": "", "raw-value": ""},
       columns=("name", "code", "value", "raw-value"), required=("name", "code"), readonly=("raw-value",)),
    _m("ip pool", "list", {"name": "", "ranges": "", "next-pool": ""}, columns=("name", "ranges"),
       required=("name", "ranges")),
    _m("ip dhcp-server", "list",
       {"name": "", "interface": "", "address-pool": "static-only", "lease-time": "30m", "authoritative": "yes",
        "disabled": "yes"},
       columns=("name", "interface", "address-pool", "lease-time"), required=("interface",),
       refs={"interface": "interface", "address-pool": "dhcp-pool"}),
    _m("queue type", "list",
       {"name": "", "kind": "pfifo", "pcq-rate": "0", "pcq-classifier": "", "pcq-limit": "50KiB",
        "pcq-total-limit": "2000KiB"},
       columns=("name", "kind", "pcq-rate", "pcq-classifier"), builtin=_QUEUE_TYPES, required=("name", "kind")),
    _m("queue simple", "list",
       {"name": "", "target": "", "dst": "", "parent": "none", "max-limit": "0/0", "limit-at": "0/0",
        "burst-limit": "0/0", "priority": "8/8", "queue": "default-small/default-small", "time": ""},
       columns=("name", "target", "parent", "max-limit", "limit-at", "priority"), required=("target",),
       refs={"parent": "simple-parent", "queue": "queue-type-pair"}),
    _m("queue tree", "list",
       {"name": "", "parent": "", "packet-mark": "", "limit-at": "0", "max-limit": "0", "priority": "8",
        "queue": "default-small"},
       columns=("name", "parent", "packet-mark", "limit-at", "max-limit", "priority"), required=("name", "parent"),
       refs={"parent": "tree-parent", "queue": "queue-type"}),
    _m("snmp community", "list",
       {"name": "", "addresses": "::/0", "read-access": "yes", "write-access": "no", "security": "none",
        "authentication-protocol": "MD5", "authentication-password": "", "encryption-protocol": "DES",
        "encryption-password": ""},
       columns=("name", "addresses", "security", "read-access", "write-access"),
       builtin=({"name": "public"},), sensitive=("authentication-password", "encryption-password"),
       required=("name",)),
    _m("system logging action", "list",
       {"name": "", "target": "memory", "remote": "0.0.0.0",  # noqa: S104 - RouterOS's default value, not a bind
        "remote-port": "514", "bsd-syslog": "no"},
       columns=("name", "target", "remote"), builtin=(
           {"name": "memory", "target": "memory"}, {"name": "disk", "target": "disk"},
           {"name": "echo", "target": "echo"}, {"name": "remote", "target": "remote"}), required=("name",)),
    _m("interface bridge port", "list", {"bridge": "", "interface": "", "pvid": "1"},
       columns=("interface", "bridge", "pvid"), required=("bridge", "interface"), unique="interface",
       unique_error="failure: device already added as bridge port",
       refs={"bridge": "bridge", "interface": "interface"}),
    _m("ip address", "list", {"address": "", "network": "", "interface": ""},
       columns=("address", "network", "interface"), required=("address", "interface"), unique="address",
       unique_error="failure: already have such address", refs={"interface": "interface"}),
    _m("ip dhcp-server network", "list",
       {"address": "", "gateway": "", "netmask": "", "dns-server": "", "domain": "", "dhcp-option": ""},
       columns=("address", "gateway", "dns-server"), required=("address",), unique=None,
       refs={"dhcp-option": "dhcp-option"}),
    _m("ip dns", "single", {"servers": "", "allow-remote-requests": "no", "cache-size": "2048KiB",
                            "cache-max-ttl": "1w"}),
    _m("ip firewall filter", "list",
       {"chain": "", "action": "accept", "protocol": "", "src-address": "", "dst-address": "", "src-port": "",
        "dst-port": "", "in-interface": "", "out-interface": "", "connection-state": "", "log": "no",
        "log-prefix": ""},
       columns=("chain", "action", "protocol", "src-address", "dst-address", "dst-port", "in-interface"),
       required=("chain",), unique=None, always=("action",)),
    _m("ip hotspot", "list",
       {"name": "", "interface": "", "address-pool": "none", "profile": "default", "idle-timeout": "5m",
        "keepalive-timeout": "none", "addresses-per-mac": "2"},
       columns=("name", "interface", "address-pool", "profile", "idle-timeout"), required=("interface",),
       refs={"interface": "interface", "profile": "hotspot-profile", "address-pool": "pool"}, unique="interface",
       unique_error="failure: already have hotspot server on this interface"),
    _m("ip route", "list", {"dst-address": "0.0.0.0/0", "gateway": "", "distance": "1", "routing-table": "main"},
       columns=("dst-address", "gateway", "distance"), required=("gateway",), unique=None),
    _m("radius", "list",
       {"service": "", "address": "", "secret": "", "authentication-port": "1812", "accounting-port": "1813",
        "timeout": "300ms", "src-address": "0.0.0.0",  # noqa: S104 - RouterOS's default
        "called-id": "", "domain": ""},
       columns=("service", "address", "authentication-port", "accounting-port"), required=("address",),
       unique=None, sensitive=("secret",)),
    _m("radius incoming", "single", {"accept": "no", "port": "3799"}),
    _m("snmp", "single",
       {"enabled": "no", "contact": "", "location": "", "engine-id-suffix": "", "trap-community": "public",
        "trap-version": "1", "trap-generators": "temp-exception", "trap-target": ""}),
    _m("system identity", "single", {"name": "MikroTik"}),
    _m("system logging", "list", {"topics": "", "action": "memory", "prefix": ""},
       columns=("topics", "action", "prefix"), required=("topics",), unique=None, refs={"action": "logging-action"},
       builtin=({"topics": "info", "action": "memory"}, {"topics": "error", "action": "memory"},
                {"topics": "warning", "action": "memory"}, {"topics": "critical", "action": "echo"})),
    _m("system ntp client", "single", {"enabled": "no", "mode": "unicast", "servers": ""}),
    _m("system scheduler", "list",
       {"name": "", "start-date": "", "start-time": "startup", "interval": "0s", "on-event": "",
        "policy": "ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon", "run-count": "0",
        "next-run": "", "owner": "admin"},
       columns=("name", "start-date", "start-time", "interval", "on-event", "run-count"), required=("name",),
       readonly=("run-count", "next-run", "owner")),
    _m("system script", "list",
       {"name": "", "source": "", "owner": "admin", "run-count": "0",
        "policy": "ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon",
        "dont-require-permissions": "no"},
       columns=("name", "owner", "run-count"), required=("name",), readonly=("run-count", "owner")),
    _m("file", "list", {"name": "", "type": "", "size": "", "creation-time": "", "contents": ""},
       columns=("name", "type", "size", "creation-time"), required=("name",), export=False,
       readonly=("type", "size", "creation-time")),
)
MENU_BY_PATH: dict[tuple[str, ...], Menu] = {m.path: m for m in MENUS}
# Path words that are only containers of other menus, plus command-only menus.
CONTAINERS: set[tuple[str, ...]] = {m.path[:i] for m in MENUS for i in range(1, len(m.path))} | {
    ("system", "backup"), ("system", "resource")}
LIST_COMMANDS = ("add", "set", "remove", "print", "export", "enable", "disable", "find", "get")
SINGLE_COMMANDS = ("set", "print", "export", "get")
ROOT_COMMANDS = ("export", "import", "quit", "print")
BOOLEANS = ("yes", "no", "true", "false")
BOOLEAN_FIELDS = {"disabled", "enabled", "allow-remote-requests", "use-radius", "read-access", "write-access",
                  "accept", "hide-ssid", "vlan-filtering", "log", "radius-accounting", "bsd-syslog",
                  "dont-require-permissions", "authoritative"}


# ---------------------------------------------------------------------------------------------------------
# lexing
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Token:
    raw: str
    column: int  # 1-based

    @property
    def key(self) -> str:
        return self.raw.split("=", 1)[0] if "=" in self.raw and not self.raw.startswith(("[", '"')) else ""

    @property
    def value(self) -> str:
        return unquote(self.raw.split("=", 1)[1]) if self.key else unquote(self.raw)


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\", "$": "$", "?": "?", "_": " ", "a": "\a"}


def unquote(text: str) -> str:
    """``name="a b"`` → ``a b``; handles RouterOS escapes inside quotes."""
    out: list[str] = []
    i, quoted = 0, False
    while i < len(text):
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif ch == "\\" and quoted and i + 1 < len(text):
            i += 1
            nxt = text[i]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
            elif re.fullmatch(r"[0-9A-Fa-f]", nxt) and i + 1 < len(text):
                out.append(chr(int(text[i:i + 2], 16)))
                i += 1
            else:
                out.append(nxt)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def quote(value: str) -> str:
    """Quote a value the way ``export`` and ``print`` do when it holds anything but plain characters."""
    if value and re.fullmatch(r"[A-Za-z0-9._:/,*+@!%-]+", value):
        return value
    escaped = (value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def tokenize(line: str, offset: int = 0) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        if line[i].isspace():
            i += 1
            continue
        start = i
        depth = 0
        while i < n and (depth or not line[i].isspace()):
            ch = line[i]
            if ch == '"':
                i += 1
                while i < n and line[i] != '"':
                    i += 2 if line[i] == "\\" else 1
                if i >= n:
                    raise RosSyntaxError("unmatched quotes", offset + start + 1)
            elif ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
            i += 1
        if depth:
            raise RosSyntaxError("missing ]", offset + start + 1)
        tokens.append(Token(line[start:i], offset + start + 1))
    return tokens


def split_statements(line: str) -> list[tuple[str, int]]:
    """Split ``a; b`` into statements (outside quotes and brackets), with each one's offset in the line."""
    parts: list[tuple[str, int]] = []
    start, depth, quoted, i = 0, 0, False, 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == ";" and depth == 0:
            parts.append((line[start:i], start))
            start = i + 1
        i += 1
    parts.append((line[start:], start))
    return parts


def join_continuations(text: str) -> list[tuple[int, str]]:
    """Script lines with ``\\`` continuations joined; comments dropped; each with its first line number."""
    out: list[tuple[int, str]] = []
    pending: list[str] = []
    first = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not pending:
            first = number
            if not line.strip() or line.lstrip().startswith("#"):
                continue
        body = line.strip() if pending else line.rstrip()
        if body.endswith("\\"):
            pending.append(body[:-1])
            continue
        pending.append(body)
        out.append((first, "".join(pending)))
        pending = []
    if pending:
        out.append((first, "".join(pending)))
    return out


def parse_duration(text: str) -> float:
    """``5s``, ``1m30s``, ``1h``, ``00:05:00``, ``1d 00:00:10``, ``300ms`` → seconds."""
    text = text.strip()
    total = 0.0
    m = re.fullmatch(r"(?:(\d+)[dD]\s*)?(\d+):(\d{1,2}):(\d{1,2})", text)
    if m:
        days, h, mi, s = (int(g) if g else 0 for g in m.groups())
        return days * 86400 + h * 3600 + mi * 60 + s
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|w|d|h|m|s)", text)
    if not parts or "".join(a + b for a, b in parts) != text.replace(" ", ""):
        if text.isdigit():
            return float(text)
        raise RosFailure(f"invalid time value: {text}")
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    for amount, unit in parts:
        total += float(amount) * scale[unit]
    return total


_OPTION_PART = re.compile(r"0x(?P<hex>[0-9A-Fa-f]*)|(?P<s>s?)'(?P<text>[^']*)'|\$\((?P<var>[A-Z0-9_]+)\)")
_OPTION_VARIABLES = ("HOSTNAME", "RADIUS_MT_STR1", "RADIUS_MT_STR2", "REMOTE_ID", "NETWORK_GATEWAY")


def dhcp_option_raw_value(value: str) -> bytes:
    """The bytes a ``/ip dhcp-server option`` value sends (its read-only ``raw-value``), per the manual's types:
    ``0x0a0b`` hex, ``'text'`` a string (``'10.0.0.1'`` an IPv4 address, ``'10'`` a decimal byte), ``s'…'`` the
    text as a string, ``$(HOSTNAME)`` a variable (sent empty here), run together as in ``0x01'vards'$(HOSTNAME)``.

    Raises:
        RosFailure: anything else (the simulator's wording; RouterOS's own for this case is not documented).
    """
    out = bytearray()
    pos = 0
    while pos < len(value):
        m = _OPTION_PART.match(value, pos)
        if m is None or (m.group("hex") is not None and len(m.group("hex")) % 2) or (
                m.group("var") is not None and m.group("var") not in _OPTION_VARIABLES):
            raise RosFailure("invalid value for argument value")
        if m.group("hex") is not None:
            out += bytes.fromhex(m.group("hex"))
        elif m.group("text") is not None:
            text = m.group("text")
            if not m.group("s") and re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", text):
                out += ipaddress.IPv4Address(text).packed
            elif not m.group("s") and text.isdigit() and int(text) < 256:
                out.append(int(text))
            else:
                out += text.encode()
        pos = m.end()
    return bytes(out)


# ---------------------------------------------------------------------------------------------------------
# execution context
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Context:
    """Where a line runs: the current menu path and whether a person is at the keyboard."""

    path: tuple[str, ...] = ()
    interactive: bool = False
    user: str = "admin"
    shell: RouterOsShell | None = None


class RouterOsDevice(Device):
    """A simulated MikroTik router (RouterOS 7.14, RB951-style ports ether1..ether5 and wlan1)."""

    platform = "mikrotik_routeros"

    def factory_state(self, hostname: str) -> dict[str, Any]:
        state: dict[str, Any] = {"next_id": 1, "menus": {}}
        self.state = state
        self._reset_menus(keep_files=None)
        self.single("system/identity")["name"] = hostname
        return state

    def _reset_menus(self, keep_files: Items | None) -> None:
        menus: dict[str, Any] = {}
        self.state["menus"] = menus
        for menu in MENUS:
            if menu.kind == "single":
                menus[menu.key] = dict(menu.fields)
            else:
                menus[menu.key] = []
                for index, item in enumerate(menu.builtin):
                    self._new_item(menu, {**item, "_default": "yes", "_builtin": str(index)})
        if keep_files is not None:
            menus["file"] = keep_files

    def _new_item(self, menu: Menu, values: dict[str, str]) -> dict[str, str]:
        item = {".id": f"*{self.state['next_id']:X}", **values}
        self.state["next_id"] += 1
        self.items(menu.key).append(item)
        return item

    def after_load(self) -> None:
        super().after_load()
        for item in self.items("system/scheduler"):
            self._arm_scheduler(item)

    def check_login(self, username: str, password: str) -> bool:
        # netmiko logs in as "admin+ct511w4098h": the suffix carries terminal options, not the name.
        return super().check_login(username.split("+", 1)[0], password)

    def open_shell(self, username: str) -> Shell:
        return RouterOsShell(self, username.split("+", 1)[0])

    # -- state access -------------------------------------------------------------------------------------
    def items(self, key: str) -> Items:
        result: Items = self.state["menus"][key]
        return result

    def single(self, key: str) -> dict[str, str]:
        result: dict[str, str] = self.state["menus"][key]
        return result

    @property
    def identity(self) -> str:
        return self.single("system/identity")["name"]

    def value(self, menu: Menu, item: dict[str, str], name: str) -> str:
        if name == "default":
            return "yes" if item.get("_default") == "yes" else "no"
        if name == "dynamic":
            return "no"
        return item.get(name, menu.fields.get(name, ""))

    def interface_names(self) -> list[str]:
        names = [i["name"] for i in self.items("interface")]
        names += [i["name"] for i in self.items("interface/vlan")]
        names += [i["name"] for i in self.items("interface/bridge")]
        return names

    def domain(self, name: str) -> list[str] | None:
        """Allowed values for a reference property; None when anything goes."""
        def names(key: str) -> list[str]:
            return [i.get("name", "") for i in self.items(key)]

        if name == "interface":
            return self.interface_names()
        if name == "bridge":
            return names("interface/bridge")
        if name == "security-profile":
            return names("interface/wireless/security-profiles")
        if name == "hotspot-profile":
            return names("ip/hotspot/profile")
        if name == "pool":
            return ["none", *names("ip/pool")]
        if name == "dhcp-pool":
            return ["static-only", *names("ip/pool")]
        if name == "dhcp-option":
            return names("ip/dhcp-server/option")
        if name == "logging-action":
            return names("system/logging/action")
        if name == "queue-type":
            return names("queue/type")
        if name == "queue-type-pair":
            types = names("queue/type")
            return types + [f"{a}/{b}" for a in types for b in types]
        if name == "simple-parent":
            return ["none", *names("queue/simple")]
        if name == "tree-parent":
            return ["global", *self.interface_names(), *names("queue/tree")]
        return None

    # -- entry point --------------------------------------------------------------------------------------
    def run(self, line: str, ctx: Context) -> str:
        """Run one line (possibly ``a; b``). Raises RosSyntaxError or RosFailure."""
        out: list[str] = []
        for statement, offset in split_statements(line):
            out.append(self._run_statement(statement, offset, ctx))
        return "".join(out)

    def run_script(self, text: str, *, line_label: bool = True) -> str:
        """Run a script (a file, a scheduler's on-event) top to bottom, stopping at the first error."""
        ctx = Context()
        for number, line in join_continuations(text):
            try:
                self.run(line, ctx)
            except RosSyntaxError as exc:
                raise RosFailure(f"{exc.message} (line {number} column {exc.column})") from exc
            except RosFailure as exc:
                if line_label:
                    raise RosFailure(f"{exc} (line {number})") from exc
                raise
        return ""

    def _run_statement(self, statement: str, offset: int, ctx: Context) -> str:
        tokens = tokenize(statement, offset)
        if not tokens:
            return ""
        first = tokens[0]
        if first.raw.startswith(":"):
            return self._scripting(tokens)
        path = ctx.path
        rest = list(tokens)
        command: Token | None = None
        # Resolve the menu path: "/ip address", "/ip/address", "ip address" relative to the context, "..".
        tok = rest.pop(0)
        words: list[tuple[str, int]] = []
        if tok.raw.startswith("/"):
            path = ()
            col = tok.column + 1
            for part in tok.raw[1:].split("/"):
                if part:
                    words.append((part, col))
                col += len(part) + 1
        else:
            words.append((tok.raw, tok.column))
        while True:
            for index, (word, col) in enumerate(words):
                if word == "..":
                    path = path[:-1]
                    continue
                candidate = (*path, word)
                if candidate in MENU_BY_PATH or candidate in CONTAINERS:
                    path = candidate
                    continue
                command = Token(word, col)
                leftovers = [Token("/".join(w for w, _ in words[index + 1:]), words[index + 1][1])] \
                    if index + 1 < len(words) else []
                rest = leftovers + rest
                break
            if command is not None or not rest:
                break
            nxt = rest[0]
            if nxt.key or nxt.raw.startswith("["):
                break
            rest.pop(0)
            words = [(nxt.raw, nxt.column)]
        if command is None:
            if rest:
                raise RosSyntaxError("expected end of command", rest[0].column)
            ctx.path = path
            return ""
        return self._command(path, command, rest, ctx)

    def _scripting(self, tokens: list[Token]) -> str:
        word = tokens[0].raw
        if word == ":put":
            return " ".join(t.value for t in tokens[1:]) + "\n"
        if word in (":log", ":delay", ":local", ":global"):
            return ""
        raise RosSyntaxError(f"bad command name {word[1:]}", tokens[0].column + 1)

    # -- commands -----------------------------------------------------------------------------------------
    def _command(self, path: tuple[str, ...], command: Token, args: list[Token], ctx: Context) -> str:
        name = command.raw
        menu = MENU_BY_PATH.get(path)
        if path == ():
            return self._root_command(command, args, ctx)
        if path == ("system", "backup"):
            return self._backup(command, args, ctx)
        if path == ("system", "resource") and name == "print":
            return self._resource_print()
        if path == ("system",) and name == "reboot":
            return self._confirm(ctx, "Reboot, yes? [y/N]: ", self._reboot)
        if path == ("system",) and name == "reset-configuration":
            return self._reset_configuration(args, ctx)
        if path == ("system", "script") and name == "run":
            return self._script_run(args)
        if name == "export" and (menu is not None or path in CONTAINERS):
            return self._export(args, path, ctx)
        if menu is None:
            raise RosSyntaxError(f"bad command name {name}", command.column)
        allowed = LIST_COMMANDS if menu.kind == "list" else SINGLE_COMMANDS
        if name not in allowed or (menu.fixed and name in ("add", "remove")):
            raise RosSyntaxError(f"bad command name {name}", command.column)
        if name == "print":
            return self._print(menu, args)
        if menu.kind == "single":
            if name == "set":
                self._set_single(menu, args)
            return ""
        if name == "add":
            return self._add(menu, args)
        if name in ("set", "remove", "enable", "disable"):
            self._modify(menu, name, args, command)
            return ""
        if name == "find":
            targets = self._select(menu, args[0]) if args else self.items(menu.key)
            return ";".join(i[".id"] for i in targets) + "\n"
        raise RosSyntaxError(f"bad command name {name}", command.column)

    def _root_command(self, command: Token, args: list[Token], ctx: Context) -> str:
        name = command.raw
        if name == "quit":
            if ctx.shell is not None:
                ctx.shell.closed = True
            return ""
        if name == "export":
            return self._export(args, (), ctx)
        if name == "import":
            values = self._args(args, {"file-name": "", "verbose": "no", "dry-run": "no"}, positional="file-name")
            return self._import(values["file-name"])
        raise RosSyntaxError(f"bad command name {name}", command.column)

    def _args(self, args: list[Token], allowed: dict[str, str], *, positional: str | None = None,
              flags: tuple[str, ...] = ()) -> dict[str, str]:
        values = dict(allowed)
        for tok in args:
            if tok.key and tok.key in allowed:
                values[tok.key] = tok.value
            elif not tok.key and tok.raw in flags:
                values[tok.raw] = "yes"
            elif not tok.key and positional is not None and not values.get(positional):
                values[positional] = tok.value
            else:
                raise RosSyntaxError("expected end of command", tok.column)
        return values

    def _check_values(self, menu: Menu, values: list[Token], *, adding: bool) -> dict[str, str]:
        result: dict[str, str] = {}
        for tok in values:
            if not tok.key:
                raise RosSyntaxError("expected end of command", tok.column)
            key = tok.key
            if key not in menu.fields or key in menu.readonly:
                raise RosSyntaxError("expected end of command", tok.column)
            value = tok.value
            if key in BOOLEAN_FIELDS and value not in BOOLEANS:
                raise RosFailure(f"value of {key} should be yes or no")
            if key in BOOLEAN_FIELDS:
                value = "yes" if value in ("yes", "true") else "no"
            ref = menu.refs.get(key)
            if ref and value:
                allowed = self.domain(ref)
                if allowed is not None and value not in allowed:
                    raise RosFailure(f"input does not match any value of {key}")
            if menu.key == "ip/address" and key == "address":
                try:
                    iface = ipaddress.ip_interface(value)
                except ValueError as exc:
                    raise RosFailure("invalid value for argument address") from exc
                value = str(iface)
                result["network"] = str(iface.network.network_address)
            if menu.key == "interface/vlan" and key == "vlan-id":
                if not value.isdigit() or not 1 <= int(value) <= 4094:
                    raise RosFailure("value of vlan-id out of range (1..4094)")
            if menu.key == "system/scheduler" and key == "interval":
                parse_duration(value)
            if menu.key == "ip/dhcp-server/option" and key == "code":
                if not value.isdigit() or not 1 <= int(value) <= 254:
                    raise RosFailure("value of code out of range (1..254)")
            if menu.key == "ip/dhcp-server/option" and key == "value":
                result["raw-value"] = dhcp_option_raw_value(value).hex()
            if menu.key == "ip/dhcp-server/network" and key == "address":
                try:
                    value = str(ipaddress.ip_network(value, strict=False))
                except ValueError as exc:
                    raise RosFailure("invalid value for argument address") from exc
            if menu.key == "ip/dhcp-server" and key == "lease-time":
                parse_duration(value)
            result[key] = value
        return result

    def _add(self, menu: Menu, args: list[Token]) -> str:
        values = self._check_values(menu, args, adding=True)
        for req in menu.required:
            if not values.get(req):
                raise RosFailure(f"failure: {req} not specified" if req != "name" else "failure: name not specified")
        if menu.unique and values.get(menu.unique):
            if any(self.value(menu, i, menu.unique) == values[menu.unique] for i in self.items(menu.key)):
                raise RosFailure(menu.unique_error)
        if menu.key in ("interface/vlan", "interface/bridge") and values["name"] in self.interface_names():
            raise RosFailure(menu.unique_error)
        if menu.key == "file":
            values = self._file_values(values["name"], values.get("contents", ""), ".txt file")
        item = self._new_item(menu, values)
        if menu.key == "system/scheduler":
            self._arm_scheduler(item)
        return ""

    def _file_values(self, name: str, contents: str, kind: str) -> dict[str, str]:
        return {"name": name, "type": kind, "size": str(len(contents.encode())), "contents": contents,
                "creation-time": time.strftime("%Y-%m-%d %H:%M:%S")}

    def _select(self, menu: Menu, spec: Token) -> Items:
        items = self.items(menu.key)
        raw = spec.raw.strip()
        if raw.startswith("["):
            return self._find(menu, raw)
        chosen: Items = []
        for part in unquote(raw).split(","):
            if part.isdigit():
                if int(part) >= len(items):
                    raise RosFailure("no such item")
                chosen.append(items[int(part)])
                continue
            match = [i for i in items if i[".id"] == part or i.get("name") == part]
            if not match:
                raise RosFailure("no such item")
            chosen.extend(match)
        return chosen

    def _find(self, menu: Menu, expr: str) -> Items:
        inner = expr.strip()[1:-1]
        tokens = tokenize(inner)
        words = [t for t in tokens if t.raw not in ("where", "and")]
        while words and words[0].raw != "find":
            words.pop(0)
        if not words:
            raise RosSyntaxError("bad command name", 1)
        conditions = words[1:]
        return [i for i in self.items(menu.key) if all(self._matches(menu, i, c) for c in conditions)]

    def _matches(self, menu: Menu, item: dict[str, str], cond: Token) -> bool:
        m = re.fullmatch(r"(!?)([\w.-]+)(!=|~|=)?(.*)", cond.raw, flags=re.S)
        if not m:
            return False
        negate, key, op, raw_value = m.groups()
        actual = self.value(menu, item, key)
        if not op:
            result = actual in ("yes", "true")
        else:
            value = unquote(raw_value)
            if op == "~":
                result = re.search(value, actual) is not None
            else:
                result = actual == value if op == "=" else actual != value
        return not result if negate else result

    def _modify(self, menu: Menu, name: str, args: list[Token], command: Token) -> None:
        if not args or args[0].key:
            raise RosFailure("missing value(s) of argument(s) numbers")
        targets = self._select(menu, args[0])
        if name == "remove":
            if len(args) > 1:
                raise RosSyntaxError("expected end of command", args[1].column)
            for item in targets:
                if item.get("_default") == "yes":
                    raise RosFailure("failure: can not remove default entry")
            ids = {i[".id"] for i in targets}
            self.state["menus"][menu.key] = [i for i in self.items(menu.key) if i[".id"] not in ids]
            for item_id in ids:
                self.cancel_timer(f"sched{item_id}")
            return
        if name in ("enable", "disable"):
            if len(args) > 1:
                raise RosSyntaxError("expected end of command", args[1].column)
            changes = {"disabled": "yes" if name == "disable" else "no"}
        else:
            changes = self._check_values(menu, args[1:], adding=False)
        if menu.unique and menu.unique in changes:
            for item in self.items(menu.key):
                if item not in targets and self.value(menu, item, menu.unique) == changes[menu.unique]:
                    raise RosFailure(menu.unique_error)
        for item in targets:
            item.update(changes)
            if menu.key == "file" and "contents" in changes:
                item["size"] = str(len(changes["contents"].encode()))
            if menu.key == "system/scheduler":
                self._arm_scheduler(item)

    def _set_single(self, menu: Menu, args: list[Token]) -> None:
        changes = self._check_values(menu, args, adding=False)
        self.single(menu.key).update(changes)

    # -- print --------------------------------------------------------------------------------------------
    def _print(self, menu: Menu, args: list[Token]) -> str:
        opts = {"detail": False, "terse": False, "count-only": False, "as-value": False, "without-paging": False}
        conditions: list[Token] = []
        where = False
        for tok in args:
            if where:
                if tok.raw != "and":
                    conditions.append(tok)
            elif tok.raw in opts:
                opts[tok.raw] = True
            elif tok.raw == "where":
                where = True
            elif tok.key == "proplist":
                continue
            else:
                raise RosSyntaxError("expected end of command", tok.column)
        if menu.kind == "single":
            values = self.single(menu.key)
            visible = {k: v for k, v in values.items() if not k.startswith("_")}
            width = max(len(k) for k in visible)
            return "".join(f"  {k.rjust(width)}: {v}\n" for k, v in visible.items())
        items = self.items(menu.key)
        if menu.key == "interface":
            items = items + [{**i, "type": "vlan"} for i in self.items("interface/vlan")] + [
                {**i, "type": "bridge"} for i in self.items("interface/bridge")]
        numbered = [(n, i) for n, i in enumerate(items) if all(self._matches(menu, i, c) for c in conditions)]
        if opts["count-only"]:
            return f"{len(numbered)}\n"
        fields = [f for f in menu.fields if f not in ("comment", "disabled") and f != "contents"]
        if opts["as-value"]:
            entries = [";".join([f".id={i['.id']}"] + [f"{k}={self.value(menu, i, k)}" for k in fields])
                      for _, i in numbered]
            return (";".join(entries) + "\n") if entries else ""
        out: list[str] = []
        has_default = any(i.get("_default") for _, i in numbered)
        flags_legend = "Flags: X - disabled" + ("; * - default" if has_default else "")
        if opts["detail"] or opts["terse"]:
            if not opts["terse"]:
                out.append(flags_legend + " \n")
            for number, item in numbered:
                flags = ("X" if item.get("disabled") == "yes" else " ") + ("*" if item.get("_default") else " ")
                props = " ".join(f"{k}={quote(self.value(menu, item, k))}" for k in fields
                                 if self.value(menu, item, k) != "" or opts["detail"])
                comment = item.get("comment", "")
                if opts["terse"]:
                    c = f"comment={quote(comment)} " if comment else ""
                    out.append(f"{number:>2} {flags.strip() or ' '} {c}{props}\n")
                elif comment:
                    out.append(f"{number:>2} {flags} ;;; {comment}\n       {props} \n\n")
                else:
                    out.append(f"{number:>2} {flags}  {props} \n\n")
            return "".join(out)
        columns = list(menu.columns)
        out.append(flags_legend + "\n")
        out.append("Columns: " + ", ".join(c.upper() for c in columns) + "\n")
        rows: list[list[str]] = [
            [str(n), ("X" if i.get("disabled") == "yes" else "") + ("*" if i.get("_default") else "")]
            + [self.value(menu, i, c) for c in columns] for n, i in numbered]
        header = ["#", ""] + [c.upper() for c in columns]
        widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]

        def fmt(row: list[str]) -> str:
            return "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()

        out.append(fmt(header) + "\n")
        for (_, item), row in zip(numbered, rows, strict=True):
            if item.get("comment"):
                out.append(f";;; {item['comment']}\n")
            out.append(fmt(row) + "\n")
        return "".join(out)

    def _resource_print(self) -> str:
        uptime = int(time.time() - self.started)
        return (f"                   uptime: {uptime // 3600}h{uptime // 60 % 60}m{uptime % 60}s\n"
                f"                  version: {VERSION} (stable)\n"
                "               build-time: 2024-02-29 12:44:06\n"
                "              free-memory: 91.2MiB\n"
                "             total-memory: 128.0MiB\n"
                "                      cpu: MIPS 24Kc V7.4\n"
                "                cpu-count: 1\n"
                "                 cpu-load: 2%\n"
                "           free-hdd-space: 100.5MiB\n"
                "          total-hdd-space: 128.0MiB\n"
                "        architecture-name: mipsbe\n"
                "               board-name: RB951Ui-2HnD\n"
                "                 platform: MikroTik\n")

    # -- export -------------------------------------------------------------------------------------------
    def export_text(self, *, path: tuple[str, ...] = (), show_sensitive: bool = False, terse: bool = False) -> str:
        """The configuration as ``/export`` prints it (RouterOS 7 hides sensitive values unless asked)."""
        digest = hashlib.sha1(self.identity.encode(), usedforsecurity=False).hexdigest().upper()
        lines = [f"# {time.strftime('%Y-%m-%d %H:%M:%S')} by RouterOS {VERSION}",
                 f"# software id = {digest[:4]}-{digest[4:8]}", "#", "# model = RB951Ui-2HnD",
                 f"# serial number = {digest[8:20]}"]
        for menu in MENUS:
            if not menu.export or menu.path[:len(path)] != path:
                continue
            commands = self._export_menu(menu, show_sensitive)
            if not commands:
                continue
            header = "/" + " ".join(menu.path)
            if terse:
                lines.extend(f"{header} {c}" for c in commands)
            else:
                lines.append(header)
                lines.extend(_wrap(c) for c in commands)
        return "\n".join(lines) + "\n"

    def _export_menu(self, menu: Menu, show_sensitive: bool) -> list[str]:
        hidden = set(menu.readonly) | ({"network"} if menu.key != "ip/address" else set())
        if not show_sensitive:
            hidden |= set(menu.sensitive)

        def props(values: dict[str, str], base: dict[str, str]) -> str:
            pairs = [f"{k}={quote(v)}" for k, v in sorted(values.items())
                     if not k.startswith((".", "_")) and k not in hidden
                     and (v != base.get(k, "") or k in menu.always)]
            return " ".join(pairs)

        if menu.kind == "single":
            text = props(self.single(menu.key), menu.fields)
            return [f"set {text}"] if text else []
        commands: list[str] = []
        for number, item in enumerate(self.items(menu.key)):
            if item.get("_default") == "yes":
                builtin = menu.builtin[int(item.get("_builtin", "0"))]
                text = props(item, {**menu.fields, **builtin})
                if not text:
                    continue
                if builtin.get("default-name"):
                    selector = f"[ find default-name={builtin['default-name']} ]"
                elif len(menu.builtin) == 1:
                    selector = "[ find default=yes ]"
                elif builtin.get("name"):
                    selector = f"[ find default=yes name={quote(builtin['name'])} ]"
                else:
                    selector = str(number)
                commands.append(f"set {selector} {text}")
            else:
                text = props({k: menu.fields[k] for k in menu.always} | item, menu.fields)
                commands.append(f"add {text}".rstrip())
        return commands

    def _export(self, args: list[Token], path: tuple[str, ...], ctx: Context) -> str:
        values = self._args(args, {"file": "", "hide-sensitive": "", "show-sensitive": "", "terse": "",
                                   "compact": "", "verbose": ""},
                            flags=("hide-sensitive", "show-sensitive", "terse", "compact", "verbose"))
        text = self.export_text(path=path, show_sensitive=values["show-sensitive"] == "yes",
                                terse=values["terse"] == "yes")
        if values["file"]:
            name = values["file"] if values["file"].endswith(".rsc") else values["file"] + ".rsc"
            self._write_file(name, text, "script")
            return ""
        return text

    # -- files, import, backup ------------------------------------------------------------------------------
    def _write_file(self, name: str, contents: str, kind: str, snapshot: str | None = None) -> dict[str, str]:
        values = self._file_values(name, contents, kind)
        if snapshot is not None:
            values["_snapshot"] = snapshot
            values["size"] = str(len(snapshot))
        item = self.file(name)
        if item is not None:
            item.update(values)
            return item
        return self._new_item(MENU_BY_PATH[("file",)], values)

    def file(self, name: str) -> dict[str, str] | None:
        return next((f for f in self.items("file") if f["name"] == name), None)

    def _import(self, name: str) -> str:
        if not name:
            raise RosFailure("failure: file name not specified")
        item = self.file(name)
        if item is None:
            raise RosFailure("failure: no such file")
        try:
            self.run_script(item.get("contents", ""))
        except RosFailure as exc:
            log.warning("%s: import of %s stopped: %s", self.identity, name, exc)
            return f"{exc}\n"
        return "\nScript file loaded and executed successfully\n"

    def _backup(self, command: Token, args: list[Token], ctx: Context) -> str:
        values = self._args(args, {"name": "", "password": "", "dont-encrypt": "no", "encryption": ""})
        if command.raw == "save":
            name = values["name"] or f"{self.identity}-{time.strftime('%Y%m%d-%H%M')}"
            name = name if name.endswith(".backup") else name + ".backup"
            menus = {k: v for k, v in self.state["menus"].items() if k != "file"}
            snapshot = json.dumps(menus)
            self._write_file(name, "", "backup", snapshot=snapshot)
            return "Configuration backup saved\n"
        if command.raw == "load":
            name = values["name"]
            item = self.file(name) or self.file(name + ".backup")
            if item is None or "_snapshot" not in item:
                raise RosFailure("failure: no such file")
            snapshot = item["_snapshot"]

            def restore() -> str:
                files = self.items("file")
                self.state["menus"] = {**json.loads(snapshot), "file": files}
                self.after_load()
                self._reboot()
                return "Restoring system configuration\nSystem configuration restored, rebooting now\n"

            return self._confirm(ctx, "Restore and reboot? [y/N]: ", restore)
        raise RosSyntaxError(f"bad command name {command.raw}", command.column)

    def _confirm(self, ctx: Context, question: str, action: Callable[[], str]) -> str:
        if ctx.shell is None:
            return action()
        shell = ctx.shell

        def answer(key: str) -> str:
            if key.lower() == "y":
                return action()
            return ""

        shell.key_handler = answer
        return question

    def _reboot(self) -> str:
        # A reboot re-arms the schedulers from the configuration and drops every session; the short delay lets
        # the answer reach the client before the link goes.
        self.started = time.time()
        self.after_load()
        self.disconnect_soon()
        return ""

    def _reset_configuration(self, args: list[Token], ctx: Context) -> str:
        values = self._args(args, {"no-defaults": "no", "skip-backup": "no", "keep-users": "no",
                                   "run-after-reset": ""})

        def reset() -> str:
            files = self.items("file")
            identity = "MikroTik"
            self._reset_menus(keep_files=files)
            self.single("system/identity")["name"] = identity
            script = values["run-after-reset"]
            if script:
                item = self.file(script)
                if item is not None:
                    try:
                        self.run_script(item.get("contents", ""))
                    except RosFailure as exc:
                        log.warning("run-after-reset %s stopped: %s", script, exc)
            self._reboot()
            return "system configuration will be reset\n"

        return self._confirm(ctx, "Dangerous! Reset anyway? [y/N]: ", reset)

    def _script_run(self, args: list[Token]) -> str:
        if not args:
            raise RosFailure("missing value(s) of argument(s) number")
        menu = MENU_BY_PATH[("system", "script")]
        out: list[str] = []
        for item in self._select(menu, args[0]):
            item["run-count"] = str(int(item.get("run-count", "0")) + 1)
            self.run_script(item.get("source", ""))
        return "".join(out)

    # -- scheduler ----------------------------------------------------------------------------------------
    def _arm_scheduler(self, item: dict[str, str]) -> None:
        key = f"sched{item['.id']}"
        self.cancel_timer(key)
        if item.get("disabled") == "yes":
            return
        interval = parse_duration(item.get("interval", "0s"))
        if interval <= 0:
            return
        item_id = item[".id"]

        def fire() -> None:
            current = next((i for i in self.items("system/scheduler") if i[".id"] == item_id), None)
            if current is None or current.get("disabled") == "yes":
                return
            current["run-count"] = str(int(current.get("run-count", "0")) + 1)
            # Re-arm first: the event may remove this very scheduler, which cancels the timer again.
            self._arm_scheduler(current)
            event = current.get("on-event", "")
            script = next((s for s in self.items("system/script") if s.get("name") == event.strip()), None)
            try:
                self.run_script(script.get("source", "") if script else event)
            except (RosFailure, RosSyntaxError) as exc:
                log.warning("scheduler %s: %s", current.get("name"), exc)

        self.call_later(key, interval, fire)


def _wrap(command: str, width: int = 80) -> str:
    """Fold a long export line with `` \\`` continuations, as RouterOS does."""
    words = [t.raw for t in tokenize(command)]
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if current and len(candidate) > width - 2:
            lines.append(current + " \\")
            current = "    " + word
        else:
            current = candidate
    lines.append(current)
    return "\n".join(lines)


class RouterOsShell(Shell):
    """One SSH session's CLI: prompt ``[admin@identity] > ``, context navigation, errors with positions."""

    def __init__(self, device: RouterOsDevice, user: str) -> None:
        self.device = device
        self.ctx = Context(interactive=True, user=user, shell=self)

    def greeting(self) -> str:
        return BANNER.format(version=VERSION)

    def prompt(self) -> str:
        where = "/" + "/".join(self.ctx.path) if self.ctx.path else ""
        return f"[{self.ctx.user}@{self.device.identity}] {where}> " if where else \
            f"[{self.ctx.user}@{self.device.identity}] > "

    def handle_line(self, line: str) -> str:
        try:
            out = self.device.run(line, self.ctx)
        except RosSyntaxError as exc:
            return f"{exc.message} (line 1 column {exc.column})\n"
        except RosFailure as exc:
            return f"{exc}\n"
        return out

    def interrupt(self) -> str:
        return ""


def snapshot(device: RouterOsDevice) -> dict[str, Any]:
    """A deep copy of the configuration, for tests that compare before and after."""
    return copy.deepcopy({k: v for k, v in device.state["menus"].items() if k != "file"})
