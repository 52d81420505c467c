"""The hand-rolled BER codec agrees with pyasn1/pysnmp on every value an agent can send, and rejects garbage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import rfc1905
from pysnmp.proto.api import v2c

from collectors.snmp import ber
from collectors.snmp.types import SnmpType

oids = st.builds(
    lambda first, second, rest: ".".join(map(str, (first, second, *rest))),
    st.integers(0, 2), st.integers(0, 39), st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=14),
)

values = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(lambda v: (v2c.Integer(v), SnmpType.INTEGER, v)),
    st.binary(max_size=300).map(lambda v: (v2c.OctetString(v), SnmpType.OCTET_STRING, v)),
    oids.map(lambda v: (v2c.ObjectIdentifier(v), SnmpType.OBJECT_IDENTIFIER, v)),
    st.binary(min_size=4, max_size=4).map(
        lambda v: (v2c.IpAddress(v), SnmpType.IP_ADDRESS, ".".join(str(b) for b in v))),
    st.integers(0, 2**32 - 1).map(lambda v: (v2c.Counter32(v), SnmpType.COUNTER32, v)),
    st.integers(0, 2**32 - 1).map(lambda v: (v2c.Gauge32(v), SnmpType.GAUGE32, v)),
    st.integers(0, 2**32 - 1).map(lambda v: (v2c.TimeTicks(v), SnmpType.TIMETICKS, v)),
    st.integers(0, 2**64 - 1).map(lambda v: (v2c.Counter64(v), SnmpType.COUNTER64, v)),
    st.just((v2c.Null(""), SnmpType.NULL, None)),
    st.just((rfc1905.noSuchObject, SnmpType.NO_SUCH_OBJECT, None)),
    st.just((rfc1905.noSuchInstance, SnmpType.NO_SUCH_INSTANCE, None)),
    st.just((rfc1905.endOfMibView, SnmpType.END_OF_MIB_VIEW, None)),
)


def pysnmp_response(request_id: int, community: str, varbinds: list[tuple[str, object]], *,
                    error_status: int = 0, error_index: int = 0) -> bytes:
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, request_id)
    v2c.apiPDU.set_error_status(pdu, error_status)
    v2c.apiPDU.set_error_index(pdu, error_index)
    v2c.apiPDU.set_varbinds(pdu, [(v2c.ObjectIdentifier(o), v) for o, v in varbinds])
    msg = v2c.Message()
    v2c.apiMessage.set_defaults(msg)
    v2c.apiMessage.set_community(msg, community)
    v2c.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


@settings(max_examples=150, deadline=None)
@given(request_id=st.integers(-(2**31), 2**31 - 1), community=st.text(st.characters(max_codepoint=127), max_size=40),
       rows=st.lists(st.tuples(oids, values), max_size=30))
def test_decoder_matches_pyasn1_encoder_for_every_value_type(
        request_id: int, community: str, rows: list[tuple[str, tuple[object, int, object]]]) -> None:
    data = pysnmp_response(request_id, community, [(oid, value[0]) for oid, value in rows])
    response = ber.decode_response(data)
    assert response.request_id == request_id
    assert response.community == community.encode()
    assert response.error_status == 0
    assert [(vb.oid, vb.type, vb.value) for vb in response.varbinds] == [
        (oid, expected_type, expected) for oid, (_, expected_type, expected) in rows]


@settings(max_examples=100, deadline=None)
@given(request_id=st.integers(0, 2**31 - 1), community=st.binary(max_size=40),
       request_oids=st.lists(oids, min_size=1, max_size=40), max_repetitions=st.integers(0, 2**31 - 1))
def test_requests_decode_with_pysnmp_to_what_was_asked(request_id: int, community: bytes, request_oids: list[str],
                                                       max_repetitions: int) -> None:
    for data, pdu_type in ((ber.encode_get(request_id, community, request_oids), v2c.GetRequestPDU),
                           (ber.encode_getbulk(request_id, community, request_oids, non_repeaters=0,
                                               max_repetitions=max_repetitions), v2c.GetBulkRequestPDU)):
        msg, rest = decoder.decode(data, asn1Spec=v2c.Message())
        assert rest == b""
        assert int(msg["version"]) == 1
        assert bytes(msg["community"]) == community
        pdu = v2c.apiMessage.get_pdu(msg)
        assert isinstance(pdu, pdu_type)
        assert int(v2c.apiPDU.get_request_id(pdu)) == request_id
        assert [str(o) for o, _ in v2c.apiPDU.get_varbinds(pdu)] == request_oids
        if pdu_type is v2c.GetBulkRequestPDU:
            assert int(v2c.apiBulkPDU.get_max_repetitions(pdu)) == max_repetitions


def test_error_status_and_index_are_decoded() -> None:
    data = pysnmp_response(7, "public", [("1.3.6.1.2.1.1.1.0", v2c.Null(""))], error_status=5, error_index=1)
    response = ber.decode_response(data)
    assert (response.error_status, response.error_index, response.error_name) == (5, 1, "genErr")


def _tlv(tag: int, body: bytes) -> bytes:
    assert len(body) < 128
    return bytes((tag, len(body))) + body


def test_counter32_without_leading_zero_byte_is_read_as_unsigned() -> None:
    # Some agents encode 0xFFFFFFFE in 4 bytes (no 0x00 pad); net-snmp and we read it as 4294967294.
    oid = _tlv(0x06, bytes((0x2B, 6, 1, 2, 1, 2, 2, 1, 10, 1)))
    varbind = _tlv(0x30, oid + _tlv(0x41, b"\xff\xff\xff\xfe"))
    pdu = _tlv(0xA2, _tlv(0x02, b"\x01") + _tlv(0x02, b"\x00") + _tlv(0x02, b"\x00") + _tlv(0x30, varbind))
    data = _tlv(0x30, _tlv(0x02, b"\x01") + _tlv(0x04, b"c") + pdu)
    (vb,) = ber.decode_response(data).varbinds
    assert (vb.oid, vb.type, vb.value) == ("1.3.6.1.2.1.2.2.1.10.1", SnmpType.COUNTER32, 0xFFFFFFFE)


def test_every_truncation_of_a_response_is_a_ber_error() -> None:
    data = pysnmp_response(99, "public", [("1.3.6.1.2.1.31.1.1.1.6.1", v2c.Counter64(2**63)),
                                          ("1.3.6.1.2.1.1.5.0", v2c.OctetString(b"router1"))])
    for cut in range(len(data)):
        with pytest.raises(ber.BerError):
            ber.decode_response(data[:cut])


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_ber_error(data: bytes) -> None:
    try:
        ber.decode_response(data)
    except ber.BerError:
        pass


def test_a_request_pdu_is_not_taken_for_a_response() -> None:
    with pytest.raises(ber.BerError, match="expected a Response PDU"):
        ber.decode_response(ber.encode_get(5, b"public", ["1.3.6.1.2.1.1.3.0"]))


def test_request_id_can_be_read_from_a_truncated_reply() -> None:
    data = pysnmp_response(4242, "public", [("1.3.6.1.2.1.1.5.0", v2c.OctetString(b"x" * 50))])
    assert ber.peek_request_id(data[:30]) == 4242
    assert ber.peek_request_id(b"\x00garbage") is None


arc_lists = st.lists(st.one_of(st.integers(0, 300), st.integers(0, 2**32 - 1)), min_size=0, max_size=5)


@settings(max_examples=500, deadline=None)
@given(head=st.lists(st.integers(0, 2**32 - 1), max_size=4), a=arc_lists, b=arc_lists)
def test_oid_after_on_encoded_bytes_agrees_with_numeric_oid_order(head: list[int], a: list[int],
                                                                  b: list[int]) -> None:
    first, second = (1, 3, *head, *a), (1, 3, *head, *b)
    encoded_first = ber.oid_bytes(".".join(map(str, first)))
    encoded_second = ber.oid_bytes(".".join(map(str, second)))
    common = len(ber.oid_bytes(".".join(map(str, (1, 3, *head)))))
    assert ber.oid_after(encoded_first, encoded_second) == (first > second)
    assert ber.oid_after(encoded_first, encoded_second, common) == (first > second)
    assert encoded_first.startswith(encoded_second) == (first[:len(second)] == second)


def test_raw_varbinds_keep_oid_bytes_and_match_the_decoded_ones() -> None:
    data = pysnmp_response(1, "public", [("1.3.6.1.2.1.31.1.1.1.6.16385", v2c.Counter64(2**40)),
                                         ("1.3.6.1.2.1.2.2.1.2.1", v2c.OctetString(b"ether1"))])
    response = ber.decode_response(data)
    assert [oid for oid, _, _ in response.raw] == [ber.oid_bytes("1.3.6.1.2.1.31.1.1.1.6.16385"),
                                                   ber.oid_bytes("1.3.6.1.2.1.2.2.1.2.1")]
    assert [(vb.oid, vb.value) for vb in response.varbinds] == [("1.3.6.1.2.1.31.1.1.1.6.16385", 2**40),
                                                                ("1.3.6.1.2.1.2.2.1.2.1", b"ether1")]
