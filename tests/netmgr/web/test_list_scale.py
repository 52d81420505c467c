"""The device list at 20,000 devices on PostgreSQL: every sort key's page query is served by an index, and a
page costs the same few SQL statements at 25 rows as at 200 (no query per row)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from netmgr.entrypoints.capabilities import create_app
from netmgr.models.enums import Role
from netmgr.services.devices import SORTING
from netmgr.state import AppState
from tests import factories
from tests.conftest import _truncate_all, make_settings
from tests.netmgr.web.helpers import login

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DEVICES = 20_000


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory,
        postgres_url: str) -> Iterator[tuple[TestClient, sa.Engine, list[int]]]:
    """20,000 devices seeded once for this module's tests (about 3 s on an idle machine), emptied after."""
    settings = make_settings(tmp_path_factory.mktemp("big") / "data", postgres_url)
    state = AppState.build(settings)
    try:
        with state.session_factory() as session:
            agency_ids = factories.many_devices(session, DEVICES)
            factories.user(session, username="admin", role=Role.ADMIN)
            factories.user(session, username="viewer", role=Role.AGENCY_VIEWER, agency_id=agency_ids[3])
        with state.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        with TestClient(create_app(settings, state=state)) as client:
            yield client, state.engine, agency_ids
    finally:
        _truncate_all(state.engine)
        state.engine.dispose()


class Statements:
    """Every SQL statement the engine runs while recording, with its parameters."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.seen: list[tuple[str, Any]] = []

    def __enter__(self) -> Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
                _many: bool) -> None:
        self.seen.append((statement, parameters))

    def page_query(self) -> tuple[str, Any]:
        """The device list's page query: the one selecting devices with ORDER BY and LIMIT."""
        found = [(s, p) for s, p in self.seen if "FROM devices" in s and "ORDER BY" in s and "LIMIT" in s]
        assert len(found) == 1, [s for s, _ in found]
        return found[0]


def _plan(engine: sa.Engine, statement: str, parameters: Any) -> str:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
    return "\n".join(r[0] for r in rows)


def _page(client: TestClient, engine: sa.Engine, path: str) -> Statements:
    with Statements(engine) as recorded:
        response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    assert response.text.count('href="/devices/') >= 25
    return recorded


def test_every_sort_key_of_20000_devices_is_served_by_an_index_in_a_fixed_number_of_queries(
        big: tuple[TestClient, sa.Engine, list[int]]) -> None:
    client, engine, _agencies = big
    client.cookies.clear()
    assert login(client, "admin").status_code == 303
    for key in SORTING.keys:
        for order in ("asc", "desc"):
            recorded = _page(client, engine, f"/devices?sort={key}&order={order}&page=3")
            plan = _plan(engine, *recorded.page_query())
            assert "Seq Scan on devices" not in plan, (key, order, plan)
            assert "Index" in plan, (key, order, plan)
    few = len(_page(client, engine, "/devices?size=25").seen)
    many = len(_page(client, engine, "/devices?size=200&sort=site").seen)
    assert few == many, "a query per row"
    assert many <= 12


def test_an_agency_viewers_page_of_20000_devices_is_served_by_an_index(
        big: tuple[TestClient, sa.Engine, list[int]]) -> None:
    client, engine, _agencies = big
    client.cookies.clear()
    assert login(client, "viewer").status_code == 303
    for key in ("name", "status", "last_seen"):
        recorded = _page(client, engine, f"/devices?sort={key}&order=desc")
        statement, parameters = recorded.page_query()
        assert "agency_id" in statement
        assert "Seq Scan on devices" not in _plan(engine, statement, parameters), key
