"""SNMP for the collectors: the ``SnmpClient`` seam, a fast v2c client, a pysnmp v3 client, and value codecs."""

from collectors.snmp.client import MultiVersionClient, has_snmp, target_for_device
from collectors.snmp.types import SnmpClient, SnmpTarget, SnmpType, Value, VarBind
from collectors.snmp.udp import UdpSnmpClient
from collectors.snmp.v3 import PysnmpV3Client

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
