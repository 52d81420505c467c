"""C-Data EPON/GPON OLTs: sysObjectID .17409 (NSCRTV's tree; .17409.1 is other makers'), sysDescr is the hostname."""

from __future__ import annotations

from collectors.profiles.base import CHASSIS_MODEL, CHASSIS_SERIAL, CHASSIS_SOFTWARE, Identity, Probes, SystemInfo
from collectors.profiles.health import STANDARD
from netmgr.models.enums import Platform


class CdataProfile:
    slug = "c-data"
    priority = 10
    probe_gets = (CHASSIS_MODEL, CHASSIS_SERIAL, CHASSIS_SOFTWARE)
    probe_walks: tuple[str, ...] = ()
    health = STANDARD

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.17409") and not system.under("1.3.6.1.4.1.17409.1")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        return Identity("c-data", Platform.GENERIC, model=probes.text(CHASSIS_MODEL),
                        os_version=probes.text(CHASSIS_SOFTWARE), serial=probes.text(CHASSIS_SERIAL))
