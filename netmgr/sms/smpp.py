"""A direct SMPP 3.4 client for an SMSC account: the few PDUs one message needs, and their encoding.

Per message: connect → ``bind_transmitter`` → ``submit_sm`` → ``unbind`` → close, answering the SMSC's
``enquire_link`` on the way; every read has a deadline. OTP traffic is a few messages a minute, so a
connection per message is simpler than keeping a bind alive. PDUs (SMPP 3.4 §4): a 16-byte header
(length, command id, status, sequence) and a body of C-octet strings and integers.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass
from enum import IntEnum

from netmgr.errors import SmsGatewayUnavailable, SmsRejected
from netmgr.settings import Settings
from netmgr.sms import gateway_secret, is_gsm_text, phone_fields

NAME = "smpp"
HEADER = struct.Struct(">IIII")
MAX_PDU = 64 * 1024
INTERFACE_VERSION = 0x34
TON_UNKNOWN, TON_INTERNATIONAL, TON_ALPHANUMERIC, NPI_ISDN = 0, 1, 5, 1
CODING_DEFAULT, CODING_UCS2 = 0x00, 0x08
TAG_MESSAGE_PAYLOAD = 0x0424
MAX_SHORT_MESSAGE = 254


class Command(IntEnum):
    GENERIC_NACK = 0x80000000
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015


class Status(IntEnum):
    """The ``command_status`` values this client tells apart (SMPP 3.4 §5.1.3)."""

    OK = 0x00
    INVALID_DESTINATION = 0x0B
    BIND_FAILED = 0x0D
    INVALID_PASSWORD = 0x0E
    INVALID_SYSTEM_ID = 0x0F
    INVALID_DESTINATION_TON = 0x50
    INVALID_DESTINATION_NPI = 0x51
    THROTTLED = 0x58


REFUSED_NUMBER = frozenset({Status.INVALID_DESTINATION, Status.INVALID_DESTINATION_TON,
                            Status.INVALID_DESTINATION_NPI})


class PduError(ValueError):
    """Bytes that are not a PDU this module understands."""


@dataclass(frozen=True)
class Pdu:
    command: int
    status: int
    sequence: int
    body: bytes = b""

    def encode(self) -> bytes:
        return HEADER.pack(HEADER.size + len(self.body), self.command, self.status, self.sequence) + self.body


def cstring(value: str, *, limit: int = 65) -> bytes:
    """A C-octet string field (ASCII, NUL-terminated) of at most ``limit`` octets with the NUL."""
    raw = value.encode("ascii")
    if len(raw) >= limit or b"\0" in raw:
        raise PduError(f"{value!r} does not fit an SMPP field of {limit - 1} characters")
    return raw + b"\0"


class BodyReader:
    """Reads a PDU body field by field."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.at = 0

    def cstring(self) -> str:
        end = self.body.find(b"\0", self.at)
        if end < 0:
            raise PduError("a C-octet string has no terminating NUL")
        value = self.body[self.at:end].decode("ascii", "replace")
        self.at = end + 1
        return value

    def u8(self) -> int:
        if self.at >= len(self.body):
            raise PduError("the PDU body ends early")
        self.at += 1
        return self.body[self.at - 1]

    def octets(self, n: int) -> bytes:
        if self.at + n > len(self.body):
            raise PduError("the PDU body ends early")
        self.at += n
        return self.body[self.at - n:self.at]

    def tlvs(self) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        while self.at + 4 <= len(self.body):
            tag, length = struct.unpack_from(">HH", self.body, self.at)
            self.at += 4
            found[tag] = self.octets(length)
        return found


@dataclass(frozen=True)
class Bind:
    system_id: str
    password: str
    system_type: str


def bind_body(bind: Bind) -> bytes:
    return (cstring(bind.system_id, limit=16) + cstring(bind.password, limit=9)
            + cstring(bind.system_type, limit=13) + bytes([INTERFACE_VERSION, 0, 0]) + cstring(""))


def parse_bind(body: bytes) -> Bind:
    r = BodyReader(body)
    return Bind(system_id=r.cstring(), password=r.cstring(), system_type=r.cstring())


@dataclass(frozen=True)
class SubmitSm:
    """One ``submit_sm``: who sends, to whom, and the text with its coding."""

    source: str
    destination: str
    data_coding: int
    payload: bytes

    @property
    def text(self) -> str:
        return self.payload.decode("utf-16-be" if self.data_coding == CODING_UCS2 else "latin-1")


def encode_text(text: str) -> tuple[int, bytes]:
    """The data coding and octets of a text: the default alphabet for plain ASCII, else UCS-2."""
    if is_gsm_text(text):
        return CODING_DEFAULT, text.encode("ascii")
    return CODING_UCS2, text.encode("utf-16-be")


def submit_sm_body(msg: SubmitSm) -> bytes:
    # No sender: TON/NPI unknown, the SMSC fills in the account's default.
    source_ton = TON_INTERNATIONAL if msg.source.isdigit() else TON_ALPHANUMERIC if msg.source else TON_UNKNOWN
    head = (cstring("", limit=6) + bytes([source_ton, NPI_ISDN if source_ton == TON_INTERNATIONAL else 0])
            + cstring(msg.source, limit=21) + bytes([TON_INTERNATIONAL, NPI_ISDN]) + cstring(msg.destination, limit=21)
            + bytes([0, 0, 0]) + cstring("", limit=17) + cstring("", limit=17) + bytes([0, 0, msg.data_coding, 0]))
    if len(msg.payload) <= MAX_SHORT_MESSAGE:
        return head + bytes([len(msg.payload)]) + msg.payload
    # Longer than one short_message field: SMPP 3.4 §5.3.2.32 carries it in the message_payload TLV.
    return head + bytes([0]) + struct.pack(">HH", TAG_MESSAGE_PAYLOAD, len(msg.payload)) + msg.payload


def parse_submit_sm(body: bytes) -> SubmitSm:
    r = BodyReader(body)
    r.cstring()  # service_type
    r.u8(), r.u8()
    source = r.cstring()
    r.u8(), r.u8()
    destination = r.cstring()
    r.u8(), r.u8(), r.u8()
    r.cstring(), r.cstring()
    r.u8(), r.u8()
    data_coding = r.u8()
    r.u8()
    payload = r.octets(r.u8())
    if not payload:
        payload = r.tlvs().get(TAG_MESSAGE_PAYLOAD, b"")
    return SubmitSm(source=source, destination=destination, data_coding=data_coding, payload=payload)


def read_pdu(sock: socket.socket, deadline: float) -> Pdu:
    """Read one whole PDU before ``deadline`` (``time.monotonic``).

    Raises:
        TimeoutError: the deadline passed. ConnectionError: the peer closed. PduError: not a PDU.
    """
    header = _read_exactly(sock, HEADER.size, deadline)
    length, command, status, sequence = HEADER.unpack(header)
    if not HEADER.size <= length <= MAX_PDU:
        raise PduError(f"a PDU of {length} octets")
    return Pdu(command, status, sequence, _read_exactly(sock, length - HEADER.size, deadline))


def _read_exactly(sock: socket.socket, n: int, deadline: float) -> bytes:
    data = b""
    while len(data) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer in time")
        sock.settimeout(left)
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the peer closed the connection")
        data += chunk
    return data


class SmppSender:
    """Sends as an ESME bound as transmitter to an SMSC account (Telkomsel, Indosat or an aggregator).

    Args:
        host, port: the SMSC.
        system_id, password: the account (the password never appears in an error).
        system_type: as the SMSC asks; often empty.
        sender_id: ``source_addr``: digits go as an international number, anything else alphanumeric.
        timeout_s: the longest wait for each step (connect, each answer).
    """

    name = NAME

    def __init__(self, *, host: str, port: int, system_id: str, password: str, system_type: str = "",
                 sender_id: str = "", timeout_s: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.system_id = system_id
        self._password = password
        self.system_type = system_type
        self.sender_id = sender_id
        self.timeout_s = timeout_s
        self._sequence = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmppSender:
        sms = settings.sms
        return cls(host=sms.smpp_host, port=sms.smpp_port, system_id=sms.smpp_system_id,
                   password=gateway_secret(settings), system_type=sms.smpp_system_type, sender_id=sms.sender_id,
                   timeout_s=sms.timeout_s)

    def _next(self) -> int:
        self._sequence = self._sequence % 0x7FFFFFFF + 1
        return self._sequence

    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    def send(self, phone: str, text: str) -> None:
        coding, payload = encode_text(text)
        try:
            message = SubmitSm(source=self.sender_id, destination=phone_fields(phone)["msisdn"], data_coding=coding,
                               payload=payload)
            bind = bind_body(Bind(self.system_id, self._password, self.system_type))
            submit = submit_sm_body(message)
        except PduError as exc:
            raise SmsGatewayUnavailable(f"the SMPP settings do not fit the protocol: {exc}; check sms.smpp_system_id "
                                        "and sms.sender_id", gateway=NAME) from None
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout_s) as sock:
                self._exchange(sock, bind, submit)
        except TimeoutError as exc:
            raise SmsGatewayUnavailable(f"the SMSC at {self._where()} did not answer within {self.timeout_s:g} s",
                                        gateway=NAME) from exc
        except (OSError, PduError) as exc:
            raise SmsGatewayUnavailable(f"the SMSC at {self._where()} cannot be reached ({type(exc).__name__}): "
                                        "check sms.smpp_host and sms.smpp_port", gateway=NAME) from exc

    def _request(self, sock: socket.socket, command: Command, body: bytes, expect: Command) -> Pdu:
        sequence = self._next()
        sock.sendall(Pdu(command, 0, sequence, body).encode())
        deadline = time.monotonic() + self.timeout_s
        while True:
            pdu = read_pdu(sock, deadline)
            if pdu.command == Command.ENQUIRE_LINK:
                sock.sendall(Pdu(Command.ENQUIRE_LINK_RESP, 0, pdu.sequence).encode())
                continue
            if pdu.command == Command.GENERIC_NACK or (pdu.command == expect and pdu.sequence == sequence):
                return pdu
            # anything else (a late answer, a deliver_sm we did not bind for) is not ours: skip it

    def _exchange(self, sock: socket.socket, bind: bytes, submit: bytes) -> None:
        answer = self._request(sock, Command.BIND_TRANSMITTER, bind, Command.BIND_TRANSMITTER_RESP)
        if answer.status != Status.OK:
            raise SmsGatewayUnavailable(f"the SMSC at {self._where()} refused the login of {self.system_id!r} "
                                        f"(status 0x{answer.status:02X}): check sms.smpp_system_id and the "
                                        "password", gateway=NAME)
        answer = self._request(sock, Command.SUBMIT_SM, submit, Command.SUBMIT_SM_RESP)
        try:
            self._request(sock, Command.UNBIND, b"", Command.UNBIND_RESP)
        except (OSError, PduError):
            pass  # the message is taken; a rude goodbye changes nothing
        if answer.status in REFUSED_NUMBER:
            raise SmsRejected(f"the SMSC at {self._where()} refused the number (status 0x{answer.status:02X})",
                              gateway=NAME)
        if answer.status != Status.OK:
            raise SmsGatewayUnavailable(f"the SMSC at {self._where()} did not take the message "
                                        f"(status 0x{answer.status:02X})", gateway=NAME)
