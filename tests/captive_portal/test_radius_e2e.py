"""End to end through a real FreeRADIUS (rest module) into netmgr's AAA endpoints, driven by ``radclient``;
a pyrad NAS receives the Disconnect-Request when a quota runs out, and usage lands in a real InfluxDB.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from captive_portal import aaa
from captive_portal.radius_config import inventory_clients
from netmgr.entrypoints.capabilities import create_app
from netmgr.metrics import make_metrics_store
from netmgr.models import HotspotSession, LoginAttempt, Voucher
from netmgr.models.hotspot import SessionStatus, VoucherStatus
from netmgr.settings import InfluxApi, Settings
from netmgr.state import AppState
from tests.captive_portal.hotspot_data import NAS_SECRET, Seeded, add_voucher, seed_hotspot
from tests.servers.freeradius import FakeNas, FreeRadius, fake_nas, freeradius, serve_app
from tests.servers.influx import InfluxServer, influx_server
from tests.servers.process import need_binary

pytestmark = pytest.mark.slow

AAA_TOKEN = "aaa-token-for-tests"
GIB = 2**30
OTHER_GATEWAY = "10.20.0.1"
VOUCHER_REFUSED = ("Kode voucher ini tidak dapat dipakai. Periksa apakah kode diketik sesuai cetakan: kode yang sudah "
                   "habis dipakai, kedaluwarsa, atau dibatalkan tidak berlaku lagi.")


@dataclass
class Radclient:
    radius: FreeRadius
    secret: str

    def send(self, kind: str, attrs: str) -> tuple[str, dict[str, list[str]]]:
        """Send one request; returns the reply's packet type and its attributes."""
        port = self.radius.auth_port if kind == "auth" else self.radius.acct_port
        binary = need_binary("radclient", "freeradius-utils")
        out = subprocess.run([binary, "-x", "-r", "1", "-t", "5", f"127.0.0.1:{port}", kind, self.secret],
                             input=attrs, capture_output=True, text=True, timeout=30, check=False)
        match = re.search(r"Received (\S+) Id", out.stdout)
        if match is None:
            raise AssertionError(f"no reply from FreeRADIUS:\n{out.stdout}\n{out.stderr}\n"
                                 f"{self.radius.log_text()[-4000:]}")
        reply_part = out.stdout[match.end():]
        parsed: dict[str, list[str]] = {}
        for line in reply_part.splitlines():
            m = re.match(r"^\s+([A-Za-z0-9-]+) = (.*)$", line)
            if m:
                parsed.setdefault(m.group(1), []).append(m.group(2).strip().strip('"'))
        return match.group(1), parsed

    def login(self, user: str, password: str, mac: str = "46-12-1F-20-79-D7") -> tuple[str, dict[str, list[str]]]:
        return self.send("auth", f'User-Name = "{user}", User-Password = "{password}", '
                                 f'NAS-IP-Address = 127.0.0.1, Calling-Station-Id = "{mac}", '
                                 'Framed-IP-Address = 192.168.201.10, Message-Authenticator = 0x00\n')

    def acct(self, status: str, session_id: str, user: str, *, in_octets: int = 0, out_octets: int = 0,
             seconds: int = 0, mac: str = "46-12-1F-20-79-D7") -> str:
        attrs = (f'User-Name = "{user}", Acct-Status-Type = {status}, Acct-Session-Id = "{session_id}", '
                 f'NAS-IP-Address = 127.0.0.1, Framed-IP-Address = 192.168.201.10, Calling-Station-Id = "{mac}", '
                 f"Acct-Input-Octets = {in_octets % 2**32}, Acct-Input-Gigawords = {in_octets // 2**32}, "
                 f"Acct-Output-Octets = {out_octets % 2**32}, Acct-Output-Gigawords = {out_octets // 2**32}, "
                 f"Acct-Session-Time = {seconds}\n")
        kind, _ = self.send("acct", attrs)
        return kind


@dataclass
class Bed:
    state: AppState
    app: FastAPI
    radclient: Radclient
    nas: FakeNas
    seeded: Seeded
    other: Seeded
    """A second gateway (another address and secret) that sends nothing itself."""
    influx: InfluxServer
    database: str

    def session(self) -> Session:
        return self.state.session_factory()


@pytest.fixture(scope="module")
def influx() -> Iterator[InfluxServer]:
    with influx_server() as server:
        yield server


@pytest.fixture
def bed(settings: Settings, tmp_path: Path, influx: InfluxServer) -> Iterator[Bed]:
    database = f"aaa_{uuid.uuid4().hex[:8]}"
    aaa_settings = settings.model_copy(update={
        "radius": settings.radius.model_copy(update={"aaa_token": SecretStr(AAA_TOKEN)}),
        "influx": settings.influx.model_copy(update={"api": InfluxApi.V1, "url": influx.url, "database": database,
                                                     "bucket": database, "spool_max_bytes": 0}),
    })
    state = AppState.build(aaa_settings)
    with fake_nas(NAS_SECRET) as nas:
        with state.session_factory() as s:
            seeded = seed_hotspot(s, coa_port=nas.port)
            other = seed_hotspot(s, nas_address=OTHER_GATEWAY, secret="nas-secret-Pasar")
            clients = inventory_clients(s)
        app = create_app(aaa_settings, state=state)
        app.state.aaa_metrics = make_metrics_store(aaa_settings)
        with serve_app(app) as url, freeradius(tmp_path / "radius", settings=aaa_settings, api_url=url,
                                               clients=clients) as radius:
            yield Bed(state=state, app=app, radclient=Radclient(radius, NAS_SECRET), nas=nas, seeded=seeded,
                      other=other, influx=influx, database=database)
    state.engine.dispose()


def test_valid_voucher_gets_access_accept_with_policy_attributes(bed: Bed) -> None:
    with bed.session() as s:
        add_voucher(s, s.merge(bed.seeded.batch), "K7M2QX9P")

    kind, reply = bed.radclient.login("K7M2QX9P", "K7M2QX9P")

    assert kind == "Access-Accept", reply
    assert reply["Session-Timeout"] == ["3600"]  # the daily time quota is shorter than the 2 h policy timeout
    assert reply["Idle-Timeout"] == ["600"]
    assert reply["Acct-Interim-Interval"] == ["60"]
    assert reply["Mikrotik-Rate-Limit"] == ["2000k/5000k"]  # rx/tx from the router: the upload comes first
    # 6 GiB = 1 × 2**32 + 2**31 octets
    assert reply["Mikrotik-Total-Limit-Gigawords"] == ["1"]
    assert reply["Mikrotik-Total-Limit"] == [str(2**31)]
    assert "Cleartext-Password" not in reply
    with bed.session() as s:
        voucher = s.scalar(select(Voucher).where(Voucher.code == "K7M2QX9P"))
        assert voucher is not None and voucher.status == VoucherStatus.ACTIVE and voucher.first_used_at is not None


def test_used_voucher_gets_access_reject_with_the_reason_only(bed: Bed) -> None:
    with bed.session() as s:
        add_voucher(s, s.merge(bed.seeded.batch), "USED0001", status=VoucherStatus.USED)

    kind, reply = bed.radclient.login("USED0001", "USED0001")

    assert kind == "Access-Reject"
    assert reply == {"Reply-Message": [VOUCHER_REFUSED]}


def test_wrong_password_is_rejected_without_leaking_policy_and_is_counted(bed: Bed) -> None:
    with bed.session() as s:
        add_voucher(s, s.merge(bed.seeded.batch), "PASS1234")

    kind, reply = bed.radclient.login("PASS1234", "not-the-code")

    assert kind == "Access-Reject"
    assert set(reply) == {"Reply-Message"}  # no Session-Timeout or Mikrotik-* from authorize leaked
    with bed.session() as s:
        attempts = list(s.scalars(select(LoginAttempt).where(LoginAttempt.username == "PASS1234")))
        assert [(a.success, a.reason, a.mac) for a in attempts] == [(False, "wrong_password", "46:12:1F:20:79:D7")]


def test_accounting_moves_session_counters_with_gigawords_and_writes_usage(bed: Bed) -> None:
    with bed.session() as s:
        add_voucher(s, s.merge(bed.seeded.batch), "ACCT0001")
    assert bed.radclient.login("ACCT0001", "ACCT0001")[0] == "Access-Accept"

    assert bed.radclient.acct("Start", "sess-0001", "ACCT0001") == "Accounting-Response"
    assert bed.radclient.acct("Interim-Update", "sess-0001", "ACCT0001", in_octets=1000,
                              out_octets=5 * 2**32 + 7, seconds=60) == "Accounting-Response"
    with bed.session() as s:
        row = s.scalar(select(HotspotSession).where(HotspotSession.acct_session_id == "sess-0001"))
        assert row is not None
        assert (row.status, row.input_octets, row.output_octets, row.session_time_s) == (
            SessionStatus.ACTIVE, 1000, 5 * 2**32 + 7, 60)
    assert bed.radclient.acct("Stop", "sess-0001", "ACCT0001", in_octets=2000, out_octets=5 * 2**32 + 9,
                              seconds=120) == "Accounting-Response"

    with bed.session() as s:
        row = s.scalar(select(HotspotSession).where(HotspotSession.acct_session_id == "sess-0001"))
        assert row is not None
        assert (row.status, row.close_reason, row.input_octets, row.output_octets, row.session_time_s) == (
            SessionStatus.CLOSED, "stop", 2000, 5 * 2**32 + 9, 120)
    bed.app.state.aaa_metrics.flush()
    result = bed.influx.query("SELECT sum(input_octets), sum(output_octets) FROM hotspot_usage", db=bed.database)
    series = result["results"][0]["series"][0]  # type: ignore[index]
    assert series["values"][0][1:] == [2000, 5 * 2**32 + 9]


def test_exhausted_quota_sends_disconnect_request_to_the_nas(bed: Bed) -> None:
    with bed.session() as s:
        add_voucher(s, s.merge(bed.seeded.batch), "QUOTA001")
    assert bed.radclient.login("QUOTA001", "QUOTA001")[0] == "Access-Accept"
    assert bed.radclient.acct("Start", "sess-q1", "QUOTA001") == "Accounting-Response"
    assert bed.nas.received == []

    # 6 GiB allowed; the interim reports 6 GiB + 1 byte.
    assert bed.radclient.acct("Interim-Update", "sess-q1", "QUOTA001", in_octets=GIB, out_octets=5 * GIB + 1,
                              seconds=300) == "Accounting-Response"

    received = bed.nas.wait_for(1)
    assert len(received) == 1
    request = received[0]
    assert request["kind"] == "disconnect"
    assert request["attributes"]["Acct-Session-Id"] == ["sess-q1"]
    assert request["attributes"]["User-Name"] == ["QUOTA001"]
    assert request["attributes"]["Calling-Station-Id"] == ["46:12:1F:20:79:D7"]
    with bed.session() as s:
        row = s.scalar(select(HotspotSession).where(HotspotSession.acct_session_id == "sess-q1"))
        assert row is not None and row.disconnect_requested_at is not None
    _wait_for_result(bed, "sess-q1", "ack")


def test_second_device_on_a_one_device_voucher_is_rejected(bed: Bed) -> None:
    with bed.session() as s:
        add_voucher(s, s.merge(bed.seeded.batch), "SHARE001")
    assert bed.radclient.login("SHARE001", "SHARE001")[0] == "Access-Accept"
    assert bed.radclient.acct("Start", "sess-s1", "SHARE001") == "Accounting-Response"

    kind, reply = bed.radclient.login("SHARE001", "SHARE001", mac="AA-BB-CC-DD-EE-01")

    assert kind == "Access-Reject"
    assert reply == {"Reply-Message": ["Voucher ini sedang dipakai di perangkat lain"]}


def test_accounting_on_from_a_rebooted_nas_closes_its_open_sessions(bed: Bed) -> None:
    with bed.session() as s:
        add_voucher(s, s.merge(bed.seeded.batch), "REBOOT01")
    assert bed.radclient.acct("Start", "sess-r1", "REBOOT01") == "Accounting-Response"

    kind, _ = bed.radclient.send("acct", 'Acct-Status-Type = Accounting-On, NAS-IP-Address = 127.0.0.1, '
                                         'Acct-Session-Id = "0"\n')

    assert kind == "Accounting-Response"
    with bed.session() as s:
        row = s.scalar(select(HotspotSession).where(HotspotSession.acct_session_id == "sess-r1"))
        assert row is not None and (row.status, row.close_reason) == (SessionStatus.CLOSED, "nas_reboot")


def _wait_for_result(bed: Bed, acct_session_id: str, expected: str) -> None:
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with bed.session() as s:
            row = s.scalar(select(HotspotSession).where(HotspotSession.acct_session_id == acct_session_id))
            if row is not None and row.disconnect_result == expected:
                return
        time.sleep(0.05)
    raise AssertionError(f"disconnect result of {acct_session_id} never became {expected!r}")


def test_a_gateway_cannot_log_in_for_or_reboot_another_gateway(bed: Bed) -> None:
    """radclient sends from 127.0.0.1 with that gateway's secret, so FreeRADIUS matches gateway A; the packets
    claim gateway B's NAS-IP-Address."""
    with bed.session() as s:
        add_voucher(s, s.merge(bed.other.batch), "PASAR001")
        opened = aaa.accounting(s, aaa.AaaConfig(timezone="Asia/Jakarta"), {
            "Acct-Status-Type": {"value": ["Start"]}, "Acct-Session-Id": {"value": ["sess-b1"]},
            "NAS-IP-Address": {"value": [OTHER_GATEWAY]}, "Calling-Station-Id": {"value": ["46-12-1F-20-79-D8"]},
        }, client=bed.other.nas.name, store=None, now=datetime.now(UTC))  # B's own Start, as B would send it
        s.commit()
    assert opened.session_id is not None

    kind, reply = bed.radclient.send("auth", f'User-Name = "PASAR001", User-Password = "PASAR001", '
                                             f'NAS-IP-Address = {OTHER_GATEWAY}, '
                                             'Calling-Station-Id = "46-12-1F-20-79-D7", Message-Authenticator = 0x00\n')
    reboot, _ = bed.radclient.send("acct", f'Acct-Status-Type = Accounting-On, NAS-IP-Address = {OTHER_GATEWAY}, '
                                           'Acct-Session-Id = "0"\n')

    assert kind == "Access-Reject" and reply == {"Reply-Message": ["Gateway ini tidak terdaftar"]}
    assert reboot == "Accounting-Response"  # acknowledged so the sender stops, and ignored
    with bed.session() as s:
        row = s.scalar(select(HotspotSession).where(HotspotSession.acct_session_id == "sess-b1"))
        assert row is not None and row.status == SessionStatus.ACTIVE and row.nas_device_id == bed.other.nas.id
