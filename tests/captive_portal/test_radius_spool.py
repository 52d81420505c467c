"""Decoupled accounting through a real FreeRADIUS writing its detail spool (``captive_portal.spool``): accounting is
answered while netmgr is down, and applied afterwards exactly once — also when the reader is killed with
SIGKILL in the middle of its work. Driven by ``radclient``; usage read back from a real InfluxDB.

The outage is kept short in CI (2,000 Interim-Updates, 100 Starts/Stops); NETMGR_LONG_TESTS=1 runs the full
one: netmgr down for 60 s while 20,000 Interim-Updates and 300 Starts/Stops arrive.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from captive_portal.accounting import AccountingSettings
from captive_portal.radius_config import inventory_clients
from captive_portal.spool import SpoolReader, drain, parse_records
from netmgr.entrypoints.capabilities import create_app
from netmgr.metrics import MetricsStore, make_metrics_store
from netmgr.models import HotspotSession, RadiusSpoolOffset
from netmgr.models.hotspot import SessionStatus
from netmgr.settings import AccountingMode, InfluxApi, Settings
from netmgr.state import AppState
from tests.captive_portal.hotspot_data import NAS_SECRET, seed_hotspot
from tests.servers.freeradius import FreeRadius, freeradius, serve_app
from tests.servers.influx import InfluxServer, influx_server
from tests.servers.process import need_binary, wait_until

pytestmark = pytest.mark.slow

LONG = os.environ.get("NETMGR_LONG_TESTS") == "1"
SESSIONS, INTERIMS, OUTAGE_S = (150, 20_000, 60.0) if LONG else (50, 2_000, 0.0)
GIB = 2**30


@dataclass
class Spooled:
    settings: Settings
    state: AppState
    radius: FreeRadius
    app_running: ExitStack
    """Stops netmgr's AAA app (the FreeRADIUS rest backend) when closed."""
    influx: InfluxServer

    def reader(self, batch: int = 500, store: MetricsStore | None = None) -> SpoolReader:
        return SpoolReader(self.state.session_factory, Path(self.settings.radius.spool_dir),
                           settings=AccountingSettings(timezone="Asia/Jakarta"), batch=batch, store=store)


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer]:
    with influx_server() as server:
        yield server


@pytest.fixture
def spooled(settings: Settings, tmp_path: Path, influx: InfluxServer) -> Iterator[Spooled]:
    database = f"spool_{uuid.uuid4().hex[:8]}"
    spool_settings = settings.model_copy(update={
        "radius": settings.radius.model_copy(update={
            "aaa_token": SecretStr("aaa-token-for-tests"), "accounting": AccountingMode.SPOOL,
            "spool_dir": str(tmp_path / "spool")}),
        "influx": settings.influx.model_copy(update={"api": InfluxApi.V1, "url": influx.url, "database": database,
                                                     "bucket": database, "spool_max_bytes": 0}),
    })
    state = AppState.build(spool_settings)
    with state.session_factory() as s:
        seed_hotspot(s, person_daily_bytes=None, person_daily_time_s=None)
        clients = inventory_clients(s)
    app_running = ExitStack()
    url = app_running.enter_context(serve_app(create_app(spool_settings, state=state)))
    try:
        with freeradius(tmp_path / "radius", settings=spool_settings, api_url=url, clients=clients,
                        debug=False) as radius:
            yield Spooled(settings=spool_settings, state=state, radius=radius, app_running=app_running,
                          influx=influx)
    finally:
        app_running.close()
        state.engine.dispose()


@dataclass(frozen=True)
class Sent:
    """What the gateway reported last for one session: the totals netmgr must end with."""

    input_octets: int
    output_octets: int
    session_time_s: int
    stopped: bool


def _request(status: str, sid: str, *, in_octets: int = 0, out_octets: int = 0, seconds: int = 0) -> str:
    return (f'User-Name = "guest-{sid}", Acct-Status-Type = {status}, Acct-Session-Id = "{sid}", '
            f'NAS-IP-Address = 127.0.0.1, Framed-IP-Address = 192.168.201.10, '
            f'Calling-Station-Id = "02-00-00-{int(sid[2:]) // 256:02X}-{int(sid[2:]) % 256:02X}-01", '
            f"Acct-Input-Octets = {in_octets % 2**32}, Acct-Input-Gigawords = {in_octets // 2**32}, "
            f"Acct-Output-Octets = {out_octets % 2**32}, Acct-Output-Gigawords = {out_octets // 2**32}, "
            f"Acct-Session-Time = {seconds}\n")


def _gateway_day(sessions: int, interims: int) -> tuple[list[str], dict[str, Sent]]:
    """Starts, rounds of Interim-Updates, and a Stop for half of the sessions; some pass 4 GiB (gigawords)."""
    requests = [_request("Start", f"s-{i}") for i in range(sessions)]
    rounds = interims // sessions
    sent: dict[str, Sent] = {}
    for k in range(1, rounds + 1):
        for i in range(sessions):
            in_octets, out_octets = k * (i + 1) * 8_000_000, k * (i + 1) * 1_500_000
            requests.append(_request("Interim-Update", f"s-{i}", in_octets=in_octets, out_octets=out_octets,
                                     seconds=60 * k))
            sent[f"s-{i}"] = Sent(in_octets, out_octets, 60 * k, stopped=False)
    for i in range(0, sessions, 2):
        last = sent[f"s-{i}"]
        final = Sent(last.input_octets + 1000, last.output_octets + 7, last.session_time_s + 30, stopped=True)
        requests.append(_request("Stop", f"s-{i}", in_octets=final.input_octets, out_octets=final.output_octets,
                                 seconds=final.session_time_s))
        sent[f"s-{i}"] = final
    assert max(s.input_octets for s in sent.values()) > 4 * GIB
    return requests, sent


def _send(radius: FreeRadius, requests: list[str], tmp: Path) -> None:
    """Everything through FreeRADIUS with radclient (32 in flight); every request must be answered."""
    path = tmp / f"requests-{uuid.uuid4().hex[:6]}.txt"
    path.write_text("\n".join(requests))
    out = subprocess.run([need_binary("radclient", "freeradius-utils"), "-q", "-s", "-p", "32", "-r", "3", "-t", "5",
                          "-f", str(path), f"127.0.0.1:{radius.acct_port}", "acct", NAS_SECRET],
                         capture_output=True, text=True, timeout=600, check=False)
    assert out.returncode == 0, f"{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
    answered = re.search(r"Accepted\s*:\s*(\d+)", out.stdout)
    assert answered is not None and int(answered.group(1)) == len(requests), out.stdout


def _sessions(spooled: Spooled) -> dict[str, HotspotSession]:
    with spooled.state.session_factory() as s:
        return {r.acct_session_id: r for r in s.scalars(select(HotspotSession))}


def _assert_applied_once(spooled: Spooled, sent: dict[str, Sent]) -> None:
    rows = _sessions(spooled)
    assert set(rows) == set(sent)
    for sid, want in sent.items():
        row = rows[sid]
        got = (row.input_octets, row.output_octets, row.session_time_s, row.status == SessionStatus.CLOSED)
        assert got == (want.input_octets, want.output_octets, want.session_time_s, want.stopped), sid


def test_accounting_answered_while_netmgr_is_down_is_applied_after_it_returns(spooled: Spooled,
                                                                               tmp_path: Path) -> None:
    requests, sent = _gateway_day(SESSIONS, INTERIMS)
    spooled.app_running.close()  # netmgr (the AAA app, its database work) is down from here
    down_since = time.monotonic()

    _send(spooled.radius, requests, tmp_path)
    if OUTAGE_S:
        wait_until(lambda: time.monotonic() - down_since >= OUTAGE_S, timeout=OUTAGE_S + 5, what="the outage")
    assert _sessions(spooled) == {}  # answered, and nothing applied yet

    applied = drain(spooled.reader())

    assert applied == len(requests)
    _assert_applied_once(spooled, sent)
    assert drain(spooled.reader()) == 0  # read to the end: nothing left, nothing applied twice


def test_a_reader_killed_mid_batch_loses_and_doubles_nothing(spooled: Spooled, tmp_path: Path) -> None:
    requests, sent = _gateway_day(40, 800)
    _send(spooled.radius, requests, tmp_path)
    env = _cli_env(spooled.settings, batch=40)

    reader = subprocess.Popen([str(Path(sys.executable).parent / "netmgr"), "radius-spool"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:  # killed while it works through the backlog: between two commits, in the middle of a batch
        wait_until(lambda: _records_done(spooled) >= 160, timeout=90, what="the reader's first batches", proc=reader)
    finally:
        os.kill(reader.pid, signal.SIGKILL)
        reader.wait(10)
    assert _records_done(spooled) < len(requests), "the reader finished before it could be killed"

    store = make_metrics_store(spooled.settings)
    try:
        drain(spooled.reader(store=store))  # netmgr's reader started again
    finally:
        store.close()

    assert _records_done(spooled) == len(requests)
    _assert_applied_once(spooled, sent)
    # Usage points were written before each commit: a batch killed after writing them wrote the same points again.
    result = spooled.influx.query("SELECT sum(input_octets), sum(output_octets) FROM hotspot_usage",
                                  db=spooled.settings.influx.database)
    values = result["results"][0]["series"][0]["values"][0]
    assert (values[1], values[2]) == (sum(s.input_octets for s in sent.values()),
                                      sum(s.output_octets for s in sent.values()))


def _records_done(spooled: Spooled) -> int:
    with spooled.state.session_factory() as s:
        return int(s.scalar(select(func.coalesce(func.sum(RadiusSpoolOffset.records), 0))) or 0)


def _cli_env(settings: Settings, *, batch: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETMGR_")}
    env.update({
        "NETMGR_ENVIRONMENT": "test", "NETMGR_DATABASE_URL": settings.database_url,
        "NETMGR_DATA_DIR": str(settings.data_dir), "NETMGR_SECRET_KEY": settings.secret_key.get_secret_value(),
        "NETMGR_ENCRYPTION_KEYS": settings.encryption_keys.get_secret_value(),
        "NETMGR_RADIUS__SPOOL_DIR": settings.radius.spool_dir, "NETMGR_RADIUS__SPOOL_BATCH": str(batch),
        "NETMGR_RADIUS__SPOOL_POLL_S": "0.1", "NETMGR_INFLUX__API": "v1", "NETMGR_INFLUX__URL": settings.influx.url,
        "NETMGR_INFLUX__DATABASE": settings.influx.database, "NETMGR_INFLUX__BUCKET": settings.influx.bucket,
        "NETMGR_INFLUX__SPOOL_MAX_BYTES": "0",
    })
    return env


def test_a_record_freeradius_is_still_writing_waits_and_escaped_values_come_back(spooled: Spooled,
                                                                                 tmp_path: Path) -> None:
    _send(spooled.radius, [_request("Start", "s-1").replace('"s-1"', '"s-1 \\"x\\\\"')], tmp_path)
    [path] = spooled.reader().files()
    data = path.read_bytes()

    [record] = parse_records(data, 0, 10)
    partial = parse_records(data[:-1], 0, 10)  # the empty line that ends a record not written yet

    assert record.attributes["Acct-Session-Id"] == 's-1 "x\\'
    assert record.attributes["Netmgr-Client"] == spooled.radius.config.clients[0]
    assert record.end == len(data) and partial == []
    assert record.received is not None and abs(time.time() - record.received.timestamp()) < 60


def test_a_finished_file_is_removed_and_a_malformed_record_is_skipped(spooled: Spooled, tmp_path: Path) -> None:
    _send(spooled.radius, [_request("Start", "s-1"), _request("Start", "s-2")], tmp_path)
    [path] = spooled.reader().files()
    # A record damaged on disk (its MAC is garbage) is skipped; the others are applied.
    path.write_bytes(path.read_bytes().replace(b"02-00-00-00-02-01", b"not-a-mac", 1))
    clock = [time.time()]
    reader = SpoolReader(spooled.state.session_factory, path.parent,
                         settings=AccountingSettings(timezone="Asia/Jakarta"), clock=lambda: clock[0])

    first = reader.read_batch()
    kept = reader.read_batch()
    kept_file = path.exists()
    clock[0] += 121
    removed = reader.read_batch()

    assert (first.records, first.applied, first.skipped) == (2, 1, 1)
    assert kept.records == 0 and kept.removed == [] and kept_file
    assert removed.removed == [path.name] and not path.exists()
    assert set(_sessions(spooled)) == {"s-1"}
    with spooled.state.session_factory() as s:
        assert list(s.scalars(select(RadiusSpoolOffset))) == []
