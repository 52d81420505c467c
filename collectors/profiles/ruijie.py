"""Ruijie (RGOS, sysObjectID .4881): model in parentheses in sysDescr, e.g. ``…Switch(S6220-48XS4QXS) By Ruijie…``."""

from __future__ import annotations

import re

from collectors.profiles.base import Identity, Probes, SystemInfo
from collectors.profiles.health import STANDARD
from netmgr.models.enums import Platform

_MODEL = re.compile(r"\(([^)]+)\)")


class RuijieProfile:
    slug = "ruijie"
    priority = 10
    probe_gets: tuple[str, ...] = ()
    probe_walks: tuple[str, ...] = ()
    health = STANDARD

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.4881") or system.sys_descr.startswith("Ruijie")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        match = _MODEL.search(system.sys_descr)
        return Identity("ruijie", Platform.RUIJIE_OS, model=match.group(1).strip() if match else "")
