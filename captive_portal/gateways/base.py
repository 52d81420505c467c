"""The NAS adapter seam and the values that cross it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from netmgr.errors import ValidationFailed


@dataclass(frozen=True)
class GatewayRegistration:
    """What netmgr knows about a hotspot's gateway: the hosts it may send citizens back to.

    For example ``hosts=("10.5.50.1", "hotspot.sampit.go.id")`` for a MikroTik hotspot, or
    ``hosts=("192.168.201.1:2050",)`` with ``faskey`` for an openNDS gateway.
    """

    kind: str
    hosts: tuple[str, ...]
    faskey: str = ""

    def require_host(self, host: str, *, field: str) -> None:
        if host.lower() not in {h.lower() for h in self.hosts}:
            raise ValidationFailed(f"{field} points to a gateway that is not registered for this hotspot", field=field)


@dataclass(frozen=True)
class GatewayContext:
    """A citizen's device as its gateway described it, after validation.

    ``login_url`` is where the browser completes the login (MikroTik's ``link-login-only``, openNDS's
    ``http://<gatewayaddress>/opennds_auth/``); ``extra`` holds adapter-specific values (CHAP id and
    challenge, openNDS ``hid``).
    """

    kind: str
    mac: str
    ip: str
    login_url: str
    original_url: str = ""
    gateway_error: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["extra"] = dict(self.extra)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GatewayContext:
        return cls(
            kind=str(data["kind"]),
            mac=str(data["mac"]),
            ip=str(data["ip"]),
            login_url=str(data["login_url"]),
            original_url=str(data.get("original_url", "")),
            gateway_error=str(data.get("gateway_error", "")),
            extra={str(k): str(v) for k, v in dict(data.get("extra", {})).items()},
        )


@dataclass(frozen=True)
class Credentials:
    """What the gateway will present to RADIUS for this login (one-time or the voucher code)."""

    username: str
    password: str


@dataclass(frozen=True)
class Completion:
    """Where the browser goes to finish the login at the gateway (a GET with these parameters)."""

    url: str
    params: Mapping[str, str]

    @property
    def location(self) -> str:
        sep = "&" if "?" in self.url else "?"
        return self.url + (sep + urlencode(dict(self.params)) if self.params else "")


class NasAdapter(Protocol):
    """One kind of hotspot gateway (see ``captive_portal.gateways.default_adapters``)."""

    kind: str

    def parse(self, params: Mapping[str, str], gateway: GatewayRegistration) -> GatewayContext:
        """Validate the gateway's redirect parameters; raises ValidationFailed naming the bad one."""
        ...

    def complete(self, context: GatewayContext, credentials: Credentials, gateway: GatewayRegistration,
                 *, after_login_url: str) -> Completion:
        """The browser redirect that makes the gateway let this device through."""
        ...
