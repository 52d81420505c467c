"""Cambium Networks ePMP/PMP radios (sysObjectID .17713)."""

from __future__ import annotations

from collectors.profiles.base import Identity, Probes, SystemInfo
from netmgr.models.enums import Platform

EPMP_SW_VERSION = "1.3.6.1.4.1.17713.21.1.1.17.0"
EPMP_SERIAL = "1.3.6.1.4.1.17713.21.1.1.31.0"


class CambiumProfile:
    slug = "cambium"
    priority = 10
    probe_gets = (EPMP_SW_VERSION, EPMP_SERIAL)
    probe_walks: tuple[str, ...] = ()

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.17713") or system.sys_descr.startswith("Cambium")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        return Identity("cambium", Platform.GENERIC, model=system.sys_descr.removeprefix("Cambium").strip(),
                        os_version=probes.text(EPMP_SW_VERSION), serial=probes.text(EPMP_SERIAL))
