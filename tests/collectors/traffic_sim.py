"""An snmpsim for the traffic tests: the demo core router (moving counters, simple queues), the shared RouterOS
recording (wireless registration table), and a 32-bit-only agent; plus DB helpers to point devices at it."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from netmgr.models import Device
from netmgr.models.enums import DeviceRole, Platform
from tests import factories
from tests.servers.process import Daemon, free_port, wait_until
from tests.servers.snmp import SNMPREC_DIR, Agent, _answers, snmpsim_binary

CORE = Path(__file__).resolve().parents[2] / "netmgr" / "demo" / "snmprec" / "core-diskominfo.snmprec"
CORE_IN_RATE = 40_000_000  # octets/s of sfp-sfpplus1 in the recording (ifHCInOctets.1)
CORE_OUT_RATE = 7_500_000

# An old switch: IF-MIB ifTable only (no ifXTable), Counter32 octets moving at 1 MB/s in, 250 kB/s out.
OLD32 = """\
1.3.6.1.2.1.1.1.0|4|Old Switch 32-bit
1.3.6.1.2.1.1.3.0|67:numeric|rate=100,initial=500000
1.3.6.1.2.1.2.2.1.2.1|4|port1
1.3.6.1.2.1.2.2.1.2.2|4|port2
1.3.6.1.2.1.2.2.1.8.1|2|1
1.3.6.1.2.1.2.2.1.8.2|2|2
1.3.6.1.2.1.2.2.1.10.1|65:numeric|rate=1000000,initial=4000000000,wrap=1
1.3.6.1.2.1.2.2.1.10.2|65|0
1.3.6.1.2.1.2.2.1.11.1|65:numeric|rate=1000,initial=5
1.3.6.1.2.1.2.2.1.11.2|65|0
1.3.6.1.2.1.2.2.1.14.1|65|3
1.3.6.1.2.1.2.2.1.14.2|65|0
1.3.6.1.2.1.2.2.1.16.1|65:numeric|rate=250000,initial=10
1.3.6.1.2.1.2.2.1.16.2|65|0
"""


def recording_rate(oid: str, path: Path = CORE) -> int:
    """The ``rate=`` of a numeric variation in a recording (independent of the code under test)."""
    for line in path.read_text().splitlines():
        if line.startswith(oid + "|"):
            return int(line.split("rate=")[1].split(",")[0])
    raise KeyError(oid)


ADDRESSES = 8
"""The simulator answers on 127.0.0.1 … 127.0.0.8 (same port), so several inventory devices can use it."""


@contextmanager
def multi_address_snmpsim(files: list[Path], extra: dict[str, str]) -> Iterator[Agent]:
    """snmpsim listening on ADDRESSES loopback addresses, one recording per community."""
    root = Path(tempfile.mkdtemp(prefix="netmgr-trafficsim-"))
    data = root / "data"
    data.mkdir()
    for f in files:
        shutil.copy(f, data / f.name)
    for name, text in extra.items():
        (data / f"{name}.snmprec").write_text(text)
    port = free_port(socket.SOCK_DGRAM)
    endpoints = [f"--agent-udpv4-endpoint=127.0.0.{n}:{port}" for n in range(1, ADDRESSES + 1)]
    log = root / "snmpsim.log"
    daemon = Daemon([snmpsim_binary(), f"--data-dir={data}", f"--cache-dir={root / 'cache'}", *endpoints,
                     "--logging-method=null"], log=log, env={"SNMPSIM_ALLOW_ROOT": "true"})
    try:
        wait_until(lambda: _answers(port, files[0].stem), timeout=60, what="snmpsim", proc=daemon.proc, log=log)
        yield Agent("127.0.0.1", port, files[0].stem)
    finally:
        daemon.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def traffic_sim() -> Iterator[Agent]:
    with multi_address_snmpsim([CORE, SNMPREC_DIR / "routeros.snmprec"], {"old32": OLD32}) as agent:
        yield agent


def sim_device(session: Session, agent: Agent, community: str, *, site_id: int, name: str | None = None,
               address: str | None = None, platform: Platform = Platform.MIKROTIK_ROUTEROS,
               role: DeviceRole = DeviceRole.CORE_ROUTER) -> Device:
    """An inventory device answered by the simulator (each on its own 127.0.x.y address, same port)."""
    return factories.device(session, site_id=site_id, name=name, mgmt_address=address or "127.0.0.1",
                            snmp_port=agent.port, snmp_community=community, platform=platform, role=role)
