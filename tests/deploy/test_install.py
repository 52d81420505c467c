"""deploy/install.sh into a temp root, checked with the real tools: systemd-analyze, nginx, FreeRADIUS, HTTPS.

The install runs once per module (about 10 s) with the machine's real nginx, FreeRADIUS and PostgreSQL. As
root it creates the real ``netmgr`` system user and the services run as it, as on a server. The virtualenv is
Debian's python3 with this checkout's packages (``.venv`` itself is built on a Python under /root, which the
netmgr user cannot enter); installing the hashed lock from the package index would take minutes, so
``INSTALL_VENV=0`` is the one install step not run here (the Docker image runs the same pip lines). The
install creates its PostgreSQL role and database (uniquely named, dropped afterwards) in the tests' server.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import ssl
import subprocess
import sys
import sysconfig
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from netmgr.jobs import QUEUES
from netmgr.settings import Settings
from tests.servers.postgres import postgres_admin_url
from tests.servers.process import Daemon, ServerUnavailable, free_port, need_binary, needed, tcp_open, wait_until

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "deploy" / "install.sh"
ADMIN_PASSWORD = "Rahasia-Pemasangan-2026"  # noqa: S105 - a test account in a throwaway database


@dataclass(frozen=True)
class Installed:
    root: Path
    user: str
    http_port: int
    https_port: int
    api_port: int

    @property
    def etc(self) -> Path:
        return self.root / "etc" / "netmgr"

    @property
    def units(self) -> Path:
        return self.root / "etc" / "systemd" / "system"

    @property
    def netmgr(self) -> Path:
        """The administrators' ``netmgr`` command the install made."""
        return self.root / "usr" / "local" / "bin" / "netmgr"


def _venv_for_service_user(root: Path) -> Path:
    """A virtualenv on Debian's python3 that sees this checkout's installed packages (readable by netmgr)."""
    venv = root / "opt" / "netmgr" / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "netmgr-checkout.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    script = venv / "bin" / "netmgr"
    # What pip writes for the console script (uvicorn's worker processes re-import it: keep the __main__ guard).
    script.write_text(f"#!{venv}/bin/python\nimport sys\nfrom netmgr.entrypoints.cli import main\n"
                      "if __name__ == '__main__':\n    sys.exit(main())\n")
    script.chmod(0o755)
    return venv


def _run_install(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(INSTALL)], env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=180, check=False)


@contextmanager
def _database_made_by_install(admin_url: str) -> Iterator[dict[str, str]]:
    """What install.sh needs to create its own role and database in the test PostgreSQL (dropped afterwards)."""
    admin = sa.engine.make_url(admin_url)
    name = f"netmgr_install_{uuid.uuid4().hex[:10]}"
    env = {"DB_NAME": name, "DB_USER": name, "DB_HOST": admin.host or "127.0.0.1", "DB_PORT": str(admin.port or 5432),
           "PSQL_ARGS": f"-h {admin.host or '127.0.0.1'} -p {admin.port or 5432} -U {admin.username or 'postgres'}",
           "PGPASSWORD": admin.password or ""}
    try:
        yield env
    finally:
        engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{name}"')
        engine.dispose()


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    for tool in ("systemd-analyze", "nginx", "/usr/sbin/freeradius", "openssl", "/usr/bin/python3"):
        try:
            need_binary(tool, tool.rsplit("/", 1)[-1])
        except ServerUnavailable as exc:
            needed(str(exc))
    is_root = os.geteuid() == 0
    user = "netmgr" if is_root else pwd.getpwuid(os.geteuid()).pw_name
    root = Path(tempfile.mkdtemp(prefix="netmgr-install-"))
    root.chmod(0o755)  # the netmgr user must reach its files (pytest's tmp_path is private to root)
    try:
        venv = _venv_for_service_user(root)
        with postgres_admin_url() as admin, _database_made_by_install(admin) as database_env:
            box = Installed(root=root, user=user, http_port=free_port(), https_port=free_port(),
                            api_port=free_port())
            env = {"ROOT": str(root), "INSTALL_VENV": "0", "VENV": str(venv), "NETMGR_USER": user,
                   "SERVER_NAME": "localhost", "HTTP_PORT": str(box.http_port),
                   "HTTPS_PORT": str(box.https_port), "API_PORT": str(box.api_port), **database_env}
            first = _run_install(env)
            assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
            secrets_before = (box.etc / "netmgr.env").read_text()
            again = _run_install(env)  # idempotent: a second run changes nothing that matters and keeps secrets
            assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
            assert (box.etc / "netmgr.env").read_text() == secrets_before
            yield box
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _unit_names(box: Installed) -> list[str]:
    return ["netmgr-api.service", "netmgr-beat.service", "netmgr.target", "freeradius.service",
            *(f"netmgr-worker@{queue}.service" for queue in QUEUES)]


def test_every_installed_unit_passes_systemd_analyze_verify(installed: Installed) -> None:
    result = subprocess.run(["systemd-analyze", "verify", *_unit_names(installed)], capture_output=True, text=True,
                            env={**os.environ, "SYSTEMD_UNIT_PATH": f"{installed.units}:"}, timeout=60,
                            check=False)
    ours = [line for line in (result.stdout + result.stderr).splitlines() if str(installed.root) in line]
    assert result.returncode == 0, result.stderr
    assert ours == [], "systemd warns about netmgr's units:\n" + "\n".join(ours)


def test_the_target_starts_one_worker_per_queue_and_every_service_is_hardened(installed: Installed) -> None:
    wants = sorted(p.name for p in (installed.units / "netmgr.target.wants").iterdir())
    assert wants == sorted(["netmgr-api.service", "netmgr-beat.service",
                            *(f"netmgr-worker@{q}.service" for q in QUEUES)])
    for unit in ("netmgr-api.service", "netmgr-beat.service", "netmgr-worker@.service"):
        text = (installed.units / unit).read_text()
        for line in (f"User={installed.user}", f"EnvironmentFile={installed.etc}/netmgr.env",
                     "ProtectSystem=strict", f"ReadWritePaths={installed.root}/var/lib/netmgr",
                     "NoNewPrivileges=yes", "PrivateTmp=yes", "Restart=on-failure"):
            assert re.search(rf"^{re.escape(line)}$", text, re.M), f"{unit} lacks {line}"


def test_the_installed_files_name_only_the_chosen_paths_and_ports(installed: Installed) -> None:
    files = [installed.netmgr, installed.etc / "nginx-proxy.conf", installed.root / "etc/nginx/sites-enabled/netmgr",
             *(p for p in installed.units.glob("netmgr*") if p.is_file()),
             installed.units / "freeradius.service.d" / "netmgr.conf"]
    default_path = re.compile(r"(?:^|[\s=\"'])/(?:etc/netmgr|opt/netmgr|var/lib/netmgr)\b", re.M)
    default_port = re.compile(r"listen (?:\[::\]:)?(?:80|443)\b|127\.0\.0\.1:8000|--port 8000")
    for path in files:
        text = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#"))
        assert not default_path.search(text), f"{path} names a default path, not the one chosen"
        assert not default_port.search(text), f"{path} names a default port, not the one chosen"


def test_secrets_are_in_an_env_file_only_netmgr_reads(installed: Installed) -> None:
    env_file = installed.etc / "netmgr.env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert pwd.getpwuid(env_file.stat().st_uid).pw_name == installed.user
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if re.match(r"^[A-Z_]+=", line))
    for name in ("NETMGR_SECRET_KEY", "NETMGR_ENCRYPTION_KEYS", "NETMGR_RADIUS__AAA_TOKEN"):
        assert len(values[name]) >= 32, name
    Settings(**{"environment": "production", "secret_key": values["NETMGR_SECRET_KEY"],  # type: ignore[arg-type]
                "encryption_keys": values["NETMGR_ENCRYPTION_KEYS"]})  # refuses the demo keys


def _nginx_main(box: Installed, directory: Path) -> Path:
    """An nginx.conf like Debian's, which includes the installed site, with its own pid and temp paths."""
    directory.mkdir(parents=True, exist_ok=True)
    user = f"user {box.user};\n" if os.geteuid() == 0 else ""
    conf = directory / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\npid {directory}/nginx.pid;\nerror_log {directory}/error.log;\n"
        "events { worker_connections 64; }\n"
        "http {\n  include /etc/nginx/mime.types;\n"
        f"  access_log {directory}/access.log;\n  client_body_temp_path {directory}/body;\n"
        f"  proxy_temp_path {directory}/proxy;\n  fastcgi_temp_path {directory}/fastcgi;\n"
        f"  uwsgi_temp_path {directory}/uwsgi;\n  scgi_temp_path {directory}/scgi;\n"
        f"  include {box.root}/etc/nginx/sites-enabled/*;\n}}\n")
    return conf


def test_nginx_accepts_the_installed_site(installed: Installed, tmp_path: Path) -> None:
    conf = _nginx_main(installed, tmp_path / "nginx")
    result = subprocess.run(["nginx", "-t", "-p", str(tmp_path / "nginx"), "-c", str(conf)], capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    site = (installed.root / "etc/nginx/sites-enabled/netmgr").read_text()
    max_upload = Settings().limits.max_upload_bytes
    sizes = set(re.findall(r"client_max_body_size (\d+)m;", site))
    assert sizes == {str(max_upload // (1024 * 1024))}, "client_max_body_size must be NETMGR_LIMITS__MAX_UPLOAD_BYTES"


def test_freeradius_accepts_the_generated_config(installed: Installed) -> None:
    raddb = installed.etc / "radius" / "raddb"
    result = subprocess.run(["/usr/sbin/freeradius", "-C", "-lstdout", "-d", str(raddb)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    dropin = (installed.units / "freeradius.service.d" / "netmgr.conf").read_text()
    assert f"-d {raddb}" in dropin


def _exec_start(unit: Path) -> list[str]:
    line = next(x for x in unit.read_text().splitlines() if x.startswith("ExecStart="))
    return line.removeprefix("ExecStart=").split()


def _env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if re.match(r"^[A-Za-z_]+=", line))


def test_the_api_unit_command_serves_a_login_over_https_through_nginx(installed: Installed, tmp_path: Path) -> None:
    created = subprocess.run([str(installed.netmgr), "user", "create", "admin", "--role", "admin",
                              "--password", ADMIN_PASSWORD], capture_output=True, text=True, timeout=60, check=False)
    assert created.returncode == 0, created.stdout + created.stderr
    unit = installed.units / "netmgr-api.service"
    # What systemd gives the unit: only the env file's variables (env -i), as its User=, in its WorkingDirectory=.
    env = [f"{k}={v}" for k, v in _env_file(installed.etc / "netmgr.env").items()]
    user = installed.user if os.geteuid() == 0 else None
    api = Daemon(["env", "-i", "PATH=/usr/bin:/bin", *env, *_exec_start(unit)], log=tmp_path / "api.log",
                 cwd=installed.root / "var/lib/netmgr", preexec_user=user)
    nginx_dir = tmp_path / "nginx"
    conf = _nginx_main(installed, nginx_dir)
    web = Daemon(["nginx", "-p", str(nginx_dir), "-c", str(conf), "-g", "daemon off;"], log=tmp_path / "nginx.log")
    try:
        wait_until(lambda: tcp_open("127.0.0.1", installed.api_port), timeout=45, what="netmgr serve",
                   proc=api.proc, log=tmp_path / "api.log")
        wait_until(lambda: tcp_open("127.0.0.1", installed.https_port), timeout=15, what="nginx", proc=web.proc,
                   log=nginx_dir / "error.log")
        tls = ssl.create_default_context(cafile=str(installed.etc / "tls" / "netmgr.crt"))
        base = f"https://localhost:{installed.https_port}"
        with httpx.Client(base_url=base, verify=tls, timeout=20) as client:
            login = client.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
            assert login.status_code == 200, login.text
            assert "secure" in login.headers["set-cookie"].lower()
            me = client.get("/api/v1/auth/me")
            assert me.status_code == 200 and me.json()["user"]["username"] == "admin"
        # FreeRADIUS's start checks, as Debian's unit runs them (User=freerad): netmgr answers, the config reads.
        dropin = installed.units / "freeradius.service.d" / "netmgr.conf"
        checks = [line.removeprefix("ExecStartPre=").split() for line in dropin.read_text().splitlines()
                  if line.startswith("ExecStartPre=/")]
        assert [c[0] for c in checks] == ["/usr/bin/curl", "/usr/sbin/freeradius"]
        as_freerad = ["runuser", "-u", "freerad", "--"] if os.geteuid() == 0 else []
        for check in checks:
            done = subprocess.run([*as_freerad, *check], capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 0, f"{check}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
        plain = f"http://localhost:{installed.http_port}"
        with httpx.Client(base_url=plain, timeout=20) as client:
            moved = client.get("/login")
            assert moved.status_code == 301
            assert moved.headers["location"] == "https://localhost/login"
            portal = client.get("/portal/no-such-hotspot/")
            assert portal.status_code != 301, "the captive portal must answer over plain http"
    finally:
        web.stop()
        api.stop()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
