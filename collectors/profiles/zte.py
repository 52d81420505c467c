"""ZTE ZXA10 OLTs (sysObjectID .3902.1082): ``C320 Version V2.1.0 Software, Copyright (c) by ZTE Corporation``."""

from __future__ import annotations

import re

from collectors.profiles.base import CHASSIS_SERIAL, Identity, Probes, SystemInfo
from collectors.profiles.health import STANDARD
from netmgr.models.enums import Platform

_DESCR = re.compile(r"^(\S+) Version (\S+)")


class ZteProfile:
    slug = "zte"
    priority = 10
    probe_gets = (CHASSIS_SERIAL,)
    probe_walks: tuple[str, ...] = ()
    health = STANDARD

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.3902.1082")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        match = _DESCR.match(system.sys_descr)
        # The ZXA10 CLI is ZXROS's, so netmiko's zte_zxros driver type names the platform.
        return Identity("zte", Platform.ZTE_ZXROS, model=f"ZXA10 {match.group(1)}" if match else "ZXA10",
                        os_version=match.group(2) if match else "", serial=probes.text(CHASSIS_SERIAL))
