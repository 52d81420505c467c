"""A minimal DHCPv4 client (RFC 2131 DISCOVER → OFFER → REQUEST → ACK) for the tests, standard library only.

Neither ``dhclient`` nor ``busybox udhcpc`` is installed on the test machines, so the RFC 8910 test runs this
script inside the client's network namespace: ``python3 dhcp_client.py IFACE MAC``. It prints the lease as
JSON (address, prefix length, router, and option 114, the Captive Portal API URI) and configures nothing.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import socket
import struct
import sys

MAGIC = b"\x63\x82\x53\x63"
DISCOVER, OFFER, REQUEST, ACK = 1, 2, 3, 5
OPT_SUBNET, OPT_ROUTER, OPT_REQUESTED_IP, OPT_MSG_TYPE, OPT_SERVER_ID, OPT_PARAMS = 1, 3, 50, 53, 54, 55
OPT_CAPTIVE = 114  # RFC 8910
WANTED = bytes([OPT_SUBNET, OPT_ROUTER, OPT_CAPTIVE])


def _packet(xid: int, mac: bytes, options: list[tuple[int, bytes]]) -> bytes:
    # op=BOOTREQUEST, htype=ethernet, hlen=6, hops=0; flags=broadcast so the reply reaches an unconfigured port
    header = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", 1, 1, 6, 0, xid, 0, 0x8000, b"\0" * 4, b"\0" * 4,
                         b"\0" * 4, b"\0" * 4, mac.ljust(16, b"\0"), b"\0" * 64, b"\0" * 128)
    body = b"".join(bytes([code, len(value)]) + value for code, value in options)
    return header + MAGIC + body + b"\xff"


def _options(data: bytes) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    i = 240
    while i < len(data):
        code = data[i]
        if code == 255:
            break
        if code == 0:
            i += 1
            continue
        length = data[i + 1]
        found[code] = data[i + 2 : i + 2 + length]
        i += 2 + length
    return found


def _receive(sock: socket.socket, xid: int, kind: int) -> tuple[bytes, dict[int, bytes]]:
    while True:
        data, _ = sock.recvfrom(4096)
        if len(data) < 240 or data[236:240] != MAGIC or struct.unpack("!I", data[4:8])[0] != xid:
            continue
        options = _options(data)
        if options.get(OPT_MSG_TYPE) == bytes([kind]):
            return data, options


def lease(interface: str, mac: str, timeout: float = 10.0) -> dict[str, object]:
    """Ask for a lease on ``interface`` and return what the server handed out."""
    hw = bytes.fromhex(mac.replace(":", ""))
    xid = secrets.randbits(32)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
        sock.bind(("0.0.0.0", 68))  # noqa: S104 - a DHCP client listens on the unconfigured port
        sock.settimeout(timeout)
        sock.sendto(_packet(xid, hw, [(OPT_MSG_TYPE, bytes([DISCOVER])), (OPT_PARAMS, WANTED)]),
                    ("255.255.255.255", 67))
        offer, offered = _receive(sock, xid, OFFER)
        yiaddr = offer[16:20]
        sock.sendto(_packet(xid, hw, [(OPT_MSG_TYPE, bytes([REQUEST])), (OPT_REQUESTED_IP, yiaddr),
                                      (OPT_SERVER_ID, offered[OPT_SERVER_ID]), (OPT_PARAMS, WANTED)]),
                    ("255.255.255.255", 67))
        ack, options = _receive(sock, xid, ACK)
    mask = options.get(OPT_SUBNET, b"\xff\xff\xff\x00")
    return {
        "address": str(ipaddress.IPv4Address(ack[16:20])),
        "prefixlen": ipaddress.IPv4Network(f"0.0.0.0/{ipaddress.IPv4Address(mask)}").prefixlen,
        "router": str(ipaddress.IPv4Address(options[OPT_ROUTER][:4])) if OPT_ROUTER in options else "",
        "captive_portal_uri": options.get(OPT_CAPTIVE, b"").decode("utf-8", "replace"),
    }


if __name__ == "__main__":
    print(json.dumps(lease(sys.argv[1], sys.argv[2])))
