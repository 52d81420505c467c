"""All configuration in one pydantic-settings object, read from ``NETMGR_*`` variables.

Nested sections use a double underscore: ``NETMGR_INFLUX__URL``. An optional TOML/YAML/env-style
config file named by ``NETMGR_CONFIG_FILE`` is read first; environment variables win over it.
No other module reads ``os.environ``.
"""

from __future__ import annotations

import logging
import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from netmgr.errors import ConfigError
from netmgr.localtime import DEFAULT_TIMEZONE, zone

logger = logging.getLogger(__name__)

DEMO_SECRET_KEY = "demo-insecure-secret-key-change-me"  # noqa: S105 - marked demo-only, refused elsewhere
DEMO_ENCRYPTION_KEY = "ZGVtby1pbnNlY3VyZS1lbmNyeXB0aW9uLWtleS0zMmI="  # noqa: S105 - demo-only, refused elsewhere


class Environment(StrEnum):
    DEMO = "demo"
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class InfluxApi(StrEnum):
    V1 = "v1"
    V2 = "v2"


class InfluxSettings(BaseModel):
    """Where metrics go: InfluxDB written through influxdb-client, read with InfluxQL."""

    url: str = "http://127.0.0.1:8086"
    api: InfluxApi = InfluxApi.V2
    org: str = "netmgr"
    bucket: str = "netmgr"
    token: SecretStr = SecretStr("")
    username: str = ""
    password: SecretStr = SecretStr("")
    batch_size: int = 5000
    flush_interval_ms: int = 1000
    spool_max_bytes: int = 512 * 1024 * 1024
    enabled: bool = True
    database: str = ""
    """v1 API: the database to write to and read from; empty means the bucket name (before any ``/``)."""
    retention_policy: str = ""
    """v1 API: the retention policy to write to; empty means the database's default."""
    spool_dir: Path | None = None
    """Where batches wait while InfluxDB is away; None means ``<data_dir>/spool``. 0 spool_max_bytes: no spool."""
    timeout_ms: int = 5000


class CelerySettings(BaseModel):
    """Task queue. Empty broker means the embedded SQLite broker under the data directory."""

    broker_url: str = ""
    result_backend: str = ""
    worker_concurrency: int = 2
    availability_interval_s: int = 30
    """How often beat schedules ``collectors.check_availability``."""


class SnmpSettings(BaseModel):
    timeout_s: float = 2.0
    retries: int = 1
    poll_interval_s: int = 60
    max_in_flight: int = 500
    poll_deadline_s: float = 25.0
    """Hard limit on one device's poll; a device that takes longer is abandoned for this cycle."""
    poll_batch_size: int = 50
    """Devices per ``collectors.poll_batch`` task: the shards beat hands to the workers."""
    rollup_interval_s: int = 300
    """How often beat schedules ``collectors.rollup_traffic`` (hourly and daily usage in the database)."""
    keep_5m_days: int = 3
    """5-minute usage rows of ordinary interfaces are kept this long (enough to recompute late days)."""
    keep_5m_billing_days: int = 400
    """5-minute rows of uplink interfaces and queues (monthly 95th percentile billing) are kept this long."""


class PingSettings(BaseModel):
    """ICMP availability with fping (``collectors.ping_targets``), on its own schedule, separate from SNMP."""

    enabled: bool = True
    fping_path: str = "/usr/bin/fping"
    interval_s: int = 60
    """How often beat schedules a ping round; each round counts this long as up or down (outage minutes)."""
    count: int = Field(default=3, ge=1, le=20)
    """Echo requests per target and round (``fping -C``); loss is measured over them."""
    period_ms: int = Field(default=500, ge=10)
    """Time between two requests to one target (``fping -p``)."""
    timeout_ms: int = Field(default=500, ge=50)
    """How long to wait for each reply (``fping -t``)."""
    gap_ms: int = Field(default=1, ge=1)
    """Time between any two requests sent (``fping -i``): 2,000 targets x 3 requests take 6 s at 1 ms."""


class AccountingMode(StrEnum):
    """How FreeRADIUS hands Accounting-Requests to netmgr (``captive_portal.radius_config``)."""

    REST = "rest"
    """Each request is posted to netmgr's AAA endpoint and answered once it committed."""
    SPOOL = "spool"
    """Each request is appended to a detail file and answered at once; ``netmgr radius-spool`` applies them."""


class MapSettings(BaseModel):
    """The base map under the monitoring page's sites (Leaflet, vendored): where its tiles come from.

    ``NETMGR_MAP__TILE_URL`` is a Leaflet URL template (``{z}/{x}/{y}``, optional ``{s}``); empty means no tiles:
    the sites are drawn on a plain coordinate canvas, as they are when the tiles cannot be loaded (offline).
    """

    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tile_attribution: str = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    """Shown in the map's corner; the tile server's licence requires it (HTML, set by the admin only)."""
    max_zoom: int = Field(default=19, ge=1, le=22)
    noc_refresh_s: int = Field(default=30, ge=5, le=3600)
    """How often the NOC wall screen (``/monitoring/noc``) reloads its figures."""


class RadiusSettings(BaseModel):
    """RADIUS AAA for the hotspots: FreeRADIUS (rest module) in front, netmgr's /api/v1/aaa behind it."""

    coa_port: int = 3799
    interim_interval_s: int = 300
    aaa_token: SecretStr = SecretStr("")
    """Shared secret FreeRADIUS sends (HTTP Basic password) to the AAA endpoints; empty refuses every call."""
    aaa_allowed_networks: list[str] = Field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])
    """Client addresses allowed to call the AAA endpoints (FreeRADIUS runs beside netmgr by default)."""
    aaa_url: str = ""
    """Base URL FreeRADIUS uses to reach netmgr; empty means ``public_url``."""
    auth_port: int = 1812
    acct_port: int = 1813
    listen_address: str = "127.0.0.1"
    stale_after_intervals: float = 2.5
    """A session with no accounting for this many interim intervals is closed."""
    coa_timeout_s: float = 2.0
    coa_retries: int = 2
    login_attempt_retention_days: int = 7
    accounting: AccountingMode = AccountingMode.REST
    """``spool`` decouples accounting from netmgr: it keeps flowing while netmgr or its database is down."""
    spool_dir: str = "/var/spool/netmgr/radius"
    """Where FreeRADIUS writes its accounting detail files (one a minute) and ``netmgr radius-spool`` reads them."""
    spool_batch: int = 500
    """Accounting records applied per transaction by the spool reader."""
    spool_poll_s: float = 1.0
    """How long the spool reader waits when it has read everything."""


class PortalSettings(BaseModel):
    """The citizens' captive portal (``captive_portal.pages``): limits, retention and the SMS sender."""

    base_url: str = "http://127.0.0.1:8000/portal"
    retention_days: int = 90
    """UU PDP: consent records, subscribers and sessions older than this are purged."""
    sms_sender: str = "console"
    """Which ``SmsSender`` delivers OTP codes: ``kannel``, ``smpp`` or ``http`` (configured in ``sms``);
    ``console`` logs that a message was due (development only: in production it sends nothing and refuses)."""
    otp_ttl_s: int = 300
    otp_max_per_phone_per_hour: int = 3
    max_failed_attempts: int = 5
    """Failed logins (wrong voucher codes, OTPs or passwords) per device (MAC) in ``lockout_s`` before that
    device pauses for ``lockout_s``: on the portal and through the gateway's RADIUS together
    (``captive_portal.decisions``)."""
    max_failed_attempts_per_ip: int = 20
    """The same per IP address the gateway reports: looser, as a device that changes its MAC keeps its IP."""
    lockout_s: int = 300
    grant_ttl_s: int = 300
    """How long the one-time RADIUS credentials handed to the gateway stay valid."""
    sms_per_hotspot_per_hour: int = 30
    """OTP SMS one hotspot may send in a clock hour, whatever the devices claim to be (≈ Rp 300 each)."""
    sms_per_installation_per_day: int = 300
    """OTP SMS all hotspots together may send in a local day (``NETMGR_TIMEZONE``)."""
    sms_per_source_per_hour: int = 10
    """OTP SMS per source address (the HTTP client as netmgr sees it) in a clock hour; not applied to NAT addresses."""
    voucher_failures_per_hotspot_per_hour: int = 60
    """Wrong voucher codes one hotspot accepts in a clock hour before voucher login pauses there until the hour ends."""
    failures_per_source_per_hour: int = 30
    """Failed voucher or OTP logins per source address in a clock hour; not applied to NAT addresses."""
    nat_networks: list[str] = Field(default_factory=list)
    """Addresses or CIDR networks that are gateways NATing many citizens (e.g. ``["203.0.113.7/32"]``); the
    per-source limits skip them. A hotspot's own gateway hosts are skipped anyway."""


class SmsSettings(BaseModel):
    """The SMS or WhatsApp gateway texts leave through (``netmgr.sms``); ``portal.sms_sender`` picks one.

    The gateway's one credential (Kannel password, SMPP password, or the HTTP gateway's token) is stored
    encrypted: ``secret_encrypted`` holds a token made by ``netmgr secrets encrypt`` with
    ``NETMGR_ENCRYPTION_KEYS`` and is decrypted only to send a message. It is never logged or shown.
    """

    timeout_s: float = 5.0
    """Longest wait for each step of one send (connect, answer); a citizen never waits much longer."""
    sender_id: str = ""
    """The sender the phone shows (Kannel ``from``, SMPP ``source_addr``), e.g. ``DISKOMINFO``; empty: the
    gateway's default."""
    secret_encrypted: SecretStr = SecretStr("")
    """The gateway's password or token, encrypted (``netmgr secrets encrypt``)."""
    failures_before_pause: int = 3
    """Failed sends in a row after which netmgr stops trying the gateway for ``pause_s`` (citizens are sent
    to the other login methods at once instead of waiting for a timeout each)."""
    pause_s: int = 60
    kannel_url: str = "http://127.0.0.1:13013/cgi-bin/sendsms"
    """Kannel smsbox's ``sendsms`` URL."""
    kannel_username: str = ""
    """A ``sendsms-user`` of kannel.conf; its password is ``secret_encrypted``."""
    kannel_smsc: str = ""
    """Route through this ``smsc-id`` of kannel.conf; empty: Kannel chooses."""
    smpp_host: str = "127.0.0.1"
    smpp_port: int = 2775
    smpp_system_id: str = ""
    """The SMSC account's login (``system_id``); its password is ``secret_encrypted``."""
    smpp_system_type: str = ""
    http_url: str = ""
    """The HTTP gateway's URL; may hold ``{phone}``, ``{msisdn}``, ``{local}``, ``{text}`` and ``{secret}``."""
    http_method: str = "POST"
    http_headers: dict[str, str] = Field(default_factory=dict)
    """Request headers, e.g. ``{"Authorization": "{secret}"}``; the Content-Type decides how the body escapes."""
    http_body: str = ""
    """The request body template, e.g. ``{"target": "{msisdn}", "message": "{text}"}``."""
    http_success_status: list[int] = Field(default_factory=lambda: [200, 201, 202])
    """HTTP statuses that mean the gateway took the message."""
    http_success_contains: str = ""
    """Text the answer must also contain to count as taken, e.g. ``"status":true``; empty: not checked."""


class LoginSettings(BaseModel):
    """Throttling of sign-ins to the API and admin UI (``netmgr.services.login_throttle``).

    Failures are counted in a sliding window. A lockout holds one (account, source address) pair or one source
    address, never an account everywhere: past ``max_failures_per_account`` the account only slows down, and
    not at all for an address it has signed in from before.
    """

    window_s: int = 900
    max_failures_per_account_source: int = 10
    """Wrong passwords for one account from one address before that pair must wait for the window to pass."""
    max_failures_per_source: int = 30
    """Failed sign-ins from one address, whatever the user names, before the address must wait."""
    max_failures_per_account: int = 20
    """Failed sign-ins to one account from every address before each new try waits ``account_delay_s``."""
    account_delay_s: int = 5
    """Under that pressure, one try per this many seconds per account from addresses it never signed in from."""
    known_source_days: int = 30
    """An address the account signed in from within this many days is exempt from the account delay."""


class LimitSettings(BaseModel):
    """Largest request bodies the API and admin UI read, refused with 413 before they are read in full."""

    max_body_bytes: int = 1024 * 1024
    """Any request body (JSON, forms), signed in or not."""
    max_upload_bytes: int = 8 * 1024 * 1024
    """Bodies of the upload routes (inventory import): a 5 MB file, base64-carried by the import page's second
    step, plus the multipart framing."""


class PrometheusSettings(BaseModel):
    """netmgr's own figures at ``/metrics`` (see docs/operations.md)."""

    token: SecretStr = SecretStr("")
    """Bearer token a scraper sends; empty means only clients on this machine (loopback) may read /metrics."""
    multiproc_dir: Path | None = None
    """Where each API and worker process writes its counters; None means ``<data_dir>/prometheus``."""


class DemoSettings(BaseModel):
    """``netmgr demo``: an optional folder of SNMP recordings that take the place of the ones the package ships."""

    snmprec_dir: Path | None = None


class NotifySettings(BaseModel):
    """Where alert notifications go: e-mail (SMTP) and a Telegram bot. Messages are in Bahasa Indonesia."""

    email_enabled: bool = False
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_s: float = 10.0
    email_from: str = "netmgr@localhost"
    email_recipients: list[str] = Field(default_factory=list)
    telegram_enabled: bool = False
    telegram_bot_token: SecretStr = SecretStr("")
    telegram_chat_ids: list[str] = Field(default_factory=list)
    telegram_api_url: str = "https://api.telegram.org"
    """The Bot API base URL; point it at a relay where the site has no direct internet."""
    telegram_timeout_s: float = 10.0


class AlertSettings(BaseModel):
    """Alert rules evaluated by ``collectors.evaluate_alerts``: hold-downs, flap damping and thresholds."""

    evaluate_interval_s: int = 60
    hold_down_s: int = 90
    """A device or site must stay down this long before its alert opens."""
    clear_hold_s: int = 120
    """…and stay up this long before the alert resolves."""
    flap_window_s: int = 1800
    flap_threshold: int = 4
    """This many changes of state inside the window make the subject ``flapping`` (one alert, no more noise)."""
    flap_clear_s: int = 900
    """A flapping subject must hold one state this long to count as stable again."""
    uplink_saturation_percent: float = 90.0
    uplink_saturation_minutes: int = 10
    interface_errors_window_minutes: int = 15
    interface_errors_min: int = 100
    """Errors (in + out) in the window that raise an alert, if they also rose from the window before."""


class FinanceSettings(BaseModel):
    """Bandwidth finance reports: contract reminders timed for the budget cycle, monthly statements by e-mail."""

    rka_due_month: int = Field(default=7, ge=1, le=12)
    """Month the next year's budget proposals (RKA) are due; contracts ending next year are flagged before it."""
    reminder_lead_days: int = 60
    """Remind this many days before the RKA is due (and before any contract ends)."""
    statement_recipients: list[str] = Field(default_factory=list)
    """Finance staff who get every agency's monthly statement; each agency also gets its own (contact e-mail)."""
    statement_day: int = Field(default=3, ge=1, le=28)
    """Day of the month the previous month's statements are sent."""
    downgrade_below_percent: float = 40.0
    """Recommend a smaller uplink when its monthly 95th percentile stays under this share of capacity."""
    idle_cir_below_percent: float = 20.0
    """An office whose 95th percentile uses less than this share of its CIR gives CIR to offices at their ceiling."""
    saturated_above_percent: float = 90.0
    """An uplink whose 95th percentile reaches this share of capacity is flagged as saturated at peak."""


class EdgeSettings(BaseModel):
    """Edge collectors (docs/deploy.md): the centre's patience with them, and an edge box's way to the centre."""

    link_down_after_s: int = 180
    """Centre: a site whose edge has not called for this long is shown and alerted as "link down"."""
    centre_url: str = ""
    """Edge box: the centre's base URL, e.g. https://netmgr.diskominfo.example.go.id."""
    token: SecretStr = SecretStr("")
    """Edge box: the token ``netmgr edge register`` printed at the centre."""
    ca_file: Path | None = None
    """Edge box: the CA bundle that signs the centre's certificate, when it is not a public one."""
    timeout_s: float = 10.0
    spool_max_bytes: int = 256 * 1024 * 1024
    """Edge box: metrics kept on disk while the link is down (about a week for a small office at 60 s)."""


class OpenDataSettings(BaseModel):
    """The public-service dashboard for leaders and its open-data export (``netmgr.services.leadership``)."""

    suppression_threshold: int = Field(default=5, ge=2)
    """k-anonymity: any count below this is published empty (shown as ``<5``), never as its value (UU PDP)."""
    licence: str = "CC-BY-4.0"
    """The licence the open-data package declares (an SPDX id such as ``CC-BY-4.0`` or ``ODbL-1.0``)."""
    publisher: str = ""
    """Who publishes it, e.g. ``Diskominfo Kabupaten Kotawaringin Timur``; empty uses ``regency_name``."""


class Settings(BaseSettings):
    """netmgr's configuration. Every field maps to ``NETMGR_<FIELD>`` (sections: ``NETMGR_<SECTION>__<FIELD>``)."""

    model_config = SettingsConfigDict(
        env_prefix="NETMGR_",
        env_nested_delimiter="__",
        extra="ignore",
        case_sensitive=False,
    )

    environment: Environment = Environment.DEVELOPMENT
    data_dir: Path = Field(default_factory=lambda: Path.cwd() / "var")
    database_url: str = ""
    secret_key: SecretStr = SecretStr(DEMO_SECRET_KEY)
    encryption_keys: SecretStr = SecretStr(DEMO_ENCRYPTION_KEY)
    """Comma-separated Fernet keys; the first encrypts, all decrypt (see ``netmgr secrets rotate-key``)."""
    default_language: str = "id"
    session_cookie_secure: bool | None = None
    """Send the session cookie only over HTTPS; unset means on in production or when ``public_url`` is https."""
    session_max_age_s: int = 12 * 3600
    log_level: str = "INFO"
    public_url: str = "http://127.0.0.1:8000"
    regency_name: str = ""  # shown in the admin UI's top bar, e.g. "Kabupaten Kotawaringin Timur"
    timezone: str = DEFAULT_TIMEZONE
    """The installation's one IANA zone: daily quotas, schedules, report months and every time shown to a person.

    ``Asia/Jakarta`` (WIB), ``Asia/Makassar`` (WITA) or ``Asia/Jayapura`` (WIT). Times are stored in UTC.
    """

    influx: InfluxSettings = Field(default_factory=InfluxSettings)
    celery: CelerySettings = Field(default_factory=CelerySettings)
    snmp: SnmpSettings = Field(default_factory=SnmpSettings)
    ping: PingSettings = Field(default_factory=PingSettings)
    map: MapSettings = Field(default_factory=MapSettings)
    radius: RadiusSettings = Field(default_factory=RadiusSettings)
    portal: PortalSettings = Field(default_factory=PortalSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    demo: DemoSettings = Field(default_factory=DemoSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    finance: FinanceSettings = Field(default_factory=FinanceSettings)
    open_data: OpenDataSettings = Field(default_factory=OpenDataSettings)
    edge: EdgeSettings = Field(default_factory=EdgeSettings)
    login: LoginSettings = Field(default_factory=LoginSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    prometheus: PrometheusSettings = Field(default_factory=PrometheusSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _ConfigFileSource(settings_cls), file_secret_settings)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone(value)  # raises ValueError saying what to set
        return value

    @model_validator(mode="before")
    @classmethod
    def _warn_replaced_radius_limits(cls, data: Any) -> Any:
        """RADIUS had failed-login limits of its own; say which setting replaced each, instead of ignoring it."""
        if isinstance(data, dict) and isinstance(data.get("radius"), dict):
            for key in sorted(set(data["radius"]) & set(_REPLACED_RADIUS_LIMITS)):
                logger.warning("NETMGR_RADIUS__%s is no longer read: one limit holds for the portal and RADIUS, "
                               "set %s instead", key.upper(), _REPLACED_RADIUS_LIMITS[key])
        return data

    @model_validator(mode="before")
    @classmethod
    def _map_deprecated_timezones(cls, data: Any) -> Any:
        """Read the three old per-section zones for one release: warn, and map them onto ``timezone``."""
        if not isinstance(data, dict):
            return data
        found: dict[str, str] = {}
        for section, key in _DEPRECATED_TIMEZONES:
            values = data.get(section)
            if isinstance(values, dict) and key in values:
                values = dict(values)
                found[f"NETMGR_{section.upper()}__{key.upper()}"] = str(values.pop(key))
                data = {**data, section: values}
        if not found:
            return data
        chosen = set(found.values())
        explicit = next((v for k, v in data.items() if k.lower() == "timezone"), None)
        if explicit is not None:
            chosen.add(str(explicit))
        if len(chosen) > 1:
            raise ValueError(
                f"conflicting time zones {sorted(chosen)} in {', '.join(sorted(found))}: these settings are "
                "replaced by the one NETMGR_TIMEZONE; remove them and set NETMGR_TIMEZONE only"
            )
        logger.warning("%s are deprecated and will be removed; set NETMGR_TIMEZONE=%s instead",
                       ", ".join(sorted(found)), next(iter(chosen)))
        return {**data, "timezone": next(iter(chosen))} if explicit is None else data

    @model_validator(mode="after")
    def _refuse_demo_secrets(self) -> Settings:
        if self.environment == Environment.PRODUCTION:
            if self.secret_key.get_secret_value() == DEMO_SECRET_KEY:
                raise ValueError("NETMGR_SECRET_KEY is the demo key; set a long random value for production")
            if DEMO_ENCRYPTION_KEY in self.encryption_keys.get_secret_value():
                raise ValueError(
                    "NETMGR_ENCRYPTION_KEYS holds the demo key; generate one with "
                    "`netmgr secrets generate-key` and set it for production"
                )
        return self

    @property
    def cookie_secure(self) -> bool:
        """Whether the admin session cookie carries ``Secure``: the setting, or on outside local development."""
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.environment == Environment.PRODUCTION or self.public_url.startswith("https://")

    @property
    def portal_cookie_secure(self) -> bool:
        """The captive portal's cookies: the setting, or on when the portal itself is served over https.

        Citizens often reach the portal over plain http before they have internet, so production alone does not
        make its cookies ``Secure``.
        """
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.portal.base_url.startswith("https://")

    @property
    def resolved_database_url(self) -> str:
        """The SQLAlchemy URL: the configured one, or SQLite under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'netmgr.sqlite3').resolve()}"

    @property
    def resolved_broker_url(self) -> str:
        if self.celery.broker_url:
            return self.celery.broker_url
        return f"sqla+sqlite:///{(self.data_dir / 'celery-broker.sqlite3').resolve()}"

    @property
    def resolved_result_backend(self) -> str:
        if self.celery.result_backend:
            return self.celery.result_backend
        if self.celery.broker_url.startswith("redis"):
            return self.celery.broker_url
        return f"db+sqlite:///{(self.data_dir / 'celery-results.sqlite3').resolve()}"

    @property
    def resolved_spool_dir(self) -> Path:
        """The metrics spool directory: the configured one, or ``<data_dir>/spool``."""
        return self.influx.spool_dir if self.influx.spool_dir is not None else self.data_dir / "spool"

    def fernet_keys(self) -> list[str]:
        return [k.strip() for k in self.encryption_keys.get_secret_value().split(",") if k.strip()]


_DEPRECATED_TIMEZONES = (("snmp", "report_timezone"), ("radius", "timezone"), ("notify", "timezone"))
"""The per-section zones ``timezone`` replaced; read (with a warning) for one release."""

_REPLACED_RADIUS_LIMITS = {"max_failures_per_mac": "NETMGR_PORTAL__MAX_FAILED_ATTEMPTS",
                           "max_failures_per_ip": "NETMGR_PORTAL__MAX_FAILED_ATTEMPTS_PER_IP",
                           "failure_window_s": "NETMGR_PORTAL__LOCKOUT_S"}
"""RADIUS's own failed-login limits, replaced by the portal's, which now hold for both lanes."""


class _ConfigFileSource(PydanticBaseSettingsSource):
    """Reads ``NETMGR_CONFIG_FILE`` (YAML, or JSON which YAML also parses) if it is set."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get("NETMGR_CONFIG_FILE")
        if not path:
            return {}
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path} must hold a mapping of settings at the top level")
        return data


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
