"""Helpers to start a daemon in the foreground, wait for it, and stop it cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


class ServerUnavailable(RuntimeError):
    """A server the tests need could not be started; the message says how to fix it."""


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tcp_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def need_binary(name: str, package: str) -> str:
    path = shutil.which(name) or (name if os.path.exists(name) else None)
    if path is None:
        raise ServerUnavailable(f"{name} is not installed: apt-get install {package} (./dev test does this)")
    return path


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, proc: subprocess.Popen[bytes] | None = None,
               log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise ServerUnavailable(f"{what} did not become ready within {timeout:.0f}s\n{tail}")


class Daemon:
    """A foreground process with its output in a log file; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, argv: Sequence[str], *, log: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None, preexec_user: str | None = None) -> None:
        self.log = log
        full_env = {**os.environ, **(env or {})}
        cmd = list(argv)
        if preexec_user is not None and os.geteuid() == 0:
            cmd = ["runuser", "-u", preexec_user, "--", *cmd]
        self._fh = log.open("ab")
        self.proc = subprocess.Popen(cmd, stdout=self._fh, stderr=subprocess.STDOUT, env=full_env, cwd=cwd,
                                     start_new_session=True)

    def stop(self, timeout: float = 10) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._fh.close()


def needed(problem: str | None) -> None:
    """Stop a test that lacks a part it runs for real: fail in CI, where every part must be there; skip elsewhere."""
    if problem is None:
        return
    import pytest

    if os.environ.get("CI") == "true":
        pytest.fail(problem)
    pytest.skip(problem)  # only off CI: in CI (CI=true) the test failed above
