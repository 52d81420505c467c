"""Policy arithmetic and how one allowance is rendered for each NAS dialect."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from captive_portal.decisions import Refusal, RefusalReason, exhausted, grant_for
from captive_portal.dialects import POLICY_ATTRIBUTES, render
from captive_portal.policies import Allowance, PolicyLimits, Usage, join_gigawords, split_gigawords
from netmgr.errors import NotFound

ALLOWANCE = Allowance(session_timeout_s=3600, idle_timeout_s=600, interim_interval_s=300, rate_down_kbps=5000,
                      rate_up_kbps=2000, data_bytes=5 * 2**32 + 123)


def test_mikrotik_rate_limit_puts_the_citizens_upload_first() -> None:
    attrs = render("mikrotik", ALLOWANCE)

    assert attrs == {
        "Session-Timeout": 3600, "Idle-Timeout": 600, "Acct-Interim-Interval": 300,
        "Mikrotik-Rate-Limit": "2000k/5000k",
        "Mikrotik-Total-Limit": 123, "Mikrotik-Total-Limit-Gigawords": 5,
    }


def test_coovachilli_gets_wispr_bandwidth_in_bits_per_second_and_octets_with_gigawords() -> None:
    attrs = render("coovachilli", ALLOWANCE)

    assert attrs["WISPr-Bandwidth-Max-Down"] == 5_000_000
    assert attrs["WISPr-Bandwidth-Max-Up"] == 2_000_000
    assert (attrs["ChilliSpot-Max-Total-Gigawords"], attrs["ChilliSpot-Max-Total-Octets"]) == (5, 123)
    assert "Mikrotik-Rate-Limit" not in attrs


def test_pfsense_gets_vendor_13644_bandwidth_and_a_clamped_32_bit_quota() -> None:
    attrs = render("pfsense", ALLOWANCE)

    assert attrs["pfSense-Bandwidth-Max-Down"] == 5_000_000
    assert attrs["pfSense-Bandwidth-Max-Up"] == 2_000_000
    assert attrs["pfSense-Max-Total-Octets"] == 2**32 - 1
    assert attrs["Session-Timeout"] == 3600


def test_unlimited_allowance_sends_only_the_timers() -> None:
    unlimited = Allowance(session_timeout_s=None, idle_timeout_s=None, interim_interval_s=60, rate_down_kbps=None,
                          rate_up_kbps=None, data_bytes=None)

    for dialect in ("mikrotik", "coovachilli", "pfsense"):
        assert render(dialect, unlimited) == {"Acct-Interim-Interval": 60}


def test_only_a_download_limit_leaves_mikrotik_upload_unlimited() -> None:
    allowance = Allowance(None, None, 300, rate_down_kbps=1000, rate_up_kbps=None, data_bytes=None)

    assert render("mikrotik", allowance)["Mikrotik-Rate-Limit"] == "0k/1000k"


def test_unknown_dialect_lists_the_known_ones() -> None:
    with pytest.raises(NotFound, match="coovachilli, mikrotik, pfsense"):
        render("ruijie", ALLOWANCE)


def test_every_rendered_attribute_is_stripped_from_rejects() -> None:
    for dialect in ("mikrotik", "coovachilli", "pfsense"):
        assert set(render(dialect, ALLOWANCE)) <= set(POLICY_ATTRIBUTES)


def test_session_timeout_is_the_least_of_policy_timeout_and_remaining_quotas() -> None:
    limits = PolicyLimits(session_timeout_s=7200, device_daily_time_s=5400, person_daily_time_s=3600)

    grant = grant_for(limits, device_today=Usage(time_s=1800), person_today=Usage(time_s=600))

    assert isinstance(grant, Allowance)
    assert grant.session_timeout_s == 3000  # person: 3600 - 600 is less than device: 5400 - 1800 and 7200


def test_remaining_data_is_the_least_of_device_and_person_quota() -> None:
    limits = PolicyLimits(device_daily_bytes=1000, person_daily_bytes=5000)

    grant = grant_for(limits, device_today=Usage(octets=400), person_today=Usage(octets=4800))

    assert isinstance(grant, Allowance) and grant.data_bytes == 200


@pytest.mark.parametrize(("device", "person", "code"), [
    (Usage(time_s=3600), Usage(), RefusalReason.DEVICE_TIME_USED),
    (Usage(), Usage(time_s=7200), RefusalReason.PERSON_TIME_USED),
    (Usage(octets=10**9), Usage(), RefusalReason.DEVICE_DATA_USED),
    (Usage(), Usage(octets=2 * 10**9), RefusalReason.PERSON_DATA_USED),
])
def test_used_up_quota_refuses_with_its_reason(device: Usage, person: Usage, code: RefusalReason) -> None:
    limits = PolicyLimits(device_daily_time_s=3600, person_daily_time_s=7200, device_daily_bytes=10**9,
                          person_daily_bytes=2 * 10**9)

    assert grant_for(limits, device_today=device, person_today=person) == Refusal(code)


def test_voucher_lifetime_caps_the_session_timeout() -> None:
    grant = grant_for(PolicyLimits(session_timeout_s=7200), device_today=Usage(), person_today=Usage(),
                      valid_for_s=900)

    assert isinstance(grant, Allowance) and grant.session_timeout_s == 900


def test_session_is_exhausted_once_it_reaches_its_allowance() -> None:
    assert exhausted(allowance_bytes=100, allowance_time_s=None, used=Usage(octets=99)) is None
    assert exhausted(allowance_bytes=100, allowance_time_s=None, used=Usage(octets=100)) is not None
    assert exhausted(allowance_bytes=None, allowance_time_s=60, used=Usage(time_s=61)) is not None
    assert exhausted(allowance_bytes=None, allowance_time_s=None, used=Usage(10**9, 10**15)) is None


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_gigawords_split_and_join_round_trip(octets: int) -> None:
    gigawords, low = split_gigawords(octets)

    assert 0 <= low < 2**32
    assert join_gigawords(gigawords, low) == octets
