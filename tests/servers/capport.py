"""A hotspot LAN for the RFC 8908/8910 test: real dnsmasq on a gateway namespace, a client namespace, and
netmgr on this host reached by routing (no NAT), over TLS with a test CA.

    client (DHCP) ── lan 10.N.M.1/24 [gw: dnsmasq, option 114] 10.N.K.2/30 ── 10.N.K.1/30 this host (netmgr, TLS)

The client gets its address and the Captive Portal API URI from dnsmasq and keeps its own address on the way
to netmgr, as in a routed hotspot. Names carry a random suffix so parallel runs do not collide.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers.process import Daemon, ServerUnavailable, need_binary, wait_until

DHCP_CLIENT = Path(__file__).with_name("dhcp_client.py")


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=30)


def require_capport_bed() -> None:
    """Raise ServerUnavailable unless namespaces, dnsmasq, openssl and curl are there."""
    if os.geteuid() != 0:
        raise ServerUnavailable("the RFC 8910 test needs root (network namespaces)")
    need_binary("/usr/sbin/dnsmasq", "dnsmasq-base")
    need_binary("openssl", "openssl")
    need_binary("curl", "curl")


def make_test_ca(directory: Path, server_ip: str) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for ``server_ip`` signed by it: (ca.pem, cert.pem, key.pem)."""
    ca_key, ca, key, csr, cert = (directory / n for n in ("ca.key", "ca.pem", "server.key", "server.csr",
                                                          "server.pem"))
    _run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", str(ca_key), "-out", str(ca), "-days", "1", "-subj", "/CN=netmgr test CA")
    _run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key),
         "-out", str(csr), "-subj", f"/CN={server_ip}")
    ext = directory / "server.ext"
    ext.write_text(f"subjectAltName=IP:{server_ip}\nextendedKeyUsage=serverAuth\n")
    _run("openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
         "-out", str(cert), "-days", "1", "-extfile", str(ext))
    return ca, cert, key


@dataclass
class CapportBed:
    workdir: Path
    suffix: str = field(default_factory=lambda: secrets.token_hex(2))
    net: int = field(default_factory=lambda: 100 + secrets.randbelow(150))
    sub: int = field(default_factory=lambda: secrets.randbelow(120) * 2)
    dnsmasq: Daemon | None = None
    client_mac: str = ""

    @property
    def gw(self) -> str:
        return f"cap{self.suffix}gw"

    @property
    def client(self) -> str:
        return f"cap{self.suffix}cl"

    @property
    def host_ip(self) -> str:
        """netmgr's address on this host, towards the gateway."""
        return f"10.{self.net}.{self.sub}.1"

    @property
    def gw_uplink_ip(self) -> str:
        return f"10.{self.net}.{self.sub}.2"

    @property
    def lan(self) -> str:
        return f"10.{self.net}.{self.sub + 1}"

    @property
    def client_if(self) -> str:
        return f"l{self.suffix}c"

    def run_in(self, ns: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run("ip", "netns", "exec", ns, *argv, check=check)

    def start_network(self) -> None:
        s = self.suffix
        up_host, up_gw, lan_gw = f"u{s}h", f"u{s}g", f"l{s}g"
        for ns in (self.gw, self.client):
            _run("ip", "netns", "add", ns)
        _run("ip", "link", "add", up_host, "type", "veth", "peer", "name", up_gw)
        _run("ip", "link", "set", up_gw, "netns", self.gw)
        _run("ip", "link", "add", lan_gw, "type", "veth", "peer", "name", self.client_if)
        _run("ip", "link", "set", lan_gw, "netns", self.gw)
        _run("ip", "link", "set", self.client_if, "netns", self.client)
        _run("ip", "addr", "add", f"{self.host_ip}/30", "dev", up_host)
        _run("ip", "link", "set", up_host, "up")
        _run("ip", "-n", self.gw, "addr", "add", f"{self.gw_uplink_ip}/30", "dev", up_gw)
        _run("ip", "-n", self.gw, "addr", "add", f"{self.lan}.1/24", "dev", lan_gw)
        for ns, dev in ((self.gw, "lo"), (self.gw, up_gw), (self.gw, lan_gw), (self.client, "lo"),
                        (self.client, self.client_if)):
            _run("ip", "-n", ns, "link", "set", dev, "up")
        _run("ip", "route", "add", f"{self.lan}.0/24", "via", self.gw_uplink_ip)
        self.run_in(self.gw, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        link = _run("ip", "-n", self.client, "-o", "link", "show", self.client_if).stdout
        self.client_mac = link.split("link/ether ")[1].split()[0].lower()
        self.host_if = up_host
        self.lan_if = lan_gw

    def start_dnsmasq(self, options: list[str]) -> None:
        """dnsmasq as a hotspot gateway runs it (DHCP only), with ``options`` as config-file lines: the
        ``dhcp-option=114,…`` that netmgr's gateway template renders, parsed by dnsmasq itself."""
        conf = self.workdir / "dnsmasq.conf"
        conf.write_text("\n".join([
            "port=0", f"interface={self.lan_if}", "bind-interfaces", "log-dhcp",
            f"dhcp-range={self.lan}.50,{self.lan}.99,255.255.255.0,1h", f"dhcp-option=option:router,{self.lan}.1",
            f"dhcp-leasefile={self.workdir / 'dnsmasq.leases'}", f"pid-file={self.workdir / 'dnsmasq.pid'}",
            *options]) + "\n")
        log = self.workdir / "dnsmasq.log"
        self.dnsmasq = Daemon(["ip", "netns", "exec", self.gw, "/usr/sbin/dnsmasq", "--keep-in-foreground",
                               f"--conf-file={conf}", "--log-facility=-"], log=log)
        wait_until(lambda: "DHCP, IP range" in log.read_text(errors="replace"), timeout=10, what="dnsmasq",
                   proc=self.dnsmasq.proc, log=log)

    def client_dhcp(self) -> dict[str, str]:
        """Run the DHCP client in the client namespace and configure the lease it got."""
        out = self.run_in(self.client, sys.executable, str(DHCP_CLIENT), self.client_if, self.client_mac).stdout
        got: dict[str, str] = {k: str(v) for k, v in json.loads(out).items()}
        _run("ip", "-n", self.client, "addr", "add", f"{got['address']}/{got['prefixlen']}", "dev", self.client_if)
        _run("ip", "-n", self.client, "route", "add", "default", "via", got["router"])
        return got

    def client_curl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run_in(self.client, "curl", "-sS", "--max-time", "10", *args, check=False)

    def stop(self) -> None:
        if self.dnsmasq is not None:
            self.dnsmasq.stop(timeout=5)
        _run("ip", "route", "del", f"{self.lan}.0/24", check=False)
        for ns in (self.gw, self.client):
            _run("ip", "netns", "del", ns, check=False)
        _run("ip", "link", "del", f"u{self.suffix}h", check=False)
