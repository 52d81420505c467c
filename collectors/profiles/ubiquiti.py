"""Ubiquiti: airOS (UBNT-AirMAX-MIB present), UniFi APs (802.11 product name ``U…``) and EdgeOS.

airOS and UniFi share sysObjectID .10002.1 (Frogfoot) and a plain Linux sysDescr, so the MIBs decide.
"""

from __future__ import annotations

from collectors.profiles.base import DOT11_PRODUCT_NAME, DOT11_PRODUCT_VERSION, Identity, Probes, SystemInfo
from netmgr.models.enums import Platform

AIRMAX_RADIO = "1.3.6.1.4.1.41112.1.4.1"


class UbiquitiProfile:
    slug = "ubiquiti"
    priority = 10
    probe_gets: tuple[str, ...] = ()
    probe_walks = (DOT11_PRODUCT_NAME, DOT11_PRODUCT_VERSION, AIRMAX_RADIO)

    def claims(self, system: SystemInfo) -> bool:
        return (system.under("1.3.6.1.4.1.10002.1") or system.under("1.3.6.1.4.1.41112")
                or system.sys_descr.startswith(("EdgeOS", "EdgeRouter", "UniFi")))

    def identify(self, system: SystemInfo, probes: Probes) -> Identity | None:
        names = [v for v in (probes.text(oid) for oid in probes.under(DOT11_PRODUCT_NAME)) if v]
        versions = [v for v in (probes.text(oid) for oid in probes.under(DOT11_PRODUCT_VERSION)) if v]
        model = names[0] if names else ""
        version = versions[0] if versions else ""
        if system.sys_descr.startswith(("EdgeOS", "EdgeRouter")):
            return Identity("ubiquiti", Platform.UBIQUITI_EDGEROUTER, model=model, os_version=version)
        if probes.under(AIRMAX_RADIO):
            return Identity("ubiquiti", Platform.UBIQUITI_AIROS, model=model, os_version=version)
        if model.startswith("U") or system.sys_descr.startswith("UniFi"):
            return Identity("ubiquiti", Platform.UBIQUITI_UNIFI, model=model, os_version=version)
        return None  # a Frogfoot-OID Linux box that is not Ubiquiti
