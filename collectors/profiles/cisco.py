"""Cisco IOS / IOS XE (sysObjectID .9): model and version from the multi-line sysDescr."""

from __future__ import annotations

import re

from collectors.profiles.base import Identity, Probes, SystemInfo
from netmgr.models.enums import Platform

_MODEL = re.compile(r"IOS(?: \(tm\))? (\S+) Software|Cisco IOS Software(?: \[\w+\])?, (\S+) Software")
_VERSION = re.compile(r"Version ([^,\s]+)")


class CiscoProfile:
    slug = "cisco"
    priority = 10
    probe_gets: tuple[str, ...] = ()
    probe_walks: tuple[str, ...] = ()

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.9")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        model_match = _MODEL.search(system.sys_descr)
        version_match = _VERSION.search(system.sys_descr)
        model = next((g for g in model_match.groups() if g), "") if model_match else ""
        return Identity("cisco", Platform.CISCO_IOS, model=model,
                        os_version=version_match.group(1) if version_match else "")
