"""SmppSender against a minimal SMSC server built here from the same PDU codec (``netmgr.sms.smpp``).

Kannel cannot act as an SMSC (its ``smsc = smpp`` is a client), and no SMPP server package exists on Debian 12
beyond Net::SMPP's example script, so this SMSC is ours: it checks the login, answers bind_transmitter,
submit_sm, enquire_link and unbind, and records each submit_sm. The codec itself is checked against PDU bytes
written out by hand from the SMPP 3.4 specification, so the client and this server cannot agree on a mistake.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from netmgr.errors import SmsGatewayUnavailable, SmsRejected
from netmgr.sms import smpp
from netmgr.sms.smpp import Command, Pdu, SmppSender, Status, SubmitSm

SYSTEM_ID, PASSWORD = "netmgr", "Pw-smpp1"  # noqa: S105 - a test credential


@dataclass
class Smsc:
    port: int = 0
    submit_status: int = Status.OK
    enquire_first: bool = False
    silent: bool = False
    binds: list[smpp.Bind] = field(default_factory=list)
    messages: list[SubmitSm] = field(default_factory=list)
    unbinds: int = 0

    def serve(self, conn: socket.socket) -> None:
        with conn:
            while True:
                try:
                    pdu = smpp.read_pdu(conn, time.monotonic() + 5)
                except (ConnectionError, TimeoutError, OSError):
                    return
                if self.silent:
                    continue
                if pdu.command == Command.BIND_TRANSMITTER:
                    bind = smpp.parse_bind(pdu.body)
                    self.binds.append(bind)
                    ok = (bind.system_id, bind.password) == (SYSTEM_ID, PASSWORD)
                    status = Status.OK if ok else Status.INVALID_PASSWORD
                    conn.sendall(Pdu(Command.BIND_TRANSMITTER_RESP, status, pdu.sequence, b"smsc\0").encode())
                elif pdu.command == Command.SUBMIT_SM:
                    if self.enquire_first:
                        conn.sendall(Pdu(Command.ENQUIRE_LINK, 0, 77).encode())
                        answer = smpp.read_pdu(conn, time.monotonic() + 5)
                        assert answer.command == Command.ENQUIRE_LINK_RESP and answer.sequence == 77
                    self.messages.append(smpp.parse_submit_sm(pdu.body))
                    body = b"msg-%d\0" % len(self.messages) if self.submit_status == Status.OK else b""
                    conn.sendall(Pdu(Command.SUBMIT_SM_RESP, self.submit_status, pdu.sequence, body).encode())
                elif pdu.command == Command.UNBIND:
                    self.unbinds += 1
                    conn.sendall(Pdu(Command.UNBIND_RESP, 0, pdu.sequence).encode())
                    return
                else:
                    conn.sendall(Pdu(Command.GENERIC_NACK, 0x03, pdu.sequence).encode())


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    state = Smsc(port=int(server.getsockname()[1]))
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=state.serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield state
    stop.set()
    thread.join()
    server.close()


def _sender(smsc: Smsc, **overrides: object) -> SmppSender:
    values: dict[str, object] = {"host": "127.0.0.1", "port": smsc.port, "system_id": SYSTEM_ID,
                                 "password": PASSWORD, "sender_id": "DISKOMINFO", "timeout_s": 2.0, **overrides}
    return SmppSender(**values)  # type: ignore[arg-type]


def test_bind_transmitter_pdu_matches_the_specification() -> None:
    body = smpp.bind_body(smpp.Bind("netmgr", "secret", ""))
    pdu = Pdu(Command.BIND_TRANSMITTER, 0, 1, body).encode()
    assert pdu == (struct.pack(">IIII", 16 + 7 + 7 + 1 + 3 + 1, 0x00000002, 0, 1)
                   + b"netmgr\0" + b"secret\0" + b"\0" + b"\x34\x00\x00" + b"\0")


def test_submit_sm_pdu_matches_the_specification() -> None:
    body = smpp.submit_sm_body(SubmitSm(source="DISKOMINFO", destination="6281234567890", data_coding=0,
                                        payload=b"kode 123456"))
    assert body == (b"\0" + b"\x05\x00" + b"DISKOMINFO\0" + b"\x01\x01" + b"6281234567890\0" + b"\x00\x00\x00"
                    + b"\0" + b"\0" + b"\x00\x00\x00\x00" + b"\x0b" + b"kode 123456")
    digits = smpp.submit_sm_body(SubmitSm(source="62811", destination="62812", data_coding=0, payload=b"x"))
    assert digits.startswith(b"\0" + b"\x01\x01" + b"62811\0")
    none = smpp.submit_sm_body(SubmitSm(source="", destination="62812", data_coding=0, payload=b"x"))
    assert none.startswith(b"\0" + b"\x00\x00" + b"\0" + b"\x01\x01")


def test_message_is_submitted_after_a_bind_and_followed_by_an_unbind(smsc: Smsc) -> None:
    _sender(smsc).send("+6281234567890", "Taman Kota: kode WiFi Anda 123456. Berlaku 5 menit.")
    assert smsc.binds == [smpp.Bind(SYSTEM_ID, PASSWORD, "")]
    [message] = smsc.messages
    assert (message.source, message.destination, message.data_coding) == ("DISKOMINFO", "6281234567890", 0)
    assert message.text == "Taman Kota: kode WiFi Anda 123456. Berlaku 5 menit."
    assert smsc.unbinds == 1


def test_text_beyond_ascii_goes_as_ucs2_and_long_text_as_message_payload(smsc: Smsc) -> None:
    _sender(smsc).send("+6281234567890", "Taman Kota Sampit ☀: kode 123456")
    long_text = "Kode WiFi Anda 123456. " * 12
    _sender(smsc).send("+6281234567890", long_text)
    short, long = smsc.messages
    assert short.data_coding == smpp.CODING_UCS2 and short.text == "Taman Kota Sampit ☀: kode 123456"
    assert len(long.payload) > smpp.MAX_SHORT_MESSAGE and long.text == long_text


def test_enquire_link_from_the_smsc_is_answered_mid_exchange(smsc: Smsc) -> None:
    smsc.enquire_first = True
    _sender(smsc).send("+6281234567890", "halo")
    assert [m.text for m in smsc.messages] == ["halo"]


def test_refused_login_is_unavailable_and_never_shows_the_password(smsc: Smsc) -> None:
    with pytest.raises(SmsGatewayUnavailable, match="refused the login of 'netmgr'") as caught:
        _sender(smsc, password="wrongpw").send("+6281234567890", "halo")
    assert "wrongpw" not in str(caught.value) and not smsc.messages


def test_refused_destination_is_a_rejected_number(smsc: Smsc) -> None:
    smsc.submit_status = Status.INVALID_DESTINATION
    with pytest.raises(SmsRejected, match="refused the number"):
        _sender(smsc).send("+6281234567890", "halo")


def test_throttled_smsc_is_unavailable(smsc: Smsc) -> None:
    smsc.submit_status = Status.THROTTLED
    with pytest.raises(SmsGatewayUnavailable, match="status 0x58"):
        _sender(smsc).send("+6281234567890", "halo")


def test_silent_smsc_times_out_within_the_bound(smsc: Smsc) -> None:
    smsc.silent = True
    started = time.monotonic()
    with pytest.raises(SmsGatewayUnavailable, match="did not answer within 0.5 s"):
        _sender(smsc, timeout_s=0.5).send("+6281234567890", "halo")
    assert time.monotonic() - started < 1.5


def test_nothing_listening_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SmsGatewayUnavailable, match="cannot be reached"):
        SmppSender(host="127.0.0.1", port=port, system_id="x", password="y").send("+6281234567890", "halo")
