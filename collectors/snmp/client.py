"""The client the collectors use: v2c through the fast UDP client, v3 through pysnmp, one SnmpClient seam.

Also builds an ``SnmpTarget`` from an inventory device and its decrypted credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from collectors.snmp.types import SnmpTarget, VarBind
from collectors.snmp.udp import UdpSnmpClient
from netmgr.errors import ValidationFailed
from netmgr.models import Device
from netmgr.models.enums import SnmpAuthProtocol, SnmpPrivProtocol, SnmpVersion
from netmgr.services.devices import DeviceCredentials
from netmgr.settings import SnmpSettings

if TYPE_CHECKING:
    from collectors.snmp.v3 import PysnmpV3Client


class MultiVersionClient:
    """Routes each request by ``target.version``. Use as ``async with MultiVersionClient() as snmp:``."""

    def __init__(self, *, max_in_flight: int = 500) -> None:
        self.v2c = UdpSnmpClient(max_in_flight=max_in_flight)
        self._v3: PysnmpV3Client | None = None

    @property
    def v3(self) -> PysnmpV3Client:
        if self._v3 is None:
            # pysnmp and its MIB compiler cost a process ~30 MiB: imported only once a v3 device is polled.
            from collectors.snmp.v3 import PysnmpV3Client

            self._v3 = PysnmpV3Client()
        return self._v3

    async def __aenter__(self) -> MultiVersionClient:
        await self.v2c.open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.v2c.close()
        if self._v3 is not None:
            await self._v3.close()

    async def get(self, target: SnmpTarget, oids: list[str]) -> list[VarBind]:
        if target.version == SnmpVersion.V3:
            return await self.v3.get(target, oids)
        return await self.v2c.get(target, oids)

    async def bulk_walk(self, target: SnmpTarget, root_oid: str, max_repetitions: int = 50) -> list[VarBind]:
        if target.version == SnmpVersion.V3:
            return await self.v3.bulk_walk(target, root_oid, max_repetitions)
        return await self.v2c.bulk_walk(target, root_oid, max_repetitions)

    async def bulk_walk_columns(self, target: SnmpTarget, columns: Sequence[str],
                                max_repetitions: int = 50) -> list[list[VarBind]]:
        if target.version == SnmpVersion.V3:
            return await self.v3.bulk_walk_columns(target, columns, max_repetitions)
        return await self.v2c.bulk_walk_columns(target, columns, max_repetitions)


def target_for_device(device: Device, credentials: DeviceCredentials, settings: SnmpSettings) -> SnmpTarget:
    """The SnmpTarget for an inventory device.

    Raises:
        ValidationFailed: the device has no SNMP credentials for its SNMP version.
    """
    host, port, context = device.mgmt_address, device.snmp_port, device.snmp_context or ""
    if device.snmp_version == SnmpVersion.V3:
        if not device.snmp_v3_user:
            raise ValidationFailed(f"device {device.name} uses SNMPv3 but has no v3 user", field="snmp_v3_user")
        return SnmpTarget(host=host, port=port, version=SnmpVersion.V3, v3_user=device.snmp_v3_user,
                          auth_key=credentials.snmp_v3_auth_key or "", priv_key=credentials.snmp_v3_priv_key or "",
                          auth_protocol=SnmpAuthProtocol(device.snmp_v3_auth_protocol or SnmpAuthProtocol.SHA),
                          priv_protocol=SnmpPrivProtocol(device.snmp_v3_priv_protocol or SnmpPrivProtocol.AES),
                          context=context, timeout=settings.timeout_s, retries=settings.retries)
    if not credentials.snmp_community:
        raise ValidationFailed(f"device {device.name} has no SNMP community", field="snmp_community")
    return SnmpTarget(host=host, port=port, version=SnmpVersion.V2C, community=credentials.snmp_community,
                      context=context, timeout=settings.timeout_s, retries=settings.retries)


def has_snmp(device: Device) -> bool:
    """True when the device has credentials for its SNMP version."""
    if device.snmp_version == SnmpVersion.V3:
        return bool(device.snmp_v3_user)
    return bool(device.snmp_community_encrypted)
