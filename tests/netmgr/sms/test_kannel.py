"""KannelSender against Debian's Kannel (bearerbox + smsbox) with kannel-extras' fakesmsc as the SMSC."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from netmgr.errors import SmsGatewayUnavailable, SmsRejected
from netmgr.sms.kannel import KannelSender
from tests.servers.kannel import GLOBAL_SENDER, PASSWORD, USERNAME, Kannel, hung_gateway
from tests.servers.process import free_port


def _sender(kannel: Kannel, **overrides: object) -> KannelSender:
    values: dict[str, object] = {"url": kannel.sendsms_url, "username": USERNAME, "password": PASSWORD,
                                 "timeout_s": 3.0, **overrides}
    return KannelSender(**values)  # type: ignore[arg-type]


def test_message_reaches_the_smsc_with_the_number_and_text(kannel: Kannel) -> None:
    _sender(kannel).send("+6281200000001", "Taman Kota: kode WiFi Anda 123456. Berlaku 5 menit.")
    assert kannel.received("6281200000001") == [
        (GLOBAL_SENDER, "6281200000001", "Taman Kota: kode WiFi Anda 123456. Berlaku 5 menit.")]


def test_text_beyond_ascii_arrives_intact_as_ucs2(kannel: Kannel) -> None:
    _sender(kannel).send("+6281200000007", "Taman Kota ☀ Sampit: kode 123456 — jangan dibagikan")
    assert kannel.received("6281200000007") == [
        (GLOBAL_SENDER, "6281200000007", "Taman Kota ☀ Sampit: kode 123456 — jangan dibagikan")]


def test_sender_id_is_used_as_from(kannel: Kannel) -> None:
    _sender(kannel, sender_id="DISKOMINFO").send("+6281200000002", "halo")
    assert kannel.received("6281200000002") == [("DISKOMINFO", "6281200000002", "halo")]


def test_wrong_password_fails_without_showing_it(kannel: Kannel) -> None:
    with pytest.raises(SmsGatewayUnavailable) as caught:
        _sender(kannel, password="salah-Pw-99").send("+6281200000003", "halo")
    assert "Authorization failed" in caught.value.message
    assert "salah-Pw-99" not in str(caught.value)


def test_number_kannel_refuses_is_a_rejected_number(kannel: Kannel) -> None:
    with pytest.raises(SmsRejected, match="refused the number"):
        _sender(kannel).send("+6289912345678", "halo")
    assert kannel.received("6289912345678", wait_s=0.3) == []


def test_smsc_down_is_a_failure_not_a_queued_success(kannel: Kannel) -> None:
    kannel.stop_smsc()
    try:
        with pytest.raises(SmsGatewayUnavailable, match="queued the message"):
            _sender(kannel).send("+6281200000004", "halo")
    finally:
        kannel.start_smsc()


def test_nothing_listening_fails_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(SmsGatewayUnavailable, match="cannot be reached"):
        KannelSender(url=f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms", username="u", password="p").send(
            "+6281200000005", "halo")
    assert time.monotonic() - started < 1


@pytest.fixture
def silent_port() -> Iterator[int]:
    with hung_gateway() as port:
        yield port


def test_hung_gateway_times_out_within_the_bound(silent_port: int) -> None:
    started = time.monotonic()
    with pytest.raises(SmsGatewayUnavailable, match="did not answer within 0.5 s"):
        KannelSender(url=f"http://127.0.0.1:{silent_port}/cgi-bin/sendsms", username="u", password="p",
                     timeout_s=0.5).send("+6281200000006", "halo")
    assert time.monotonic() - started < 2
