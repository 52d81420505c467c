"""Aruba/HPE switches: ArubaOS-CX (sysObjectID .47196.4.1.1.1) and ProCurve/ArubaOS-Switch (HP .11.2.3.7).

CX: ``Aruba JL635A 8325 GL.10.04.2000``. ProCurve: ``HP J9773A 2530-24G-PoEP Switch, revision YA.16.04.0008, …``.
"""

from __future__ import annotations

import re

from collectors.profiles.base import CHASSIS_MODEL, CHASSIS_SERIAL, Identity, Probes, SystemInfo
from collectors.profiles.health import STANDARD
from netmgr.models.enums import Platform

AOSCX = "1.3.6.1.4.1.47196.4.1.1.1"
HP_NETWORKING = "1.3.6.1.4.1.11.2.3.7"
# LibreNMS's procurve rules, for agents whose sysObjectID is not under HP's networking tree.
_PROCURVE_DESCR = re.compile(
    r"ProCurve|PROCURVE|HP 1820|eCos-[0-9.]+|HP.+2530.+|HP.+54[0-1][2-6]R.+|^HP J96[0-9]{2}[AB] [0-9]{4}")
_CX_DESCR = re.compile(r"^Aruba (.+?) ([A-Z]{2}\.\d+\.\d+\.\d+)$")
_PROCURVE_MODEL = re.compile(r"^(?:HP|Hewlett-Packard|Aruba)\s+(?:ProCurve\s+)?(.+?)(?: Switch)?, revision ([^,\s]+)")


class ArubaProfile:
    slug = "aruba"
    priority = 10
    probe_gets = (CHASSIS_MODEL, CHASSIS_SERIAL)
    probe_walks: tuple[str, ...] = ()
    health = STANDARD

    def claims(self, system: SystemInfo) -> bool:
        return (system.under(AOSCX) or system.under(HP_NETWORKING)
                or bool(_PROCURVE_DESCR.search(system.sys_descr)))

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        serial = probes.text(CHASSIS_SERIAL)
        if system.under(AOSCX):
            cx = _CX_DESCR.match(system.sys_descr)
            return Identity("aruba", Platform.ARUBA_AOSCX, model=cx.group(1) if cx else probes.text(CHASSIS_MODEL),
                            os_version=cx.group(2) if cx else "", serial=serial)
        match = _PROCURVE_MODEL.match(system.sys_descr)
        return Identity("aruba", Platform.HP_PROCURVE,
                        model=probes.text(CHASSIS_MODEL) or (match.group(1) if match else ""),
                        os_version=match.group(2) if match else "", serial=serial)
