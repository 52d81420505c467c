"""Cambium Networks (sysObjectID .17713): ePMP/PMP radios and cnPilot access points (.17713.22, ``cnPilot E500``)."""

from __future__ import annotations

import re

from collectors.profiles.base import Identity, Probes, SystemInfo
from netmgr.models.enums import Platform

EPMP_SW_VERSION = "1.3.6.1.4.1.17713.21.1.1.17.0"
EPMP_SERIAL = "1.3.6.1.4.1.17713.21.1.1.31.0"
CNPILOT = "1.3.6.1.4.1.17713.22"
_CNPILOT_MODEL = re.compile(r"(cnPilot \S+)")


class CambiumProfile:
    slug = "cambium"
    priority = 10
    probe_gets = (EPMP_SW_VERSION, EPMP_SERIAL)
    probe_walks: tuple[str, ...] = ()

    def claims(self, system: SystemInfo) -> bool:
        return (system.under("1.3.6.1.4.1.17713") or system.sys_descr.startswith("Cambium")
                or "cnPilot" in system.sys_descr)

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        cnpilot = _CNPILOT_MODEL.search(system.sys_descr)
        if cnpilot or system.under(CNPILOT):
            # "Cambium cnPilot E500 Access Point": the model is "cnPilot E500"; ePMP's MIB is not there.
            return Identity("cambium", Platform.GENERIC, model=cnpilot.group(1) if cnpilot else "cnPilot")
        return Identity("cambium", Platform.GENERIC, model=system.sys_descr.removeprefix("Cambium").strip(),
                        os_version=probes.text(EPMP_SW_VERSION), serial=probes.text(EPMP_SERIAL))
