"""Inventory schemas. Secrets are write-only: accepted on create/update, never read back."""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from netmgr.models.enums import (
    BillingModel,
    DeviceRole,
    DeviceStatus,
    Platform,
    SiteKind,
    SnmpAuthProtocol,
    SnmpPrivProtocol,
    SnmpVersion,
)

Name = Annotated[str, Field(min_length=1, max_length=100)]
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_RE = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


def check_mgmt_address(value: str) -> str:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        # An all-numeric last label is never a host name (RFC 1123 2.1): "10.0.0.300" is a bad IP address.
        if _HOST_RE.match(value) and not value.rsplit(".", 1)[-1].isdigit():
            return value.lower()
    raise ValueError(f"{value!r} is not an IP address or host name")


def check_device_name(value: str) -> str:
    value = value.strip()
    if not _NAME_RE.match(value):
        raise ValueError("use letters, digits, dot, dash and underscore only, starting with a letter or digit")
    return value


class _Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- agencies ---------------------------------------------------------------------------------


class AgencyCreate(BaseModel):
    code: Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[A-Z0-9][A-Z0-9_-]*$")]
    name: Annotated[str, Field(min_length=2, max_length=200)]
    contact_email: str | None = None
    notes: str = ""


class AgencyUpdate(BaseModel):
    code: Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[A-Z0-9][A-Z0-9_-]*$")] | None = None
    name: Annotated[str, Field(min_length=2, max_length=200)] | None = None
    contact_email: str | None = None
    notes: str | None = None


class AgencyRead(_Orm):
    id: int
    code: str
    name: str
    contact_email: str | None
    notes: str


# --- sites ------------------------------------------------------------------------------------


class _SiteFields(BaseModel):
    address: str = ""
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    notes: str = ""


class SiteCreate(_SiteFields):
    name: Annotated[str, Field(min_length=2, max_length=200)]
    kind: SiteKind
    agency_id: int | None = None


class SiteUpdate(BaseModel):
    name: Annotated[str, Field(min_length=2, max_length=200)] | None = None
    kind: SiteKind | None = None
    agency_id: int | None = None
    address: str | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    notes: str | None = None


class SiteRead(_Orm):
    id: int
    name: str
    kind: SiteKind
    agency_id: int | None
    address: str
    latitude: float | None
    longitude: float | None
    notes: str
    device_count: int = 0
    devices_down: int = 0


# --- devices ----------------------------------------------------------------------------------


class DeviceSecrets(BaseModel):
    """Write-only secret fields. Send an empty string to clear one; omit it to keep it."""

    snmp_community: SecretStr | None = None
    snmp_v3_auth_key: SecretStr | None = None
    snmp_v3_priv_key: SecretStr | None = None
    ssh_password: SecretStr | None = None
    radius_secret: SecretStr | None = None


class DeviceCreate(DeviceSecrets):
    name: Name
    site_id: int
    role: DeviceRole
    platform: Platform
    mgmt_address: str
    ssh_port: Annotated[int, Field(ge=1, le=65535)] = 22
    snmp_port: Annotated[int, Field(ge=1, le=65535)] = 161
    snmp_version: SnmpVersion = SnmpVersion.V2C
    snmp_v3_user: str | None = None
    snmp_v3_auth_protocol: SnmpAuthProtocol | None = None
    snmp_v3_priv_protocol: SnmpPrivProtocol | None = None
    snmp_context: str | None = None
    ssh_username: str | None = None
    tags: list[str] = Field(default_factory=list)
    vendor: str = ""
    model: str = ""
    serial: str = ""
    notes: str = ""

    _name = field_validator("name")(check_device_name)
    _addr = field_validator("mgmt_address")(check_mgmt_address)

    @model_validator(mode="after")
    def _v3_needs_user_and_keys(self) -> DeviceCreate:
        if self.snmp_version == SnmpVersion.V3:
            if not self.snmp_v3_user:
                raise ValueError("snmp_v3_user is required for SNMP v3 (authPriv)")
            if self.snmp_v3_auth_key is None or self.snmp_v3_priv_key is None:
                raise ValueError("snmp_v3_auth_key and snmp_v3_priv_key are required for SNMP v3 (authPriv)")
            for key in (self.snmp_v3_auth_key, self.snmp_v3_priv_key):
                if len(key.get_secret_value()) < 8:
                    raise ValueError("SNMP v3 keys must be at least 8 characters (RFC 3414)")
            self.snmp_v3_auth_protocol = self.snmp_v3_auth_protocol or SnmpAuthProtocol.SHA
            self.snmp_v3_priv_protocol = self.snmp_v3_priv_protocol or SnmpPrivProtocol.AES
        return self


class DeviceUpdate(DeviceSecrets):
    name: Name | None = None
    site_id: int | None = None
    role: DeviceRole | None = None
    platform: Platform | None = None
    mgmt_address: str | None = None
    ssh_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    snmp_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    snmp_version: SnmpVersion | None = None
    snmp_v3_user: str | None = None
    snmp_v3_auth_protocol: SnmpAuthProtocol | None = None
    snmp_v3_priv_protocol: SnmpPrivProtocol | None = None
    snmp_context: str | None = None
    ssh_username: str | None = None
    tags: list[str] | None = None
    vendor: str | None = None
    model: str | None = None
    serial: str | None = None
    notes: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        return None if v is None else check_device_name(v)

    @field_validator("mgmt_address")
    @classmethod
    def _addr(cls, v: str | None) -> str | None:
        return None if v is None else check_mgmt_address(v)


class DeviceRead(_Orm):
    id: int
    name: str
    site_id: int
    role: DeviceRole
    platform: Platform
    mgmt_address: str
    ssh_port: int
    snmp_port: int
    snmp_version: SnmpVersion
    snmp_v3_user: str | None
    snmp_v3_auth_protocol: SnmpAuthProtocol | None
    snmp_v3_priv_protocol: SnmpPrivProtocol | None
    snmp_context: str | None
    ssh_username: str | None
    tags: list[str]
    vendor: str
    model: str
    os_version: str
    serial: str
    status: DeviceStatus
    status_changed_at: datetime | None
    last_seen_at: datetime | None
    last_latency_ms: float | None
    ping_status: DeviceStatus
    ping_checked_at: datetime | None
    ping_rtt_ms: float | None
    ping_loss_percent: float | None
    reachability: str
    """``up``, ``snmp_silent`` (answers ping, not SNMP), ``unreachable`` or ``unknown``."""
    notes: str
    has_snmp_community: bool
    has_snmp_v3_keys: bool
    has_ssh_password: bool
    has_radius_secret: bool


class InterfaceRead(_Orm):
    id: int
    device_id: int
    if_index: int | None
    name: str
    descr: str
    alias: str
    if_type: int | None
    speed_mbps: int | None
    mac: str
    admin_status: str
    oper_status: str
    monitored: bool
    agency_id: int | None


class InterfaceUpdate(BaseModel):
    alias: str | None = None
    monitored: bool | None = None
    agency_id: int | None = None


# --- uplinks ----------------------------------------------------------------------------------


class _UplinkFields(BaseModel):
    isp_name: Annotated[str, Field(min_length=2, max_length=100)]
    device_id: int | None = None
    interface_name: str = ""
    capacity_down_mbps: Annotated[int, Field(gt=0, le=400_000)]
    capacity_up_mbps: Annotated[int, Field(gt=0, le=400_000)]
    monthly_price_idr: Annotated[int, Field(ge=0)]
    tax_percent: Annotated[float, Field(ge=0, le=100)] = 11.0
    billing_model: BillingModel = BillingModel.FLAT
    committed_mbps: Annotated[int, Field(gt=0)] | None = None
    price_per_gb_idr: Annotated[int, Field(ge=0)] | None = None
    contract_start: date | None = None
    contract_end: date | None = None
    sla_availability_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    sla_max_latency_ms: Annotated[float, Field(gt=0, le=60_000)] | None = None
    sla_max_loss_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    sla_restitution_cap_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    probe_address: str | None = None
    """The far end to ping for this uplink's availability, latency and loss (e.g. the ISP gateway)."""
    notes: str = ""

    @field_validator("probe_address")
    @classmethod
    def _probe(cls, v: str | None) -> str | None:
        return check_mgmt_address(v) if v and v.strip() else None


class UplinkCreate(_UplinkFields):
    name: Name

    @model_validator(mode="after")
    def _consistent(self) -> UplinkCreate:
        if self.contract_start and self.contract_end and self.contract_end < self.contract_start:
            raise ValueError("contract_end is before contract_start")
        if self.billing_model == BillingModel.PER_GB and self.price_per_gb_idr is None:
            raise ValueError("price_per_gb_idr is required for per-GB billing")
        if self.billing_model == BillingModel.BURSTABLE_95TH and self.committed_mbps is None:
            raise ValueError("committed_mbps is required for 95th-percentile billing")
        if self.interface_name and self.device_id is None:
            raise ValueError("interface_name needs device_id (the router that carries the uplink)")
        return self


class UplinkUpdate(BaseModel):
    name: Name | None = None
    isp_name: str | None = None
    device_id: int | None = None
    interface_name: str | None = None
    capacity_down_mbps: Annotated[int, Field(gt=0, le=400_000)] | None = None
    capacity_up_mbps: Annotated[int, Field(gt=0, le=400_000)] | None = None
    monthly_price_idr: Annotated[int, Field(ge=0)] | None = None
    tax_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    billing_model: BillingModel | None = None
    committed_mbps: int | None = None
    price_per_gb_idr: int | None = None
    contract_start: date | None = None
    contract_end: date | None = None
    sla_availability_percent: float | None = None
    sla_max_latency_ms: Annotated[float, Field(gt=0, le=60_000)] | None = None
    sla_max_loss_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    sla_restitution_cap_percent: Annotated[float, Field(ge=0, le=100)] | None = None
    probe_address: str | None = None
    notes: str | None = None

    @field_validator("probe_address")
    @classmethod
    def _probe(cls, v: str | None) -> str | None:
        return check_mgmt_address(v) if v and v.strip() else None


class UplinkRead(_Orm):
    id: int
    name: str
    isp_name: str
    device_id: int | None
    interface_id: int | None
    interface_name: str
    capacity_down_mbps: int
    capacity_up_mbps: int
    monthly_price_idr: int
    tax_percent: float
    monthly_price_with_tax_idr: int
    billing_model: BillingModel
    committed_mbps: int | None
    price_per_gb_idr: int | None
    contract_start: date | None
    contract_end: date | None
    sla_availability_percent: float | None
    sla_max_latency_ms: float | None
    sla_max_loss_percent: float | None
    sla_restitution_cap_percent: float | None
    probe_address: str | None
    ping_status: DeviceStatus
    ping_checked_at: datetime | None
    ping_rtt_ms: float | None
    ping_loss_percent: float | None
    notes: str
