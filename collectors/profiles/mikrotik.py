"""MikroTik: RouterOS (sysObjectID .14988.1) and SwOS switches (.14988.2)."""

from __future__ import annotations

import re

from collectors.profiles.base import ENT_PHYSICAL_DESCR, Identity, Probes, SystemInfo
from netmgr.models.enums import Platform

MTXR_LIC_VERSION = "1.3.6.1.4.1.14988.1.1.4.4.0"
MTXR_SERIAL = "1.3.6.1.4.1.14988.1.1.7.3.0"
MTXR_BOARD_NAME = "1.3.6.1.4.1.14988.1.1.7.8.0"
ENT_SYSTEM_DESCR = f"{ENT_PHYSICAL_DESCR}.65536"  # RouterOS: "RouterOS 6.40.5 (stable) on RB952Ui-5ac2nD"


class MikrotikProfile:
    slug = "mikrotik"
    priority = 10
    probe_gets = (MTXR_LIC_VERSION, MTXR_SERIAL, MTXR_BOARD_NAME, ENT_SYSTEM_DESCR)
    probe_walks: tuple[str, ...] = ()

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.14988") or system.sys_descr.startswith("RouterOS")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        if system.under("1.3.6.1.4.1.14988.2"):
            # SwOS (CSS/RB260 switches) has no CLI netmiko can drive.
            return Identity("mikrotik", Platform.GENERIC, model=system.sys_descr.strip(),
                            serial=probes.text(MTXR_SERIAL))
        ent = probes.text(ENT_SYSTEM_DESCR)
        model = probes.text(MTXR_BOARD_NAME)
        if not model and system.sys_descr.startswith("RouterOS "):
            model = system.sys_descr.removeprefix("RouterOS ").strip()
        if not model and " on " in ent:
            model = ent.rsplit(" on ", 1)[1].strip()
        version = probes.text(MTXR_LIC_VERSION)
        if not version:
            match = re.match(r"RouterOS (\S+)", ent)
            version = match.group(1) if match else ""
        return Identity("mikrotik", Platform.MIKROTIK_ROUTEROS, model=model, os_version=version,
                        serial=probes.text(MTXR_SERIAL))
