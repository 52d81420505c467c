"""Line-protocol encoding of Points: escape rules, types, and what InfluxDB would refuse."""

from __future__ import annotations

import math

import pytest

from netmgr.metrics import Point, encode_lines

T = 1_700_000_000_000_000_000


def line(measurement: str = "m", tags: dict[str, str] | None = None, fields: dict[str, object] | None = None) -> str:
    return Point(measurement, tags or {}, {"v": 1} if fields is None else fields, T).to_line()  # type: ignore[arg-type]


def test_simple_point_has_sorted_tags_typed_fields_and_ns_time() -> None:
    assert line("iface", {"site": "taman", "device": "r1"}, {"in_bps": 1.5, "in_octets": 10, "up": True}) == (
        f"iface,device=r1,site=taman in_bps=1.5,in_octets=10i,up=true {T}"
    )


def test_measurement_escapes_commas_and_spaces_but_not_equals() -> None:
    assert line("a b,c=d").startswith(r"a\ b\,c=d ")


def test_tag_keys_and_values_escape_commas_equals_and_spaces() -> None:
    assert line(tags={"k ey": "v=1, x"}).startswith(r"m,k\ ey=v\=1\,\ x ")


def test_field_keys_escape_and_string_values_escape_quotes_and_backslashes() -> None:
    assert line(fields={"a=b c": 'say "hi" C:\\'}) == f'm a\\=b\\ c="say \\"hi\\" C:\\\\" {T}'


def test_empty_tag_values_are_left_out() -> None:
    assert line(tags={"site": "", "device": "r1"}) == f"m,device=r1 v=1i {T}"


def test_bool_is_not_written_as_an_integer() -> None:
    assert line(fields={"up": False}) == f"m up=false {T}"


def test_large_floats_use_exponent_notation() -> None:
    assert line(fields={"x": 1e20}) == f"m x=1e+20 {T}"


@pytest.mark.parametrize("fields", [{"x": math.nan}, {"x": math.inf}, {"x": 2**63}, {}])
def test_values_influxdb_refuses_raise_value_error(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        line(fields=fields)


@pytest.mark.parametrize("tags", [{"device": "r1\nr2"}, {"": "x"}, {"device": "ends\\"}])
def test_tags_line_protocol_cannot_carry_raise_value_error(tags: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        line(tags=tags)


def test_unsupported_field_type_raises_type_error() -> None:
    with pytest.raises(TypeError, match="unsupported type"):
        line(fields={"x": [1, 2]})


def test_string_field_may_hold_a_line_break() -> None:
    assert line(fields={"note": "a\nb"}) == f'm note="a\nb" {T}'


def test_encode_lines_terminates_every_line() -> None:
    body = encode_lines([Point("m", {}, {"v": 1}, 1), Point("m", {}, {"v": 2}, 2)])
    assert body == b"m v=1i 1\nm v=2i 2\n"
    assert encode_lines([]) == b""
