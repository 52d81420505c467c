"""Huawei VRP (sysObjectID .2011): ``Huawei AR1220 … Version 5.120 (AR1220 V200R003C01SPC900)``."""

from __future__ import annotations

import re

from collectors.profiles.base import Identity, Probes, SystemInfo
from netmgr.models.enums import Platform

_MODEL = re.compile(r"^Huawei (\S+)")
_VERSION = re.compile(r"Version (\S+) \((\S+) (\S+)\)")


class HuaweiProfile:
    slug = "huawei"
    priority = 10
    probe_gets: tuple[str, ...] = ()
    probe_walks: tuple[str, ...] = ()

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.2011")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        descr = " ".join(system.sys_descr.split())
        version = _VERSION.search(descr)
        model = _MODEL.search(descr)
        name = version.group(2) if version else model.group(1) if model else ""
        # "5.120 (V200R003C01SPC900)": the VRP version and the release, written the way LibreNMS does.
        os_version = f"{version.group(1)} ({version.group(3)})" if version else ""
        return Identity("huawei", Platform.HUAWEI, model=name, os_version=os_version)
