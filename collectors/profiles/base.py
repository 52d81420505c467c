"""What a device profile is: it claims devices by their system group and identifies vendor, platform and model."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from collectors.profiles.health import HealthPart
from collectors.snmp import codecs
from collectors.snmp.types import Value
from netmgr.models.enums import Platform

ENT_PHYSICAL_DESCR = "1.3.6.1.2.1.47.1.1.1.1.2"
ENT_PHYSICAL_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
ENT_PHYSICAL_SOFTWARE_REV = "1.3.6.1.2.1.47.1.1.1.1.10"
ENT_PHYSICAL_SERIAL = "1.3.6.1.2.1.47.1.1.1.1.11"
ENT_PHYSICAL_MODEL = "1.3.6.1.2.1.47.1.1.1.1.13"
# The chassis row (entPhysicalIndex 1) of ENTITY-MIB: where most makers put model, serial and software.
CHASSIS_MODEL = f"{ENT_PHYSICAL_MODEL}.1"
CHASSIS_NAME = f"{ENT_PHYSICAL_NAME}.1"
CHASSIS_SERIAL = f"{ENT_PHYSICAL_SERIAL}.1"
CHASSIS_SOFTWARE = f"{ENT_PHYSICAL_SOFTWARE_REV}.1"
DOT11_PRODUCT_NAME = "1.2.840.10036.3.1.2.1.3"
DOT11_PRODUCT_VERSION = "1.2.840.10036.3.1.2.1.4"


@dataclass(frozen=True)
class SystemInfo:
    """The SNMPv2-MIB system group of a device, e.g. sysDescr ``RouterOS CCR2004-16G-2S+``."""

    sys_descr: str
    sys_object_id: str
    sys_name: str = ""
    uptime_s: int | None = None

    def under(self, enterprise_oid: str) -> bool:
        """True when sysObjectID is ``enterprise_oid`` or below it."""
        oid = self.sys_object_id.strip(".")
        return oid == enterprise_oid or oid.startswith(enterprise_oid + ".")


@dataclass(frozen=True)
class Identity:
    """What a profile concluded: vendor slug (``mikrotik``), netmgr platform, model, OS version, serial."""

    vendor: str
    platform: Platform
    model: str = ""
    os_version: str = ""
    serial: str = ""


class Probes(Mapping[str, Value]):
    """Values a profile asked for: scalars by OID and walked subtrees, read-only."""

    def __init__(self, values: dict[str, Value]) -> None:
        self._values = values

    def __getitem__(self, oid: str) -> Value:
        return self._values[oid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def text(self, oid: str) -> str:
        return codecs.text(self._values.get(oid)).strip()

    def under(self, root: str) -> dict[str, Value]:
        prefix = root + "."
        return {oid: v for oid, v in self._values.items() if oid.startswith(prefix)}


class Profile(Protocol):
    """One vendor's identification rules. ``priority``: lower runs first; the generic profile runs last."""

    @property
    def slug(self) -> str:
        """Vendor slug and registry key, e.g. ``mikrotik``."""
        ...

    @property
    def priority(self) -> int: ...

    @property
    def probe_gets(self) -> tuple[str, ...]:
        """Scalar OIDs to GET before ``identify`` (vendor MIB model/serial/version)."""
        ...

    @property
    def probe_walks(self) -> tuple[str, ...]:
        """Small subtrees to walk before ``identify``."""
        ...

    @property
    def health(self) -> tuple[HealthPart, ...]:
        """What the poller reads for this maker's health on every cycle (in one multi-column walk)."""
        ...

    def claims(self, system: SystemInfo) -> bool:
        """Cheap check on the system group: is this device possibly ours? Then the probes are read."""
        ...

    def identify(self, system: SystemInfo, probes: Probes) -> Identity | None:
        """The identity, or None to let the next profile try."""
        ...
