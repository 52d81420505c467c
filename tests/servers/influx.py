"""InfluxDB for the tests: Debian's influxd 1.6 on free ports, plus an nginx shim serving ``/api/v2/write``.

The shim reproduces InfluxDB 1.8's v2-compatibility write endpoint in front of 1.6 (TESTBED.md §3), so
influxdb-client's write API can be exercised against a real server; every other path is passed through.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers.process import Daemon, free_port, need_binary, tcp_open, wait_until

_INFLUXD_CONF = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{root}/meta"
[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  auth-enabled = false
  log-enabled = false
[ifql]
  enabled = false
"""

# influxdb-client URL-encodes the bucket ("db%2Frp"); nginx's $arg_bucket is not decoded, hence the %2F.
_NGINX_CONF = """\
daemon off;
worker_processes 1;
pid nginx.pid;
error_log stderr notice;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_max_body_size 64m;
    # Keep bodies in memory: as root the workers run as nobody and cannot write temp files in our 0700 dir.
    client_body_buffer_size 64m;
    proxy_request_buffering off;
    proxy_buffering off;
    client_body_temp_path tmp_body; proxy_temp_path tmp_proxy;
    fastcgi_temp_path tmp_fcgi; uwsgi_temp_path tmp_uwsgi; scgi_temp_path tmp_scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /api/v2/write {{
            set $db $arg_bucket;
            set $rp "";
            if ($arg_bucket ~* "^(.+?)(?:/|%2F)(.+)$") {{ set $db $1; set $rp $2; }}
            proxy_pass http://127.0.0.1:{influx_port}/write?db=$db&rp=$rp&precision=$arg_precision;
        }}
        location / {{
            proxy_pass http://127.0.0.1:{influx_port};
        }}
    }}
}}
"""


def _ping(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/ping", timeout=0.5) as resp:  # noqa: S310 - loopback test URL
            return int(resp.status) == 204
    except (OSError, urllib.error.URLError):
        return False


class InfluxServer:
    """A private influxd: stop it and start it again on the same data directory and port."""

    def __init__(self, root: Path) -> None:
        self.binary = need_binary("influxd", "influxdb")
        self.root = root
        self.http_port = free_port()
        self.rpc_port = free_port()
        self.config = root / "influxdb.conf"
        self.config.write_text(_INFLUXD_CONF.format(root=root, rpc_port=self.rpc_port, http_port=self.http_port))
        self.log = root / "influxd.log"
        self._daemon: Daemon | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def running(self) -> bool:
        return self._daemon is not None and self._daemon.proc.poll() is None

    def start(self) -> None:
        self._daemon = Daemon([self.binary, "-config", str(self.config)], log=self.log)
        wait_until(lambda: _ping(self.url), timeout=30, what="influxd", proc=self._daemon.proc, log=self.log)

    def stop(self) -> None:
        """SIGTERM influxd (as an outage would) and wait for it to exit."""
        if self._daemon is not None:
            self._daemon.stop()
            self._daemon = None

    def query(self, q: str, *, db: str = "", epoch: str = "ns") -> dict[str, object]:
        """Run InfluxQL directly (independent of netmgr's code, so tests can check what really arrived)."""
        data = urllib.parse.urlencode({"q": q, "db": db, "epoch": epoch}).encode()
        req = urllib.request.Request(f"{self.url}/query", data=data, method="POST")  # noqa: S310 - loopback
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback test URL
            result: dict[str, object] = json.loads(resp.read())
        return result

    def create_database(self, name: str) -> None:
        self.query(f'CREATE DATABASE "{name}"')


class NginxShim:
    """nginx in front of an InfluxServer, serving ``/api/v2/write`` like InfluxDB 1.8 does."""

    def __init__(self, root: Path, influx_port: int) -> None:
        self.binary = need_binary("nginx", "nginx")
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        (root / "nginx.conf").write_text(_NGINX_CONF.format(port=self.port, influx_port=influx_port))
        self.log = root / "nginx.log"
        self._daemon: Daemon | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._daemon = Daemon([self.binary, "-p", str(self.root), "-c", "nginx.conf"], log=self.log)
        wait_until(lambda: tcp_open("127.0.0.1", self.port), timeout=15, what="nginx shim", proc=self._daemon.proc,
                   log=self.log)

    def stop(self) -> None:
        if self._daemon is not None:
            self._daemon.stop()
            self._daemon = None


@contextmanager
def influx_server() -> Iterator[InfluxServer]:
    """A running private influxd in a temp dir, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="netmgr-influx-"))
    server = InfluxServer(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def nginx_shim(server: InfluxServer) -> Iterator[NginxShim]:
    """The v2-write shim in front of ``server``; it keeps running while influxd is stopped (then answers 502)."""
    shim = NginxShim(server.root / "nginx", server.http_port)
    try:
        shim.start()
        yield shim
    finally:
        shim.stop()
