"""Runs the demo regency: migrate, seed, prepare SNMP data, start every process, wait for Ctrl-C, stop them.

Data flow: settings → database (migrated, seeded) → snmpsim data → children under the supervisor
(snmpsim, SSH simulators, InfluxDB, web app, Celery worker with beat, then FreeRADIUS in front of the web app and
a hotspot gateway that logs citizens in through it) → a panel for the person at the terminal.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType

import httpx
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from netmgr import migrate
from netmgr.capabilities import DemoSeeder
from netmgr.db import session_scope
from netmgr.demo import catalog, probe, radius, seed, snmpdata
from netmgr.demo.supervisor import ChildFailed, Supervisor, describe_exit
from netmgr.models.hotspot import Hotspot
from netmgr.settings import Environment, Settings
from netmgr.state import AppState

SSHSIM_MODULE = "netmgr.demo.simulators.sshsim"
"""The SSH device simulators, started as processes: nothing else in netmgr imports them (or asyncssh)."""
SNMPSIM_BINARY = "snmpsim-command-responder"
GATEWAY_MODULE = "netmgr.demo.simulators.radiusgw"
"""The demo hotspot gateway that sends citizens' RADIUS from its own address (started as a process)."""


# snmpsim and asyncssh are development dependencies today, not runtime ones: ``./dev demo`` (``./dev setup``)
# installs them; an installed netmgr without them says in one line what to do.


def snmpsim_missing() -> str | None:
    """Why the demo's SNMP agents cannot start, in one line; None if snmpsim is installed."""
    if (Path(sys.executable).parent / SNMPSIM_BINARY).is_file():
        return None
    return (f"{SNMPSIM_BINARY} is not installed beside {sys.executable}: run ./dev setup "
            "(or pip install snmpsim) and start the demo again")


def ssh_simulators_missing() -> str | None:
    """Why the demo's SSH device simulators cannot start, in one line; None if asyncssh is installed."""
    if importlib.util.find_spec("asyncssh") is not None:
        return None
    return "SSH simulators not started: they need asyncssh; run ./dev setup (or pip install asyncssh), or use --no-ssh"


@dataclass
class DemoOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    ssh: bool = True
    influx: bool = True
    worker: bool = True
    browser: bool = False


@dataclass
class DemoRun:
    """What a started demo holds (ports, URLs, children) for the panel and the summary."""

    settings: Settings
    options: DemoOptions
    supervisor: Supervisor
    snmp_port: int = 0
    ssh_ports: dict[str, int] = field(default_factory=dict)
    influx_url: str | None = None
    portal_path: str = ""
    """The citizens' portal as the demo hotspot's gateway would redirect a phone to it (path and query)."""
    sample_voucher: str = ""
    gateway: radius.DemoGateway | None = None
    """The hotspot gateway whose citizens log in through FreeRADIUS (None when the demo has no hotspot)."""
    radius_ports: tuple[int, int] | None = None
    """FreeRADIUS's auth and accounting ports on 127.0.0.1, once it runs."""
    notes: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.options.port}"


def demo_settings(base: Settings, data_dir: Path | None, cwd: Path) -> Settings:
    """The demo's settings: ``<cwd>/var/demo`` unless a data dir was given or configured."""
    if data_dir is None:
        data_dir = base.data_dir if "data_dir" in base.model_fields_set else cwd / "var" / "demo"
    return base.model_copy(update={"data_dir": data_dir.resolve(), "environment": Environment.DEMO})


class DemoRunner:
    """Owns one run of ``netmgr demo``."""

    def __init__(self, settings: Settings, options: DemoOptions, console: Console, env: dict[str, str],
                 seeders: Sequence[DemoSeeder] = ()) -> None:
        """``seeders`` are the capabilities' demo hooks (``netmgr.entrypoints.capabilities.demo_seeders``)."""
        self.settings = settings
        self.seeders = tuple(seeders)
        self.options = options
        self.console = console
        self.data_dir = settings.data_dir
        self.supervisor = Supervisor(self.data_dir / "logs", env)
        self.run = DemoRun(settings, options, self.supervisor)
        self._stop = threading.Event()
        # FreeRADIUS authenticates to netmgr's AAA endpoints with this; a new one each run, known only to the two.
        self.aaa_token = secrets.token_urlsafe(24)

    # --- steps -----------------------------------------------------------------------------

    def prepare_database(self) -> dict[str, int]:
        ssh_devices = [d for d in catalog.DEVICES if catalog.ssh_capable(d)]
        self.run.snmp_port = probe.free_port_on([d.address for d in catalog.DEVICES], socket.SOCK_DGRAM)
        if self.options.ssh and ssh_simulators_missing() is None:
            port = probe.free_port_on([d.address for d in ssh_devices])
            self.run.ssh_ports = {d.name: port for d in ssh_devices}
        state = AppState.build(self.settings)
        try:
            migrate.upgrade(state.engine)
            with session_scope(state.session_factory) as session:
                result = seed.seed_demo(session, snmp_port=self.run.snmp_port, ssh_ports=self.run.ssh_ports,
                                        timezone=self.settings.timezone)
                for seed_capability in self.seeders:  # e.g. the citizens' portal + printable vouchers
                    seeded = seed_capability(session, seed.DEMO_ACTOR)
                    self.run.portal_path = seeded.portal_path or self.run.portal_path
                    self.run.sample_voucher = seeded.sample_voucher or self.run.sample_voucher
                    hotspot = session.get(Hotspot, seeded.hotspot_id) if seeded.hotspot_id is not None else None
                    if hotspot is not None:  # the demo gateway's RADIUS client for that hotspot
                        self.run.gateway = radius.prepare_gateway(session, hotspot, keep=self.run.sample_voucher)
                totals = seed.counts(session)
        finally:
            state.engine.dispose()
        made = ", ".join(f"{n} {kind}" for kind, n in result.created.items()) or "nothing new (kept existing data)"
        self.console.print(f"database {self._db_label()}: created {made}")
        return totals

    def _db_label(self) -> str:
        url = self.settings.resolved_database_url
        return url.split("///", 1)[-1] if url.startswith("sqlite") else url.split("@")[-1]

    def start_snmpsim(self) -> Callable[[], None]:
        data = snmpdata.prepare(self.data_dir / "snmpsim" / "data", extra_dir=self.settings.demo.snmprec_dir)
        cache = self.data_dir / "snmpsim" / "cache"
        shutil.rmtree(cache, ignore_errors=True)  # the index must match the freshly written recordings
        cache.mkdir(parents=True)
        binary = Path(sys.executable).parent / SNMPSIM_BINARY
        argv = [str(binary), f"--data-dir={data.data_dir}", f"--cache-dir={cache}", "--logging-method=stdout"]
        argv += [f"--agent-udpv4-endpoint={d.address}:{self.run.snmp_port}" for d in catalog.DEVICES]
        child = self.supervisor.start("snmpsim", argv, env={"SNMPSIM_ALLOW_ROOT": "true"},
                                      what=f"{len(catalog.DEVICES)} devices on 127.0.x.y udp/{self.run.snmp_port}")
        core = next(d for d in catalog.DEVICES if d.name == "core-diskominfo")
        return partial(self.supervisor.wait_ready, child, lambda: probe.snmp_get(
            core.address, self.run.snmp_port, data.communities[core.name], "1.3.6.1.2.1.1.5.0") == core.name,
            timeout=90)

    def start_ssh_simulators(self) -> Callable[[], None]:
        if not self.options.ssh:
            return lambda: None
        missing = ssh_simulators_missing()
        if missing is not None:
            self.run.notes.append(missing)
            self.console.print(f"[yellow]warning:[/] {missing}")
            return lambda: None
        state_dir = self.data_dir / "ssh"
        state_dir.mkdir(parents=True, exist_ok=True)
        started = []
        for device in catalog.DEVICES:
            port = self.run.ssh_ports.get(device.name)
            if port is None:
                continue
            argv = [sys.executable, "-m", SSHSIM_MODULE, "--platform", device.platform.value,
                    "--host", device.address, "--port", str(port), "--username", catalog.DEMO_SSH_USERNAME,
                    "--password", catalog.DEMO_SSH_PASSWORD, "--hostname", device.name,
                    "--state-file", str(state_dir / f"{device.name}.json")]
            started.append((device, self.supervisor.start(f"ssh-{device.name}", argv,
                                                          what=f"SSH {device.address}:{port}")))

        def wait() -> None:
            failed = []
            for device, child in started:
                address, port = device.address, self.run.ssh_ports[device.name]
                try:
                    self.supervisor.wait_ready(child, partial(probe.tcp_open, address, port), timeout=90)
                except ChildFailed:
                    # The demo is still worth running without a device's CLI: say so and go on.
                    failed.append(f"{device.name} ({device.platform.value}): {child.tail(1)}")
            if failed:
                self.run.notes.append(f"{len(failed)} SSH simulator(s) failed, see logs/ssh-*.log: "
                                      + "; ".join(failed))

        return wait

    def start_influxdb(self) -> None:
        binary = shutil.which("influxd")
        if not self.options.influx or binary is None:
            why = "disabled with --no-influx" if not self.options.influx else "influxd is not installed"
            self.run.notes.append(f"InfluxDB not started ({why}); metrics are not stored")
            return
        root = self.data_dir / "influxdb"
        http_port = probe.free_port_on(["127.0.0.1"])
        rpc_port = probe.free_port_on(["127.0.0.1"])
        config = root / "influxdb.conf"
        root.mkdir(parents=True, exist_ok=True)
        config.write_text(
            "reporting-disabled = true\n"
            f'bind-address = "127.0.0.1:{rpc_port}"\n'
            f'[meta]\n  dir = "{root / "meta"}"\n'
            f'[data]\n  dir = "{root / "data"}"\n  wal-dir = "{root / "wal"}"\n  query-log-enabled = false\n'
            "[monitor]\n  store-enabled = false\n"
            f'[http]\n  enabled = true\n  bind-address = "127.0.0.1:{http_port}"\n  auth-enabled = false\n'
            "  log-enabled = false\n"
            "[ifql]\n  enabled = false\n",
            encoding="utf-8",
        )
        url = f"http://127.0.0.1:{http_port}"
        child = self.supervisor.start("influxdb", [binary, "-config", str(config)], what=f"InfluxDB 1.x {url}")
        # influxd replays its WAL before it listens: on a restart with months of data that takes a while.
        self.supervisor.wait_ready(child, partial(_http_answers, f"{url}/ping", 204), timeout=120)
        database = self.settings.influx.bucket
        httpx.post(f"{url}/query", data={"q": f'CREATE DATABASE "{database}"'}, timeout=10).raise_for_status()
        self.run.influx_url = url

    def child_env(self) -> dict[str, str]:
        env = {
            "NETMGR_DATA_DIR": str(self.data_dir),
            "NETMGR_ENVIRONMENT": Environment.DEMO.value,
            "NETMGR_REGENCY_NAME": self.settings.regency_name or catalog.REGENCY,
            "NETMGR_PUBLIC_URL": self.run.url,
            "NETMGR_PORTAL__BASE_URL": f"{self.run.url}/portal",
            # One single-threaded snmpsim answers for every demo device: few requests in flight and a patient
            # timeout keep its queue short, where a real network (one agent per device) would take 500 at once.
            "NETMGR_SNMP__MAX_IN_FLIGHT": "16",
            "NETMGR_SNMP__TIMEOUT_S": "5",
            "NETMGR_RADIUS__AAA_TOKEN": self.aaa_token,
        }
        if self.run.influx_url:
            env |= {"NETMGR_INFLUX__URL": self.run.influx_url, "NETMGR_INFLUX__API": "v1",
                    "NETMGR_INFLUX__ENABLED": "true"}
        else:
            env["NETMGR_INFLUX__ENABLED"] = "false"
        return env

    def start_web(self) -> Callable[[], None]:
        if probe.tcp_open(self.options.host, self.options.port):
            raise ChildFailed(f"port {self.options.port} on {self.options.host} is taken; "
                              "choose another with --port")
        argv = [sys.executable, "-m", "uvicorn", "netmgr.entrypoints.asgi:app", "--host", self.options.host,
                "--port", str(self.options.port), "--proxy-headers"]
        child = self.supervisor.start("web", argv, env=self.child_env(), what=self.run.url)
        return partial(self.supervisor.wait_ready, child, lambda: probe.http_ok(f"{self.run.url}/healthz"),
                       timeout=90)

    def start_worker(self) -> Callable[[], None]:
        if not self.options.worker:
            return lambda: None
        argv = [sys.executable, "-m", "celery", "-A", "netmgr.entrypoints.worker:celery_app", "worker", "-B",
                "--loglevel", "INFO", "-c", str(self.settings.celery.worker_concurrency), "-n", "demo@%h",
                "--schedule", str(self.data_dir / "celerybeat-schedule")]
        broker = "Redis" if self.settings.celery.broker_url else "embedded SQLite broker"
        child = self.supervisor.start("worker", argv, env=self.child_env(),
                                      what=f"Celery worker + beat, all queues ({broker})")
        return partial(self.supervisor.wait_ready, child,
                       lambda: " ready." in child.log_path.read_text(errors="replace"), timeout=90)

    def start_radius(self) -> None:
        """FreeRADIUS in front of the running web app, then the demo gateway that logs citizens in through it.

        Without FreeRADIUS (or when it fails to start) the demo says so in one line and runs on without it.
        """
        gateway = self.run.gateway
        if gateway is None:
            return
        binary = radius.freeradius_binary()
        if binary is None:
            self._note(radius.MISSING)
            return
        root = self.data_dir / "radius"
        auth_port = probe.free_port_on(["127.0.0.1"], socket.SOCK_DGRAM)
        acct_port = probe.free_port_on(["127.0.0.1"], socket.SOCK_DGRAM)
        state = AppState.build(self.settings)
        try:
            with session_scope(state.session_factory) as session:
                raddb = radius.write_demo_config(session, root, self.settings, aaa_token=self.aaa_token,
                                                 api_url=self.run.url, auth_port=auth_port, acct_port=acct_port)
        finally:
            state.engine.dispose()
        child = self.supervisor.start("freeradius", [binary, "-f", "-l", "stdout", "-d", str(raddb)],
                                      what=f"FreeRADIUS udp/{auth_port} (auth), udp/{acct_port} (acct)")
        try:
            self.supervisor.wait_ready(child, partial(probe.udp_bound, "127.0.0.1", acct_port), timeout=30)
        except ChildFailed as exc:
            self._note(f"FreeRADIUS did not start, citizens' RADIUS sessions are not simulated: "
                       f"{exc.message.splitlines()[0]}")
            return
        self.run.radius_ports = (auth_port, acct_port)
        argv = [sys.executable, "-m", GATEWAY_MODULE, "--nas-address", gateway.address, "--nas-name", gateway.name,
                "--auth-port", str(auth_port), "--acct-port", str(acct_port), "--coa-port", str(gateway.coa_port),
                "--secret", gateway.secret, "--vouchers", ",".join(gateway.vouchers)]
        self.supervisor.start("gateway", argv, what=f"hotspot gateway {gateway.name} ({gateway.address}), "
                                                    f"{len(gateway.vouchers)} citizens on vouchers")

    def _note(self, note: str) -> None:
        self.run.notes.append(note)
        self.console.print(f"[yellow]note:[/] {note}")

    # --- the whole run -----------------------------------------------------------------------

    def panel(self) -> Panel:
        logins = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        logins.add_column("login")
        logins.add_column("password")
        logins.add_column("role")
        for user in catalog.USERS:
            role = user.role.value + (f" ({user.agency})" if user.agency else "")
            logins.add_row(user.username, user.password, role)
        procs = Table(box=None, show_header=False, pad_edge=False)
        procs.add_column("process", style="bold")
        procs.add_column("where")
        procs.add_column("pid")
        ssh = [c for c in self.supervisor.children if c.name.startswith("ssh-") and c.alive()]
        for child in self.supervisor.children:
            if not child.name.startswith("ssh-"):
                procs.add_row(child.name, child.what, str(child.pid))
        if ssh:
            port = next(iter(self.run.ssh_ports.values()))
            procs.add_row("ssh", f"{len(ssh)} RouterOS/IOS CLI simulators on their mgmt address, tcp/{port}",
                          " ".join(str(c.pid) for c in ssh[:3]) + (" …" if len(ssh) > 3 else ""))
        body = Table.grid(padding=(0, 1))
        body.add_row(f"[bold]{catalog.REGENCY}[/] demo is running at [bold link={self.run.url}]{self.run.url}[/]")
        body.add_row(f"API docs: {self.run.url}/api/docs    data: {self.data_dir}")
        if self.run.portal_path:
            body.add_row("citizens' portal, as the hotspot's gateway sends a phone there:")
            body.add_row(f"  {self.run.url}{self.run.portal_path}")
            body.add_row(f"a demo voucher: {self.run.sample_voucher}    (all of them: Portal → Voucher, PDF)")
        body.add_row("")
        body.add_row(logins)
        body.add_row("")
        body.add_row(procs)
        body.add_row(f"SNMP v2c: each device answers on its mgmt address, udp/{self.run.snmp_port}, "
                     "community = device name (e.g. snmpget -v2c -c core-diskominfo "
                     f"127.0.10.1:{self.run.snmp_port} 1.3.6.1.2.1.1.5.0)")
        if self.run.radius_ports and self.run.gateway:
            body.add_row(f"RADIUS: citizens of {self.run.gateway.name} log in through FreeRADIUS "
                         f"(udp/{self.run.radius_ports[0]}); their sessions: {self.run.url}/portal-admin/sessions")
        if self.run.ssh_ports:
            body.add_row(f"SSH (RouterOS/IOS simulators): {catalog.DEMO_SSH_USERNAME} / {catalog.DEMO_SSH_PASSWORD}")
        for note in self.run.notes:
            body.add_row(f"[yellow]note:[/] {note}")
        body.add_row(f"logs: {self.supervisor.log_dir}    stop: Ctrl-C")
        return Panel(body, title="netmgr demo", border_style="green")

    def write_state(self) -> None:
        run_dir = self.data_dir / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        state = {"url": self.run.url, "pid": os.getpid(), "snmp_port": self.run.snmp_port,
                 "ssh_ports": self.run.ssh_ports, "influx_url": self.run.influx_url,
                 "radius_ports": self.run.radius_ports,
                 "gateway_vouchers": self.run.gateway.vouchers if self.run.gateway else [],
                 "portal_url": f"{self.run.url}{self.run.portal_path}" if self.run.portal_path else None,
                 "children": self.supervisor.pids()}
        (run_dir / "demo.json").write_text(json.dumps(state, indent=2), encoding="utf-8")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._stop.set()
        raise KeyboardInterrupt  # also breaks out of a start-up wait

    def main(self) -> int:
        """Run until SIGINT/SIGTERM; return the process exit status."""
        started = time.monotonic()
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        failed: str | None = None
        try:
            self.console.print(f"[bold]netmgr demo[/]: {catalog.REGENCY}, data in {self.data_dir}")
            missing = snmpsim_missing()
            if missing is not None:  # before seeding: nothing to undo
                raise ChildFailed(missing)
            totals = self.prepare_database()
            self.console.print("seeded: " + ", ".join(f"{n} {k}" for k, n in totals.items()))
            # InfluxDB first (quick, and the others are told its URL); then start the rest together and
            # wait for each, so the slow starters (snmpsim's index, Python imports) overlap.
            self.start_influxdb()
            waits = [self.start_snmpsim(), self.start_ssh_simulators(), self.start_web(), self.start_worker()]
            for wait in waits:
                wait()
            self.start_radius()  # after the web app: rlm_rest must reach netmgr when radiusd starts
            self.write_state()
            self.console.print(self.panel())
            if self.options.browser:
                import webbrowser

                webbrowser.open(self.run.url)
            while not self._stop.is_set():
                for child in self.supervisor.newly_dead():
                    self.console.print(f"[bold red]{child.name} {describe_exit(child.proc.returncode)}[/]; "
                                       f"last lines of {child.log_path}:\n{child.tail()}")
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        except ChildFailed as exc:
            failed = exc.message
            self.console.print(f"[bold red]error:[/] {exc.message}")
        finally:
            for s in (signal.SIGINT, signal.SIGTERM):
                signal.signal(s, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the clean-up
            self.console.print("stopping the demo …")
            endings = self.supervisor.stop_all()
            for s, handler in previous.items():
                signal.signal(s, handler)
        minutes = (time.monotonic() - started) / 60
        clean = [name for name, how in endings.items() if how in ("exited with status 0", "killed by SIGTERM")]
        self.console.print(f"demo stopped after {minutes:.1f} min: {len(clean)} of {len(endings)} processes "
                           "ended cleanly")
        for name, how in endings.items():
            if name not in clean:
                self.console.print(f"  {name}: {how} (see {self.supervisor.log_dir / (name + '.log')})")
        self.console.print(f"data kept in {self.data_dir} (run again to continue; delete it to start afresh)")
        return 1 if failed else 0


def _http_answers(url: str, status: int) -> bool:
    """True once ``url`` answers with ``status``; False while the server is not listening yet."""
    try:
        return httpx.get(url, timeout=1).status_code == status
    except httpx.HTTPError:
        return False
