"""A voucher batch of 10,000 codes created and printed: seconds and peak RSS of each step.

    .venv/bin/python bench/vouchers.py [--count 10000] [--database-url URL]

Create is ``captive_portal.vouchers.create_batch`` committed (codes generated, checked unique against the
table, inserted); print is ``batch_sheet`` (the codes read back, the A4 PDF of 3 × 7 cards with a QR code each)
as the admin page and the API serve it. Each step runs in a fresh process so its peak RSS is its own; the
baseline row is the same process up to the step (imports, an engine), so the step's own cost is the difference.
Without ``--database-url`` an SQLite file in a temporary directory is used.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _step(step: str, url: str, count: int, work: Path) -> dict[str, float | int]:
    """One step in this process (called in a child): its seconds, the RSS before it and the peak."""
    from captive_portal import vouchers
    from netmgr.models import HotspotPolicy
    from netmgr.security.permissions import SYSTEM
    from netmgr.state import AppState
    from tests.conftest import make_settings

    state = AppState.build(make_settings(work / "data", url))
    with state.session_factory() as session:
        policy = session.query(HotspotPolicy).filter_by(name="bench").one()
        baseline = _peak_rss_mib()
        started = time.perf_counter()
        if step == "create":
            batch = vouchers.create_batch(session, SYSTEM, name=f"bench {time.time()}", policy_id=policy.id,
                                          count=count)
            session.commit()
            size = batch.id
        else:
            batch_id = int(max(b.id for b in vouchers.list_batches(session, SYSTEM)))
            _, pdf = vouchers.batch_sheet(session, SYSTEM, batch_id, portal_base_url="https://wifi.example.go.id/portal",
                                          tz=state.settings.timezone)
            size = len(pdf)
        seconds = time.perf_counter() - started
    state.engine.dispose()
    return {"seconds": seconds, "baseline_mib": baseline, "peak_mib": _peak_rss_mib(), "size": size}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--step", choices=("create", "print"), help=argparse.SUPPRESS)
    parser.add_argument("--work", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(_step(args.step, args.database_url, args.count, Path(args.work))))
        return

    import sqlalchemy as sa

    from netmgr.migrate import upgrade
    from netmgr.models import HotspotPolicy
    from netmgr.state import AppState
    from tests.conftest import make_settings

    work = Path(tempfile.mkdtemp(prefix="bench-vouchers-"))
    url = args.database_url or f"sqlite:///{work / 'netmgr.sqlite3'}"
    engine = sa.create_engine(url)
    upgrade(engine)
    engine.dispose()
    state = AppState.build(make_settings(work / "data", url))
    with state.session_factory() as session:
        if session.query(HotspotPolicy).filter_by(name="bench").first() is None:
            session.add(HotspotPolicy(name="bench", session_timeout_s=7200, voucher_lifetime_s=7200,
                                      person_daily_bytes=10**9, rate_down_kbps=10_000))
            session.commit()
    state.engine.dispose()

    rows = []
    for step in ("create", "print"):
        out = subprocess.run([sys.executable, __file__, "--step", step, "--count", str(args.count),
                              "--database-url", url, "--work", str(work)],
                             capture_output=True, text=True, check=True).stdout
        rows.append((step, json.loads(out.strip().splitlines()[-1])))
    db = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"\nvoucher batch of {args.count} codes, {db}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| step | seconds | process RSS before MiB | peak RSS MiB | result |")
    print("| --- | --- | --- | --- | --- |")
    for step, r in rows:
        result = f"{int(r['size']) // 1024} KiB PDF" if step == "print" else f"batch {int(r['size'])}"
        print(f"| {step} | {r['seconds']:.2f} | {r['baseline_mib']:.0f} | {r['peak_mib']:.0f} | {result} |")


if __name__ == "__main__":
    main()
