"""The portal's daily allowances (free click-through logins, a device's daily time) reset at local midnight in the
installation's zone (``NETMGR_TIMEZONE``): WIB, WITA or WIT, never at Jakarta's midnight in a WITA regency."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from captive_portal.decisions import RefusalReason
from captive_portal.login_methods import LoginContext, LoginRefused, login_with_terms
from captive_portal.login_methods.base import mark_grant_used
from netmgr.models import HotspotSession, PortalConfig
from netmgr.models.hotspot import SessionStatus
from netmgr.models.portal import GatewayKind
from netmgr.settings import Settings
from tests.captive_portal import portal_support as ps
from tests.zones import ZONES, local


def _ctx(session: Session, hotspot_id: int, *, now: datetime, settings: Settings) -> LoginContext:
    from netmgr.models import Hotspot

    hotspot = session.get(Hotspot, hotspot_id)
    config = session.scalar(select(PortalConfig).where(PortalConfig.hotspot_id == hotspot_id))
    assert hotspot is not None and config is not None
    return LoginContext(hotspot=hotspot, config=config, portal=settings.portal, mac=ps.CLIENT_MAC, ip=ps.CLIENT_IP,
                        language="id", now=now, timezone=settings.timezone)


def _free_login(session: Session, hotspot_id: int, now: datetime, settings: Settings) -> None:
    result = login_with_terms(session, _ctx(session, hotspot_id, now=now, settings=settings))
    mark_grant_used(session, result.credentials.username, now)
    session.commit()


@pytest.mark.parametrize("tz", ZONES)
def test_the_free_login_of_the_day_comes_back_at_local_midnight(session: Session, tz: str) -> None:
    settings = Settings(timezone=tz)
    h = ps.hotspot(session, kind=GatewayKind.OPENNDS, free_logins_per_day=1)
    _free_login(session, h.id, local(tz, 2026, 1, 31, 23, 50), settings)

    with pytest.raises(LoginRefused) as refused:
        _free_login(session, h.id, local(tz, 2026, 1, 31, 23, 59), settings)
    assert refused.value.reason == RefusalReason.FREE_SESSION_USED
    session.rollback()
    _free_login(session, h.id, local(tz, 2026, 2, 1, 0, 0), settings)  # a new local day, whatever UTC says
    with pytest.raises(LoginRefused):
        _free_login(session, h.id, local(tz, 2026, 2, 1, 0, 1), settings)


@pytest.mark.parametrize("tz", ZONES)
def test_a_devices_daily_time_counts_only_sessions_since_local_midnight(session: Session, tz: str) -> None:
    settings = Settings(timezone=tz)
    h = ps.hotspot(session, kind=GatewayKind.OPENNDS, free_logins_per_day=10)  # the policy: 3600 s a day
    assert h.gateway_device_id is not None
    yesterday = local(tz, 2026, 1, 31, 23, 0)
    session.add(HotspotSession(hotspot_id=h.id, nas_device_id=h.gateway_device_id, acct_session_id="late-evening",
                               mac=ps.CLIENT_MAC, status=SessionStatus.CLOSED, started_at=yesterday,
                               last_update_at=yesterday + timedelta(hours=1), session_time_s=3600))
    session.commit()

    _free_login(session, h.id, local(tz, 2026, 2, 1, 0, 5), settings)  # yesterday's hour does not count today
    session.add(HotspotSession(hotspot_id=h.id, nas_device_id=h.gateway_device_id, acct_session_id="after-midnight",
                               mac=ps.CLIENT_MAC, status=SessionStatus.CLOSED, started_at=local(tz, 2026, 2, 1, 0, 5),
                               last_update_at=local(tz, 2026, 2, 1, 1, 5), session_time_s=3600))
    session.commit()
    with pytest.raises(LoginRefused) as refused:
        _free_login(session, h.id, local(tz, 2026, 2, 1, 1, 10), settings)
    assert refused.value.reason == RefusalReason.DEVICE_TIME_USED
