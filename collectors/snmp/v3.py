"""SNMPv3 (USM authNoPriv/authPriv) through pysnmp's asyncio high-level API, behind the same SnmpClient seam.

Slower than the v2c client (~4-6 ms CPU per PDU) but v3 devices are few; failures become ``netmgr.errors``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pysnmp.smi.mibs as pysnmp_mibs
from pysnmp.hlapi.v3arch.asyncio import (
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    usmAesCfb128Protocol,
    usmAesCfb256Protocol,
    usmDESPrivProtocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMACMD5AuthProtocol,
    usmHMACSHAAuthProtocol,
)
from pysnmp.smi import builder, view

from collectors.snmp.types import SnmpTarget, SnmpType, Value, VarBind
from netmgr.errors import DeviceAuthFailed, DeviceRejected, DeviceUnreachable
from netmgr.models.enums import SnmpAuthProtocol, SnmpPrivProtocol, SnmpVersion

log = logging.getLogger(__name__)

AUTH_PROTOCOLS = {
    SnmpAuthProtocol.SHA: usmHMACSHAAuthProtocol,
    SnmpAuthProtocol.SHA256: usmHMAC192SHA256AuthProtocol,
    SnmpAuthProtocol.MD5: usmHMACMD5AuthProtocol,
}
PRIV_PROTOCOLS = {
    SnmpPrivProtocol.AES: usmAesCfb128Protocol,
    SnmpPrivProtocol.AES256: usmAesCfb256Protocol,
    SnmpPrivProtocol.DES: usmDESPrivProtocol,
}
# pysnmp errorIndication class names that mean "your v3 credentials are wrong".
AUTH_INDICATIONS = frozenset({"WrongDigest", "UnknownUserName", "UnknownSecurityName", "DecryptionError",
                              "AuthenticationFailure", "UnsupportedSecLevel", "NotInTimeWindow"})
MAX_WALK_PAGES = 100_000


def _value(value: Any) -> tuple[int, Value]:
    tag = value.tagSet[0]
    ber_tag = int(tag.tagClass) | int(tag.tagId)
    if ber_tag in (SnmpType.OCTET_STRING, SnmpType.OPAQUE):
        return ber_tag, bytes(value)
    if ber_tag == SnmpType.OBJECT_IDENTIFIER:
        return ber_tag, str(value)
    if ber_tag == SnmpType.IP_ADDRESS:
        return ber_tag, socket.inet_ntoa(bytes(value.asOctets()))
    if ber_tag == SnmpType.NULL or ber_tag >= SnmpType.NO_SUCH_OBJECT:
        return ber_tag, None
    return ber_tag, int(value)


def _varbind(oid: Any, value: Any) -> VarBind:
    tag, plain = _value(value)
    return VarBind(str(oid), tag, plain)


class PysnmpV3Client:
    """SNMPv3 reads with pysnmp. One SnmpEngine per client; ``close()`` releases its socket."""

    def __init__(self) -> None:
        self._engine = SnmpEngine()
        # We pass numeric OIDs only. Without a compiler already set, pysnmp builds its MIB compiler (pysmi +
        # lark, ~6 s CPU) on the first request just to find no MIB is needed; a never-called one avoids that.
        mib_view = view.MibViewController(builder.MibBuilder())
        mib_view.mibBuilder.set_mib_compiler(_NoMibCompiler(), str(Path(pysnmp_mibs.__file__).parent))
        self._engine.cache["mibViewController"] = mib_view

    async def close(self) -> None:
        self._engine.close_dispatcher()

    def _auth(self, target: SnmpTarget) -> UsmUserData:
        if not target.v3_user:
            raise ValueError("an SNMPv3 target needs a user name")
        return UsmUserData(
            target.v3_user,
            authKey=target.auth_key or None,
            privKey=target.priv_key or None,
            authProtocol=AUTH_PROTOCOLS[target.auth_protocol] if target.auth_key else None,
            privProtocol=PRIV_PROTOCOLS[target.priv_protocol] if target.priv_key else None,
        )

    async def _transport(self, target: SnmpTarget) -> UdpTransportTarget:
        try:
            return await UdpTransportTarget.create((target.host, target.port), timeout=target.timeout,
                                                   retries=target.retries)
        except Exception as exc:  # pysnmp raises PySnmpError for unresolvable names
            raise DeviceUnreachable(f"cannot resolve {target.host}: {exc}") from exc

    def _check(self, target: SnmpTarget, indication: Any, status: Any, index: Any, varbinds: Any) -> None:
        if indication:
            name = type(indication).__name__
            if name in AUTH_INDICATIONS:
                log.warning("SNMPv3 %s refused user %s: %s", target.address, target.v3_user, indication)
                raise DeviceAuthFailed(f"{target.address} refused SNMPv3 user {target.v3_user!r}: {indication} "
                                       "(check the user, auth key and priv key)")
            if name == "RequestTimedOut":
                log.info("SNMPv3 %s: no answer", target.address)
                raise DeviceUnreachable(f"no answer from {target.address} after {target.retries + 1} tries "
                                        "(wrong priv key, wrong user or agent down?)")
            raise DeviceRejected(f"{target.address}: {indication}")
        if status and int(status):
            where = ""
            if index and 0 < int(index) <= len(varbinds):
                where = f" at {varbinds[int(index) - 1][0]}"
            raise DeviceRejected(f"{target.address} answered {status.prettyPrint()}{where}")

    async def get(self, target: SnmpTarget, oids: list[str]) -> list[VarBind]:
        _check_v3(target)
        transport = await self._transport(target)
        indication, status, index, varbinds = await get_cmd(
            self._engine, self._auth(target), transport, ContextData(contextName=target.context),
            *(ObjectType(ObjectIdentity(oid)) for oid in oids), lookupMib=False)
        self._check(target, indication, status, index, varbinds)
        return [_varbind(oid, value) for oid, value in varbinds]

    async def bulk_walk(self, target: SnmpTarget, root_oid: str, max_repetitions: int = 50) -> list[VarBind]:
        _check_v3(target)
        transport = await self._transport(target)
        auth = self._auth(target)
        root = root_oid.strip(".")
        prefix = root + "."
        out: list[VarBind] = []
        cursor = root
        for _ in range(MAX_WALK_PAGES):
            # Our own loop instead of bulk_walk_cmd, which yields timeouts forever (TESTBED.md §4).
            indication, status, index, varbinds = await bulk_cmd(
                self._engine, auth, transport, ContextData(contextName=target.context), 0, max_repetitions,
                ObjectType(ObjectIdentity(cursor)), lookupMib=False)
            self._check(target, indication, status, index, varbinds)
            if not varbinds:
                return out
            for oid, value in varbinds:
                vb = _varbind(oid, value)
                if vb.type == SnmpType.END_OF_MIB_VIEW or not vb.oid.startswith(prefix):
                    return out
                out.append(vb)
            if tuple(map(int, out[-1].oid.split("."))) <= tuple(map(int, cursor.split("."))):
                raise DeviceRejected(f"{target.address} returned OIDs out of order while walking {root}")
            cursor = out[-1].oid
            await asyncio.sleep(0)
        raise DeviceRejected(f"{target.address}: walk of {root} did not end after {MAX_WALK_PAGES} requests")


    async def bulk_walk_columns(self, target: SnmpTarget, columns: Sequence[str],
                                max_repetitions: int = 50) -> list[list[VarBind]]:
        """One ``bulk_walk`` per column, all in flight together (v3 devices are few; the simple way suffices)."""
        return list(await asyncio.gather(*(self.bulk_walk(target, column, max_repetitions) for column in columns)))


class _NoMibCompiler:
    """Stands in for pysmi's compiler: netmgr never asks pysnmp to compile a MIB."""

    def compile(self, *names: str, **options: Any) -> dict[str, str]:
        return {}


def _check_v3(target: SnmpTarget) -> None:
    if target.version != SnmpVersion.V3:
        raise ValueError(f"PysnmpV3Client speaks SNMPv3 only, not {target.version.value}")
