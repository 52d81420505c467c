"""OPNsense firewalls: bsnmpd (sysDescr ``OPNsense HOST 18.1.1 OPNsense FreeBSD …``) or the net-snmp plugin.

With net-snmp the sysDescr is plain FreeBSD (sysObjectID .8072.3.2.8); the plugin's ``version`` extend says
``OPNsense 23.7.12 …``. A FreeBSD net-snmp agent without it is left to the net-snmp profile.
"""

from __future__ import annotations

import re

from collectors.profiles.base import Identity, Probes, SystemInfo
from collectors.profiles.health import HOST_RESOURCES, UCD_SNMP
from netmgr.models.enums import Platform

# NET-SNMP-EXTEND-MIB::nsExtendOutput1Line."version"
NS_EXTEND_VERSION = "1.3.6.1.4.1.8072.1.3.2.3.1.2.7.118.101.114.115.105.111.110"
NET_SNMP_FREEBSD = "1.3.6.1.4.1.8072.3.2.8"
_DESCR_VERSION = re.compile(r"(\S+) OPNsense FreeBSD")
_EXTEND_VERSION = re.compile(r"OPNsense (\S+)")


class OpnsenseProfile:
    slug = "opnsense"
    priority = 10
    probe_gets = (NS_EXTEND_VERSION,)
    probe_walks: tuple[str, ...] = ()
    health = (HOST_RESOURCES, UCD_SNMP)

    def claims(self, system: SystemInfo) -> bool:
        return system.sys_descr.startswith("OPNsense") or system.under(NET_SNMP_FREEBSD)

    def identify(self, system: SystemInfo, probes: Probes) -> Identity | None:
        descr = _DESCR_VERSION.search(system.sys_descr)
        extend = _EXTEND_VERSION.search(probes.text(NS_EXTEND_VERSION))
        if not system.sys_descr.startswith("OPNsense") and extend is None:
            return None  # plain FreeBSD
        version = descr.group(1) if descr else extend.group(1) if extend else ""
        return Identity("opnsense", Platform.GENERIC, os_version=version)
