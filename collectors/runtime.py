"""Process tuning for long-running pollers: keep Python's cyclic GC off the hot path.

A poller keeps per-device and per-interface state for its whole life and allocates many short-lived
objects per poll. After start-up (and again after the first poll, when the state exists), freezing the
heap moves those long-lived objects out of the collector's generations, and a larger generation-0
threshold stops the GC from walking them every few thousand allocations. Reference counting still frees
everything promptly; only cycle detection runs less often.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 50_000

_tuned = {"frozen_after_first_poll": False}


def tune_gc() -> None:
    """Freeze what exists now and make generation-0 collections rarer."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)


def tune_gc_after_first_poll() -> None:
    """Freeze once more after the process's first poll, when per-device state has been built."""
    if not _tuned["frozen_after_first_poll"]:
        _tuned["frozen_after_first_poll"] = True
        tune_gc()
