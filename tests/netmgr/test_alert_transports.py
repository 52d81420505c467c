"""Alert transports stored from the UI/API: secrets encrypted and never read back, routing by site, agency,
severity and local time of day (table-driven), and rotate-key covering the new secret column."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from netmgr.errors import Conflict, PermissionDenied, ValidationFailed
from netmgr.models.alerts import AlertRoute, AlertSeverity, AlertTransport, TransportKind
from netmgr.models.enums import Role
from netmgr.schemas.alert_transports import AlertRouteCreate, AlertTransportCreate, AlertTransportUpdate
from netmgr.security.permissions import SYSTEM, Actor
from netmgr.security.secrets import SecretBox
from netmgr.services import alert_transports as svc
from netmgr.services.secrets_rotation import encrypted_columns
from tests import factories
from tests.conftest import TEST_ENCRYPTION_KEY

TOKEN = "123456:ABC-rahasia"  # noqa: S105 - a fake bot token
WIB = "Asia/Jakarta"


def _telegram(session: Session, name: str = "Grup NOC", **extra: object) -> AlertTransport:
    data = AlertTransportCreate(name=name, kind=TransportKind.TELEGRAM, config={"chat_ids": ["-100123"]},
                                secret=TOKEN, **extra)  # type: ignore[arg-type]
    return svc.create_transport(session, SYSTEM, data)


def test_the_secret_is_stored_encrypted_and_read_back_only_as_set(session: Session) -> None:
    transport = _telegram(session)
    session.commit()
    stored = session.scalar(sa.select(AlertTransport.secret_encrypted))
    assert stored and TOKEN not in stored and SecretBox([TEST_ENCRYPTION_KEY]).decrypt(stored) == TOKEN
    shown = svc.read(transport).model_dump_json()
    assert TOKEN not in shown and '"secret_set":true' in shown
    assert "secret_encrypted" in {c.name for c in encrypted_columns()[AlertTransport.__table__]}


def test_an_update_without_a_secret_keeps_it_and_an_empty_one_removes_it(session: Session) -> None:
    transport = _telegram(session)
    svc.update_transport(session, SYSTEM, transport.id, AlertTransportUpdate(config={"chat_ids": ["-100999"]}))
    assert svc.spec(session, transport).secret == TOKEN
    assert svc.spec(session, transport).config["chat_ids"] == ["-100999"]
    svc.update_transport(session, SYSTEM, transport.id, AlertTransportUpdate(secret=""))
    assert svc.read(transport).secret_set is False


def test_the_spec_never_shows_its_secret_in_repr(session: Session) -> None:
    assert TOKEN not in repr(svc.spec(session, _telegram(session)))


def test_invalid_configs_and_duplicate_names_are_refused_naming_the_field(session: Session) -> None:
    with pytest.raises(ValidationFailed, match="needs this field") as missing:
        svc.create_transport(session, SYSTEM, AlertTransportCreate(
            name="Surel", kind=TransportKind.EMAIL, config={"host": "mail.kotimkab.go.id"}))
    assert missing.value.field == "sender"
    with pytest.raises(ValidationFailed, match="secret field") as in_config:
        svc.create_transport(session, SYSTEM, AlertTransportCreate(
            name="Bot", kind=TransportKind.TELEGRAM, config={"chat_ids": ["-1"], "bot_token": TOKEN}))
    assert in_config.value.field == "secret"
    _telegram(session)
    with pytest.raises(Conflict, match="already exists"):
        _telegram(session)


def test_only_roles_that_write_secrets_manage_transports(session: Session) -> None:
    viewer = Actor(user_id=None, username="dinkes", role=Role.AGENCY_VIEWER)
    with pytest.raises(PermissionDenied):
        svc.create_transport(session, viewer, AlertTransportCreate(
            name="x", kind=TransportKind.TELEGRAM, config={"chat_ids": ["-1"]}))


def test_deleting_a_transport_deletes_its_routes(session: Session) -> None:
    transport = _telegram(session)
    svc.add_route(session, SYSTEM, transport.id, AlertRouteCreate(min_severity=AlertSeverity.CRITICAL))
    svc.delete_transport(session, SYSTEM, transport.id)
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(AlertRoute)) == 0


W, C = AlertSeverity.WARNING, AlertSeverity.CRITICAL


@pytest.mark.parametrize(("start", "end", "moment", "inside"), [
    (None, None, time(3, 0), True),
    ("07:00", "16:00", time(7, 0), True),
    ("07:00", "16:00", time(15, 59), True),
    ("07:00", "16:00", time(16, 0), False),
    ("07:00", "16:00", time(6, 59), False),
    ("22:00", "06:00", time(23, 30), True),
    ("22:00", "06:00", time(5, 59), True),
    ("22:00", "06:00", time(12, 0), False),
])
def test_time_of_day_windows(start: str | None, end: str | None, moment: time, inside: bool) -> None:
    assert svc.in_window(start, end, moment) is inside


@pytest.mark.parametrize(("route", "alert", "matches"), [
    ({}, {"site_id": 5, "agency_id": 2, "severity": W}, True),
    ({"site_id": 5}, {"site_id": 5, "agency_id": None, "severity": W}, True),
    ({"site_id": 5}, {"site_id": 6, "agency_id": None, "severity": W}, False),
    ({"agency_id": 2}, {"site_id": 5, "agency_id": 2, "severity": C}, True),
    ({"agency_id": 2}, {"site_id": 5, "agency_id": None, "severity": C}, False),
    ({"min_severity": C}, {"site_id": 5, "agency_id": 2, "severity": W}, False),
    ({"min_severity": C}, {"site_id": 5, "agency_id": 2, "severity": C}, True),
    ({"min_severity": W}, {"site_id": None, "agency_id": None, "severity": C}, True),
])
def test_routes_match_site_agency_and_severity(route: dict[str, object], alert: dict[str, object],
                                               matches: bool) -> None:
    row = AlertRoute(site_id=route.get("site_id"), agency_id=route.get("agency_id"),
                     min_severity=route.get("min_severity", W), start=None, end=None)
    assert svc.route_matches(row, local_time=time(12, 0), **alert) is matches  # type: ignore[arg-type]


def test_transports_for_an_alert_follow_routes_in_installation_time(session: Session) -> None:
    agency = factories.agency(session)
    site = factories.site(session, agency_id=agency.id)
    everything = _telegram(session, "Semua")
    office_hours = _telegram(session, "Jam kerja dinas")
    svc.add_route(session, SYSTEM, office_hours.id, AlertRouteCreate(agency_id=agency.id, start="07:00", end="16:00"))
    night = _telegram(session, "Piket malam kritis")
    svc.add_route(session, SYSTEM, night.id, AlertRouteCreate(min_severity=C, start="16:00", end="07:00"))
    off = _telegram(session, "Mati", enabled=False)
    session.commit()

    def names(severity: AlertSeverity, utc_hour: int, site_id: int | None = site.id) -> set[str]:
        now = datetime(2026, 3, 2, utc_hour, 0, tzinfo=UTC)
        return {t.name for t in svc.transports_for(session, site_id=site_id, agency_id=agency.id if site_id else None,
                                                   severity=severity, now=now, tz=WIB)}

    assert names(W, 3) == {"Semua", "Jam kerja dinas"}  # 10:00 WIB
    assert names(C, 3) == {"Semua", "Jam kerja dinas"}
    assert names(C, 14) == {"Semua", "Piket malam kritis"}  # 21:00 WIB
    assert names(W, 14) == {"Semua"}
    assert names(W, 3, site_id=None) == {"Semua"}
    assert off.name not in names(C, 3) and everything.enabled


def test_invalid_time_of_day_is_refused() -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        AlertRouteCreate(start="7 pagi", end="16:00")
