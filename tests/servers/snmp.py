"""Real SNMP agents for the tests: Debian ``snmpd`` (v2c + v3 authPriv) and ``snmpsim`` serving ../shared/snmprec.

Both run on free UDP ports on 127.0.0.1 and are stopped when the context exits (see TESTBED.md §4).
"""

from __future__ import annotations

import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.servers.process import Daemon, ServerUnavailable, free_port, need_binary, wait_until

V3_USER = "v3user"
V3_AUTH_KEY = "authpass123"
V3_PRIV_KEY = "privpass123"
SNMPD_COMMUNITY = "testcomm"
SNMPD_SYS_NAME = "netmgr-test-snmpd"

SNMPREC_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "snmprec"


@dataclass(frozen=True)
class Agent:
    """Where a test agent listens and which credentials it accepts."""

    host: str
    port: int
    community: str
    v3_user: str = V3_USER
    auth_key: str = V3_AUTH_KEY
    priv_key: str = V3_PRIV_KEY


def _answers(port: int, community: str, host: str = "127.0.0.1") -> bool:
    """True once the agent answers a v2c GET of sysUpTime.0 (a hand-built packet: no client code under test)."""
    oid = bytes.fromhex("06082b06010201010300")  # 1.3.6.1.2.1.1.3.0
    vb = b"\x30" + bytes([len(oid) + 2]) + oid + b"\x05\x00"
    vbl = b"\x30" + bytes([len(vb)]) + vb
    pdu_body = b"\x02\x01\x01\x02\x01\x00\x02\x01\x00" + vbl
    pdu = b"\xa0" + bytes([len(pdu_body)]) + pdu_body
    c = community.encode()
    body = b"\x02\x01\x01\x04" + bytes([len(c)]) + c + pdu
    msg = b"\x30" + bytes([len(body)]) + body
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.3)
        try:
            s.sendto(msg, (host, port))
            return len(s.recv(2048)) > 0
        except OSError:
            return False


@contextmanager
def snmpd_agent() -> Iterator[Agent]:
    """Debian net-snmp ``snmpd`` with community ``testcomm`` and v3 user ``v3user`` (SHA/AES authPriv)."""
    binary = need_binary("/usr/sbin/snmpd", "snmpd")
    root = Path(tempfile.mkdtemp(prefix="netmgr-snmpd-"))
    port = free_port(socket.SOCK_DGRAM)
    (root / "persist").mkdir()
    conf = root / "snmpd.conf"
    conf.write_text(
        f"agentAddress udp:127.0.0.1:{port}\n"
        f"[snmp] persistentDir {root / 'persist'}\n"
        f"rocommunity {SNMPD_COMMUNITY} 127.0.0.1\n"
        f'createUser {V3_USER} SHA "{V3_AUTH_KEY}" AES "{V3_PRIV_KEY}"\n'
        f"rouser {V3_USER} priv\n"
        "sysLocation netmgr-tests\n"
        "sysContact ops@example.net\n"
        f"sysName {SNMPD_SYS_NAME}\n"
    )
    log = root / "snmpd.log"
    daemon = Daemon([binary, "-f", "-Lo", "-C", "-c", str(conf), "-p", str(root / "snmpd.pid")],
                    log=log, env={"MIBS": ""})
    try:
        wait_until(lambda: _answers(port, SNMPD_COMMUNITY), timeout=20, what="snmpd", proc=daemon.proc, log=log)
        yield Agent("127.0.0.1", port, SNMPD_COMMUNITY)
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


def snmpsim_binary() -> str:
    path = Path(sys.executable).parent / "snmpsim-command-responder"
    if not path.exists():
        raise ServerUnavailable("snmpsim is not installed in the venv: .venv/bin/pip install 'snmpsim>=1.2,<1.3' "
                                "'pysmi>=2,<3' (./dev test does this)")
    return str(path)


@contextmanager
def snmpsim_agent(recordings: list[Path] | None = None, *, extra: dict[str, str] | None = None) -> Iterator[Agent]:
    """snmpsim serving each ``NAME.snmprec`` as community ``NAME`` (and v3 context ``NAME``).

    Args:
        recordings: files to serve; all of ../shared/snmprec by default.
        extra: more recordings as ``{community: snmprec text}``.
    The returned Agent's community is the first recording's name.
    """
    binary = snmpsim_binary()
    files = recordings if recordings is not None else sorted(SNMPREC_DIR.glob("*.snmprec"))
    if not files and not extra:
        raise ServerUnavailable(f"no .snmprec recordings found in {SNMPREC_DIR}")
    root = Path(tempfile.mkdtemp(prefix="netmgr-snmpsim-"))
    data = root / "data"
    data.mkdir()
    for f in files:
        shutil.copy(f, data / f.name)
    for name, text in (extra or {}).items():
        (data / f"{name}.snmprec").write_text(text)
    first = files[0].stem if files else next(iter(extra or {}))
    port = free_port(socket.SOCK_DGRAM)
    log = root / "snmpsim.log"
    daemon = Daemon([binary, f"--data-dir={data}", f"--cache-dir={root / 'cache'}",
                     f"--agent-udpv4-endpoint=127.0.0.1:{port}", "--logging-method=null",
                     f"--v3-user={V3_USER}", f"--v3-auth-key={V3_AUTH_KEY}", "--v3-auth-proto=SHA",
                     f"--v3-priv-key={V3_PRIV_KEY}", "--v3-priv-proto=AES"],
                    log=log, env={"SNMPSIM_ALLOW_ROOT": "true"})
    try:
        wait_until(lambda: _answers(port, first), timeout=60, what="snmpsim", proc=daemon.proc, log=log)
        yield Agent("127.0.0.1", port, first)
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


__all__ = ["Agent", "ServerUnavailable", "snmpd_agent", "snmpsim_agent"]
