"""Run simulated network devices over SSH: one asyncio loop, one listening socket per device.

    python -m netmgr.demo.simulators.sshsim --platform mikrotik_routeros --port 2201 --username admin \\
        --password adminpw --hostname core-router [--state-file core.json] [--count 200]

From tests: ``await start_simulator(...)`` inside a loop, or ``with run_in_thread(...) as device:`` /
``with run_fleet_in_thread(...) as devices:`` from synchronous code.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncssh

from netmgr.demo.simulators.base import Device, SshServer

log = logging.getLogger(__name__)
T = TypeVar("T")

#: netmiko ``device_type`` → the class simulating it.
PLATFORMS: dict[str, str] = {
    "mikrotik_routeros": "netmgr.demo.simulators.routeros:RouterOsDevice",
    "cisco_ios": "netmgr.demo.simulators.cisco_ios:CiscoIosDevice",
}


def device_class(platform: str) -> type[Device]:
    """The simulator class for a netmiko ``device_type``; an unknown one raises, listing the known ones."""
    try:
        target = PLATFORMS[platform]
    except KeyError:
        raise ValueError(f"no simulator for platform {platform!r}; known: {', '.join(sorted(PLATFORMS))}") from None
    module, name = target.split(":")
    cls: type[Device] = getattr(importlib.import_module(module), name)
    return cls


@functools.cache
def host_key() -> asyncssh.SSHKey:
    """One Ed25519 host key per process, shared by every simulated device (generation is not free)."""
    return asyncssh.generate_private_key("ssh-ed25519")


class SimulatorHandle:
    """A running simulated device: ``.host``, ``.port``, ``.device`` (its state lives in ``.state``), ``.close()``."""

    def __init__(self, device: Device, server: asyncssh.SSHAcceptor, host: str, port: int,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.device = device
        self.host = host
        self.port = port
        self._server = server
        self._loop = loop
        self._closed = False

    @property
    def state(self) -> dict[str, Any]:
        return self.device.state

    @property
    def platform(self) -> str:
        return self.device.platform

    def netmiko_params(self, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for ``netmiko.ConnectHandler`` that reach this device, with quick timings."""
        params: dict[str, Any] = {
            "device_type": self.device.platform, "host": self.host, "port": self.port,
            "username": self.device.username, "password": self.device.password,
            "secret": self.device.enable_secret, "ssh_config_file": None, "allow_agent": False,
            "use_keys": False, "fast_cli": True, "conn_timeout": 10, "banner_timeout": 10, "auth_timeout": 10,
        }
        params.update(overrides)
        return params

    def call(self, func: Any, *args: Any) -> Any:
        """Run ``func(*args)`` on the simulator's loop and return its result (safe from any thread)."""
        if _running_loop() is self._loop:
            return func(*args)

        async def run() -> Any:
            return func(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def _close_now(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._server.close()
        self.device.disconnect_all()
        self.device.cancel_all_timers()
        self.device.save()

    def close(self) -> None:
        """Stop listening, drop the sessions, cancel timers and save the state (callable from any thread)."""
        if _running_loop() is self._loop or not self._loop.is_running():
            self._close_now()
        else:
            self.call(self._close_now)

    async def wait_closed(self) -> None:
        await self._server.wait_closed()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def start_simulator(platform: str, host: str, port: int, username: str, password: str, hostname: str,
                          state_file: str | Path | None = None, *, enable_secret: str | None = None,
                          seconds_per_minute: float = 60.0) -> SimulatorHandle:
    """Start one simulated device on the running loop (``port=0`` picks a free port; see ``handle.port``).

    Args:
        platform: a netmiko ``device_type`` from :data:`PLATFORMS`.
        hostname: the RouterOS identity / IOS hostname of a factory-fresh device (ignored when ``state_file``
            already holds a saved state).
        state_file: JSON file that keeps the configuration across restarts.
        enable_secret: IOS ``enable`` password (defaults to ``password``).
        seconds_per_minute: test knob; IOS revert timers count minutes of this length.
    """
    cls = device_class(platform)
    device = cls(hostname=hostname or ("MikroTik" if platform == "mikrotik_routeros" else "Router"),
                 username=username, password=password, state_file=state_file, enable_secret=enable_secret,
                 seconds_per_minute=seconds_per_minute)
    server = await asyncssh.create_server(
        lambda: SshServer(device), host, port, server_host_keys=[host_key()], line_editor=False,
        encoding="utf-8", keepalive_interval=0, login_timeout=30)
    bound = server.sockets[0].getsockname()[1]
    device.save()
    return SimulatorHandle(device, server, host, int(bound), asyncio.get_running_loop())


class SimulatorThread:
    """An asyncio loop in a daemon thread hosting simulated devices for synchronous code (tests, the demo)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="sshsim", daemon=True)
        self._thread.start()
        self.handles: list[SimulatorHandle] = []

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self, platform: str, *, password: str, host: str = "127.0.0.1", port: int = 0,
              username: str = "admin", hostname: str = "", **kwargs: Any) -> SimulatorHandle:
        handle = self.run(start_simulator(platform, host, port, username, password, hostname, **kwargs))
        self.handles.append(handle)
        return handle

    def stop(self) -> None:
        async def close_all() -> None:
            for handle in self.handles:
                handle.close()
            for handle in self.handles:
                await handle.wait_closed()

        if self.loop.is_running():
            self.run(close_all())
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@contextmanager
def run_in_thread(platform: str, **kwargs: Any) -> Iterator[SimulatorHandle]:
    """Run one simulated device on a free port for the duration of the ``with`` block.

    Takes the arguments of :func:`start_simulator` as keywords; ``password`` is required, the rest default to
    ``127.0.0.1``, a free port, ``admin`` and the vendor's factory hostname.
    """
    runner = SimulatorThread()
    try:
        yield runner.start(platform, **kwargs)
    finally:
        runner.stop()


@contextmanager
def run_fleet_in_thread(platform: str, count: int, *, hostname_prefix: str = "dev",
                        **kwargs: Any) -> Iterator[list[SimulatorHandle]]:
    """Run ``count`` devices (``<prefix>-001``…) on free ports in one loop, as a site full of APs would be."""
    runner = SimulatorThread()
    try:
        yield [runner.start(platform, hostname=f"{hostname_prefix}-{n:03d}", **kwargs) for n in range(1, count + 1)]
    finally:
        runner.stop()


@dataclass
class Options:
    platform: str
    host: str
    port: int
    username: str
    password: str
    hostname: str
    state_file: str | None
    enable_secret: str | None
    count: int
    seconds_per_minute: float


def parse_args(argv: Sequence[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m netmgr.demo.simulators.sshsim", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", required=True, choices=sorted(PLATFORMS))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="first port; with --count N, ports P..P+N-1")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--hostname", default="", help="identity/hostname; with --count N, NAME-001…")
    parser.add_argument("--state-file", help="JSON file keeping the config; with --count N, NAME-001.json…")
    parser.add_argument("--enable-secret", help="Cisco enable secret (default: the password)")
    parser.add_argument("--count", type=int, default=1, help="number of devices to run in this process")
    parser.add_argument("--seconds-per-minute", type=float, default=60.0, help=argparse.SUPPRESS)
    ns = parser.parse_args(argv)
    return Options(**vars(ns))


async def serve(opts: Options) -> None:
    handles: list[SimulatorHandle] = []
    for n in range(opts.count):
        hostname, state_file = opts.hostname, opts.state_file
        if opts.count > 1:
            hostname = f"{opts.hostname or 'dev'}-{n + 1:03d}"
            if state_file:
                path = Path(state_file)
                state_file = str(path.with_name(f"{path.stem}-{n + 1:03d}{path.suffix or '.json'}"))
        handle = await start_simulator(opts.platform, opts.host, opts.port + n if opts.port else 0, opts.username,
                                       opts.password, hostname, state_file, enable_secret=opts.enable_secret,
                                       seconds_per_minute=opts.seconds_per_minute)
        handles.append(handle)
        print(f"sshsim: {opts.platform} {hostname or '-'} listening on {opts.host}:{handle.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for handle in handles:
        handle.close()


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
