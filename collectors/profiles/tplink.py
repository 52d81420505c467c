"""TP-Link switches (sysObjectID .11863): the sysDescr is the product description."""

from __future__ import annotations

from collectors.profiles.base import Identity, Probes, SystemInfo
from collectors.profiles.health import STANDARD
from netmgr.models.enums import Platform


class TplinkProfile:
    slug = "tp-link"
    priority = 10
    probe_gets: tuple[str, ...] = ()
    probe_walks: tuple[str, ...] = ()
    health = STANDARD

    def claims(self, system: SystemInfo) -> bool:
        return system.under("1.3.6.1.4.1.11863")

    def identify(self, system: SystemInfo, probes: Probes) -> Identity:
        # JetStream is netmiko's only TP-Link driver; smart switches without a CLI just never get provisioned.
        return Identity("tp-link", Platform.TPLINK_JETSTREAM, model=system.sys_descr.strip())
