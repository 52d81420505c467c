"""Reachability: one device status from its SNMP answer (collectors.availability) and its ping (collectors.ping).

The one place that decides whether a device is up, unreachable, or answering ping while SNMP stays silent;
the UI, the API and the alert rules all ask ``device_reachability``.
"""

from __future__ import annotations

from enum import StrEnum

from netmgr.models import Device
from netmgr.models.enums import DeviceStatus


class Reachability(StrEnum):
    """What a person needs to know about a device: up, unreachable, or alive with SNMP not answering."""

    UP = "up"
    SNMP_SILENT = "snmp_silent"
    """Answers ping, not SNMP: check the community, the v3 credentials or the agent's ACL."""
    UNREACHABLE = "unreachable"
    """Answers neither (or SNMP is down and the device has not been pinged yet)."""
    UNKNOWN = "unknown"


def combine(snmp: DeviceStatus | str, ping: DeviceStatus | str) -> Reachability:
    """The reachability of a device whose SNMP status is ``snmp`` and ping status is ``ping``.

    A device without SNMP credentials keeps the SNMP status ``unknown``, so its ping alone decides.
    """
    if snmp == DeviceStatus.UP:
        return Reachability.UP
    if ping == DeviceStatus.UP:
        return Reachability.SNMP_SILENT if snmp == DeviceStatus.DOWN else Reachability.UP
    if DeviceStatus.DOWN in (snmp, ping):
        return Reachability.UNREACHABLE
    return Reachability.UNKNOWN


def device_reachability(device: Device) -> Reachability:
    return combine(device.status, device.ping_status)
