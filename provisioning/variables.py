"""Template variables: one pydantic model per purpose, validated before anything is rendered or pushed.

Data flow: CLI/API input → ``validate_variables`` (errors name the field) → stored on the job with
secrets encrypted (``dump_for_storage``) → per device, ``complete`` fills gaps from the inventory
(hostname from the device name, SNMP community and RADIUS secret from its stored credentials).
"""

from __future__ import annotations

from ipaddress import IPv4Interface, IPv4Network, IPv6Network
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from netmgr import localtime
from netmgr.errors import ValidationFailed
from netmgr.security.secrets import SecretBox
from provisioning.secrets import placeholder

_SECRET_TAG = "$encrypted"  # noqa: S105 - a JSON key marking ciphertext
_HOSTNAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"
Word = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")


class PurposeVariables(BaseModel):
    """Base of every purpose's variables. ``from_inventory`` maps a field to the context key that fills it."""

    model_config = ConfigDict(extra="forbid")
    from_inventory: ClassVar[dict[str, str]] = {}


class BasicsVariables(PurposeVariables):
    """Identity, clock, name resolution and logging: what every device needs on day one."""

    hostname: str | None = Field(default=None, pattern=_HOSTNAME)
    ntp_servers: list[str] = Field(default_factory=lambda: ["0.id.pool.ntp.org", "1.id.pool.ntp.org"], min_length=1)
    dns_servers: list[str] = Field(default_factory=lambda: ["1.1.1.1", "8.8.8.8"], min_length=1)
    syslog_host: str | None = None
    timezone: str | None = None
    """The device clock's IANA zone; empty means the installation's (``NETMGR_TIMEZONE``)."""
    from_inventory: ClassVar[dict[str, str]] = {"hostname": "device_name", "timezone": "timezone"}

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            localtime.zone(value)
        return value


class SnmpVariables(PurposeVariables):
    """SNMP v2c read access for netmgr's pollers, so a device is monitored from the day it is configured."""

    community: SecretStr | None = None
    location: str | None = None
    contact: str = "Diskominfo NOC"
    allowed_from: IPv4Network = IPv4Network("0.0.0.0/0")
    from_inventory: ClassVar[dict[str, str]] = {"community": "snmp_community", "location": "site_name"}


class HotspotVariables(PurposeVariables):
    """A public Wi-Fi hotspot: SSID on a VLAN, a gateway address, RADIUS to netmgr, the netmgr portal."""

    ssid: str = Field(min_length=1, max_length=32)
    vlan_id: int = Field(ge=2, le=4094)
    interface: str = Word
    gateway: IPv4Interface
    radius_server: str = Field(min_length=1)
    radius_secret: SecretStr | None = None
    portal_url: str | None = None
    dns_name: str = "login.wifi.id"
    hotspot_slug: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    """The hotspot's portal address (``/portal/<slug>/``): with it the gateway hands out the Captive Portal
    API in DHCP option 114 (RFC 8910), so phones find the portal without probing."""
    ipv6_prefix: IPv6Network | None = None
    """The hotspot VLAN's IPv6 /64, e.g. ``2001:db8:20::/64``: Linux gateways then advertise it with radvd,
    carrying the Captive Portal API in the RA option of RFC 8910 (type 37) when ``hotspot_slug`` is set."""
    from_inventory: ClassVar[dict[str, str]] = {"radius_secret": "radius_secret", "portal_url": "portal_url"}

    @field_validator("ipv6_prefix")
    @classmethod
    def _slaac_prefix(cls, value: IPv6Network | None) -> IPv6Network | None:
        if value is not None and value.prefixlen != 64:
            raise ValueError("phones configure themselves only from a /64, e.g. 2001:db8:20::/64")
        return value

    @field_validator("gateway")
    @classmethod
    def _not_network_address(cls, value: IPv4Interface) -> IPv4Interface:
        if value.ip == value.network.network_address:
            raise ValueError("use the gateway's own address with its prefix, e.g. 10.20.0.1/22")
        return value


class Allocation(BaseModel):
    """One office's share of the central bandwidth: guaranteed (CIR) and ceiling (MIR) in Mbps."""

    model_config = ConfigDict(extra="forbid")
    name: str = Word
    target: IPv4Network
    cir_mbps: float = Field(gt=0)
    mir_mbps: float = Field(gt=0)
    priority: int = Field(default=8, ge=1, le=8)

    @model_validator(mode="after")
    def _ceiling_above_guarantee(self) -> Allocation:
        if self.mir_mbps < self.cir_mbps:
            raise ValueError(f"{self.name}: mir_mbps ({self.mir_mbps}) is below cir_mbps ({self.cir_mbps})")
        return self


class QueuesVariables(PurposeVariables):
    """The core router's bandwidth plan: per-office queues under the uplink's capacity, fair inside (PCQ)."""

    wan_interface: str = Word
    lan_interface: str = Word
    total_down_mbps: float = Field(gt=0)
    total_up_mbps: float = Field(gt=0)
    allocations: list[Allocation] = Field(min_length=1)

    @model_validator(mode="after")
    def _fits_the_uplink(self) -> QueuesVariables:
        cir = sum(a.cir_mbps for a in self.allocations)
        if cir > self.total_down_mbps:
            raise ValueError(f"guaranteed rates add up to {cir:g} Mbps, more than the {self.total_down_mbps:g} Mbps "
                             "uplink")
        names = [a.name for a in self.allocations]
        if len(set(names)) != len(names):
            raise ValueError("allocation names must be unique")
        return self


PURPOSES: dict[str, type[PurposeVariables]] = {
    "basics": BasicsVariables,
    "snmp": SnmpVariables,
    "hotspot": HotspotVariables,
    "queues": QueuesVariables,
}


def variables_model(purpose: str) -> type[PurposeVariables]:
    try:
        return PURPOSES[purpose]
    except KeyError:
        raise ValidationFailed(f"unknown purpose {purpose!r}; known: {', '.join(sorted(PURPOSES))}",
                               field="purpose") from None


def validate_variables(purpose: str, data: dict[str, Any]) -> PurposeVariables:
    """Check ``data`` against the purpose's model; the error names every bad field."""
    model = variables_model(purpose)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'variables'}: {err['msg']}" for err in exc.errors()
        )
        raise ValidationFailed(f"{purpose} variables are not valid: {problems}", field="variables") from exc


def dump_for_storage(variables: PurposeVariables, box: SecretBox) -> dict[str, Any]:
    """JSON for the job row: secrets encrypted, everything else plain."""
    out: dict[str, Any] = {}
    for name in type(variables).model_fields:
        value = getattr(variables, name)
        if isinstance(value, SecretStr):
            out[name] = {_SECRET_TAG: box.encrypt(value.get_secret_value())}
        else:
            out[name] = variables.model_dump(mode="json", include={name})[name]
    return out


def load_from_storage(purpose: str, stored: dict[str, Any], box: SecretBox) -> PurposeVariables:
    plain = {k: box.decrypt(v[_SECRET_TAG]) if isinstance(v, dict) and _SECRET_TAG in v else v
             for k, v in stored.items()}
    return validate_variables(purpose, plain)


def mask_for_display(stored: dict[str, Any]) -> dict[str, Any]:
    return {k: "********" if isinstance(v, dict) and _SECRET_TAG in v else v for k, v in stored.items()}


def complete(variables: PurposeVariables, inventory: dict[str, Any], *, reveal: bool = True) -> dict[str, Any]:
    """Template context for one device: the variables with secrets revealed (or, with ``reveal=False``, as
    placeholders for what a person sees) and gaps filled from inventory.

    Raises:
        ValidationFailed: a variable is neither given nor known from the inventory.
    """
    out: dict[str, Any] = {}
    for name in type(variables).model_fields:
        value = getattr(variables, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value() if reveal else placeholder(name)
        if value is None and name in variables.from_inventory:
            value = inventory.get(variables.from_inventory[name])
            if value is None:
                raise ValidationFailed(
                    f"{name} is not given and the device has no {variables.from_inventory[name].replace('_', ' ')} "
                    "in the inventory", field=name)
        out[name] = value
    plain = variables.model_dump(mode="python")
    for name, value in plain.items():
        if isinstance(value, list):
            out[name] = value  # lists of models become dicts for templates
    return out
