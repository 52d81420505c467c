"""Alert reasons: stored evidence worded in each language and time zone, and old or odd reasons never break a page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from netmgr.services import alert_reasons as reasons

AT = datetime(2026, 3, 2, 7, 2, tzinfo=UTC)


@pytest.mark.parametrize(("lang", "tz", "expected"), [
    ("id", "Asia/Jakarta", "ping 0/3 balasan dari 10.2.3.4 pukul 14:02 WIB"),
    ("id", "Asia/Makassar", "ping 0/3 balasan dari 10.2.3.4 pukul 15:02 WITA"),
    ("en", "Asia/Jayapura", "ping 0/3 replies from 10.2.3.4 at 16:02 WIT"),
])
def test_a_ping_check_reads_in_the_language_and_zone_of_the_reader(lang: str, tz: str, expected: str) -> None:
    reason = [reasons.ping_check(address="10.2.3.4", sent=3, received=0, at=AT)]
    assert reasons.describe_in(reason, lang, tz) == expected


def test_checks_are_joined_and_measurements_rounded_for_people() -> None:
    reason = [reasons.check("traffic", direction="up", percent=96.44, capacity=200, minutes=10),
              reasons.check("errors", errors=240, previous=12, minutes=15)]
    assert reasons.describe_in(reason, "id", "Asia/Jakarta") == (
        "arah unggah terpakai 96% dari 200 Mbps selama 10 menit terakhir; "
        "240 galat antarmuka dalam 15 menit (sebelumnya: 12)")


@pytest.mark.parametrize("reason", [
    [{"check": "ping", "address": "10.2.3.4"}],  # evidence missing (an older release wrote less)
    [{"check": "satellite", "dish": "wet"}],  # a check this release does not know
])
def test_a_reason_this_release_cannot_word_names_its_check_instead_of_failing(reason: list[dict[str, str]]) -> None:
    text = reasons.describe_in(reason, "en", "Asia/Jakarta")
    assert text == f"check {reason[0]['check']} failed"


def test_no_reason_reads_as_nothing() -> None:
    assert reasons.describe_in(None, "id", "Asia/Jakarta") == "" == reasons.describe_in([], "en", "Asia/Jakarta")
