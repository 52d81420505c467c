"""Starts the demo's child processes, watches them, and stops them all cleanly.

Each child runs in its own session (process group) with its output in ``logs/<name>.log``, so Ctrl-C
reaches only the demo, which then sends SIGTERM to each child and SIGKILL to whatever is left of its group.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from netmgr.errors import NetmgrError

log = logging.getLogger(__name__)


class ChildFailed(NetmgrError):
    """A child process did not start or died; the message names it and quotes its log."""


@dataclass
class Child:
    """One supervised process: what it is, where it listens and where its log is."""

    name: str
    argv: list[str]
    log_path: Path
    what: str
    proc: subprocess.Popen[bytes]
    started_at: float = field(default_factory=time.monotonic)
    reported_dead: bool = False
    _log_file: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.rstrip().splitlines()[-lines:]) or "(log is empty)"


def describe_exit(code: int | None) -> str:
    if code is None:
        return "running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


class Supervisor:
    """Owns the child processes of one demo run."""

    def __init__(self, log_dir: Path, env: Mapping[str, str]) -> None:
        self.log_dir = log_dir
        self.env = dict(env)
        self.children: list[Child] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, argv: Sequence[str], *, what: str, env: Mapping[str, str] | None = None,
              cwd: Path | None = None) -> Child:
        """Start ``argv`` in its own process group, output appended to ``logs/<name>.log``."""
        log_path = self.log_dir / f"{name}.log"
        fh = log_path.open("ab")
        fh.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(argv)}\n".encode())
        fh.flush()
        try:
            proc = subprocess.Popen(list(argv), stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,  # noqa: S603
                                    env={**self.env, **(env or {})}, cwd=cwd, start_new_session=True)
        except OSError as exc:
            fh.close()
            raise ChildFailed(f"cannot start {name} ({argv[0]}): {exc}") from exc
        child = Child(name=name, argv=list(argv), log_path=log_path, what=what, proc=proc, _log_file=fh)
        self.children.append(child)
        log.debug("started %s pid %s", name, proc.pid)
        return child

    def wait_ready(self, child: Child, check: Callable[[], bool], *, timeout: float) -> None:
        """Wait until ``check()`` is true; raise ChildFailed (with the log tail) if it dies or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not child.alive():
                child.reported_dead = True
                raise ChildFailed(f"{child.name} {describe_exit(child.proc.returncode)} while starting; "
                                  f"last lines of {child.log_path}:\n{child.tail()}")
            try:
                if check():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise ChildFailed(f"{child.name} was not ready after {timeout:.0f} s; last lines of {child.log_path}:\n"
                          f"{child.tail()}")

    def newly_dead(self) -> list[Child]:
        """Children that died since the last call (each reported once)."""
        dead = [c for c in self.children if not c.reported_dead and not c.alive()]
        for child in dead:
            child.reported_dead = True
        return dead

    def pids(self) -> dict[str, int]:
        return {c.name: c.pid for c in self.children}

    def stop_all(self, grace_s: float = 20.0) -> dict[str, str]:
        """SIGTERM every child (newest first), SIGKILL its process group if it is still there after ``grace_s``.

        Only the group leader gets SIGTERM, so a Celery or uvicorn parent shuts its own workers down in
        order. Returns how each child ended, by name.
        """
        for child in reversed(self.children):
            if child.alive():
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for child in reversed(self.children):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.proc.wait(remaining)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop within %.0f s; killing it", child.name, grace_s)
                _signal_group(child.proc.pid, signal.SIGKILL)
                child.proc.wait(5)
        for child in self.children:
            # Grandchildren (celery's pool, uvicorn's reloader) share the group; make sure none outlive us.
            # A group id stays taken while any member lives, so members found here are ours.
            if group_members(child.proc.pid):
                _signal_group(child.proc.pid, signal.SIGKILL)
            if child._log_file is not None:
                child._log_file.close()
        return {c.name: describe_exit(c.proc.returncode) for c in self.children}


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group ``pgid``, read from /proc (Linux)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members
