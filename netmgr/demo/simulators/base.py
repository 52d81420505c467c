"""The vendor-neutral half of the SSH simulators: a raw terminal (echo, Enter, paging) over asyncssh.

Bytes flow client → :class:`TerminalSession` (echo, line assembly) → a vendor :class:`Shell` (parse, change the
:class:`Device` state) → text back to the client. Everything runs on one asyncio loop, callbacks only, so a single
process can serve hundreds of devices cheaply.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncssh

log = logging.getLogger(__name__)

MORE = " --More-- "
ERASE_MORE = "\b" * len(MORE) + " " * len(MORE) + "\b" * len(MORE)


class Device(ABC):
    """One simulated box: its configuration state, clock-driven jobs and open sessions.

    Subclasses keep every piece of configuration in ``self.state`` (JSON-serialisable), so ``--state-file``
    persistence is a plain ``json.dump``.
    """

    platform = ""

    def __init__(self, *, hostname: str, username: str, password: str, state_file: str | os.PathLike[str] | None,
                 seconds_per_minute: float = 60.0, enable_secret: str | None = None) -> None:
        self.username = username
        self.password = password
        self.enable_secret = enable_secret if enable_secret is not None else password
        self.state_file = Path(state_file) if state_file else None
        # Test knob: how long a device "minute" lasts (revert timers are given in minutes on IOS).
        self.seconds_per_minute = seconds_per_minute
        self.sessions: set[TerminalSession] = set()
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.started = time.time()
        self.state: dict[str, Any] = {}
        loaded = self._load_state_file()
        if loaded is None:
            self.state = self.factory_state(hostname)
        else:
            self.state = loaded
        self.after_load()

    # -- state -------------------------------------------------------------------------------------------
    @abstractmethod
    def factory_state(self, hostname: str) -> dict[str, Any]:
        """The configuration of a freshly unboxed device named ``hostname``."""

    def after_load(self) -> None:
        """Re-arm timers and the like after the state was loaded or replaced; subclasses extend this."""
        self.cancel_all_timers()

    @abstractmethod
    def open_shell(self, username: str) -> Shell:
        """A CLI for one SSH session."""

    def check_login(self, username: str, password: str) -> bool:
        return username == self.username and password == self.password

    def _load_state_file(self) -> dict[str, Any] | None:
        if self.state_file is None or not self.state_file.exists():
            return None
        data = json.loads(self.state_file.read_text(encoding="utf-8"))
        if data.get("platform") != self.platform:
            raise ValueError(f"{self.state_file} holds a {data.get('platform')} device, not {self.platform}")
        state: dict[str, Any] = data["state"]
        return state

    def save(self) -> None:
        """Persist the state to ``--state-file`` (atomically) when one was given."""
        if self.state_file is None:
            return
        tmp = self.state_file.with_name(self.state_file.name + ".tmp")
        tmp.write_text(json.dumps({"platform": self.platform, "state": self.state}, indent=1), encoding="utf-8")
        tmp.replace(self.state_file)

    # -- time ---------------------------------------------------------------------------------------------
    def call_later(self, key: str, delay: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` after ``delay`` seconds on the device's loop, replacing any timer under ``key``."""
        self.cancel_timer(key)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # built outside a loop (a unit test poking at state): no clock to run on
            log.warning("%s: timer %s not armed, no running event loop", self.platform, key)
            return

        def fire() -> None:
            self.timers.pop(key, None)
            try:
                callback()
            except Exception:
                log.exception("%s: timer %s failed", self.platform, key)
            self.save()

        self.timers[key] = loop.call_later(delay, fire)

    def cancel_timer(self, key: str) -> None:
        handle = self.timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    def cancel_all_timers(self) -> None:
        for key in list(self.timers):
            self.cancel_timer(key)

    def disconnect_all(self) -> None:
        """Drop every SSH connection, as a reboot does."""
        self.disconnect(list(self.connections))

    def disconnect_soon(self) -> None:
        """Drop the connections open now, a moment from now, so the last answer still reaches the client."""
        victims = list(self.connections)
        asyncio.get_running_loop().call_later(0.05, self.disconnect, victims)

    @staticmethod
    def disconnect(connections: list[asyncssh.SSHServerConnection]) -> None:
        for conn in connections:
            conn.close()

    def broadcast(self, text: str) -> None:
        """Write a console message (a syslog line) to every open session."""
        for session in list(self.sessions):
            session.write(text)


class Shell(ABC):
    """The command interpreter of one session. The terminal hands it whole lines and writes back what it returns."""

    #: Echo typed characters (off while a password is being typed).
    echo = True
    #: Lines per page; 0 disables the ``--More--`` pager.
    page_length = 0
    #: Set to end the session after the current output.
    closed = False
    #: When set, the next single key is passed here instead of being collected into a line ("[y/N]:" questions).
    key_handler: Callable[[str], str] | None = None

    @abstractmethod
    def greeting(self) -> str:
        """Banner printed before the first prompt."""

    @abstractmethod
    def prompt(self) -> str:
        """The prompt for the current mode."""

    @abstractmethod
    def handle_line(self, line: str) -> str:
        """Run one line; return its output (``\\n`` line ends, with a trailing newline if non-empty)."""

    def interrupt(self) -> str:
        """Ctrl-C: drop the line being typed."""
        return ""

    def ctrl_z(self) -> str:
        """Ctrl-Z: Cisco leaves configuration mode with it; elsewhere it does nothing."""
        return ""


class TerminalSession(asyncssh.SSHServerSession[str]):
    """A character-at-a-time terminal, as on the real boxes: echo, CR/LF/CRLF as one Enter, backspace, pager."""

    def __init__(self, device: Device, username: str) -> None:
        self.device = device
        self.username = username
        self._chan: asyncssh.SSHServerChannel[str] | None = None
        self._line: list[str] = []
        self._after_cr = False
        self._pending_pages: list[str] = []
        self._exec_command: str | None = None
        self.shell: Shell | None = None

    # -- asyncssh callbacks ------------------------------------------------------------------------------
    def connection_made(self, chan: asyncssh.SSHServerChannel[str]) -> None:
        self._chan = chan
        self.device.sessions.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.device.sessions.discard(self)

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Any) -> bool:
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        self._exec_command = command
        return True

    def session_started(self) -> None:
        self.shell = self.device.open_shell(self.username)
        if self._exec_command is not None:
            out = self.shell.handle_line(self._exec_command)
            self.write(out)
            self.device.save()
            self._exit()
            return
        self.write(self.shell.greeting() + self.shell.prompt())

    def eof_received(self) -> bool:
        return False

    def break_received(self, msec: int) -> bool:
        return True

    def data_received(self, data: str, datatype: asyncssh.DataType) -> None:
        if self.shell is None or self._chan is None:
            return
        shell = self.shell
        echo: list[str] = []
        for ch in data:
            if shell.closed:
                break
            if self._pending_pages:
                self._flush(echo)
                self._page_key(ch)
                continue
            if shell.key_handler is not None:
                handler, shell.key_handler = shell.key_handler, None
                self._flush(echo)
                self.write(ch + "\n" + handler(ch))
                if not shell.closed and shell.key_handler is None:
                    self.write(shell.prompt())
                self._after_cr = ch == "\r"
                continue
            if ch == "\n" and self._after_cr:
                self._after_cr = False
                continue
            self._after_cr = ch == "\r"
            if ch in "\r\n":
                line = "".join(self._line)
                self._line.clear()
                echo.append("\n")
                self._flush(echo)
                self._run(line)
            elif ch == "\x03":
                self._line.clear()
                echo.append("^C\n")
                self._flush(echo)
                self.write(shell.interrupt() + shell.prompt())
            elif ch == "\x1a":
                self._line.clear()
                echo.append("^Z\n")
                self._flush(echo)
                self.write(shell.ctrl_z() + shell.prompt())
            elif ch in "\x7f\x08":
                if self._line:
                    self._line.pop()
                    if shell.echo:
                        echo.append("\b \b")
            elif ch == "\t" or ch < " ":
                continue
            else:
                self._line.append(ch)
                if shell.echo:
                    echo.append(ch)
        self._flush(echo)
        if shell.closed:
            self._exit()

    # -- helpers -----------------------------------------------------------------------------------------
    def write(self, text: str) -> None:
        if text and self._chan is not None and not self._chan.is_closing():
            self._chan.write(text.replace("\r\n", "\n").replace("\n", "\r\n"))

    def _flush(self, echo: list[str]) -> None:
        if echo:
            self.write("".join(echo))
            echo.clear()

    def _run(self, line: str) -> None:
        if self.shell is None:
            raise RuntimeError("input before the shell started")
        shell = self.shell
        try:
            out = shell.handle_line(line)
        except Exception:
            log.exception("%s: command %r crashed the simulator", self.device.platform, line)
            out = "internal simulator error\n"
        self.device.save()
        if shell.closed:
            self.write(out)
            return
        lines = out.splitlines(keepends=True)
        if shell.page_length and len(lines) > shell.page_length - 1:
            first = shell.page_length - 1
            self.write("".join(lines[:first]) + MORE)
            self._pending_pages = lines[first:]
            return
        if shell.key_handler is not None:
            self.write(out)
            return
        self.write(out + shell.prompt())

    def _page_key(self, ch: str) -> None:
        if self.shell is None:
            raise RuntimeError("input before the shell started")
        if ch == "\n" and self._after_cr:
            self._after_cr = False
            return
        self._after_cr = ch == "\r"
        self.write(ERASE_MORE)
        if ch == " ":
            count = max(self.shell.page_length - 1, 1)
        elif ch in "\r\n":
            count = 1
        else:
            self._pending_pages.clear()
            self.write(self.shell.prompt())
            return
        chunk, self._pending_pages = self._pending_pages[:count], self._pending_pages[count:]
        self.write("".join(chunk))
        if self._pending_pages:
            self.write(MORE)
        else:
            self.write(self.shell.prompt())

    def _exit(self) -> None:
        if self._chan is not None and not self._chan.is_closing():
            self._chan.exit(0)


class SshServer(asyncssh.SSHServer):
    """Password authentication against the device's one account; one instance per connection."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.conn: asyncssh.SSHServerConnection | None = None
        self.username = ""

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.device.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.device.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        if self.device.check_login(username, password):
            self.username = username
            return True
        return False

    def session_requested(self) -> TerminalSession:
        return TerminalSession(self.device, self.username)
