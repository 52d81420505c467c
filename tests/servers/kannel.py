"""Debian's Kannel (bearerbox + smsbox) with kannel-extras' ``fakesmsc`` as its SMSC, on free loopback ports.

netmgr → smsbox ``sendsms`` → bearerbox → fakesmsc, which logs every message it receives; ``received()``
reads them back as (sender, receiver, text). Start order matters: bearerbox first (the others exit without it).
"""

from __future__ import annotations

import re
import secrets
import shutil
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.process import Daemon, ServerUnavailable, free_port, need_binary, tcp_open, wait_until

FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
USERNAME = "netmgr"
PASSWORD = "kannel-Pw-77"  # noqa: S105 - a test credential
GLOBAL_SENDER = "12345"
REFUSED_PREFIX = "62899"
"""Numbers Kannel refuses (its sendsms-user's ``black-list-regex``), as an operator's SMSC refuses some."""
_GOT = re.compile(r"Got message \d+: <(\S+) (\S+) (text|ucs-2) (.*)>\s*$")


def _text(kind: str, raw: str) -> str:
    """fakesmsc's ``text`` is the text itself; ``ucs-2`` is UTF-16BE, URL-encoded with ``+`` for a 0x20 byte."""
    if kind == "text":
        return raw
    return urllib.parse.unquote_to_bytes(raw.replace("+", "%20")).decode("utf-16-be")


def fresh_phone() -> tuple[str, str]:
    """A fresh number as typed (``0812…``) and as the SMSC sees it (``62812…``): the fake SMSC's log is shared by
    the tests of a session, so each test looks for its own number."""
    digits = f"{secrets.randbelow(10**8):08d}"
    return f"0812{digits}", f"62812{digits}"


@dataclass
class Kannel:
    dir: Path
    admin_port: int
    smsc_port: int
    sendsms_port: int
    bearerbox: Daemon | None = None
    smsbox: Daemon | None = None
    fakesmscs: list[Daemon] = field(default_factory=list)

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.sendsms_port}/cgi-bin/sendsms"

    def status(self) -> str:
        url = f"http://127.0.0.1:{self.admin_port}/status.txt?password=statuspw"
        with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - loopback test server
            return str(r.read().decode(errors="replace"))

    def start_smsc(self) -> None:
        """Start a fake SMSC (one at a time) and wait until bearerbox says its link is online."""
        log = self.dir / f"fakesmsc-{len(self.fakesmscs)}.log"
        self.fakesmscs.append(Daemon([FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc_port), "-m", "0", "x"],
                                     log=log))
        wait_until(lambda: "online" in self._smsc_line(), timeout=15, what="fakesmsc link in bearerbox",
                   log=self.dir / "bearerbox.log")

    def stop_smsc(self) -> None:
        for smsc in self.fakesmscs:
            smsc.stop()
        wait_until(lambda: "online" not in self._smsc_line(), timeout=15, what="bearerbox noticing the SMSC left")

    def _smsc_line(self) -> str:
        try:
            return next((line for line in self.status().splitlines() if "FAKE" in line), "")
        except OSError:
            return ""

    def received(self, receiver: str | None = None, *, wait_s: float = 5.0) -> list[tuple[str, str, str]]:
        """Messages the fake SMSCs got, as (sender, receiver, text); waits up to ``wait_s`` for a first one."""
        deadline = time.monotonic() + wait_s
        while True:
            found = []
            for smsc in self.fakesmscs:
                for line in smsc.log.read_text(errors="replace").splitlines():
                    match = _GOT.search(line)
                    if match and (receiver is None or match.group(2) == receiver):
                        found.append((match.group(1), match.group(2), _text(match.group(3), match.group(4))))
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)


def _config(k: Kannel) -> str:
    return f"""group = core
admin-port = {k.admin_port}
admin-interface = 127.0.0.1
admin-password = adminpw
status-password = statuspw
smsbox-port = {free_port()}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
log-file = "{k.dir}/bearerbox.log"

group = smsc
smsc = fake
smsc-id = fake1
port = {k.smsc_port}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = %SMSBOX_PORT%
sendsms-port = {k.sendsms_port}
sendsms-interface = 127.0.0.1
global-sender = {GLOBAL_SENDER}
log-file = "{k.dir}/smsbox.log"

group = sendsms-user
username = {USERNAME}
password = {PASSWORD}
user-allow-ip = "127.0.0.1"
black-list-regex = "^{REFUSED_PREFIX}"
"""


@contextmanager
def kannel_server(base: Path) -> Iterator[Kannel]:
    bearerbox = need_binary("bearerbox", "kannel")
    smsbox = need_binary("smsbox", "kannel")
    if not Path(FAKESMSC).exists():
        raise ServerUnavailable(f"{FAKESMSC} is not installed: apt-get install kannel-extras")
    directory = base / "kannel"
    directory.mkdir(parents=True, exist_ok=True)
    k = Kannel(dir=directory, admin_port=free_port(), smsc_port=free_port(), sendsms_port=free_port())
    text = _config(k)
    smsbox_port = re.search(r"smsbox-port = (\d+)", text)
    assert smsbox_port is not None
    conf = directory / "kannel.conf"
    conf.write_text(text.replace("%SMSBOX_PORT%", smsbox_port.group(1)))
    try:
        k.bearerbox = Daemon([bearerbox, "-v", "1", str(conf)], log=directory / "bearerbox.out")
        wait_until(lambda: tcp_open("127.0.0.1", k.smsc_port) and tcp_open("127.0.0.1", k.admin_port), timeout=15,
                   what="Kannel bearerbox", proc=k.bearerbox.proc, log=directory / "bearerbox.out")
        k.start_smsc()
        k.smsbox = Daemon([smsbox, "-v", "1", str(conf)], log=directory / "smsbox.out")
        wait_until(lambda: tcp_open("127.0.0.1", k.sendsms_port), timeout=15, what="Kannel smsbox",
                   proc=k.smsbox.proc, log=directory / "smsbox.out")
        yield k
    finally:
        for daemon in (*k.fakesmscs, k.smsbox, k.bearerbox):
            if daemon is not None:
                daemon.stop()
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def hung_gateway() -> Iterator[int]:
    """A loopback port that accepts connections and never answers (a gateway that hangs); yields the port."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        for s in held:
            s.close()
        server.close()
