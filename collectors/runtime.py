"""Process tuning for long-running pollers (see ``netmgr.runtime``): freeze once more after the first poll,
when the per-device and per-interface state exists."""

from __future__ import annotations

from netmgr.runtime import GEN0_THRESHOLD, tune_gc

__all__ = ["GEN0_THRESHOLD", "tune_gc", "tune_gc_after_first_poll"]

_tuned = {"frozen_after_first_poll": False}


def tune_gc_after_first_poll() -> None:
    """Freeze once more after the process's first poll, when per-device state has been built."""
    if not _tuned["frozen_after_first_poll"]:
        _tuned["frozen_after_first_poll"] = True
        tune_gc()
