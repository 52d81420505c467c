"""Process accounting for the benchmarks, read from /proc: a process tree, its CPU seconds and peak RSS.

CPU is what the kernel charged the processes (utime + stime), not wall time; with ``waited_children`` the
CPU of children they already reaped is added (e.g. a worker's finished subprocesses).
"""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its living descendants."""
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int(_stat_fields(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                pids.extend(process_tree(int(entry.name)))
    return pids


def cpu_seconds(pids: list[int], *, waited_children: bool = False) -> float:
    """CPU seconds charged to these processes so far (processes that have gone count as 0)."""
    total = 0
    for pid in pids:
        try:
            fields = _stat_fields(pid)
            total += int(fields[11]) + int(fields[12])
            if waited_children:
                total += int(fields[13]) + int(fields[14])
        except (OSError, IndexError, ValueError):
            continue
    return total / TICKS


def peak_rss_mb(pids: list[int]) -> float:
    """Sum of the processes' peak resident set sizes (VmHWM), in MiB."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024
