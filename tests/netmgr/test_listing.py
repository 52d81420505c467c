"""The shared list request: every value from the query string is bounded, and only a known key sorts."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from netmgr.errors import ValidationFailed
from netmgr.models import Device
from netmgr.services.devices import SORTING
from netmgr.services.listing import DEFAULT_PAGE_SIZE, MAX_PAGE, PAGE_SIZES, ListRequest


@pytest.mark.parametrize("raw", ["name;DROP TABLE devices", "id", "name desc", "password", "snmp_community_encrypted",
                                 "Device.name", "", "🙂"])
def test_an_unknown_sort_key_falls_back_to_the_default(raw: str) -> None:
    assert ListRequest.parse({"sort": raw}, SORTING).sort == "name"


def test_only_a_listed_key_reaches_order_by() -> None:
    with pytest.raises(ValidationFailed):
        SORTING.order_by("name; DROP TABLE devices", False)
    sql = str(select(Device).order_by(*SORTING.order_by("status", True)).compile(dialect=postgresql.dialect()))
    assert sql.endswith("ORDER BY devices.status DESC, devices.id DESC")


@pytest.mark.parametrize(("size", "expected"), [("1000000000", DEFAULT_PAGE_SIZE), ("-25", DEFAULT_PAGE_SIZE),
                                                ("abc", DEFAULT_PAGE_SIZE), ("7", DEFAULT_PAGE_SIZE), ("200", 200),
                                                ("9" * 400, DEFAULT_PAGE_SIZE)])
def test_page_size_is_one_of_the_offered_sizes(size: str, expected: int) -> None:
    request = ListRequest.parse({"size": size}, SORTING)
    assert request.size == expected and request.size in PAGE_SIZES


@pytest.mark.parametrize(("page", "expected"), [("-3", 1), ("0", 1), ("x", 1), ("2", 2), ("1e9", 1),
                                                ("99999999999", MAX_PAGE), ("9" * 400, MAX_PAGE),
                                                ("9" * 5000, 1)])
def test_page_is_bounded(page: str, expected: int) -> None:
    request = ListRequest.parse({"page": page, "size": "200"}, SORTING)
    assert request.page == expected
    assert request.offset < 2**31  # fits every database's OFFSET


def test_order_other_than_asc_or_desc_keeps_the_lists_default() -> None:
    assert ListRequest.parse({"order": "desc; --"}, SORTING).descending is False
    assert ListRequest.parse({"order": "desc"}, SORTING).descending is True
