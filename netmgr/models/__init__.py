"""ORM models. Importing this package registers every table on ``Base.metadata``."""

from netmgr.models.auth import ApiToken, AuditLog, User
from netmgr.models.base import Base
from netmgr.models.hotspot import (
    AccessGrant,
    ConsentRecord,
    Hotspot,
    HotspotPolicy,
    HotspotSession,
    LoginAttempt,
    OtpChallenge,
    Subscriber,
    SubscriberDevice,
    Voucher,
    VoucherBatch,
)
from netmgr.models.inventory import Agency, Device, Interface, Site, Tag, Uplink, device_tags
from netmgr.models.monitoring import DeviceEvent
from netmgr.models.provisioning import (
    ConfigBackup,
    ConfigTemplate,
    ConfigTemplateVersion,
    ConfigText,
    DeviceLock,
    ProvisionJob,
    ProvisionResultRecord,
)

__all__ = [
    "AccessGrant",
    "ConsentRecord",
    "Hotspot",
    "HotspotPolicy",
    "HotspotSession",
    "LoginAttempt",
    "OtpChallenge",
    "Subscriber",
    "SubscriberDevice",
    "Voucher",
    "VoucherBatch",
    "Agency",
    "ApiToken",
    "AuditLog",
    "Base",
    "ConfigBackup",
    "ConfigTemplate",
    "ConfigTemplateVersion",
    "ConfigText",
    "DeviceLock",
    "Device",
    "DeviceEvent",
    "Interface",
    "ProvisionJob",
    "ProvisionResultRecord",
    "Site",
    "Tag",
    "Uplink",
    "User",
    "device_tags",
]
