"""The installation's one time zone: local days and months as UTC bounds, zone labels, and the setting itself."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from netmgr import localtime
from netmgr.settings import Settings
from tests.zones import ZONES, local


def test_day_start_is_jakarta_midnight_expressed_in_utc() -> None:
    start = localtime.local_day_start(datetime(2026, 11, 22, 17, 40, tzinfo=UTC), "Asia/Jakarta")  # 00:40 WIB
    assert start == datetime(2026, 11, 22, 17, 0, tzinfo=UTC) and start.utcoffset() == timedelta(0)


@pytest.mark.parametrize("tz", ZONES)
def test_the_minute_before_local_midnight_is_yesterday_and_midnight_is_today(tz: str) -> None:
    midnight = local(tz, 2026, 2, 1)
    assert localtime.local_day_start(midnight - timedelta(minutes=1), tz) == local(tz, 2026, 1, 31)
    assert localtime.local_day_start(midnight, tz) == midnight
    assert localtime.local_day_bounds(midnight + timedelta(minutes=1), tz) == (midnight, local(tz, 2026, 2, 2))


@pytest.mark.parametrize(("tz", "hours"), [("Asia/Jakarta", 7), ("Asia/Makassar", 8), ("Asia/Jayapura", 9)])
def test_a_local_month_starts_at_local_midnight_of_its_first_day_in_utc(tz: str, hours: int) -> None:
    start, end = localtime.month_bounds_utc(date(2026, 2, 1), tz)
    assert start == datetime(2026, 2, 1, tzinfo=UTC) - timedelta(hours=hours)
    assert end == datetime(2026, 3, 1, tzinfo=UTC) - timedelta(hours=hours)
    assert localtime.local_month(local(tz, 2026, 1, 31, 23, 59), tz) == date(2026, 1, 1)
    assert localtime.local_month(datetime(2026, 1, 31, 16, 0, tzinfo=UTC), tz) == date(2026, 1 if hours < 8 else 2, 1)


@pytest.mark.parametrize(("tz", "label"), [("Asia/Jakarta", "WIB"), ("Asia/Pontianak", "WIB"),
                                           ("Asia/Makassar", "WITA"), ("Asia/Jayapura", "WIT"),
                                           ("Asia/Singapore", "UTC+08:00")])
def test_the_zone_label_is_indonesias_own_name(tz: str, label: str) -> None:
    assert localtime.zone_label(tz) == label


def test_the_timezone_setting_defaults_to_wib_and_takes_any_iana_zone() -> None:
    assert Settings().timezone == "Asia/Jakarta"
    assert Settings(timezone="Asia/Makassar").timezone == "Asia/Makassar"


def test_a_timezone_that_is_not_an_iana_zone_is_refused_with_the_fix() -> None:
    with pytest.raises(ValidationError, match="NETMGR_TIMEZONE='WITA' is not an IANA time zone; set Asia/Jakarta"):
        Settings(timezone="WITA")


def test_the_old_per_section_zones_still_set_the_one_zone_with_a_warning(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("NETMGR_RADIUS__TIMEZONE", "Asia/Makassar")
    monkeypatch.setenv("NETMGR_SNMP__REPORT_TIMEZONE", "Asia/Makassar")
    with caplog.at_level(logging.WARNING, logger="netmgr.settings"):
        settings = Settings()
    assert settings.timezone == "Asia/Makassar"
    assert "NETMGR_RADIUS__TIMEZONE, NETMGR_SNMP__REPORT_TIMEZONE are deprecated" in caplog.text
    assert "set NETMGR_TIMEZONE=Asia/Makassar instead" in caplog.text


def test_old_per_section_zones_that_disagree_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETMGR_RADIUS__TIMEZONE", "Asia/Makassar")
    monkeypatch.setenv("NETMGR_TIMEZONE", "Asia/Jayapura")
    with pytest.raises(ValidationError, match="conflicting time zones .*set NETMGR_TIMEZONE only"):
        Settings()
