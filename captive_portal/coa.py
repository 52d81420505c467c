"""RADIUS Disconnect-Request and CoA-Request (RFC 5176) to a hotspot gateway, with pyrad.

Data flows ``sessions.DisconnectOrder`` (NAS address, its CoA port, its decrypted RADIUS secret, the
session's Acct-Session-Id/User-Name/Calling-Station-Id) → ``disconnect`` → the NAS → ACK or NAK →
``DisconnectResult``. pyrad cannot parse FreeRADIUS's full dictionary, so netmgr ships the few attributes
it needs (``radius_dictionary``), vendor attributes included for tests and benchmarks.
"""

from __future__ import annotations

import io
import logging
import socket
from dataclasses import dataclass
from functools import lru_cache

from pyrad import packet
from pyrad.client import Client, Timeout
from pyrad.dictionary import Dictionary
from sqlalchemy.orm import Session, sessionmaker

from captive_portal.sessions import DisconnectOrder, record_disconnect_result
from netmgr.db import session_scope
from netmgr.settings import RadiusSettings

log = logging.getLogger(__name__)

DICTIONARY_TEXT = """\
ATTRIBUTE User-Name 1 string
ATTRIBUTE User-Password 2 string encrypt=1
ATTRIBUTE CHAP-Password 3 octets
ATTRIBUTE NAS-IP-Address 4 ipaddr
ATTRIBUTE NAS-Port 5 integer
ATTRIBUTE Service-Type 6 integer
ATTRIBUTE Framed-IP-Address 8 ipaddr
ATTRIBUTE Reply-Message 18 string
ATTRIBUTE State 24 octets
ATTRIBUTE Class 25 octets
ATTRIBUTE Session-Timeout 27 integer
ATTRIBUTE Idle-Timeout 28 integer
ATTRIBUTE Called-Station-Id 30 string
ATTRIBUTE Calling-Station-Id 31 string
ATTRIBUTE NAS-Identifier 32 string
ATTRIBUTE Acct-Status-Type 40 integer
ATTRIBUTE Acct-Delay-Time 41 integer
ATTRIBUTE Acct-Input-Octets 42 integer
ATTRIBUTE Acct-Output-Octets 43 integer
ATTRIBUTE Acct-Session-Id 44 string
ATTRIBUTE Acct-Session-Time 46 integer
ATTRIBUTE Acct-Terminate-Cause 49 integer
ATTRIBUTE Acct-Input-Gigawords 52 integer
ATTRIBUTE Acct-Output-Gigawords 53 integer
ATTRIBUTE Event-Timestamp 55 integer
ATTRIBUTE NAS-Port-Type 61 integer
ATTRIBUTE Message-Authenticator 80 octets
ATTRIBUTE Acct-Interim-Interval 85 integer
ATTRIBUTE Error-Cause 101 integer
VALUE Acct-Status-Type Start 1
VALUE Acct-Status-Type Stop 2
VALUE Acct-Status-Type Interim-Update 3
VALUE Acct-Status-Type Accounting-On 7
VALUE Acct-Status-Type Accounting-Off 8
VALUE Acct-Terminate-Cause User-Request 1
VALUE Acct-Terminate-Cause Idle-Timeout 4
VALUE Acct-Terminate-Cause Session-Timeout 5
VALUE Acct-Terminate-Cause Admin-Reset 6
VALUE Acct-Terminate-Cause NAS-Reboot 11
VENDOR Mikrotik 14988
BEGIN-VENDOR Mikrotik
ATTRIBUTE Mikrotik-Rate-Limit 8 string
ATTRIBUTE Mikrotik-Total-Limit 17 integer
ATTRIBUTE Mikrotik-Total-Limit-Gigawords 18 integer
END-VENDOR Mikrotik
VENDOR WISPr 14122
BEGIN-VENDOR WISPr
ATTRIBUTE WISPr-Bandwidth-Max-Up 7 integer
ATTRIBUTE WISPr-Bandwidth-Max-Down 8 integer
END-VENDOR WISPr
VENDOR ChilliSpot 14559
BEGIN-VENDOR ChilliSpot
ATTRIBUTE ChilliSpot-Max-Total-Octets 3 integer
ATTRIBUTE ChilliSpot-Max-Total-Gigawords 23 integer
END-VENDOR ChilliSpot
VENDOR pfSense 13644
BEGIN-VENDOR pfSense
ATTRIBUTE pfSense-Bandwidth-Max-Up 1 integer
ATTRIBUTE pfSense-Bandwidth-Max-Down 2 integer
ATTRIBUTE pfSense-Max-Total-Octets 3 integer
END-VENDOR pfSense
"""


@lru_cache(maxsize=1)
def radius_dictionary() -> Dictionary:
    """The attributes netmgr sends and reads over RADIUS (RFC 2865/2866/2869/5176 and the hotspot vendors)."""
    return Dictionary(io.StringIO(DICTIONARY_TEXT))


@dataclass(frozen=True)
class DisconnectResult:
    """What the NAS said: ``acked`` for Disconnect-ACK; otherwise the Error-Cause or why there was no answer."""

    session_id: int
    acked: bool
    error_cause: int | None = None
    detail: str = ""


def disconnect(order: DisconnectOrder, *, timeout_s: float = 2.0, retries: int = 2) -> DisconnectResult:
    """Send a Disconnect-Request for one session and wait for the NAS's answer. Never raises for the NAS.

    A NAK (e.g. Error-Cause 503 "Session Context Not Found") and a timeout come back as ``acked=False``.
    """
    client = Client(server=order.nas_address, coaport=order.coa_port, secret=order.secret.encode(),
                    dict=radius_dictionary(), retries=max(1, retries), timeout=timeout_s)
    request = client.CreateCoAPacket(code=packet.DisconnectRequest)
    request["Acct-Session-Id"] = order.acct_session_id
    if order.username:
        request["User-Name"] = order.username
    if order.mac:
        request["Calling-Station-Id"] = order.mac
    if order.ip:
        request["Framed-IP-Address"] = order.ip
    request.add_message_authenticator()
    try:
        reply = client.SendPacket(request)
    except Timeout:
        log.warning("Disconnect-Request for %s to %s:%d: no answer", order.acct_session_id, order.nas_address,
                    order.coa_port)
        return DisconnectResult(order.session_id, acked=False, detail="timeout")
    except (OSError, socket.gaierror) as exc:
        log.warning("Disconnect-Request for %s to %s failed: %s", order.acct_session_id, order.nas_address, exc)
        return DisconnectResult(order.session_id, acked=False, detail=str(exc)[:100])
    if reply.code == packet.DisconnectACK:
        log.info("session %s disconnected (%s)", order.acct_session_id, order.reason)
        return DisconnectResult(order.session_id, acked=True)
    cause = reply.get("Error-Cause")
    error_cause = int(cause[0]) if cause else None
    return DisconnectResult(order.session_id, acked=False, error_cause=error_cause,
                            detail=f"error-cause {error_cause}" if error_cause is not None else "nak")


def disconnect_and_record(order: DisconnectOrder, *, factory: sessionmaker[Session],
                          radius: RadiusSettings) -> DisconnectResult:
    """Send one Disconnect-Request and store the NAS's answer (after the order's transaction committed)."""
    result = disconnect(order, timeout_s=radius.coa_timeout_s, retries=radius.coa_retries)
    with session_scope(factory) as session:
        record_disconnect_result(session, order.session_id, acked=result.acked, detail=result.detail)
    return result


def change_rates(order: DisconnectOrder, attributes: dict[str, int | str], *, timeout_s: float = 2.0,
                 retries: int = 2) -> DisconnectResult:
    """Send a CoA-Request giving one running session new attributes (its policy's new rates). Never raises.

    ``attributes`` are FreeRADIUS dictionary names as ``captive_portal.dialects`` renders them, e.g.
    ``{"Mikrotik-Rate-Limit": "1000k/2000k"}``; ``acked`` is True for a CoA-ACK.
    """
    client = Client(server=order.nas_address, coaport=order.coa_port, secret=order.secret.encode(),
                    dict=radius_dictionary(), retries=max(1, retries), timeout=timeout_s)
    request = client.CreateCoAPacket(code=packet.CoARequest)
    request["Acct-Session-Id"] = order.acct_session_id
    if order.username:
        request["User-Name"] = order.username
    if order.mac:
        request["Calling-Station-Id"] = order.mac
    for name, value in attributes.items():
        request[name] = value
    request.add_message_authenticator()
    try:
        reply = client.SendPacket(request)
    except Timeout:
        log.warning("CoA-Request for %s to %s:%d: no answer", order.acct_session_id, order.nas_address,
                    order.coa_port)
        return DisconnectResult(order.session_id, acked=False, detail="timeout")
    except (OSError, socket.gaierror) as exc:
        log.warning("CoA-Request for %s to %s failed: %s", order.acct_session_id, order.nas_address, exc)
        return DisconnectResult(order.session_id, acked=False, detail=str(exc)[:100])
    if reply.code == packet.CoAACK:
        return DisconnectResult(order.session_id, acked=True)
    cause = reply.get("Error-Cause")
    error_cause = int(cause[0]) if cause else None
    return DisconnectResult(order.session_id, acked=False, error_cause=error_cause,
                            detail=f"error-cause {error_cause}" if error_cause is not None else "nak")
