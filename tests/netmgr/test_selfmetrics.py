"""``/metrics`` after real work: a poll of snmpsim through the Celery task, an AAA request through the fast lane;
and who may read it (loopback only, or the configured token)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

import collectors.tasks  # noqa: F401  # registers collectors.poll_batch with the Celery app below
from netmgr.entrypoints.capabilities import create_app
from netmgr.jobs import make_celery
from netmgr.metrics import DisabledMetricsStore
from netmgr.settings import Settings
from netmgr.state import AppState
from netmgr.task_resources import TaskResources, holding
from tests import factories
from tests.captive_portal.hotspot_data import add_voucher, seed_hotspot
from tests.collectors.traffic_sim import sim_device, traffic_sim
from tests.servers.snmp import Agent

__all__ = ["traffic_sim"]

AAA_TOKEN = "metrics-test-aaa-token"
BASIC = {"Authorization": "Basic " + base64.b64encode(f"freeradius:{AAA_TOKEN}".encode()).decode()}


def _client(settings: Settings, host: str = "127.0.0.1", **prometheus: object) -> Iterator[TestClient]:
    cfg = settings.model_copy(update={
        "radius": settings.radius.model_copy(update={"aaa_token": SecretStr(AAA_TOKEN)}),
        "prometheus": settings.prometheus.model_copy(update=prometheus),
    })
    state = AppState.build(cfg)
    app = create_app(cfg, state=state)
    app.state.aaa_metrics = DisabledMetricsStore()
    with TestClient(app, client=(host, 50000)) as client:
        yield client
    state.engine.dispose()


@pytest.fixture
def local(settings: Settings) -> Iterator[TestClient]:
    yield from _client(settings)


def _value(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = "^" + re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if wanted else "") + r" (\S+)$"
    match = re.search(pattern, text, re.MULTILINE)
    assert match is not None, f"{name} {labels} not in /metrics:\n{text}"
    return float(match.group(1))


def test_metrics_count_a_real_poll_and_a_real_aaa_request(local: TestClient, traffic_sim: Agent) -> None:
    state: AppState = local.app.state.netmgr  # type: ignore[attr-defined]
    with state.session_factory() as session:
        site = factories.site(session)
        device = sim_device(session, traffic_sim, "core-diskominfo", site_id=site.id, address="127.0.0.2")
        dead = factories.device(session, site_id=site.id, name="mati", mgmt_address="127.0.0.20", snmp_port=9,
                                snmp_community="x")
        seeded = seed_hotspot(session)
        add_voucher(session, seeded.batch, "METRIC01")
        ids, nas_name = [device.id, dead.id], seeded.nas.name
        session.commit()

    # The poll task as a worker runs it, its follow-up poll sent to this installation's own (SQLite) broker.
    celery = make_celery(state.settings.model_copy(update={"snmp": state.settings.snmp.model_copy(
        update={"timeout_s": 1, "retries": 0, "poll_deadline_s": 3})}))
    held = TaskResources(AppState(
        settings=state.settings.model_copy(update={"snmp": state.settings.snmp.model_copy(
            update={"timeout_s": 1, "retries": 0, "poll_deadline_s": 3})}),
        engine=state.engine, session_factory=state.session_factory), DisabledMetricsStore())
    try:
        with holding(held):
            outcome = celery.tasks["collectors.poll_batch"].apply(args=[ids]).get()
    finally:
        celery.close()
    assert (outcome["ok"], outcome["timeout"] + outcome["failed"]) == (1, 1), outcome

    answer = local.post("/api/v1/aaa/authorize", params={"client": nas_name}, headers=BASIC, json={
        "User-Name": {"type": "string", "value": ["METRIC01"]},
        "NAS-IP-Address": {"type": "ipaddr", "value": ["127.0.0.1"]},
        "Calling-Station-Id": {"type": "string", "value": ["46-12-1F-20-79-D7"]},
        "Framed-IP-Address": {"type": "ipaddr", "value": ["192.168.201.10"]},
    })
    assert answer.status_code == 200, answer.text

    scraped = local.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    assert _value(text, "netmgr_poll_batch_duration_seconds_count") == 1
    assert _value(text, "netmgr_poll_batch_duration_seconds_sum") > 0
    assert _value(text, "netmgr_devices_polled_total", outcome="ok") == 1
    assert _value(text, "netmgr_devices_last_poll", outcome="ok") == 1
    assert _value(text, "netmgr_devices_last_poll", outcome="failed") == 1
    assert 0 <= _value(text, "netmgr_poll_lag_seconds") < 60
    assert _value(text, "netmgr_aaa_request_duration_seconds_count", endpoint="/authorize") == 1
    assert _value(text, "netmgr_aaa_batch_size_count") >= 1
    assert _value(text, "netmgr_celery_queue_length", queue="poll") == 1  # the first poll's follow-up waits
    assert _value(text, "netmgr_celery_queue_length", queue="default") == 0
    assert _value(text, "netmgr_spool_bytes") == 0
    assert "netmgr_provisioning_jobs" in text


def test_metrics_count_provisioning_jobs_by_state(local: TestClient) -> None:
    state: AppState = local.app.state.netmgr  # type: ignore[attr-defined]
    from netmgr.models import ProvisionJob
    from netmgr.models.provisioning import JobStatus

    with state.session_factory() as session:
        for status in (JobStatus.RUNNING, JobStatus.FAILED, JobStatus.FAILED):
            session.add(ProvisionJob(purpose="ssid", targets={}, variables={}, status=status))
        session.commit()
    text = local.get("/metrics").text
    assert _value(text, "netmgr_provisioning_jobs", state="running") == 1
    assert _value(text, "netmgr_provisioning_jobs", state="failed") == 2


def test_metrics_refuse_a_client_elsewhere_without_a_token(settings: Settings) -> None:
    for client in _client(settings, host="203.0.113.7"):
        answer = client.get("/metrics")
        assert answer.status_code == 403 and "NETMGR_PROMETHEUS__TOKEN" in answer.text


def test_metrics_with_a_token_need_it_even_from_loopback(settings: Settings) -> None:
    for client in _client(settings, token=SecretStr("scrape-me")):
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        answer = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert answer.status_code == 200 and "netmgr_spool_bytes" in answer.text
