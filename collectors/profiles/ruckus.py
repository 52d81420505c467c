"""Ruckus Wireless ZoneDirector controllers and APs (sysObjectID .25053)."""

from __future__ import annotations

from collectors.profiles.base import Identity, Probes, SystemInfo
from netmgr.models.enums import Platform

ZD_MODEL = "1.3.6.1.4.1.25053.1.2.1.1.1.1.9.0"
ZD_SERIAL = "1.3.6.1.4.1.25053.1.2.1.1.1.1.15.0"
ZD_VERSION = "1.3.6.1.4.1.25053.1.2.1.1.1.1.18.0"


class RuckusProfile:
    slug = "ruckus"
    priority = 10
    probe_gets = (ZD_MODEL, ZD_SERIAL, ZD_VERSION)
    probe_walks: tuple[str, ...] = ()

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.25053") or system.sys_descr.startswith("Ruckus")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        model = probes.text(ZD_MODEL) or system.sys_descr.removeprefix("Ruckus Wireless").strip()
        return Identity("ruckus", Platform.GENERIC, model=model, os_version=probes.text(ZD_VERSION),
                        serial=probes.text(ZD_SERIAL))
