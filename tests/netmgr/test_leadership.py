"""The leaders' dashboard and its open data: figures per park, day, area and hour, and k-anonymity that holds."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from netmgr.errors import PermissionDenied
from netmgr.models.enums import Role, SiteKind
from netmgr.models.hotspot import Hotspot, HotspotSession
from netmgr.security.permissions import Actor
from netmgr.services import leadership
from tests import factories

TZ = "Asia/Jakarta"
K = 5
SALT = b"test-salt"
LEADER = Actor(user_id=None, username="bupati", role=Role.LEADERSHIP)
NOVEMBER = date(2026, 11, 1)


def _park(session: Session, name: str, site_id: int, device_id: int) -> int:
    row = Hotspot(name=name, slug=name.lower().replace(" ", "-").strip("=+"), site_id=site_id,
                  gateway_device_id=device_id)
    session.add(row)
    session.flush()
    return row.id


_seq = iter(range(1, 100_000))


def _sessions(session: Session, park: int, nas: int, at: datetime, devices: int, *, per_device: int = 1,
              octets: int = 2_000_000) -> None:
    for _ in range(devices):
        mac = "02:00:00:00:{:02X}:{:02X}".format(*divmod(next(_seq), 256))
        for _ in range(per_device):
            session.add(HotspotSession(hotspot_id=park, nas_device_id=nas, acct_session_id=f"s{next(_seq)}",
                                       mac=mac, started_at=at, input_octets=octets // 4,
                                       output_octets=octets - octets // 4))


def seed(session: Session) -> dict[str, int]:
    """Two areas: Baamang (Taman Kota with a quiet day, Taman Kecil with 3 devices) and "+Ketapang" (one park)."""
    baamang = factories.site(session, name="Baamang", kind=SiteKind.PUBLIC_HOTSPOT)
    ketapang = factories.site(session, name="+Ketapang", kind=SiteKind.PUBLIC_HOTSPOT)
    nas_a = factories.device(session, site_id=baamang.id)
    nas_b = factories.device(session, site_id=ketapang.id)
    kota = _park(session, "Taman Kota", baamang.id, nas_a.id)
    kecil = _park(session, "Taman Kecil", baamang.id, nas_a.id)
    pantai = _park(session, "=Taman Pantai", ketapang.id, nas_b.id)
    # 23:30 UTC on 2 November is 06:30 WIB on Tuesday 3 November.
    _sessions(session, kota, nas_a.id, datetime(2026, 11, 2, 23, 30, tzinfo=UTC), 6)
    _sessions(session, kota, nas_a.id, datetime(2026, 11, 4, 12, 0, tzinfo=UTC), 7)
    _sessions(session, kota, nas_a.id, datetime(2026, 11, 5, 12, 0, tzinfo=UTC), 2)
    _sessions(session, kecil, nas_a.id, datetime(2026, 11, 3, 12, 0, tzinfo=UTC), 3)
    _sessions(session, pantai, nas_b.id, datetime(2026, 11, 10, 1, 0, tzinfo=UTC), 8, per_device=2)
    _sessions(session, kota, nas_a.id, datetime(2026, 10, 15, 5, 0, tzinfo=UTC), 10)  # previous month
    _sessions(session, pantai, nas_b.id, datetime(2025, 11, 20, 5, 0, tzinfo=UTC), 5)  # same month last year
    _sessions(session, pantai, nas_b.id, datetime(2026, 11, 30, 17, 0, tzinfo=UTC), 4)  # 1 December WIB: not November
    session.commit()
    return {"kota": kota, "kecil": kecil, "pantai": pantai}


def test_dashboard_counts_devices_sessions_and_data_per_park_day_area_and_hour(session: Session) -> None:
    parks = seed(session)
    board = leadership.dashboard(session, LEADER, NOVEMBER, tz=TZ, threshold=K, salt=SALT)

    kota = board.park_month[parks["kota"]]
    assert (kota.unique, kota.sessions, kota.octets, kota.suppressed) == (15, 15, 30_000_000, False)
    days = board.park_days[parks["kota"]]
    assert sorted(days) == [date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 5)]  # local days, not UTC
    assert days[date(2026, 11, 5)].suppressed  # 2 devices
    assert days[date(2026, 11, 3)].suppressed  # complementary: else month − 4 Nov would give 5 Nov
    assert days[date(2026, 11, 4)].public() == {"unique_devices": 7, "sessions": 7, "data_mb": 14}
    assert board.park_month[parks["kecil"]].suppressed
    assert board.area_month["Baamang"].suppressed  # only one of its parks is hidden: its total would tell
    pantai = board.area_month["+Ketapang"]
    assert pantai.public() == {"unique_devices": 8, "sessions": 16, "data_mb": 32}
    assert board.heat[1][6].sessions == 6  # Tuesday 06:00–07:00 WIB
    assert board.heat[1][19].sessions == 3 and board.heat[1][19].suppressed  # Taman Kecil, 19:00 WIB
    assert board.total.suppressed  # one park hidden: the installation's total minus the others would show it
    assert board.trend.previous == {"unique_devices": 10, "sessions": 10, "data_mb": 20}
    assert board.trend.last_year == {"unique_devices": 5, "sessions": 5, "data_mb": 10}


def test_a_role_without_leadership_read_is_refused(session: Session) -> None:
    with pytest.raises(PermissionDenied):
        leadership.dashboard(session, Actor(None, "keu", Role.FINANCE), NOVEMBER, tz=TZ, threshold=K, salt=SALT)


def _cells(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def assert_k_anonymous(rows: list[dict[str, str]], k: int) -> None:
    """No figure below ``k``, and no published total minus published parts leaves exactly one hidden part."""
    for row in rows:
        figure = row["unique_devices"]
        assert figure == "" or int(figure) >= k, row
        assert (row["unique_devices"] == "") == (row["sessions"] == "") == (row["data_mb"] == ""), row
    parks = {(r["area"], r["park"]): r for r in rows if r["level"] == "park_month"}
    areas = {r["area"]: r for r in rows if r["level"] == "area_month"}
    relations: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if row["level"] == "park_day":
            relations[(row["area"], row["park"])].append(row)
    for key, days in relations.items():
        if parks[key]["sessions"]:
            assert sum(d["sessions"] == "" for d in days) != 1, f"{key}: one hidden day is total minus the rest"
    for area, total in areas.items():
        children = [r for (a, _), r in parks.items() if a == area]
        if total["sessions"]:
            assert sum(c["sessions"] == "" for c in children) != 1, f"{area}: one hidden park is recoverable"
            published = sum(int(c["sessions"]) for c in children if c["sessions"])
            assert published <= int(total["sessions"])


def test_no_exported_cell_counts_fewer_than_the_threshold_and_totals_hide_suppressed_cells(
        session: Session) -> None:
    seed(session)
    board = leadership.dashboard(session, LEADER, NOVEMBER, tz=TZ, threshold=K, salt=SALT)
    text = leadership.open_data_csv(board)
    rows = _cells(text)
    assert_k_anonymous(rows, K)
    assert len(rows) == 3 + 1 + 1 + 1 + 1 + 1 + 2  # Kota 3 days + month, Kecil, Pantai, two areas
    assert "02:00:00" not in text and SALT.decode() not in text  # no MAC, no hash key
    # Text a spreadsheet would run is quoted (netmgr.security.formulas).
    pantai = next(r for r in rows if r["level"] == "park_month" and "Pantai" in r["park"])
    assert pantai["park"] == "'=Taman Pantai" and pantai["area"] == "'+Ketapang"
    assert pantai["unique_devices"] == "8" and pantai["sessions"] == "16" and pantai["data_mb"] == "32"
    assert text.startswith("level,period,area,park,unique_devices,sessions,data_mb\r\n")


def test_a_higher_threshold_hides_more_and_still_protects(session: Session) -> None:
    seed(session)
    board = leadership.dashboard(session, LEADER, NOVEMBER, tz=TZ, threshold=8, salt=SALT)
    rows = _cells(leadership.open_data_csv(board))
    assert_k_anonymous(rows, 8)
    assert [r["unique_devices"] for r in rows if r["level"] == "park_day" and r["park"] == "Taman Kota"] == \
        ["", "", ""]


def test_the_description_names_fields_units_licence_period_and_rule(session: Session) -> None:
    seed(session)
    board = leadership.dashboard(session, LEADER, NOVEMBER, tz=TZ, threshold=K, salt=SALT)
    package = json.loads(leadership.open_data_description(board, publisher="Diskominfo Kotim",
                                                          licence="CC-BY-4.0", csv_name="wifi-2026-11.csv"))
    schema = package["resources"][0]["schema"]
    assert [f["name"] for f in schema["fields"]] == list(leadership.CSV_FIELDS)
    assert {f["name"]: f["type"] for f in schema["fields"]}["sessions"] == "integer"
    assert package["licenses"] == [{"name": "CC-BY-4.0"}] and package["publisher"] == "Diskominfo Kotim"
    assert package["temporal"] == {"start": "2026-11-01", "end": "2026-11-30"}
    assert package["suppression"]["threshold"] == K and "5" in package["suppression"]["aturan"]
    assert package["resources"][0]["path"] == "wifi-2026-11.csv"


def test_heat_map_uses_the_installation_time_zone(session: Session) -> None:
    seed(session)
    board = leadership.dashboard(session, LEADER, NOVEMBER, tz="Asia/Jayapura", threshold=K, salt=SALT)
    # 23:30 UTC is 08:30 WIT the next day (Tuesday).
    assert board.heat[1][8].sessions == 6
    assert board.heat[1][10].sessions == 16  # Taman Pantai, 01:00 UTC


PARKS = [leadership.Park(1, "Taman A", "Baamang"), leadership.Park(2, "Taman B", "Baamang"),
         leadership.Park(3, "Taman C", "Ketapang"), leadership.Park(4, "Taman D", "Ketapang")]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(0, 40), st.integers(0, 3 * 24 + 23),
                          st.integers(0, 50_000_000)), max_size=200),
       st.integers(2, 8))
def test_no_random_month_exports_a_small_count_or_a_recoverable_hidden_cell(
        sessions: list[tuple[int, int, int, int]], k: int) -> None:
    rows = [(park, f"02:00:00:00:00:{device:02X}", datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=hour), octets, 0)
            for park, device, hour, octets in sessions]
    board = leadership.aggregate(PARKS, rows, month=NOVEMBER, tz=TZ, threshold=k, salt=SALT)
    assert_k_anonymous(_cells(leadership.open_data_csv(board)), k)
