"""pfSense firewalls (FreeBSD bsnmpd, sysObjectID .12325): sysDescr ``pfSense HOST 2.4.4-RELEASE pfSense FreeBSD …``."""

from __future__ import annotations

import re

from collectors.profiles.base import Identity, Probes, SystemInfo
from collectors.profiles.health import HOST_RESOURCES, UCD_SNMP
from netmgr.models.enums import Platform

_VERSION = re.compile(r"(\S+) pfSense FreeBSD")


class PfsenseProfile:
    slug = "pfsense"
    priority = 10
    probe_gets: tuple[str, ...] = ()
    probe_walks: tuple[str, ...] = ()
    health = (HOST_RESOURCES, UCD_SNMP)

    def claims(self, system: SystemInfo) -> bool:
        return system.sys_descr.startswith("pfSense")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        # No netmiko driver drives the pfSense shell menu: the platform stays generic.
        version = _VERSION.search(system.sys_descr)
        return Identity("pfsense", Platform.GENERIC, os_version=version.group(1) if version else "")
