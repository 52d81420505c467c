"""Benchmark: the device list page at N devices on PostgreSQL, against its own page query alone.

(a) query: the page's SQL (the same statement the page runs, captured from the engine) executed bare, the floor
    any list page stands on.
(b) page: ``GET /devices`` through the whole app (session, auth, count, page query, tags, template) as an
    admin, for a few sort keys and at 25 and 200 rows per page.

Devices are bulk-inserted (``tests.factories.many_devices``) into a throw-away database on the PostgreSQL the
tests use (a private cluster is started when none is running). Median of ``--repeat`` runs each.

    .venv/bin/python bench/lists.py                       # 20,000 devices
    .venv/bin/python bench/lists.py --devices 500 --repeat 3   # a quick smoke run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from netmgr.entrypoints.capabilities import create_app  # noqa: E402
from netmgr.migrate import upgrade  # noqa: E402
from netmgr.models.enums import Role  # noqa: E402
from netmgr.state import AppState  # noqa: E402
from tests import factories  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.netmgr.web.helpers import login  # noqa: E402
from tests.servers.postgres import postgres_admin_url, temporary_database  # noqa: E402

CASES = ("sort=name&size=25", "sort=name&size=200", "sort=status&order=desc&size=25", "sort=site&size=25",
         "sort=last_seen&order=desc&page=40&size=200")


def _median_ms(run: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench(url: str, devices: int, repeat: int) -> list[tuple[str, float, float, int]]:
    engine = sa.create_engine(url)
    upgrade(engine)
    engine.dispose()
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp), url)
        state = AppState.build(settings)
        with state.session_factory() as session:
            factories.many_devices(session, devices)
            factories.user(session, username="bench", role=Role.ADMIN)
        with state.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        out = []
        with TestClient(create_app(settings, state=state)) as client:
            login(client, "bench")
            for case in CASES:
                seen: list[tuple[str, Any]] = []

                def record(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, _many: bool,
                           seen: list[tuple[str, Any]] = seen) -> None:
                    seen.append((statement, params))

                sa.event.listen(state.engine, "before_cursor_execute", record)
                client.get(f"/devices?{case}")
                sa.event.remove(state.engine, "before_cursor_execute", record)
                statement, params = next((s, p) for s, p in seen if "FROM devices" in s and "LIMIT" in s)

                def query(statement: str = statement, params: Any = params) -> None:
                    with state.engine.connect() as conn:
                        conn.exec_driver_sql(statement, params).all()

                def page(case: str = case) -> None:
                    assert client.get(f"/devices?{case}").status_code == 200

                out.append((case, _median_ms(query, repeat), _median_ms(page, repeat), len(seen)))
        state.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with postgres_admin_url() as admin, temporary_database(admin) as url:
        rows = bench(url, args.devices, args.repeat)
    print(f"\ndevice list, {args.devices:,} devices on PostgreSQL, median of {args.repeat}")
    print(f"{'query string':<45}{'query ms':>10}{'page ms':>10}{'SQL stmts':>11}")
    for case, query_ms, page_ms, statements in rows:
        print(f"{case:<45}{query_ms:>10.1f}{page_ms:>10.1f}{statements:>11}")


if __name__ == "__main__":
    main()
