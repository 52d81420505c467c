"""net-snmp agents (sysObjectID .8072): Linux servers and gateways, e.g. OpenWrt running openNDS."""

from __future__ import annotations

from collectors.profiles.base import Identity, Probes, SystemInfo
from collectors.profiles.health import HOST_RESOURCES, UCD_SNMP
from netmgr.models.enums import Platform


class NetSnmpProfile:
    slug = "net-snmp"
    priority = 50
    probe_gets: tuple[str, ...] = ()
    probe_walks: tuple[str, ...] = ()
    health = (HOST_RESOURCES, UCD_SNMP)

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.8072")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        words = system.sys_descr.split()
        if words[:1] == ["Linux"]:
            # "Linux HOST KERNEL #BUILD … ARCH"
            return Identity("net-snmp", Platform.LINUX, os_version=words[2] if len(words) > 2 else "")
        return Identity("net-snmp", Platform.GENERIC)
