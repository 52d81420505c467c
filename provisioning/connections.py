"""SSH sessions to devices with netmiko, built from the inventory; netmiko's errors become netmgr's.

Data flow: inventory Device + decrypted credentials → ``DeviceTarget`` → ``ConnectHandler`` session.
``Connector`` is the seam the runner takes, so tests and benchmarks can pass their own.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from paramiko.ssh_exception import SSHException
from sqlalchemy.orm import Session

from netmgr.errors import DeviceAuthFailed, DeviceError, DeviceUnreachable
from netmgr.models import Device
from netmgr.services.devices import DeviceCredentials, device_credentials
from provisioning import messages as msg
from provisioning.messages import say
from provisioning.secrets import SecretValues

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceTarget:
    """Everything needed to reach and configure one device, detached from the database session."""

    device_id: int
    name: str
    platform: str
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    enable_secret: str = field(default="", repr=False)
    context: dict[str, Any] = field(default_factory=dict, repr=False)
    #: The device's inventory secrets (SSH password, SNMP community and keys, RADIUS secret), masked
    #: wherever a config, diff or log shows them.
    secrets: SecretValues = field(default_factory=SecretValues, repr=False)


def device_secrets(creds: DeviceCredentials) -> SecretValues:
    """Every stored secret of a device (SSH password, SNMP community and keys, RADIUS secret), by name."""
    return SecretValues({name: value for name, value in (
        ("snmp_community", creds.snmp_community), ("radius_secret", creds.radius_secret),
        ("ssh_password", creds.ssh_password), ("snmp_v3_auth_key", creds.snmp_v3_auth_key),
        ("snmp_v3_priv_key", creds.snmp_v3_priv_key)) if value})


def target_for(session: Session, device: Device, context: dict[str, Any] | None = None) -> DeviceTarget:
    """A ``DeviceTarget`` for an inventory device, with its SSH password decrypted."""
    creds = device_credentials(session, device)
    return DeviceTarget(
        device_id=device.id,
        name=device.name,
        platform=str(device.platform),
        host=device.mgmt_address,
        port=device.ssh_port,
        username=device.ssh_username or "admin",
        password=creds.ssh_password or "",
        enable_secret=creds.ssh_password or "",
        context=context or {},
        secrets=device_secrets(creds),
    )


class Connector(Protocol):
    """Opens a session to a device: ``with connect(target, device_type) as conn: ...``."""

    def __call__(self, target: DeviceTarget, device_type: str) -> AbstractContextManager[Any]: ...


@contextmanager
def device_errors(target: DeviceTarget) -> Iterator[None]:
    """Translate netmiko/paramiko/socket failures into netmgr's DeviceError tree, naming the device."""
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException, ReadException

    where = f"{target.name} ({target.host}:{target.port})"

    def reason(exc: BaseException) -> str:  # netmiko adds paragraphs of advice after the first line
        text = str(exc).strip()
        return text.splitlines()[0] if text else type(exc).__name__
    try:
        yield
    except DeviceError:
        raise
    except NetmikoAuthenticationException as exc:
        raise DeviceAuthFailed(say(msg.LOGIN_REFUSED, device=where, reason=reason(exc))) from exc
    except (TimeoutError, NetmikoTimeoutException, ReadException) as exc:
        raise DeviceUnreachable(say(msg.NO_ANSWER, device=where, reason=reason(exc))) from exc
    except (SSHException, EOFError, OSError) as exc:
        raise DeviceUnreachable(say(msg.UNREACHABLE, device=where, reason=reason(exc))) from exc


@dataclass(frozen=True)
class NetmikoConnector:
    """The real connector: netmiko ``ConnectHandler`` with timeouts suited to slow rural links."""

    conn_timeout: float = 10
    auth_timeout: float = 15
    fast_cli: bool = True

    @contextmanager
    def __call__(self, target: DeviceTarget, device_type: str) -> Iterator[Any]:
        from netmiko import ConnectHandler

        with device_errors(target):
            conn = ConnectHandler(
                device_type=device_type,
                host=target.host,
                port=target.port,
                username=target.username,
                password=target.password,
                secret=target.enable_secret,
                ssh_config_file=None,
                allow_agent=False,
                use_keys=False,
                conn_timeout=self.conn_timeout,
                auth_timeout=self.auth_timeout,
                banner_timeout=self.auth_timeout,
                fast_cli=self.fast_cli,
            )
        try:
            with device_errors(target):
                yield conn
        finally:
            try:
                conn.disconnect()
            except Exception:  # noqa: BLE001 - the session may already be gone; nothing to do
                logger.debug("disconnect from %s failed", target.name, exc_info=True)
