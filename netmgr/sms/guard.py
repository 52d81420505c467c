"""Stops trying a failing gateway for a while, so nobody waits for a timeout that is sure to come.

send → the gateway, unless the gateway was unavailable for ``failures_before_pause`` sends in a row less than
``pause_s`` ago: then ``SmsGatewayUnavailable`` at once. Counts failures (per process) and tells the caller
when the gateway works again, so it can resolve its alert.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from netmgr.errors import SmsError, SmsGatewayUnavailable, SmsRejected
from netmgr.sms import SmsSender

log = logging.getLogger(__name__)


class GuardedSender:
    """Wraps a sender (``name`` is ``kannel``, ``smpp``, ``http`` or ``console``) with a pause after failures."""

    def __init__(self, inner: SmsSender, *, name: str, failures_before_pause: int = 3, pause_s: float = 60,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.inner = inner
        self.name = name
        self.failures_before_pause = max(1, failures_before_pause)
        self.pause_s = pause_s
        self._clock = clock
        self._lock = threading.Lock()
        self._in_a_row = 0
        self._paused_until = 0.0
        self._recovered = False
        self.failures_total = 0

    def send(self, phone: str, text: str) -> None:
        with self._lock:
            left = self._paused_until - self._clock()
            if left > 0:
                self.failures_total += 1
                raise SmsGatewayUnavailable(
                    f"the {self.name} SMS gateway failed {self._in_a_row} times in a row; netmgr tries it again "
                    f"in {left:.0f} s", gateway=self.name)
        try:
            self.inner.send(phone, text)
        except SmsError as exc:
            with self._lock:
                self.failures_total += 1
                # A refused number says the gateway works: it never pauses the gateway, or anyone could stop
                # OTP logins for everybody by typing numbers the gateway refuses.
                if not isinstance(exc, SmsRejected):
                    self._in_a_row += 1
                    if self._in_a_row >= self.failures_before_pause:
                        self._paused_until = self._clock() + self.pause_s
            log.warning("SMS through %s failed: %s", self.name, exc.message)
            raise
        with self._lock:
            self._recovered = self._recovered or self._in_a_row > 0
            self._in_a_row = 0
            self._paused_until = 0.0

    def take_recovery(self) -> bool:
        """Whether a send succeeded after failures since the last call (then the caller resolves its alert)."""
        with self._lock:
            recovered, self._recovered = self._recovered, False
            return recovered
