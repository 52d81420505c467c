"""Huawei SmartAX OLTs (MA5600T/MA5800): ``Huawei Integrated Access Software`` or their sysObjectIDs under .2011.2.

They share Huawei's enterprise number with the VRP routers, so this profile runs before the VRP one.
"""

from __future__ import annotations

from collectors.profiles.base import (
    CHASSIS_MODEL,
    CHASSIS_NAME,
    CHASSIS_SERIAL,
    CHASSIS_SOFTWARE,
    Identity,
    Probes,
    SystemInfo,
)
from collectors.profiles.health import STANDARD
from netmgr.models.enums import Platform

SMARTAX_OBJECT_IDS = tuple(f"1.3.6.1.4.1.2011.2.{n}" for n in ("80.8", "115", "123", "133", "248"))


class HuaweiSmartaxProfile:
    slug = "huawei-smartax"
    priority = 5
    probe_gets = (CHASSIS_MODEL, CHASSIS_NAME, CHASSIS_SERIAL, CHASSIS_SOFTWARE)
    probe_walks: tuple[str, ...] = ()
    health = STANDARD

    def claims(self, system: SystemInfo) -> bool:
        return (system.sys_descr.startswith("Huawei Integrated Access Software")
                or any(system.under(oid) for oid in SMARTAX_OBJECT_IDS))

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        return Identity("huawei", Platform.HUAWEI_OLT, model=probes.text(CHASSIS_MODEL) or probes.text(CHASSIS_NAME),
                        os_version=probes.text(CHASSIS_SOFTWARE), serial=probes.text(CHASSIS_SERIAL))
