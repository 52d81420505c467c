"""OpenSSH for the tests: a private ``sshd`` on a free port with a temp config and a temp system user.

The user logs in with a password (as netmiko does against real gateways); it is deleted afterwards.
Creating a system user needs root, as on the CI machine (TESTBED.md §5).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers.process import Daemon, ServerUnavailable, free_port, need_binary, tcp_open, wait_until


@dataclass(frozen=True)
class SshServer:
    host: str
    port: int
    username: str
    password: str
    home: Path


@contextmanager
def _temp_user() -> Iterator[tuple[str, str, Path]]:
    if os.geteuid() != 0:
        raise ServerUnavailable("the sshd fixture creates a temporary system user and needs root")
    need_binary("useradd", "passwd")
    username = "nmt" + secrets.token_hex(4)
    password = "Pw-" + secrets.token_urlsafe(12)
    subprocess.run(["useradd", "-m", "-s", "/bin/bash", username], check=True, capture_output=True)
    try:
        subprocess.run(["chpasswd"], input=f"{username}:{password}\n".encode(), check=True, capture_output=True)
        yield username, password, Path("/home") / username
    finally:
        subprocess.run(["pkill", "-KILL", "-u", username], capture_output=True)
        subprocess.run(["userdel", "-r", "-f", username], capture_output=True)


@contextmanager
def sshd_server() -> Iterator[SshServer]:
    """Start ``sshd -D`` on 127.0.0.1:<free port> allowing only a fresh temporary user."""
    sshd = need_binary("/usr/sbin/sshd", "openssh-server")
    keygen = need_binary("ssh-keygen", "openssh-client")
    root = Path(tempfile.mkdtemp(prefix="netmgr-sshd-"))
    with _temp_user() as (username, password, home):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(root / "hostkey")], check=True)
        port = free_port()
        (root / "sshd_config").write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {root / 'hostkey'}\nPidFile {root / 'sshd.pid'}\n"
            "PasswordAuthentication yes\nKbdInteractiveAuthentication no\nPermitRootLogin no\nUsePAM yes\n"
            f"AllowUsers {username}\nMaxStartups 50:30:100\nMaxSessions 50\n"
        )
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        daemon = Daemon([sshd, "-D", "-e", "-f", str(root / "sshd_config")], log=root / "sshd.log")
        try:
            wait_until(lambda: tcp_open("127.0.0.1", port), timeout=15, what="sshd", proc=daemon.proc,
                       log=root / "sshd.log")
            yield SshServer("127.0.0.1", port, username, password, home)
        finally:
            daemon.stop()
            shutil.rmtree(root, ignore_errors=True)
