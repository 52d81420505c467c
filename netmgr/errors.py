"""One error hierarchy for netmgr; every entry point maps these to a message a person understands.

    NetmgrError
    ├── ConfigError              settings or a config file are wrong
    ├── ValidationFailed         input broke a rule (field, problem)
    ├── NotFound                 the thing asked for does not exist
    ├── Conflict                 it would duplicate something unique
    ├── PermissionDenied         the user's role does not allow it
    ├── AuthenticationFailed     wrong credentials or expired session
    ├── TooManyAttempts          too many failed sign-ins; try again after ``retry_after_s``
    ├── SecretError              a secret cannot be decrypted with the configured keys
    ├── ImportFailed             a bulk import had bad rows (carries every row error)
    ├── DeviceError
    │   ├── DeviceUnreachable    no answer (timeout, refused)
    │   ├── DeviceAuthFailed     credentials rejected by the device
    │   └── DeviceRejected       the device refused a command or sent nonsense
    ├── MetricsWriteError        InfluxDB did not take a write
    ├── MetricsQueryError        InfluxDB could not answer a query (unreachable, or bad InfluxQL)
    ├── RadiusError              RADIUS exchange failed
    ├── SmsError                 a text message was not handed to the SMS/WhatsApp gateway
    │   ├── SmsGatewayUnavailable  the gateway is down, timed out, refused our login or queued it (SMSC down)
    │   └── SmsRejected            the gateway answered but refused this number or message
    └── ArchiveError             a backup cannot be made or restored (damaged, wrong keys, database not empty)
"""

from __future__ import annotations

from dataclasses import dataclass


class NetmgrError(Exception):
    """Base of every error netmgr raises on purpose."""

    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(NetmgrError):
    pass


class ValidationFailed(NetmgrError):
    http_status = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(NetmgrError):
    http_status = 404


class Conflict(NetmgrError):
    http_status = 409


class PermissionDenied(NetmgrError):
    http_status = 403


class AuthenticationFailed(NetmgrError):
    http_status = 401


class TooManyAttempts(NetmgrError):
    """Sign-in refused before the password is checked, because of earlier failures; answered 429 + Retry-After."""

    http_status = 429

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)


class SecretError(NetmgrError):
    pass


@dataclass(frozen=True)
class RowError:
    """One bad row of a bulk import: 1-based row number as the user sees it in the file."""

    row: int
    field: str | None
    reason: str
    """In English, complete (API, CLI, logs)."""
    code: str = ""
    """What kind of problem, for a page to word it in the reader's language (a pydantic error type such as
    ``missing``, or the importer's own such as ``unknown_reference``); empty when only ``reason`` says it."""
    values: tuple[tuple[str, str], ...] = ()
    """The names and figures the wording needs, e.g. ``(("value", "Kantor Lama"),)``."""

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", {self.field}" if self.field else "")
        return f"{where}: {self.reason}"


class ImportFailed(NetmgrError):
    http_status = 422

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} bad row(s); nothing was imported")
        self.errors = errors


class DeviceError(NetmgrError):
    http_status = 502


class DeviceUnreachable(DeviceError):
    pass


class DeviceAuthFailed(DeviceError):
    pass


class DeviceRejected(DeviceError):
    pass


class MetricsWriteError(NetmgrError):
    http_status = 503


class MetricsQueryError(NetmgrError):
    http_status = 503


class RadiusError(NetmgrError):
    http_status = 502


class SmsError(NetmgrError):
    """A text message did not reach the gateway; ``gateway`` names which (``kannel``, ``smpp``, ``http``)."""

    http_status = 503

    def __init__(self, message: str, *, gateway: str) -> None:
        super().__init__(message)
        self.gateway = gateway


class SmsGatewayUnavailable(SmsError):
    pass


class SmsRejected(SmsError):
    http_status = 422


class ArchiveError(NetmgrError):
    http_status = 409
