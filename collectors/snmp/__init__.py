"""SNMP for the collectors: the ``SnmpClient`` seam, a fast v2c client, a pysnmp v3 client, and value codecs."""

from typing import TYPE_CHECKING, Any

from collectors.snmp.client import MultiVersionClient, has_snmp, target_for_device
from collectors.snmp.types import SnmpClient, SnmpTarget, SnmpType, Value, VarBind
from collectors.snmp.udp import UdpSnmpClient

if TYPE_CHECKING:
    from collectors.snmp.v3 import PysnmpV3Client


def __getattr__(name: str) -> Any:
    """``PysnmpV3Client`` on first use: pysnmp is only loaded where SNMPv3 is polled (issue 15: poller memory)."""
    if name == "PysnmpV3Client":
        from collectors.snmp.v3 import PysnmpV3Client

        return PysnmpV3Client
    raise AttributeError(name)

__all__ = [
    "MultiVersionClient",
    "PysnmpV3Client",
    "SnmpClient",
    "SnmpTarget",
    "SnmpType",
    "UdpSnmpClient",
    "Value",
    "VarBind",
    "has_snmp",
    "target_for_device",
]
