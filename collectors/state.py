"""The poller's memory of each device: the previous counter samples and poll hints, persisted in ``poll_state``.

Pipeline → ``DeviceState`` (counters of the last good poll) → JSON row per device, written in the same
transaction as the usage it produced, so a restarted or different worker continues without losing traffic
and a retried batch never counts an interval twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from collectors.poller import PollHints
from collectors.rates import CounterSample
from netmgr.models import PollState

log = logging.getLogger(__name__)


@dataclass
class DeviceState:
    """Counters of a device's last successful poll, keyed like ``if:ether1:in`` or ``q:DISDIK:out``.

    All counters of one poll share ``wall_time`` and ``uptime_cs``.
    """

    wall_time: float | None = None
    uptime_cs: int | None = None
    counters: dict[str, tuple[int, int]] = field(default_factory=dict)
    """key → (value, width in bits)."""
    hints: PollHints = field(default_factory=PollHints)
    system_uptime_cs: int | None = None
    """hrSystemUptime at the last poll, where the device has it (reboot detection prefers it to sysUpTime)."""

    def sample(self, key: str) -> CounterSample | None:
        """The previous sample of counter ``key``, or None when there is none (first poll, new interface)."""
        found = self.counters.get(key)
        if found is None or self.wall_time is None:
            return None
        value, width = found
        return CounterSample(value=value, wall_time=self.wall_time, uptime_cs=self.uptime_cs, width=width)

    def to_json(self) -> str:
        return json.dumps({"t": self.wall_time, "u": self.uptime_cs,
                           "c": {k: [v, w] for k, (v, w) in self.counters.items()},
                           "h": self.hints.to_json(), "s": self.system_uptime_cs}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> DeviceState:
        """Parse a stored state; a damaged one is logged and treated as empty (costs one interval)."""
        try:
            data: dict[str, Any] = json.loads(text or "{}")
            wall, uptime, system = data.get("t"), data.get("u"), data.get("s")
            counters = {str(k): (int(v[0]), int(v[1])) for k, v in (data.get("c") or {}).items()}
            return cls(wall_time=float(wall) if wall is not None else None,
                       uptime_cs=int(uptime) if uptime is not None else None, counters=counters,
                       hints=PollHints.from_json(data.get("h") or {}),
                       system_uptime_cs=int(system) if system is not None else None)
        except (ValueError, TypeError, AttributeError, IndexError) as exc:
            log.warning("unreadable poll state ignored: %s", exc)
            return cls()


def load_states(session: Session, device_ids: list[int]) -> dict[int, DeviceState]:
    """The stored state of each device (an empty DeviceState for devices never polled)."""
    found: dict[int, DeviceState] = {}
    if device_ids:
        for row in session.scalars(select(PollState).where(PollState.device_id.in_(device_ids))):
            found[row.device_id] = DeviceState.from_json(row.data)
    return {device_id: found.get(device_id, DeviceState()) for device_id in device_ids}


def save_state(session: Session, device_id: int, state: DeviceState | None, *, polled_at: datetime,
               error: str = "") -> None:
    """Store a device's state (None keeps the counters and only records the error). Not committed here."""
    row = session.get(PollState, device_id)
    if row is None:
        row = PollState(device_id=device_id, data="{}")
        session.add(row)
    if state is not None:
        row.data = state.to_json()
        row.polled_at = polled_at
    row.last_error = error[:2000]
