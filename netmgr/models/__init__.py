"""ORM models. Importing this package registers every table on ``Base.metadata``."""

from netmgr.models.auth import ApiToken, AuditLog, User
from netmgr.models.base import Base
from netmgr.models.inventory import Agency, Device, Interface, Site, Tag, Uplink, device_tags
from netmgr.models.monitoring import DeviceEvent

__all__ = [
    "Agency",
    "ApiToken",
    "AuditLog",
    "Base",
    "Device",
    "DeviceEvent",
    "Interface",
    "Site",
    "Tag",
    "Uplink",
    "User",
    "device_tags",
]
