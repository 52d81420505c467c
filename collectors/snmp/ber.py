"""A minimal BER codec for SNMPv2c messages: encodes GET/GETBULK requests, decodes Response PDUs.

Hand-rolled because pyasn1 costs ~116 µs CPU per decoded varbind; this decoder handles only the
types an agent may return and is property-tested against pyasn1/pysnmp (tests/collectors/test_snmp_ber.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from collectors.snmp.types import SnmpType, Value, VarBind

VERSION_V2C = 1
TAG_SEQUENCE = 0x30
PDU_GET = 0xA0
PDU_GETNEXT = 0xA1
PDU_RESPONSE = 0xA2
PDU_GETBULK = 0xA5
PDU_REPORT = 0xA8

ERROR_STATUS_NAMES = (
    "noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess", "wrongType", "wrongLength",
    "wrongEncoding", "wrongValue", "noCreation", "inconsistentValue", "resourceUnavailable", "commitFailed",
    "undoFailed", "authorizationError", "notWritable", "inconsistentName",
)

_NULL_VALUE = b"\x05\x00"
_UNSIGNED_MAX: dict[int, int] = {
    SnmpType.COUNTER32: 0xFFFFFFFF,
    SnmpType.GAUGE32: 0xFFFFFFFF,
    SnmpType.TIMETICKS: 0xFFFFFFFF,
    SnmpType.COUNTER64: 0xFFFFFFFFFFFFFFFF,
}


class BerError(ValueError):
    """A datagram is not a well-formed SNMPv2c Response; the message says what was wrong and where."""


RawVarBind = tuple[bytes, int, Value]
"""A varbind as decoded off the wire: (the OID's BER content bytes, value tag, value).

Arcs are self-delimiting in BER, so "OID a is under b" is ``a.startswith(b)`` on the bytes, and
``oid_after`` orders two OIDs without making dotted strings. (Plain byte order is not OID order:
arc 5639 is ``ac 07`` and 16385 is ``81 80 01``.)
"""


def oid_after(new: bytes, old: bytes, start: int = 0) -> bool:
    """True when OID ``new`` sorts strictly after ``old`` (BER content bytes).

    ``start``: a byte offset both are known to agree up to (e.g. the walked column's length).
    """
    n = min(len(new), len(old))
    i = start
    while i < n and new[i] == old[i]:
        i += 1
    if i == n:
        return len(new) > len(old)  # one is a prefix of the other: the longer OID comes later
    # The arcs differ at byte i. They start at the same place (the bytes before i are equal); the one
    # with more bytes is the larger number, and at equal length the differing byte decides.
    a, b = i, i
    while new[a] & 0x80:
        a += 1
    while old[b] & 0x80:
        b += 1
    if a != b:
        return a > b
    return new[i] > old[i]


@dataclass(frozen=True, slots=True)
class Response:
    """A decoded Response PDU. ``raw`` keeps OIDs as bytes; ``varbinds`` gives them as dotted strings."""

    request_id: int
    error_status: int
    error_index: int
    raw: list[RawVarBind]
    community: bytes = b""

    @property
    def varbinds(self) -> list[VarBind]:
        return [VarBind(oid_text(oid), tag, value) for oid, tag, value in self.raw]

    @property
    def error_name(self) -> str:
        if 0 <= self.error_status < len(ERROR_STATUS_NAMES):
            return ERROR_STATUS_NAMES[self.error_status]
        return f"error-status {self.error_status}"


# --- encoding -----------------------------------------------------------------------------------------------


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def _integer(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


@lru_cache(maxsize=65536)
def encode_oid(oid: str) -> bytes:
    """The BER OBJECT IDENTIFIER for a dotted OID (``"1.3.6.1.2.1.1.3.0"``), cached: pollers reuse OIDs."""
    return _tlv(0x06, oid_bytes(oid))


@lru_cache(maxsize=65536)
def oid_bytes(oid: str) -> bytes:
    """The BER content bytes of a dotted OID (no tag or length), the form ``RawVarBind`` carries."""
    try:
        arcs = [int(a) for a in oid.strip(".").split(".")]
    except ValueError:
        raise ValueError(f"not a numeric OID: {oid!r}") from None
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40) or min(arcs) < 0:
        raise ValueError(f"not a valid OID: {oid!r}")
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def _message(community: bytes, pdu_tag: int, request_id: int, a: int, b: int, oids: list[bytes]) -> bytes:
    varbinds = b"".join([_tlv(TAG_SEQUENCE, _tlv(0x06, oid) + _NULL_VALUE) for oid in oids])
    pdu = _tlv(pdu_tag, _integer(request_id) + _integer(a) + _integer(b) + _tlv(TAG_SEQUENCE, varbinds))
    return _tlv(TAG_SEQUENCE, _integer(VERSION_V2C) + _tlv(0x04, community) + pdu)


def encode_get(request_id: int, community: bytes, oids: list[str]) -> bytes:
    """An SNMPv2c GetRequest message."""
    return _message(community, PDU_GET, request_id, 0, 0, [oid_bytes(oid) for oid in oids])


def encode_getbulk(request_id: int, community: bytes, oids: list[str], *, non_repeaters: int = 0,
                   max_repetitions: int = 25) -> bytes:
    """An SNMPv2c GetBulkRequest message."""
    return _message(community, PDU_GETBULK, request_id, non_repeaters, max_repetitions,
                    [oid_bytes(oid) for oid in oids])


def encode_getbulk_raw(request_id: int, community: bytes, oids: list[bytes], *, max_repetitions: int) -> bytes:
    """A GetBulkRequest (no non-repeaters) for OIDs given as BER content bytes: a walk's cursors as received."""
    return _message(community, PDU_GETBULK, request_id, 0, max_repetitions, oids)


# --- decoding -----------------------------------------------------------------------------------------------

_oid_cache: dict[bytes, str] = {}
_OID_CACHE_MAX = 200_000


def oid_text(body: bytes) -> str:
    """The dotted form of an OID's BER content bytes (cached: the same OIDs come back on every poll).

    Raises:
        BerError: the bytes are not a valid OBJECT IDENTIFIER.
    """
    cached = _oid_cache.get(body)
    if cached is not None:
        return cached
    if not body:
        raise BerError("empty OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if body[-1] & 0x80:
        raise BerError("OBJECT IDENTIFIER ends inside an arc")
    first = arcs[0]
    head = (0, first) if first < 40 else (1, first - 40) if first < 80 else (2, first - 80)
    text = ".".join(map(str, (*head, *arcs[1:])))
    if len(_oid_cache) >= _OID_CACHE_MAX:
        _oid_cache.clear()
    _oid_cache[body] = text
    return text


def _header(buf: bytes, i: int, end: int, what: str) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the TLV at ``i``; checks it fits inside ``end``."""
    if i + 2 > end:
        raise BerError(f"truncated: {what} header missing at byte {i} of {end}")
    tag = buf[i]
    n = buf[i + 1]
    i += 2
    if n & 0x80:
        size = n & 0x7F
        if size == 0 or size > 4:
            raise BerError(f"unsupported length form 0x{n:02x} in {what} at byte {i - 1}")
        if i + size > end:
            raise BerError(f"truncated: {what} length runs past the end of the datagram")
        n = int.from_bytes(buf[i:i + size], "big")
        i += size
    if i + n > end:
        raise BerError(f"truncated: {what} says {n} bytes but only {end - i} remain")
    return tag, i, i + n


def _expect_int(buf: bytes, i: int, end: int, what: str) -> tuple[int, int]:
    tag, start, stop = _header(buf, i, end, what)
    if tag != 0x02:
        raise BerError(f"{what}: expected INTEGER, got tag 0x{tag:02x}")
    if start == stop or stop - start > 9:
        raise BerError(f"{what}: INTEGER of {stop - start} bytes")
    return int.from_bytes(buf[start:stop], "big", signed=True), stop


def _decode_value(tag: int, body: bytes, oid: bytes) -> Value:
    """The value of one varbind; ``oid`` (content bytes) only names the varbind in error messages."""
    if tag == 0x04 or tag == 0x44:
        return body
    if tag == 0x02:
        if not body or len(body) > 9:
            raise BerError(f"{_name(oid)}: INTEGER of {len(body)} bytes")
        return int.from_bytes(body, "big", signed=True)
    limit = _UNSIGNED_MAX.get(tag)
    if limit is not None:
        if not body or len(body) > 9:
            raise BerError(f"{_name(oid)}: {SnmpType(tag).name} of {len(body)} bytes")
        # Unsigned on purpose: some agents drop the leading 0x00 on values >= 2**31; net-snmp reads them the same.
        value = int.from_bytes(body, "big")
        if value > limit:
            raise BerError(f"{_name(oid)}: {SnmpType(tag).name} value {value} out of range")
        return value
    if tag == 0x06:
        return oid_text(body)
    if tag == 0x40:
        if len(body) != 4:
            raise BerError(f"{_name(oid)}: IpAddress of {len(body)} bytes")
        return f"{body[0]}.{body[1]}.{body[2]}.{body[3]}"
    if tag == 0x05 or tag >= 0x80:
        if tag > 0x82 or body:
            raise BerError(f"{_name(oid)}: bad value tag 0x{tag:02x} with {len(body)} bytes")
        return None
    raise BerError(f"{_name(oid)}: unknown value tag 0x{tag:02x}")


def _name(oid: bytes) -> str:
    return oid_text(oid) if oid else "?"


def decode_response(buf: bytes) -> Response:
    """Decode an SNMPv2c Response message.

    Raises:
        BerError: the datagram is truncated, malformed, not v2c, or not a Response PDU.
    """
    end = len(buf)
    tag, i, msg_end = _header(buf, 0, end, "message")
    if tag != TAG_SEQUENCE:
        raise BerError(f"not an SNMP message (first byte 0x{tag:02x})")
    if msg_end != end:
        raise BerError(f"{end - msg_end} trailing bytes after the message")
    version, i = _expect_int(buf, i, msg_end, "version")
    if version != VERSION_V2C:
        raise BerError(f"SNMP version field {version}, expected 1 (v2c)")
    tag, cstart, i = _header(buf, i, msg_end, "community")
    if tag != 0x04:
        raise BerError(f"community: expected OCTET STRING, got tag 0x{tag:02x}")
    community = buf[cstart:i]
    tag, i, pdu_end = _header(buf, i, msg_end, "PDU")
    if tag != PDU_RESPONSE:
        raise BerError(f"expected a Response PDU (0xa2), got 0x{tag:02x}")
    request_id, i = _expect_int(buf, i, pdu_end, "request-id")
    error_status, i = _expect_int(buf, i, pdu_end, "error-status")
    error_index, i = _expect_int(buf, i, pdu_end, "error-index")
    tag, i, vbl_end = _header(buf, i, pdu_end, "varbind list")
    if tag != TAG_SEQUENCE:
        raise BerError(f"varbind list: expected SEQUENCE, got tag 0x{tag:02x}")
    return Response(request_id, error_status, error_index, _decode_varbinds(buf, i, vbl_end), community)


def _decode_varbinds(buf: bytes, i: int, end: int) -> list[RawVarBind]:
    """The varbind list between ``i`` and ``end``. The hot loop of every poll: a varbind whose lengths
    all fit in one byte (nearly all of them) is parsed inline; anything else goes through ``_header``."""
    out: list[RawVarBind] = []
    append = out.append
    decode_value = _decode_value
    unsigned = _UNSIGNED_MAX
    from_bytes = int.from_bytes
    while i < end:
        # SEQUENCE { name OBJECT IDENTIFIER, value }, short-form lengths: 30 L 06 L <oid> T L <value>
        if i + 4 <= end and buf[i] == TAG_SEQUENCE and buf[i + 1] < 0x80 and buf[i + 2] == 0x06 \
                and buf[i + 3] < 0x80:
            vb_end = i + 2 + buf[i + 1]
            ostart = i + 4
            oend = ostart + buf[i + 3]
            if vb_end <= end and oend + 2 <= vb_end and buf[oend + 1] < 0x80 and oend + 2 + buf[oend + 1] == vb_end:
                oid = buf[ostart:oend]
                if not oid or oid[-1] & 0x80:
                    raise BerError(f"varbind {len(out) + 1} name: OBJECT IDENTIFIER "
                                   f"{'empty' if not oid else 'ends inside an arc'}")
                tag = buf[oend]
                size = vb_end - oend - 2
                if tag in unsigned and 0 < size <= 9:  # counters and gauges: most of a poll
                    value = from_bytes(buf[oend + 2:vb_end], "big")
                    if value <= unsigned[tag]:
                        append((oid, tag, value))
                        i = vb_end
                        continue
                append((oid, tag, decode_value(tag, buf[oend + 2:vb_end], oid)))
                i = vb_end
                continue
        i = _decode_varbind_slow(buf, i, end, out)
    return out


def _decode_varbind_slow(buf: bytes, i: int, end: int, out: list[RawVarBind]) -> int:
    n = len(out) + 1
    tag, i, vb_end = _header(buf, i, end, f"varbind {n}")
    if tag != TAG_SEQUENCE:
        raise BerError(f"varbind {n}: expected SEQUENCE, got tag 0x{tag:02x}")
    tag, ostart, i = _header(buf, i, vb_end, f"varbind {n} name")
    if tag != 0x06:
        raise BerError(f"varbind {n} name: expected OBJECT IDENTIFIER, got tag 0x{tag:02x}")
    oid = buf[ostart:i]
    name = oid_text(oid)
    tag, vstart, i = _header(buf, i, vb_end, f"value of {name}")
    if i != vb_end:
        raise BerError(f"varbind {name}: {vb_end - i} extra bytes")
    out.append((oid, tag, _decode_value(tag, buf[vstart:i], oid)))
    return i


def peek_request_id(buf: bytes) -> int | None:
    """The request-id of a (possibly truncated or malformed) v2c reply, or None if even that cannot be read."""

    def skip_header(i: int) -> int:
        # Steps over a constructed TLV's tag and length without trusting the length: it may be the broken part.
        n = buf[i + 1]
        return i + 2 + (n & 0x7F if n & 0x80 else 0)

    try:
        end = len(buf)
        if buf[0] != TAG_SEQUENCE:
            return None
        _, i = _expect_int(buf, skip_header(0), end, "version")
        _, _, i = _header(buf, i, end, "community")
        if buf[i] not in (PDU_RESPONSE, PDU_REPORT):
            return None
        request_id, _ = _expect_int(buf, skip_header(i), end, "request-id")
        return request_id
    except (BerError, IndexError):
        return None
