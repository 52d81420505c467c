"""The benchmarks still run: each at a tiny size, so a change that breaks one is caught in CI (figures are
measured on an idle machine, see docs/performance.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _run(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_voucher_bench_creates_and_prints_a_batch_and_reports_seconds_and_peak_rss() -> None:
    out = _run("vouchers.py", "--count", "25")
    assert re.search(r"^\| create \| [0-9.]+ \| \d+ \| \d+ \| batch \d+ \|$", out, re.M), out
    assert re.search(r"^\| print \| [0-9.]+ \| \d+ \| \d+ \| \d+ KiB PDF \|$", out, re.M), out


def test_portal_bench_reports_the_captive_portal_api_requests_per_second_and_p99() -> None:
    out = _run("portal.py", "--logins", "20", "--concurrency", "2", "--workers", "1", "--warmup", "4")
    row = re.search(r"^\| Captive Portal API: 1 × GET /portal/api/captive/<hotspot> \| 20 \(0 failed\) "
                    r"\| [\d,]+ \| \d+ \| \d+ \|", out, re.M)
    assert row, out
    assert re.search(r"^\| netmgr click-through login \| 20 \(0 failed\) \|", out, re.M), out
