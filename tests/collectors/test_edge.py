"""Edge collectors: what the centre lets an edge do, and an edge that keeps polling through a dead link.

The end-to-end test runs the real netmgr app under uvicorn as the centre (SQLite), a real influxd behind it,
the demo core router's recording in snmpsim as the site's device, and the edge agent with its own SQLite and
disk spool. The link is cut by stopping the centre's server (the edge then sees a refused connection, as when
a radio link drops), and the edge is restarted while offline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from collectors.alerts import evaluate_alerts
from collectors.edge import centre
from collectors.edge.agent import EdgeAgent
from collectors.scheduler import pollable_device_ids
from netmgr.entrypoints.capabilities import create_app
from netmgr.models import Device, DeviceEvent, Traffic5m, TrafficMeter
from netmgr.models.alerts import Alert, AlertKind
from netmgr.security.permissions import SYSTEM
from netmgr.services import edges, monitoring
from netmgr.services.monitoring import SiteHealth
from netmgr.settings import Settings
from netmgr.state import AppState
from tests import factories
from tests.collectors.traffic_sim import sim_device, traffic_sim
from tests.conftest import make_settings
from tests.servers.app import migrated_sqlite_url, serve_app
from tests.servers.influx import InfluxServer, influx_server
from tests.servers.process import free_port
from tests.servers.snmp import Agent

__all__ = ["traffic_sim"]


def _bucket(minute: int) -> str:
    return datetime(2026, 12, 7, 3, minute, tzinfo=UTC).isoformat()


@pytest.fixture
def two_sites(session: Session) -> tuple[int, int, int, int]:
    """Site A with device a1 (its edge's), site B with device b1 (not its edge's)."""
    site_a = factories.site(session, name="Kecamatan Baamang")
    site_b = factories.site(session, name="Kecamatan Seranau")
    a1 = factories.device(session, site_id=site_a.id, name="rtr-baamang", snmp_community="baamang-ro")
    b1 = factories.device(session, site_id=site_b.id, name="rtr-seranau", snmp_community="seranau-ro")
    return site_a.id, site_b.id, a1.id, b1.id


def test_an_edge_gets_only_its_sites_devices_and_the_centre_stops_polling_them(
        session: Session, client: TestClient, two_sites: tuple[int, int, int, int]) -> None:
    site_a, _, a1, b1 = two_sites
    edge, token = edges.register(session, SYSTEM, site_id=site_a, name="edge-baamang")
    session.commit()
    assert edge.token_hash not in token and token.startswith("nme_")
    assert pollable_device_ids(session) == [b1]  # a1 is the edge's now

    assert client.get("/api/v1/edge/inventory").status_code == 401
    assert client.get("/api/v1/edge/inventory", headers={"Authorization": "Bearer nme_forged"}).status_code == 401
    inv = client.get("/api/v1/edge/inventory", headers={"Authorization": f"Bearer {token}"}).json()
    assert [d["name"] for d in inv["devices"]] == ["rtr-baamang"]
    assert inv["devices"][0]["snmp_community"] == "baamang-ro"
    assert "seranau-ro" not in str(inv)
    links = edges.links(session, link_down_after_s=180)
    session.refresh(edge)
    assert [(link.name, link.down) for link in links] == [("edge-baamang", False)]
    assert a1 in centre.edge_device_ids(session)


def test_usage_reports_replace_totals_and_ignore_other_sites_devices(
        session: Session, client: TestClient, two_sites: tuple[int, int, int, int]) -> None:
    site_a, _, a1, b1 = two_sites
    _, token = edges.register(session, SYSTEM, site_id=site_a, name="edge-baamang")
    session.commit()
    auth = {"Authorization": f"Bearer {token}"}

    def report(octets: int) -> dict[str, object]:
        return {"buckets": [
            {"device_id": a1, "kind": "interface", "name": "ether1", "bucket_start": _bucket(0),
             "in_octets": octets, "out_octets": 10, "covered_s": 300},
            {"device_id": b1, "kind": "interface", "name": "ether1", "bucket_start": _bucket(0),
             "in_octets": 999, "out_octets": 999, "covered_s": 300}]}

    first = client.post("/api/v1/edge/usage", json=report(1000), headers=auth)
    assert first.json() == {"applied": 1, "ignored": 1}
    client.post("/api/v1/edge/usage", json=report(1000), headers=auth)  # sent again after a lost answer
    client.post("/api/v1/edge/usage", json=report(1500), headers=auth)  # the bucket grew on the edge
    rows = session.execute(select(TrafficMeter.device_id, Traffic5m.in_octets)
                           .join(TrafficMeter, TrafficMeter.id == Traffic5m.meter_id)).all()
    assert rows == [(a1, 1500)]
    bad = client.post("/api/v1/edge/usage", json={"buckets": [
        {"device_id": a1, "kind": "interface", "name": "x", "bucket_start": _bucket(1), "in_octets": 1,
         "out_octets": 1, "covered_s": 1}]}, headers=auth)
    assert bad.status_code == 422 and "5-minute" in bad.json()["detail"]


def test_forwarded_points_must_name_the_edges_own_devices(
        session: Session, client: TestClient, two_sites: tuple[int, int, int, int]) -> None:
    site_a, *_ = two_sites
    _, token = edges.register(session, SYSTEM, site_id=site_a, name="edge-baamang")
    session.commit()
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "text/plain"}
    forged = "interface_traffic,device=rtr-seranau,interface=ether1 in_bps=1 1765000000000000000\n"
    answer = client.post("/api/v1/edge/metrics", content=forged, headers=auth)
    assert answer.status_code == 422 and "rtr-seranau" in answer.json()["detail"]
    untagged = "interface_traffic,interface=ether1 in_bps=1 1765000000000000000\n"
    assert client.post("/api/v1/edge/metrics", content=untagged, headers=auth).status_code == 422
    own = "interface_traffic,device=rtr-baamang,interface=ether1 in_bps=1 1765000000000000000\n"
    assert client.post("/api/v1/edge/metrics", content=own, headers=auth).json() == {"applied": 1, "ignored": 0}


def test_status_reports_apply_newer_status_and_events_once(
        session: Session, client: TestClient, two_sites: tuple[int, int, int, int]) -> None:
    site_a, _, a1, b1 = two_sites
    _, token = edges.register(session, SYSTEM, site_id=site_a, name="edge-baamang")
    session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    body = {"backlog_points": 42, "devices": [
        {"id": a1, "status": "down", "status_changed_at": _bucket(5)},
        {"id": b1, "status": "down", "status_changed_at": _bucket(5)}],
        "events": [{"device_id": a1, "at": _bucket(5), "kind": "down", "detail": "timeout"}]}
    assert client.post("/api/v1/edge/status", json=body, headers=auth).json() == {"applied": 2, "ignored": 1}
    assert client.post("/api/v1/edge/status", json=body, headers=auth).json() == {"applied": 1, "ignored": 1}
    assert session.scalar(select(func.count()).select_from(DeviceEvent)) == 1
    statuses = dict(session.execute(select(Device.id, Device.status)).all())
    assert statuses == {a1: "down", b1: "unknown"}


# --- end to end -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer]:
    with influx_server() as server:
        yield server


def _points(influx: InfluxServer, database: str, device: str) -> list[int]:
    result = influx.query(f"SELECT in_bps FROM interface_traffic WHERE device = '{device}' "  # noqa: S608
                          "AND interface = 'sfp-sfpplus1'", db=database)
    (statement,) = result["results"]  # type: ignore[misc]
    return [int(v[0]) for s in statement.get("series", []) for v in s["values"]]


def test_an_edge_keeps_polling_while_the_link_is_down_and_forwards_everything_after(
        tmp_path: Path, traffic_sim: Agent, influx: InfluxServer) -> None:
    database = f"edge_{int(time.time() * 1000)}"
    centre_settings = make_settings(tmp_path / "centre", migrated_sqlite_url(tmp_path),
                                    influx={"url": influx.url, "api": "v1", "bucket": database})
    state = AppState.build(centre_settings)
    with state.session_factory() as session:
        site = factories.site(session, name="Kecamatan Baamang")
        core = sim_device(session, traffic_sim, "core-diskominfo", site_id=site.id, name="core-baamang")
        _, token = edges.register(session, SYSTEM, site_id=site.id, name="edge-baamang")
        session.commit()
        core_id = core.id
    port = free_port()
    app = create_app(centre_settings, state=state)
    edge_settings = make_settings(tmp_path / "edge", "", snmp={"poll_interval_s": 1},
                                  edge={"centre_url": f"http://127.0.0.1:{port}", "token": token, "timeout_s": 2})

    def cycle(agent: EdgeAgent) -> tuple[bool, int]:
        time.sleep(1.1)  # counters need time to move between polls
        result = agent.run_cycle()
        assert result.ok == 1, result
        return result.link_up, result.backlog_points

    agent = EdgeAgent(edge_settings)
    with serve_app(app, port):
        assert cycle(agent) == (True, 0)  # first poll: inventory copied, no rates yet
        assert cycle(agent) == (True, 0)
    offline = [cycle(agent), cycle(agent)]
    assert [up for up, _ in offline] == [False, False] and offline[-1][1] > 0
    agent.close()
    agent = EdgeAgent(edge_settings)  # restarted while offline: polls from its local copy, keeps its spool
    assert cycle(agent)[0] is False
    with serve_app(app, port):
        assert cycle(agent)[0] is True
    agent.close()

    times = _points(influx, database, "core-baamang")
    # Polls 2-6 gave rates (a longer gap between polls is spread over one point per poll interval): the series
    # runs from the second poll to the last without a hole, although the centre heard nothing for three polls.
    assert len(times) >= 5, times
    assert max(b - a for a, b in zip(times, times[1:], strict=False)) < 3e9, times
    edge_state = AppState.build(edge_settings)

    def totals(factory: sessionmaker[Session]) -> list[tuple[str, int, int]]:
        with factory() as s:
            return sorted((name, int(i), int(o)) for name, i, o in s.execute(
                select(TrafficMeter.name, func.sum(Traffic5m.in_octets), func.sum(Traffic5m.out_octets))
                .join(TrafficMeter, TrafficMeter.id == Traffic5m.meter_id)
                .where(TrafficMeter.device_id == core_id).group_by(TrafficMeter.name)))

    at_centre, at_edge = totals(state.session_factory), totals(edge_state.session_factory)
    assert at_centre == at_edge and any(i > 0 for _, i, _ in at_centre)
    edge_state.engine.dispose()
    state.engine.dispose()


def test_an_edge_without_an_inventory_says_what_to_do(tmp_path: Path) -> None:
    settings: Settings = make_settings(tmp_path / "edge", "", edge={
        "centre_url": f"http://127.0.0.1:{free_port()}", "token": "nme_x", "timeout_s": 1})
    agent = EdgeAgent(settings)
    try:
        result = agent.run_cycle()
    finally:
        agent.close()
    assert not result.link_up and "no inventory yet" in result.error


def test_a_silent_edge_is_one_link_down_alert_for_its_site_not_one_per_device(
        session: Session, session_factory: sessionmaker[Session], tmp_path: Path,
        two_sites: tuple[int, int, int, int]) -> None:
    site_a, *_ = two_sites
    edge, token = edges.register(session, SYSTEM, site_id=site_a, name="edge-baamang")
    session.commit()
    rules = make_settings(tmp_path / "rules", influx={"enabled": False}, timezone="Asia/Makassar",
                          edge={"link_down_after_s": 180})
    t0 = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    edges.authenticate(session, token, now=t0)
    session.commit()
    assert evaluate_alerts(session_factory, store=None, notifiers=[], settings=rules, now=t0).opened == []

    silent = evaluate_alerts(session_factory, store=None, notifiers=[], settings=rules, now=t0 + timedelta(minutes=4))
    assert [c.kind for c in silent.opened] == [AlertKind.EDGE_LINK_DOWN]
    assert "edge-baamang" in silent.opened[0].message.text and "14:00 WITA" in silent.opened[0].message.text
    states = {s.site_id: s.health for s in monitoring.site_states(session, SYSTEM)}
    assert states[site_a] == SiteHealth.LINK_DOWN
    assert session.scalar(select(func.count()).select_from(Alert)) == 1  # no device alerts for the site

    for minute in (10, 12):  # the edge calls again; the alert clears once that held clear_hold_s (120 s)
        edges.authenticate(session, token, now=t0 + timedelta(minutes=minute))
        session.commit()
        back = evaluate_alerts(session_factory, store=None, notifiers=[], settings=rules,
                               now=t0 + timedelta(minutes=minute, seconds=1))
    assert [c.kind for c in back.resolved] == [AlertKind.EDGE_LINK_DOWN]
    assert "menghubungi pusat lagi" in back.resolved[0].message.text
    session.expire_all()
    assert {s.site_id: s.health for s in monitoring.site_states(session, SYSTEM)}[site_a] != SiteHealth.LINK_DOWN
