"""A demo hotspot gateway: citizens log in with vouchers over RADIUS and their sessions report usage.

Run as a process by ``netmgr demo`` (``python -m netmgr.demo.simulators.radiusgw``). It speaks RADIUS from the
gateway's own address (a MikroTik on 127.0.30.1 in the demo), because FreeRADIUS matches its clients by source
address and netmgr identifies the gateway by the client FreeRADIUS matched; radclient cannot choose its source
address, pyrad can. Flow: Access-Request per voucher → Accounting Start → an Interim-Update every ``--interval``
seconds with growing counters → Stop when the gateway is told to disconnect (a Disconnect-Request on its CoA
port, from a quota running out or an admin's button) or when the session timeout netmgr gave runs out; the
citizen comes back a little later.
"""

from __future__ import annotations

import argparse
import logging
import random
import select
import socket
import time
from dataclasses import dataclass, field

from pyrad import packet
from pyrad.client import Client, Timeout
from pyrad.dictionary import Dictionary

log = logging.getLogger("netmgr.demo.radiusgw")

RETRY_AFTER_S = 60.0


@dataclass
class Citizen:
    """One phone on the hotspot, logging in with one voucher."""

    code: str
    mac: str
    ip: str
    session_id: str = ""
    started: float = 0.0
    input_octets: int = 0
    output_octets: int = 0
    timeout_s: int = 0
    next_try: float = 0.0
    rate: int = field(default_factory=lambda: random.randint(20_000, 400_000))  # noqa: S311 - demo traffic

    @property
    def online(self) -> bool:
        return bool(self.session_id)


class Gateway:
    def __init__(self, args: argparse.Namespace, dictionary: Dictionary) -> None:
        self.args = args
        self.client = Client(server=args.server, authport=args.auth_port, acctport=args.acct_port,
                             secret=args.secret.encode(), dict=dictionary, retries=2, timeout=5)
        self.client.bind((args.nas_address, 0))
        self.coa = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.coa.bind((args.nas_address, args.coa_port))
        self.dictionary = dictionary
        self.citizens = [Citizen(code, f"02:00:5E:30:00:{n:02X}", f"10.5.50.{100 + n}")
                         for n, code in enumerate(args.vouchers.split(","), start=1) if code]
        self.sequence = 0

    def _request(self, pkt: packet.Packet, c: Citizen) -> None:
        pkt["NAS-IP-Address"] = self.args.nas_address
        pkt["NAS-Identifier"] = self.args.nas_name
        pkt["Calling-Station-Id"] = c.mac.replace(":", "-")
        pkt["Framed-IP-Address"] = c.ip
        pkt["Called-Station-Id"] = "hotspot-taman"

    def login(self, c: Citizen, now: float) -> None:
        req = self.client.CreateAuthPacket(code=packet.AccessRequest, User_Name=c.code)
        req["User-Password"] = req.PwCrypt(c.code)
        self._request(req, c)
        req.add_message_authenticator()
        reply = self.client.SendPacket(req)
        if reply.code != packet.AccessAccept:
            message = reply.get("Reply-Message", [""])[0] if "Reply-Message" in reply else ""
            log.info("%s refused: %s", c.code, message)
            c.next_try = now + RETRY_AFTER_S * 5
            return
        self.sequence += 1
        c.session_id = f"demo-{int(now)}-{self.sequence}"
        c.started, c.input_octets, c.output_octets = now, 0, 0
        c.timeout_s = int(reply["Session-Timeout"][0]) if "Session-Timeout" in reply else 0
        self.account(c, "Start", now)
        log.info("%s logged in (session %s, timeout %s s)", c.code, c.session_id, c.timeout_s or "none")

    def account(self, c: Citizen, status: str, now: float, cause: str | None = None) -> None:
        req = self.client.CreateAcctPacket(User_Name=c.code)
        self._request(req, c)
        req["Acct-Status-Type"] = status
        req["Acct-Session-Id"] = c.session_id
        req["Acct-Session-Time"] = int(now - c.started)
        req["Acct-Input-Octets"] = c.input_octets % 2**32
        req["Acct-Input-Gigawords"] = c.input_octets // 2**32
        req["Acct-Output-Octets"] = c.output_octets % 2**32
        req["Acct-Output-Gigawords"] = c.output_octets // 2**32
        if cause:
            req["Acct-Terminate-Cause"] = cause
        self.client.SendPacket(req)

    def logout(self, c: Citizen, now: float, cause: str) -> None:
        self.account(c, "Stop", now, cause)
        log.info("%s logged out (%s)", c.code, cause)
        c.session_id = ""
        c.next_try = now + RETRY_AFTER_S

    def tick(self, now: float) -> None:
        for c in self.citizens:
            if not c.online:
                if now >= c.next_try:
                    self.login(c, now)
                continue
            elapsed = now - c.started
            c.output_octets += int(c.rate * self.args.interval)
            c.input_octets += int(c.rate * self.args.interval / 8)
            if c.timeout_s and elapsed >= c.timeout_s:
                self.logout(c, now, "Session-Timeout")
            else:
                self.account(c, "Interim-Update", now)

    def answer_coa(self, now: float) -> None:
        """Answer a Disconnect-Request as a MikroTik does: ACK, end the session, send its Stop."""
        data, source = self.coa.recvfrom(4096)
        try:
            req = packet.Packet(secret=self.args.secret.encode(), dict=self.dictionary, packet=data)
        except packet.PacketError:
            return
        name = req["User-Name"][0] if "User-Name" in req else ""
        session_id = req["Acct-Session-Id"][0] if "Acct-Session-Id" in req else ""
        reply = req.CreateReply()
        reply.code = packet.DisconnectACK if req.code == packet.DisconnectRequest else packet.CoAACK
        self.coa.sendto(reply.ReplyPacket(), source)
        for c in self.citizens:
            if c.online and (c.session_id == session_id or c.code == name):
                self.logout(c, now, "Admin-Reset")

    def run(self) -> None:
        next_tick = time.monotonic()
        while True:
            wait = max(0.0, next_tick - time.monotonic())
            ready, _, _ = select.select([self.coa], [], [], wait)
            try:
                if ready:
                    self.answer_coa(time.time())
                if time.monotonic() >= next_tick:
                    self.tick(time.time())
                    next_tick = time.monotonic() + self.args.interval
            except (Timeout, OSError) as exc:
                log.warning("FreeRADIUS did not answer (%s); trying again", exc)
                next_tick = time.monotonic() + self.args.interval


def main(argv: list[str] | None = None) -> None:
    from captive_portal.coa import radius_dictionary  # the attributes netmgr itself speaks

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--nas-address", required=True, help="the gateway's address (RADIUS source, CoA listener)")
    parser.add_argument("--nas-name", default="gw-taman-kota")
    parser.add_argument("--server", default="127.0.0.1")
    parser.add_argument("--auth-port", type=int, required=True)
    parser.add_argument("--acct-port", type=int, required=True)
    parser.add_argument("--coa-port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--vouchers", required=True, help="comma-separated voucher codes, one citizen each")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between Interim-Updates")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    Gateway(args, radius_dictionary()).run()


if __name__ == "__main__":
    main()
