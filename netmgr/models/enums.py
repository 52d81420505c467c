"""Choices used by the models, as StrEnums with stable lowercase values."""

from __future__ import annotations

from enum import StrEnum


class SiteKind(StrEnum):
    OFFICE = "office"
    PUBLIC_HOTSPOT = "public_hotspot"
    POP = "pop"


class DeviceRole(StrEnum):
    CORE_ROUTER = "core_router"
    DISTRIBUTION = "distribution"
    ACCESS_POINT = "access_point"
    HOTSPOT_GATEWAY = "hotspot_gateway"


class Platform(StrEnum):
    """netmiko ``device_type`` strings where one exists, so a platform goes straight to ConnectHandler."""

    MIKROTIK_ROUTEROS = "mikrotik_routeros"
    CISCO_IOS = "cisco_ios"
    UBIQUITI_UNIFI = "ubiquiti_unifi"
    UBIQUITI_AIROS = "ubiquiti_airos"
    UBIQUITI_EDGEROUTER = "ubiquiti_edgerouter"
    RUIJIE_OS = "ruijie_os"
    HUAWEI = "huawei"
    TPLINK_JETSTREAM = "tplink_jetstream"
    UBIQUITI_EDGESWITCH = "ubiquiti_edgeswitch"
    UBIQUITI_UNIFISWITCH = "ubiquiti_unifiswitch"
    FORTINET = "fortinet"
    PALOALTO_PANOS = "paloalto_panos"
    SOPHOS_SFOS = "sophos_sfos"
    HP_PROCURVE = "hp_procurve"
    ARUBA_AOSCX = "aruba_aoscx"
    ZTE_ZXROS = "zte_zxros"
    HUAWEI_OLT = "huawei_olt"
    LINUX = "linux"
    GENERIC = "generic"


class SnmpVersion(StrEnum):
    V2C = "v2c"
    V3 = "v3"


class SnmpAuthProtocol(StrEnum):
    SHA = "sha"
    SHA256 = "sha256"
    MD5 = "md5"


class SnmpPrivProtocol(StrEnum):
    AES = "aes"
    AES256 = "aes256"
    DES = "des"


class DeviceStatus(StrEnum):
    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"


class BillingModel(StrEnum):
    FLAT = "flat"
    BURSTABLE_95TH = "burstable_95th"
    PER_GB = "per_gb"


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    FINANCE = "finance"
    AGENCY_VIEWER = "agency_viewer"
    LEADERSHIP = "leadership"
    """The Bupati's office: reads the public-service dashboard and its open data, nothing else."""
