"""The fallback: any agent. Vendor ``unknown``; ``linux`` platform when sysDescr says Linux."""

from __future__ import annotations

from collectors.profiles.base import ENT_PHYSICAL_MODEL, Identity, Probes, SystemInfo
from collectors.profiles.health import STANDARD
from netmgr.models.enums import Platform


class GenericProfile:
    slug = "generic"
    priority = 1000
    probe_gets = (f"{ENT_PHYSICAL_MODEL}.1",)
    probe_walks: tuple[str, ...] = ()
    health = STANDARD

    def claims(self, system: SystemInfo) -> bool:
        return True

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        platform = Platform.LINUX if system.sys_descr.startswith("Linux") else Platform.GENERIC
        return Identity("unknown", platform, model=probes.text(f"{ENT_PHYSICAL_MODEL}.1"))
