"""Drivers, one module per platform, in a registry keyed by netmiko ``device_type``.

>>> default_drivers().get("linux").netmiko_device_type
'linux'
"""

from __future__ import annotations

from netmgr.errors import NotFound
from netmgr.registry import Registry
from provisioning import messages as msg
from provisioning.drivers.base import DeviceBackup, Driver, PushOutput, find_rejections, strip_noise
from provisioning.drivers.cisco_ios import CiscoIosDriver
from provisioning.drivers.linux import LinuxDriver
from provisioning.drivers.mikrotik_routeros import MikrotikRouterosDriver


def default_drivers(*, linux_config_dir: str = "/etc/netmgr") -> Registry[Driver]:
    """A fresh registry holding every shipped driver; an unknown platform raises listing these."""
    registry: Registry[Driver] = Registry("provisioning driver")
    for driver in (MikrotikRouterosDriver(), CiscoIosDriver(), LinuxDriver(config_dir=linux_config_dir)):
        registry.register(driver.platform, driver)
    return registry


def driver_for(drivers: Registry[Driver], platform: str) -> Driver:
    """The driver of ``platform``.

    Raises:
        NotFound: no driver for it (discovery recognises more platforms than netmgr configures, e.g.
            ``fortinet``); the message names the platforms netmgr does configure.
    """
    if platform not in drivers:
        raise NotFound(msg.say(msg.NO_DRIVER, platform=platform, known=", ".join(drivers.names())))
    return drivers.get(platform)


__all__ = [
    "CiscoIosDriver",
    "DeviceBackup",
    "Driver",
    "LinuxDriver",
    "MikrotikRouterosDriver",
    "PushOutput",
    "default_drivers",
    "driver_for",
    "find_rejections",
    "strip_noise",
]
