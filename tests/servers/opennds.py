"""openNDS 9.10 in network namespaces, as TESTBED.md §1 describes: gw (openNDS), client, and an "internet".

    client 192.168.201.10 ── gw-lan 192.168.201.1 [openNDS :2050, FAS] gw-wan 203.0.113.1 ── 203.0.113.2 inet

Namespace and interface names carry a random suffix so parallel runs do not collide. openNDS runs with an
``iptables`` → ``iptables-legacy`` shim first on PATH, a dnsmasq-style lease for the client, and a private
/tmp (``unshare --mount``). ``stop`` flushes the legacy tables openNDS leaves behind and deletes everything.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.process import Daemon, ServerUnavailable, need_binary, wait_until

GW_LAN_IP = "192.168.201.1"
CLIENT_IP = "192.168.201.10"
INET_IP = "203.0.113.2"
GATEWAY_PORT = 2050


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=30)


def require_netns() -> None:
    """Raise ServerUnavailable unless this process may create namespaces and run openNDS."""
    if os.geteuid() != 0:
        raise ServerUnavailable("the openNDS end-to-end test needs root (network namespaces, iptables)")
    need_binary("opennds", "opennds")
    need_binary("ndsctl", "opennds")
    need_binary("/usr/sbin/iptables-legacy", "iptables")
    need_binary("curl", "curl")
    need_binary("unshare", "util-linux")


@dataclass
class OpenNdsBed:
    """The three namespaces and openNDS; ``run_in(ns, ...)`` runs a command inside one of them."""

    workdir: Path
    fas_port: int
    fas_path: str
    faskey: str
    suffix: str = field(default_factory=lambda: secrets.token_hex(2))
    daemons: list[Daemon] = field(default_factory=list)
    opennds: Daemon | None = None
    client_mac: str = ""

    @property
    def gw(self) -> str:
        return f"nds{self.suffix}gw"

    @property
    def client(self) -> str:
        return f"nds{self.suffix}cl"

    @property
    def inet(self) -> str:
        return f"nds{self.suffix}in"

    @property
    def private_tmp(self) -> Path:
        return self.workdir / "ndstmp"

    def run_in(self, ns: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run("ip", "netns", "exec", ns, *argv, check=check)

    def start_network(self) -> None:
        s = self.suffix
        lan_gw, lan_cl, wan_gw, wan_in = f"g{s}l", f"c{s}l", f"g{s}w", f"i{s}w"
        for ns in (self.gw, self.client, self.inet):
            _run("ip", "netns", "add", ns)
        _run("ip", "link", "add", lan_gw, "type", "veth", "peer", "name", lan_cl)
        _run("ip", "link", "set", lan_gw, "netns", self.gw)
        _run("ip", "link", "set", lan_cl, "netns", self.client)
        _run("ip", "link", "add", wan_gw, "type", "veth", "peer", "name", wan_in)
        _run("ip", "link", "set", wan_gw, "netns", self.gw)
        _run("ip", "link", "set", wan_in, "netns", self.inet)
        _run("ip", "-n", self.gw, "addr", "add", f"{GW_LAN_IP}/24", "dev", lan_gw)
        _run("ip", "-n", self.gw, "addr", "add", "203.0.113.1/24", "dev", wan_gw)
        _run("ip", "-n", self.client, "addr", "add", f"{CLIENT_IP}/24", "dev", lan_cl)
        _run("ip", "-n", self.inet, "addr", "add", f"{INET_IP}/24", "dev", wan_in)
        for ns in (self.gw, self.client, self.inet):
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        _run("ip", "-n", self.gw, "link", "set", lan_gw, "up")
        _run("ip", "-n", self.gw, "link", "set", wan_gw, "up")
        _run("ip", "-n", self.client, "link", "set", lan_cl, "up")
        _run("ip", "-n", self.inet, "link", "set", wan_in, "up")
        _run("ip", "-n", self.client, "route", "add", "default", "via", GW_LAN_IP)
        _run("ip", "-n", self.inet, "route", "add", "default", "via", "203.0.113.1")
        self.run_in(self.gw, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        link = _run("ip", "-n", self.client, "-o", "link", "show", lan_cl).stdout
        self.client_mac = link.split("link/ether ")[1].split()[0].lower()
        self.lan_interface = lan_gw

    def start_internet(self) -> None:
        root = self.workdir / "inetroot"
        root.mkdir(exist_ok=True)
        (root / "index.html").write_text("<h1>THE INTERNET</h1>\n")
        self.daemons.append(Daemon(["ip", "netns", "exec", self.inet, "python3", "-m", "http.server", "80",
                                    "--bind", INET_IP, "--directory", str(root)], log=self.workdir / "inet.log"))
        wait_until(lambda: self.run_in(self.inet, "curl", "-s", "-o", "/dev/null", f"http://{INET_IP}/",
                                       check=False).returncode == 0, timeout=15, what="the internet http server")

    def start_in_gw(self, argv: Sequence[str], *, log: str, env: dict[str, str] | None = None) -> Daemon:
        """Start a process in the gateway namespace (the FAS runs there, next to openNDS)."""
        daemon = Daemon(["ip", "netns", "exec", self.gw, *argv], log=self.workdir / log, env=env)
        self.daemons.append(daemon)
        return daemon

    def start_opennds(self) -> None:
        d = self.private_tmp
        (d / "bin").mkdir(parents=True, exist_ok=True)
        shim = d / "bin" / "iptables"
        if not shim.exists():
            shim.symlink_to("/usr/sbin/iptables-legacy")
        (d / "dhcp.leases").write_text(f"{int(time.time()) + 3600} {self.client_mac} {CLIENT_IP} client01 *\n")
        (d / "opennds.conf").write_text(f"""GatewayName netmgrTest
GatewayInterface {self.lan_interface}
GatewayPort {GATEWAY_PORT}
login_option_enabled 0
fasport {self.fas_port}
fasremoteip {GW_LAN_IP}
faspath {self.fas_path}
fas_secure_enabled 1
faskey {self.faskey}
debuglevel 2
FirewallRuleSet authenticated-users {{
}}
FirewallRuleSet preauthenticated-users {{
}}
FirewallRuleSet users-to-router {{
    FirewallRule allow udp port 53
    FirewallRule allow tcp port 53
    FirewallRule allow udp port 67
}}
""")
        script = (f"mount --bind {d} /tmp && PATH=/tmp/bin:$PATH exec opennds -f -d 2 -c /tmp/opennds.conf")
        self.opennds = Daemon(["ip", "netns", "exec", self.gw, "unshare", "--mount", "--propagation", "private",
                               "sh", "-c", script], log=self.workdir / "opennds.log")
        log = self.workdir / "opennds.log"
        wait_until(lambda: "openNDS is now running" in log.read_text(errors="replace"), timeout=30,
                   what="openNDS", proc=self.opennds.proc, log=log)

    def client_curl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run_in(self.client, "curl", "-sS", "--max-time", "10", *args, check=False)

    def ndsctl(self, *args: str) -> str:
        if self.opennds is None:
            raise RuntimeError("openNDS is not running")
        pid = _run("pgrep", "-P", str(self.opennds.proc.pid), check=False).stdout.split()
        target = pid[0] if pid else str(self.opennds.proc.pid)
        return _run("nsenter", "-t", target, "-m", "-n", "ndsctl", *args, check=False).stdout

    def stop(self) -> None:
        if self.opennds is not None:
            self.opennds.stop(timeout=10)
        for daemon in reversed(self.daemons):
            daemon.stop(timeout=5)
        for table in ("mangle", "nat", "filter"):
            self.run_in(self.gw, "iptables-legacy", "-t", table, "-F", check=False)
            self.run_in(self.gw, "iptables-legacy", "-t", table, "-X", check=False)
        self.run_in(self.gw, "nft", "flush", "ruleset", check=False)
        for ns in (self.gw, self.client, self.inet):
            _run("ip", "netns", "del", ns, check=False)
        if self.private_tmp.exists():
            shutil.rmtree(self.private_tmp, ignore_errors=True)
