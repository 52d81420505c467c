"""``bench/radius.py`` runs at a tiny size: the spool against the static users file, and the spool's catch-up.

Only that it runs and reports; its figures come from a full run on an idle machine (docs/performance.md).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "radius.py"


def test_radius_bench_reports_the_spool_against_the_static_file_and_its_catch_up() -> None:
    out = subprocess.run([sys.executable, str(BENCH), "--only", "spool", "--requests", "200", "--sessions", "20",
                          "--backlog", "300", "--window", "32"],
                         capture_output=True, text=True, timeout=240, check=False)

    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert re.search(r"\| detail spool: Accounting Interim-Update \| 200/200 \|", out.stdout), out.stdout
    assert re.search(r"accounting through the detail spool: [\d,]+/s = \d+% of the static-file ceiling", out.stdout)
    assert re.search(r"spool catch-up: 300 records applied in [\d.]+ s", out.stdout), out.stdout
