"""The SNMP seam: targets, decoded variable bindings, and the ``SnmpClient`` protocol every client implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple, Protocol

from netmgr.models.enums import SnmpAuthProtocol, SnmpPrivProtocol, SnmpVersion


class SnmpType(IntEnum):
    """BER tags of the values an agent can return (SNMPv2-SMI and the RFC 3416 exceptions)."""

    INTEGER = 0x02
    OCTET_STRING = 0x04
    NULL = 0x05
    OBJECT_IDENTIFIER = 0x06
    IP_ADDRESS = 0x40
    COUNTER32 = 0x41
    GAUGE32 = 0x42
    TIMETICKS = 0x43
    OPAQUE = 0x44
    COUNTER64 = 0x46
    NO_SUCH_OBJECT = 0x80
    NO_SUCH_INSTANCE = 0x81
    END_OF_MIB_VIEW = 0x82


EXCEPTION_TYPES = frozenset({SnmpType.NO_SUCH_OBJECT, SnmpType.NO_SUCH_INSTANCE, SnmpType.END_OF_MIB_VIEW})

Value = int | bytes | str | None
"""int for INTEGER/Counter32/Gauge32/TimeTicks/Counter64, bytes for OCTET STRING/Opaque,
dotted str for OBJECT IDENTIFIER and IpAddress, None for NULL and the exceptions."""


class VarBind(NamedTuple):
    """One decoded variable binding: ``VarBind("1.3.6.1.2.1.1.3.0", SnmpType.TIMETICKS, 12345)``."""

    oid: str
    type: int
    value: Value

    @property
    def missing(self) -> bool:
        """True when the agent answered noSuchObject, noSuchInstance or endOfMibView."""
        return self.type >= SnmpType.NO_SUCH_OBJECT


@dataclass(frozen=True)
class SnmpTarget:
    """Where and how to reach one agent. Secrets are plaintext here: never log a target."""

    host: str
    port: int = 161
    version: SnmpVersion = SnmpVersion.V2C
    community: str = "public"
    v3_user: str = ""
    auth_key: str = ""
    priv_key: str = ""
    auth_protocol: SnmpAuthProtocol = SnmpAuthProtocol.SHA
    priv_protocol: SnmpPrivProtocol = SnmpPrivProtocol.AES
    context: str = ""
    timeout: float = 2.0
    retries: int = 1

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"SnmpTarget({self.address}, {self.version.value})"


class SnmpClient(Protocol):
    """Reads values from SNMP agents. Implementations translate every failure into ``netmgr.errors``:

    DeviceUnreachable (no answer), DeviceAuthFailed (v3 credentials refused), DeviceRejected (bad reply).
    """

    async def get(self, target: SnmpTarget, oids: list[str]) -> list[VarBind]:
        """GET ``oids``; the result has one VarBind per OID, in order (``missing`` for absent ones)."""
        ...

    async def bulk_walk(self, target: SnmpTarget, root_oid: str, max_repetitions: int = 50) -> list[VarBind]:
        """Every VarBind under ``root_oid`` in OID order (empty when the subtree does not exist)."""
        ...

    async def bulk_walk_columns(self, target: SnmpTarget, columns: Sequence[str],
                                max_repetitions: int = 50) -> list[list[VarBind]]:
        """``bulk_walk`` of each of ``columns`` (e.g. a table's columns), fetched together where the client can.

        The result has one list per column, in the order given, each exactly what ``bulk_walk`` of that
        column returns; columns may have different lengths. ``max_repetitions`` is best set to one more
        than the expected row count, so one request sees every column to its end.
        """
        ...
