"""FiberHome AN5516 OLTs (sysObjectID .5875.800, sysDescr ``AN5516-01``); software version from GEPON-OLT-COMMON-MIB."""

from __future__ import annotations

import re

from collectors.profiles.base import Identity, Probes, SystemInfo
from collectors.profiles.health import STANDARD
from netmgr.models.enums import Platform

FH_SOFTWARE_VERSION = "1.3.6.1.4.1.5875.800.3.9.4.3.0"  # "RP0700"
_MODEL = re.compile(r"^AN5516-0(1|6|4B)$")


class FiberhomeProfile:
    slug = "fiberhome"
    priority = 10
    probe_gets = (FH_SOFTWARE_VERSION,)
    probe_walks: tuple[str, ...] = ()
    health = STANDARD

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.5875.800") or bool(_MODEL.match(system.sys_descr))

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        return Identity("fiberhome", Platform.GENERIC, model=system.sys_descr.strip(),
                        os_version=probes.text(FH_SOFTWARE_VERSION))
