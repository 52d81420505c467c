"""The demo regency: idempotent seeding, SNMP recordings that answer and move, and the whole ``netmgr demo``."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from netmiko import ConnectHandler
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from netmgr.demo import catalog, radius, snmpdata
from netmgr.demo.probe import free_port_on
from netmgr.demo.runner import DemoOptions, DemoRunner
from netmgr.demo.seed import seed_demo
from netmgr.demo.supervisor import Supervisor, group_members
from netmgr.entrypoints.capabilities import demo_seeders
from netmgr.models import Agency, Device, Uplink, User
from netmgr.services.devices import device_credentials
from netmgr.services.uplinks import price_with_tax
from netmgr.settings import Settings
from netmgr.state import AppState
from tests.conftest import make_settings
from tests.servers.process import need_binary

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_COUNTS = {"agencies": 15, "sites": 19, "devices": 27, "uplinks": 2, "users": 5}
QUEUE_NAME = "1.3.6.1.4.1.14988.1.1.2.1.1.2"
QUEUE_BYTES_OUT = "1.3.6.1.4.1.14988.1.1.2.1.1.9"
IF_HC_IN = "1.3.6.1.2.1.31.1.1.1.6"


# --- seeding ----------------------------------------------------------------------------------


def test_seeding_twice_creates_the_regency_once_and_only_updates_ports(session: Session) -> None:
    # usage_months=None: the usage backfill (most of the seeding time) has its own test in tests/netmgr/finance
    first = seed_demo(session, snmp_port=16161, usage_months=None, timezone="Asia/Jakarta")
    session.commit()
    assert first.created == EXPECTED_COUNTS

    again = seed_demo(session, snmp_port=16161, usage_months=None, timezone="Asia/Jakarta")
    session.commit()
    assert again.created == {} and again.ports_updated == 0

    moved = seed_demo(session, snmp_port=17171, ssh_ports={"core-diskominfo": 2201}, usage_months=None,
                      timezone="Asia/Jakarta")
    session.commit()
    assert moved.created == {} and moved.ports_updated == len(catalog.DEVICES)
    core = session.scalar(select(Device).where(Device.name == "core-diskominfo"))
    assert core is not None
    assert (core.snmp_port, core.ssh_port, core.mgmt_address) == (17171, 2201, "127.0.10.1")
    # The community is stored encrypted and equals the recording's file name.
    assert core.snmp_community_encrypted and "core-diskominfo" not in core.snmp_community_encrypted
    assert device_credentials(session, core).snmp_community == "core-diskominfo"
    telkom = session.scalar(select(Uplink).where(Uplink.name == "telkom-astinet-500"))
    assert telkom is not None and telkom.device_id == core.id
    assert (telkom.capacity_down_mbps, telkom.monthly_price_idr, price_with_tax(telkom)) == (500, 27_500_000,
                                                                                             30_525_000)
    viewer = session.scalar(select(User).where(User.username == "viewer-disdik"))
    assert viewer is not None and viewer.agency is not None and viewer.agency.code == "DISDIK"


def test_every_demo_device_has_its_own_loopback_address_and_platforms_are_mixed() -> None:
    addresses = [d.address for d in catalog.DEVICES]
    assert len(set(addresses)) == len(addresses)
    assert all(a.startswith("127.0.") for a in addresses)
    assert len({d.platform for d in catalog.DEVICES}) >= 6


# --- SNMP recordings --------------------------------------------------------------------------


def test_office_traffic_peaks_in_office_hours_and_hotspots_in_the_evening() -> None:
    tuesday_10 = datetime(2025, 3, 4, 3, 0, tzinfo=UTC)  # 10:00 WIB
    tuesday_20 = datetime(2025, 3, 4, 13, 0, tzinfo=UTC)  # 20:00 WIB
    assert snmpdata.traffic_factor(tuesday_10) > 3 * snmpdata.traffic_factor(tuesday_20)
    assert snmpdata.traffic_factor(tuesday_20, public=True) > snmpdata.traffic_factor(tuesday_10, public=True)
    assert snmpdata.traffic_factor(tuesday_20, around_the_clock=True) >= 0.6


def _queue_rates(records: list[snmpdata.Record]) -> dict[str, int]:
    names = {r.oid[-1]: r.value for r in records if ".".join(map(str, r.oid[:-1])) == QUEUE_NAME}
    rates = {}
    for r in records:
        if ".".join(map(str, r.oid[:-1])) == QUEUE_BYTES_OUT:
            match = re.search(r"rate=(\d+)", r.value)
            assert match, r.value
            rates[names[r.oid[-1]]] = int(match.group(1))
    return rates


def test_core_router_has_one_simple_queue_per_agency_some_idle_some_at_their_ceiling() -> None:
    core = next(d for d in catalog.DEVICES if d.name == "core-diskominfo")
    base = snmpdata.parse(snmpdata.find_base("core-diskominfo").read_text())
    weekday_morning = datetime(2025, 3, 4, 3, 0, tzinfo=UTC)
    rates = _queue_rates(snmpdata.build_recording(core, base, weekday_morning))
    assert set(rates) == {a.code for a in catalog.AGENCIES} | {catalog.HOTSPOT_POOL.code}
    ceiling = {a.code: a.ceiling_mbps * 125_000 for a in catalog.AGENCIES}
    assert rates["DUKCAPIL"] >= 0.95 * ceiling["DUKCAPIL"]  # hits its ceiling
    assert rates["INSPEKTORAT"] <= 0.1 * ceiling["INSPEKTORAT"]  # barely uses its allocation


@pytest.fixture
def prepared(tmp_path: Path) -> snmpdata.PreparedData:
    return snmpdata.prepare(tmp_path / "snmpsim" / "data")


def _snmp(tool: str, address: str, port: int, community: str, *oids: str) -> list[str]:
    out = subprocess.run([tool, "-v2c", "-c", community, "-On", "-t", "2", "-r", "1", f"{address}:{port}", *oids],
                         capture_output=True, text=True, timeout=30, env={**os.environ, "MIBS": ""}, check=False)
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if line.startswith(".")]


def _value(line: str) -> str:
    return line.split(": ", 1)[1].strip('"')


def test_snmpsim_serves_every_device_on_its_address_with_moving_counters(
        prepared: snmpdata.PreparedData, tmp_path: Path) -> None:
    snmpget = need_binary("snmpget", "snmp")
    snmpbulkwalk = need_binary("snmpbulkwalk", "snmp")
    devices = {d.name: d for d in catalog.DEVICES if d.name in ("core-diskominfo", "gw-pelabuhan", "dist-bpkad")}
    port = free_port_on([d.address for d in devices.values()], kind=socket.SOCK_DGRAM)
    supervisor = Supervisor(tmp_path / "logs", dict(os.environ))
    argv = [str(Path(sys.executable).parent / "snmpsim-command-responder"), f"--data-dir={prepared.data_dir}",
            f"--cache-dir={tmp_path / 'cache'}", "--logging-method=stdout",
            *[f"--agent-udpv4-endpoint={d.address}:{port}" for d in devices.values()]]
    child = supervisor.start("snmpsim", argv, what="test", env={"SNMPSIM_ALLOW_ROOT": "true"})
    try:
        core = devices["core-diskominfo"]

        def answers() -> bool:
            probe = subprocess.run([snmpget, "-v2c", "-c", "core-diskominfo", "-t", "1", "-r", "0",
                                    f"{core.address}:{port}", "1.3.6.1.2.1.1.5.0"], capture_output=True, check=False)
            return probe.returncode == 0

        supervisor.wait_ready(child, answers, timeout=60)
        first = _snmp(snmpget, core.address, port, "core-diskominfo", "1.3.6.1.2.1.1.5.0", f"{IF_HC_IN}.1")
        assert _value(first[0]) == "core-diskominfo"
        time.sleep(1.5)
        second = _snmp(snmpget, core.address, port, "core-diskominfo", f"{IF_HC_IN}.1")
        assert int(_value(second[0])) > int(_value(first[1]))

        queues = _snmp(snmpbulkwalk, core.address, port, "core-diskominfo", QUEUE_NAME)
        assert [_value(line) for line in queues][:3] == ["DISKOMINFO", "DISDIK", "DINKES"]
        assert len(queues) == len(catalog.AGENCIES) + 1

        # Each device answers on its own address with its own name, including synthesised interfaces.
        for name in ("gw-pelabuhan", "dist-bpkad"):
            d = devices[name]
            assert _value(_snmp(snmpget, d.address, port, prepared.communities[name], "1.3.6.1.2.1.1.5.0")[0]) == name
        gw_in = _snmp(snmpbulkwalk, devices["gw-pelabuhan"].address, port, "gw-pelabuhan", IF_HC_IN)
        assert len(gw_in) == 3
    finally:
        supervisor.stop_all(grace_s=10)
    assert not child.alive()


# --- a failed start leaves nothing half-done ---------------------------------------------------

# Run in a child process: seed the demo as `netmgr demo` does and SIGKILL ourselves in the middle of it, when the
# first user row is about to be written (agencies, sites, devices and uplinks are written by then).
KILL_WHILE_SEEDING = """
import io, os, signal, sys
from pathlib import Path
from rich.console import Console
from sqlalchemy import event
from sqlalchemy.engine import Engine
from netmgr.demo.runner import DemoOptions, DemoRunner
from netmgr.entrypoints.capabilities import demo_seeders
from tests.conftest import make_settings

def die(conn, cursor, statement, *args):
    if statement.lstrip().upper().startswith("INSERT INTO USERS"):
        os.kill(os.getpid(), signal.SIGKILL)

event.listen(Engine, "before_cursor_execute", die)
runner = DemoRunner(make_settings(Path(sys.argv[1]), sys.argv[2]), DemoOptions(ssh=False),
                    Console(file=io.StringIO()), env={}, seeders=demo_seeders())
runner.prepare_database()
"""


def _runner(settings: Settings, **options: bool) -> DemoRunner:
    return DemoRunner(settings, DemoOptions(**options), Console(file=io.StringIO(), width=200),
                      env=dict(os.environ), seeders=demo_seeders())


def test_a_demo_killed_while_seeding_leaves_no_rows_and_simply_starts_again(settings: Settings) -> None:
    child = subprocess.run([sys.executable, "-c", KILL_WHILE_SEEDING, str(settings.data_dir),
                            settings.resolved_database_url], cwd=ROOT, capture_output=True, text=True, timeout=240,
                           check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr

    state = AppState.build(settings)
    try:
        with state.session_factory() as session:
            assert session.scalar(select(func.count()).select_from(Agency)) == 0  # one transaction, rolled back
    finally:
        state.engine.dispose()

    first = _runner(settings, ssh=False)
    assert first.prepare_database() == EXPECTED_COUNTS
    assert "created 15 agencies" in _printed(first)
    again = _runner(settings, ssh=False)
    assert again.prepare_database() == EXPECTED_COUNTS
    assert "created nothing new" in _printed(again)
    # The captive portal's manifest hook seeded the demo hotspot: the panel shows its portal and a voucher.
    assert again.run.portal_path.startswith("/portal/taman-kota-sampit/?mac=")
    assert len(again.run.sample_voucher) >= 8


def _printed(runner: DemoRunner) -> str:
    file = runner.console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


# --- the SSH device simulators ----------------------------------------------------------------


@pytest.mark.slow
def test_the_demo_starts_its_ssh_simulators_from_the_package_outside_a_clone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed netmgr has no tests/ beside it: the demo starts the simulators from netmgr.demo.simulators."""
    monkeypatch.chdir(tmp_path)
    runner = _runner(make_settings(tmp_path / "demo"))
    ssh_devices = [d for d in catalog.DEVICES if catalog.ssh_capable(d)]
    chosen = [next(d for d in ssh_devices if d.platform.value == p) for p in ("mikrotik_routeros", "cisco_ios")]
    port = free_port_on([d.address for d in chosen])
    runner.run.ssh_ports = {d.name: port for d in chosen}
    try:
        runner.start_ssh_simulators()()
        assert runner.run.notes == []
        for device in chosen:
            with ConnectHandler(device_type=device.platform.value, host=device.address, port=port,
                                username=catalog.DEMO_SSH_USERNAME, password=catalog.DEMO_SSH_PASSWORD,
                                ssh_config_file=None, allow_agent=False, use_keys=False, fast_cli=True,
                                conn_timeout=10) as conn:
                assert device.name in conn.find_prompt()
    finally:
        endings = runner.supervisor.stop_all(grace_s=10)
    assert set(endings) == {f"ssh-{d.name}" for d in chosen}
    assert set(endings.values()) <= {"exited with status 0", "killed by SIGTERM"}, endings


def test_without_asyncssh_the_demo_says_in_one_line_how_to_get_it_and_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "asyncssh", None)  # as in an installed netmgr: asyncssh is a dev dependency
    runner = _runner(make_settings(tmp_path / "demo"))
    runner.run.ssh_ports = {"core-diskominfo": free_port_on(["127.0.0.1"])}
    runner.start_ssh_simulators()()
    assert runner.supervisor.children == []
    [note] = runner.run.notes
    assert "asyncssh" in note and "./dev setup" in note and "\n" not in note
    assert note in _printed(runner)


def test_without_snmpsim_the_demo_stops_in_one_line_before_touching_the_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))  # a Python with no snmpsim beside it
    settings = make_settings(tmp_path / "demo")
    runner = _runner(settings)
    assert runner.main() == 1
    [error] = [line for line in _printed(runner).splitlines() if line.startswith("error:")]
    assert "snmpsim-command-responder is not installed" in error and "./dev setup" in error
    assert runner.supervisor.children == []
    assert not Path(settings.resolved_database_url.removeprefix("sqlite:///")).exists()


# --- the whole demo ---------------------------------------------------------------------------


PORTAL_LINE = re.compile(r"(http://127\.0\.0\.1:\d+/portal/\S+)")
VOUCHER_LINE = re.compile(r"a demo voucher: (\S+)")
LOGIN_LINE = re.compile(r"^\W*(admin|operator|keuangan|viewer-disdik|bupati)\s+(\S+)\s+(\w+)", re.MULTILINE)


@pytest.mark.slow
def test_demo_command_serves_every_role_and_stops_every_child_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port_on(["127.0.0.1"])
    data_dir = tmp_path / "demo"
    out_path = tmp_path / "demo.out"
    env = {key: value for key, value in os.environ.items() if not key.startswith("NETMGR_")}
    env |= {"COLUMNS": "200", "NETMGR_LOG_LEVEL": "WARNING"}
    with out_path.open("wb") as out:
        # --no-ssh keeps the test quick on two cores; the SSH simulators are tested by their own suite.
        argv = [str(Path(sys.executable).parent / "netmgr"), "demo", "--port", str(port), "--data-dir",
                str(data_dir), "--no-browser", "--no-ssh"]
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and "stop: Ctrl-C" not in out_path.read_text(errors="replace"):
            assert proc.poll() is None, out_path.read_text(errors="replace")
            time.sleep(0.5)
        text = out_path.read_text(errors="replace")
        assert "stop: Ctrl-C" in text, text
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/healthz", timeout=5).json()["status"] == "ok"

        logins = {m.group(1): m.group(2) for m in LOGIN_LINE.finditer(text)}
        assert set(logins) == {u.username for u in catalog.USERS}, text
        roles = {u.username: u.role.value for u in catalog.USERS}
        for username, password in logins.items():
            with httpx.Client(base_url=base, timeout=10) as client:
                answer = client.post("/api/v1/auth/login", json={"username": username, "password": password})
                assert answer.status_code == 200, answer.text
                assert answer.json()["user"]["role"] == roles[username]
        portal = PORTAL_LINE.search(text)
        assert portal is not None, text
        with httpx.Client(base_url=base, timeout=10, follow_redirects=True) as citizen:
            welcome = citizen.get(portal.group(1).removeprefix(base))
            assert welcome.status_code == 200 and "Sampit Free WiFi" in welcome.text, welcome.text
        voucher = VOUCHER_LINE.search(text)
        assert voucher is not None and len(voucher.group(1)) >= 6, text
        state = json.loads((data_dir / "run" / "demo.json").read_text())
        children = state["children"]
        assert {"snmpsim", "web", "worker", "freeradius", "gateway"} <= set(children), text
        _citizens_show_on_the_sessions_page_and_an_admin_disconnects_one(base, logins["admin"],
                                                                         state["gateway_vouchers"])
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    text = out_path.read_text(errors="replace")
    assert code == 0, text
    assert "processes ended cleanly" in text
    for name, pid in children.items():
        assert not group_members(pid), f"{name} (pid {pid}) left processes behind"


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _citizens_show_on_the_sessions_page_and_an_admin_disconnects_one(base: str, password: str,
                                                                     vouchers: list[str]) -> None:
    """The demo gateway's citizens logged in through FreeRADIUS: their sessions are on the admin's page, and the
    page's Disconnect reaches the gateway (RADIUS Disconnect-Request), which ends the session."""
    assert vouchers
    with httpx.Client(base_url=base, timeout=10, follow_redirects=True) as admin:
        form = CSRF.search(admin.get("/login").text)
        assert form is not None
        admin.post("/login", data={"username": "admin", "password": password, "csrf_token": form.group(1),
                                   "next": "/portal-admin/sessions"})
        # The page shows each citizen's device by masked MAC (the demo gateway's are 02:00:5E:30:00:01, :02, …).
        devices = [f"02:00:5E:••:••:{n:02X}" for n in range(1, len(vouchers) + 1)]
        deadline = time.monotonic() + 30
        page = ""
        while time.monotonic() < deadline:
            page = admin.get("/portal-admin/sessions").text
            if all(device in page for device in devices):
                break
            time.sleep(0.5)
        assert all(device in page for device in devices), page
        assert not any(code in page for code in vouchers)  # the codes are the citizens' logins: not shown
        row = re.search(r'action="(/portal-admin/sessions/\d+/disconnect)".*?value="([^"]+)"', page, re.DOTALL)
        assert row is not None, page
        before = page.count("/disconnect")
        admin.post(row.group(1), data={"csrf_token": row.group(2)})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and admin.get("/portal-admin/sessions").text.count("/disconnect") == before:
            time.sleep(0.5)
        assert admin.get("/portal-admin/sessions").text.count("/disconnect") == before - 1


def test_without_freeradius_the_demo_says_so_in_one_line_and_runs_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(radius, "freeradius_binary", lambda: None)
    runner = _runner(make_settings(tmp_path / "demo"))
    runner.run.gateway = radius.DemoGateway("gw-taman-kota", "127.0.30.1", 3799, "s", ["ABC"])
    runner.start_radius()
    assert runner.supervisor.children == [] and runner.run.radius_ports is None
    [note] = runner.run.notes
    assert "FreeRADIUS is not installed" in note and "apt install freeradius" in note and "\n" not in note
    assert note in _printed(runner)


def test_every_demo_recording_ships_in_the_package_with_its_source() -> None:
    """A clone with nothing beside it, or an installed netmgr, has every recording the demo serves."""
    sources = (snmpdata.BUILTIN_DIR / "SOURCES.md").read_text()
    for name in {device.recording for device in catalog.DEVICES}:
        path = snmpdata.find_base(name)
        assert path.parent == snmpdata.BUILTIN_DIR, path
        assert f"`{name}.snmprec`" in sources, f"{name}.snmprec has no source in SOURCES.md"
