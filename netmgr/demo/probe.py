"""Readiness probes for the demo's children: one SNMP GET, one HTTP GET, one TCP connect."""

from __future__ import annotations

import asyncio
import socket

import httpx


def snmp_get(host: str, port: int, community: str, oid: str, *, timeout: float = 1.0) -> str | None:
    """The value at ``oid`` as text, or None when the agent does not answer (SNMP v2c)."""
    from pysnmp.hlapi.v3arch.asyncio import (
        CommunityData,
        ContextData,
        ObjectIdentity,
        ObjectType,
        SnmpEngine,
        UdpTransportTarget,
        get_cmd,
    )

    async def _get() -> str | None:
        engine = SnmpEngine()
        try:
            target = await UdpTransportTarget.create((host, port), timeout=timeout, retries=0)
            error_indication, error_status, _index, var_binds = await get_cmd(
                engine, CommunityData(community), target, ContextData(), ObjectType(ObjectIdentity(oid)),
                lookupMib=False)
            if error_indication or error_status:
                return None
            return str(var_binds[0][1].prettyPrint())
        finally:
            engine.close_dispatcher()

    return asyncio.run(_get())


def http_ok(url: str, *, timeout: float = 1.0) -> bool:
    try:
        return httpx.get(url, timeout=timeout).status_code < 300
    except httpx.HTTPError:
        return False


def tcp_open(host: str, port: int, *, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_free(addresses: list[str], port: int, kind: socket.SocketKind) -> bool:
    """Whether ``port`` can be bound on every one of ``addresses``."""
    for address in addresses:
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((address, port))
            except OSError:
                return False
    return True


def free_port_on(addresses: list[str], kind: socket.SocketKind = socket.SOCK_STREAM, attempts: int = 50) -> int:
    """A port the OS calls free on 127.0.0.1 that is also free on each of ``addresses``."""
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, kind) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port_free(addresses, port, kind):
            return port
    raise OSError(f"no port free on all of {len(addresses)} addresses after {attempts} tries")


def udp_bound(host: str, port: int) -> bool:
    """True once some process has bound UDP ``host:port`` (a RADIUS server that is listening)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False
