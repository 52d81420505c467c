"""Far ends for the ping tests: a veth link into a network namespace, and an ICMP responder with delay and loss.

    host 10.X.Y.1 ── veth ── 10.X.Y.2 (namespace)        ``link_down()`` takes the namespace's end down
    host 10.X.Z.1 ── tun  ── 10.X.Z.2 (EchoResponder)    answers echo requests after ``delay_ms``, drops some

This kernel has no ``sch_netem`` (``tc qdisc … netem`` fails with "Specified qdisc kind is unknown"), so delay
and loss come from a user-space responder behind a TUN device instead: the kernel routes fping's requests into
the TUN, the responder writes real echo replies back. Names and subnets carry a random suffix.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import select
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.servers.process import ServerUnavailable, need_binary, wait_until

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=30)


def require_root_networking() -> None:
    """Raise ServerUnavailable unless this process may create namespaces, veth and TUN devices."""
    if os.geteuid() != 0:
        raise ServerUnavailable("the ping link tests need root (ip netns, veth, /dev/net/tun)")
    need_binary("ip", "iproute2")
    need_binary("fping", "fping")


def _subnet() -> tuple[int, int]:
    token = secrets.randbits(14)
    return 200 + token % 50, (token >> 6) % 250


@dataclass
class VethLink:
    """A namespace reachable over a veth pair; ``far`` answers ping until ``link_down``."""

    suffix: str = field(default_factory=lambda: secrets.token_hex(2))
    octets: tuple[int, int] = field(default_factory=_subnet)

    @property
    def ns(self) -> str:
        return f"png{self.suffix}"

    @property
    def near(self) -> str:
        return f"10.{self.octets[0]}.{self.octets[1]}.1"

    @property
    def far(self) -> str:
        return f"10.{self.octets[0]}.{self.octets[1]}.2"

    @property
    def silent(self) -> str:
        """An address on the link that nothing answers."""
        return f"10.{self.octets[0]}.{self.octets[1]}.3"

    def start(self) -> None:
        host, peer = f"ph{self.suffix}", f"pn{self.suffix}"
        _run("ip", "netns", "add", self.ns)
        _run("ip", "link", "add", host, "type", "veth", "peer", "name", peer)
        _run("ip", "link", "set", peer, "netns", self.ns)
        _run("ip", "addr", "add", f"{self.near}/29", "dev", host)
        _run("ip", "link", "set", host, "up")
        _run("ip", "-n", self.ns, "addr", "add", f"{self.far}/29", "dev", peer)
        _run("ip", "-n", self.ns, "link", "set", peer, "up")
        _run("ip", "-n", self.ns, "link", "set", "lo", "up")

    def link_down(self) -> None:
        _run("ip", "-n", self.ns, "link", "set", f"pn{self.suffix}", "down")

    def link_up(self) -> None:
        """Bring the link back and wait until the far end answers again (carrier and ARP take a moment)."""
        _run("ip", "-n", self.ns, "link", "set", f"pn{self.suffix}", "up")
        wait_until(lambda: _run("fping", "-q", "-r", "0", "-t", "200", self.far, check=False).returncode == 0,
                   timeout=10, what=f"{self.far} answering after the link came up")

    def stop(self) -> None:
        _run("ip", "link", "del", f"ph{self.suffix}", check=False)
        _run("ip", "netns", "del", self.ns, check=False)


@contextmanager
def veth_link() -> Iterator[VethLink]:
    require_root_networking()
    link = VethLink()
    try:
        link.start()
        yield link
    finally:
        link.stop()


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def echo_reply(packet: bytes) -> bytes | None:
    """The IPv4 echo reply to an IPv4 echo request (addresses swapped, checksums fixed); None for anything else."""
    if len(packet) < 28 or packet[0] >> 4 != 4 or packet[9] != 1:
        return None
    header_len = (packet[0] & 0x0F) * 4
    icmp = bytearray(packet[header_len:])
    if icmp[0] != 8:
        return None
    icmp[0] = 0
    icmp[2:4] = b"\0\0"
    icmp[2:4] = struct.pack("!H", _checksum(bytes(icmp)))
    ip = bytearray(packet[:header_len])
    ip[12:16], ip[16:20] = packet[16:20], packet[12:16]
    ip[8] = 64
    ip[10:12] = b"\0\0"
    ip[10:12] = struct.pack("!H", _checksum(bytes(ip)))
    return bytes(ip) + bytes(icmp)


@dataclass
class EchoResponder:
    """Answers echo requests to ``far`` through a TUN device after ``delay_ms``; drops every ``drop_every``-th."""

    delay_ms: float = 0.0
    drop_every: int = 0
    suffix: str = field(default_factory=lambda: secrets.token_hex(2))
    octets: tuple[int, int] = field(default_factory=_subnet)
    requests: int = 0
    _fd: int = -1
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"pt{self.suffix}"

    @property
    def far(self) -> str:
        return f"10.{self.octets[0]}.{self.octets[1]}.2"

    def start(self) -> None:
        self._fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(self._fd, TUNSETIFF, struct.pack("16sH", self.name.encode(), IFF_TUN | IFF_NO_PI))
        _run("ip", "addr", "add", f"10.{self.octets[0]}.{self.octets[1]}.1", "peer", f"{self.far}/32",
             "dev", self.name)
        _run("ip", "link", "set", self.name, "up")
        thread = threading.Thread(target=self._serve, name=f"echo-{self.name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def _answer(self, reply: bytes) -> None:
        time.sleep(self.delay_ms / 1000)
        if not self._stop.is_set():
            os.write(self._fd, reply)

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], 0.1)
            if not ready:
                continue
            reply = echo_reply(os.read(self._fd, 65535))
            if reply is None:
                continue
            self.requests += 1
            if self.drop_every and self.requests % self.drop_every == 0:
                continue
            threading.Thread(target=self._answer, args=(reply,), daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)
        if self._fd >= 0:
            os.close(self._fd)  # closing a non-persistent TUN removes the device


@contextmanager
def echo_responder(*, delay_ms: float = 0.0, drop_every: int = 0) -> Iterator[EchoResponder]:
    require_root_networking()
    responder = EchoResponder(delay_ms=delay_ms, drop_every=drop_every)
    try:
        responder.start()
        yield responder
    finally:
        responder.stop()
