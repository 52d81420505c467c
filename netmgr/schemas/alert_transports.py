"""API shapes of alert transports (e-mail, Telegram, HTTP gateway) and the routes that send alerts to them.

A secret goes in (``secret``) but never comes back: reads only say whether one is set (``secret_set``).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from netmgr.i18n import N_
from netmgr.models.alerts import AlertSeverity, TransportKind

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class AlertTransportCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="e.g. 'Grup Telegram NOC'")
    kind: TransportKind
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict, description=(
        "email: host, port, starttls, user, sender, recipients; telegram: api_url, chat_ids; "
        "http: url, method, headers, body, recipients, success_status, success_contains"))
    secret: str | None = Field(None, max_length=2000, description="SMTP password, bot token or gateway token")


class AlertTransportUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    enabled: bool | None = None
    config: dict[str, Any] | None = None
    secret: str | None = Field(None, max_length=2000, description="a new secret; '' removes it; absent keeps it")


class AlertRouteCreate(BaseModel):
    site_id: int | None = Field(None, ge=1, le=2**31 - 1)
    agency_id: int | None = Field(None, ge=1, le=2**31 - 1)
    min_severity: AlertSeverity = AlertSeverity.WARNING
    start: str | None = Field(None, description="HH:MM, installation time")
    end: str | None = Field(None, description="HH:MM, installation time; before start: crosses midnight")

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not _HHMM.match(value):
            raise ValueError(N_("Enter a time as HH:MM, e.g. 07:30."))
        return value


class AlertRouteRead(AlertRouteCreate):
    model_config = ConfigDict(from_attributes=True)
    id: int


class AlertTransportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: TransportKind
    enabled: bool
    config: dict[str, Any]
    secret_set: bool
    routes: list[AlertRouteRead]


class TestDeliveryRead(BaseModel):
    recipient: str
    ok: bool
    error: str
