"""GuardedSender: after failures in a row it stops trying the gateway for a while, then tries again."""

from __future__ import annotations

import pytest

from netmgr.errors import SmsGatewayUnavailable, SmsRejected
from netmgr.sms.guard import GuardedSender


class FlakyGateway:
    """A sender that fails while ``down`` is set and counts every attempt that reached it."""

    def __init__(self) -> None:
        self.down = True
        self.attempts = 0

    def send(self, phone: str, text: str) -> None:
        self.attempts += 1
        if self.down:
            raise SmsGatewayUnavailable("gateway down", gateway="test")


def test_pauses_after_failures_in_a_row_then_tries_again_and_reports_recovery() -> None:
    now = [100.0]
    inner = FlakyGateway()
    guard = GuardedSender(inner, name="test", failures_before_pause=3, pause_s=60, clock=lambda: now[0])
    for _ in range(5):
        with pytest.raises(SmsGatewayUnavailable):
            guard.send("+6281234567890", "halo")
    assert inner.attempts == 3 and guard.failures_total == 5
    now[0] += 61
    inner.down = False
    assert guard.take_recovery() is False
    guard.send("+6281234567890", "halo")
    assert inner.attempts == 4
    assert guard.take_recovery() is True and guard.take_recovery() is False


class RefusingGateway:
    def __init__(self) -> None:
        self.attempts = 0

    def send(self, phone: str, text: str) -> None:
        self.attempts += 1
        raise SmsRejected("number refused", gateway="test")


def test_refused_numbers_never_pause_the_gateway_for_everybody() -> None:
    inner = RefusingGateway()
    guard = GuardedSender(inner, name="test", failures_before_pause=3, pause_s=60)
    for _ in range(10):
        with pytest.raises(SmsRejected):
            guard.send("+6281234567890", "halo")
    assert inner.attempts == 10 and guard.failures_total == 10
