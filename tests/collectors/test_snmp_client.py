"""The SnmpClient contract, run against every implementation and real agents (snmpd, snmpsim), plus failures:
wrong community, wrong v3 key, an agent that stops mid-walk, and malformed replies from a scripted responder."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import rfc1905
from pysnmp.proto.api import v2c

from collectors.snmp import MultiVersionClient, SnmpTarget, SnmpType, UdpSnmpClient
from collectors.snmp.v3 import PysnmpV3Client
from netmgr.errors import DeviceAuthFailed, DeviceRejected, DeviceUnreachable
from netmgr.models.enums import SnmpVersion
from tests.servers.snmp import SNMPD_SYS_NAME, Agent

SYS_NAME = "1.3.6.1.2.1.1.5.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"


def v2c_target(agent: Agent, community: str | None = None, **kw: object) -> SnmpTarget:
    return SnmpTarget(agent.host, agent.port, community=community or agent.community, timeout=1.0, retries=1,
                      **kw)  # type: ignore[arg-type]


def v3_target(agent: Agent, context: str = "", **kw: object) -> SnmpTarget:
    values: dict[str, object] = {"v3_user": agent.v3_user, "auth_key": agent.auth_key, "priv_key": agent.priv_key,
                                 "context": context, "timeout": 1.0, "retries": 1, **kw}
    return SnmpTarget(agent.host, agent.port, version=SnmpVersion.V3, **values)  # type: ignore[arg-type]


async def with_client(work: Callable[[MultiVersionClient], object]) -> object:
    async with MultiVersionClient() as snmp:
        return await work(snmp)  # type: ignore[misc]


def run(work: Callable[[MultiVersionClient], object]) -> object:
    return asyncio.run(with_client(work))


# --- the contract: same answers from every implementation ---------------------------------------------------

@pytest.fixture(params=["v2c-snmpd", "v3-snmpd", "v2c-snmpsim", "v3-snmpsim"])
def contract_target(request: pytest.FixtureRequest) -> tuple[SnmpTarget, str]:
    """A target plus the sysName its agent reports."""
    kind, server = request.param.split("-")
    if server == "snmpd":
        agent: Agent = request.getfixturevalue("snmpd")
        name = SNMPD_SYS_NAME
        target = v2c_target(agent) if kind == "v2c" else v3_target(agent)
    else:
        agent = request.getfixturevalue("snmpsim")
        name = "<private>"
        target = v2c_target(agent, "routeros") if kind == "v2c" else v3_target(agent, context="routeros")
    return target, name


def test_get_returns_values_in_request_order_with_missing_ones_marked(contract_target: tuple[SnmpTarget, str]) -> None:
    target, sys_name = contract_target
    result = run(lambda snmp: snmp.get(target, [SYS_NAME, "1.3.6.1.2.1.1.99.0", SYS_UPTIME]))
    assert isinstance(result, list)
    name, missing, uptime = result
    assert (name.oid, name.type, name.value) == (SYS_NAME, SnmpType.OCTET_STRING, sys_name.encode())
    assert missing.oid == "1.3.6.1.2.1.1.99.0" and missing.missing and missing.value is None
    assert uptime.type == SnmpType.TIMETICKS and isinstance(uptime.value, int)


def test_bulk_walk_returns_the_whole_subtree_in_order(contract_target: tuple[SnmpTarget, str]) -> None:
    target, _ = contract_target
    # Small max-repetitions forces several GETBULK pages.
    rows = run(lambda snmp: snmp.bulk_walk(target, IF_DESCR, 3))
    assert isinstance(rows, list) and len(rows) >= 2
    assert all(vb.oid.startswith(IF_DESCR + ".") and vb.type == SnmpType.OCTET_STRING for vb in rows)
    keys = [tuple(map(int, vb.oid.split("."))) for vb in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    counters = run(lambda snmp: snmp.bulk_walk(target, IF_HC_IN_OCTETS, 50))
    assert isinstance(counters, list)
    assert [vb.oid.rsplit(".", 1)[1] for vb in counters] == [vb.oid.rsplit(".", 1)[1] for vb in rows]
    assert all(vb.type == SnmpType.COUNTER64 for vb in counters)


def test_bulk_walk_of_an_absent_subtree_is_empty(contract_target: tuple[SnmpTarget, str]) -> None:
    target, _ = contract_target
    assert run(lambda snmp: snmp.bulk_walk(target, "1.3.6.1.4.1.99999.7", 10)) == []


def test_walk_at_the_end_of_the_mib_stops_at_end_of_mib_view(snmpsim: Agent) -> None:
    # tplink.snmprec holds only the system group, so the walk runs into endOfMibView.
    rows = run(lambda snmp: snmp.bulk_walk(v2c_target(snmpsim, "tplink"), "1.3.6.1.2.1.1", 10))
    assert isinstance(rows, list)
    assert [vb.oid for vb in rows] == ["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0"]
    assert rows[1].type == SnmpType.OBJECT_IDENTIFIER and rows[1].value == "1.3.6.1.4.1.11863.1.1.26"


def test_many_requests_in_flight_on_one_socket_all_get_their_own_answer(snmpsim: Agent) -> None:
    communities = ["routeros", "swos", "epmp", "ruijie", "ios", "vrp", "tplink", "airos"] * 25

    async def work(snmp: MultiVersionClient) -> list[list[object]]:
        return await asyncio.gather(*(snmp.get(v2c_target(snmpsim, c), ["1.3.6.1.2.1.1.2.0"])
                                      for c in communities))

    results = run(work)
    assert isinstance(results, list)
    expected = {"routeros": "1.3.6.1.4.1.14988.1", "swos": "1.3.6.1.4.1.14988.2", "epmp": "1.3.6.1.4.1.17713.21",
                "ruijie": "1.3.6.1.4.1.4881.1.1.10.1.150", "ios": "1.3.6.1.4.1.9.1.359",
                "vrp": "1.3.6.1.4.1.2011.2.224.1", "tplink": "1.3.6.1.4.1.11863.1.1.26",
                "airos": "1.3.6.1.4.1.10002.1"}
    assert [r[0].value for r in results] == [expected[c] for c in communities]  # type: ignore[attr-defined]


def test_get_of_many_oids_is_split_across_pdus_and_kept_in_order(snmpsim: Agent) -> None:
    oids = [f"1.3.6.1.2.1.2.2.1.2.{i}" for i in range(1, 58)]
    result = run(lambda snmp: snmp.get(v2c_target(snmpsim, "ruijie"), oids))
    assert isinstance(result, list)
    assert [vb.oid for vb in result] == oids
    assert result[0].value == b"TenGigabitEthernet 0/1"


# --- failures ------------------------------------------------------------------------------------------------

def test_wrong_community_times_out_with_a_clear_reason(snmpd: Agent) -> None:
    target = replace(v2c_target(snmpd, "not-the-community"), timeout=0.3, retries=1)
    with pytest.raises(DeviceUnreachable, match=rf"no answer from 127\.0\.0\.1:{snmpd.port} after 2 tries "
                                                 r"\(wrong community or agent down\?\)"):
        run(lambda snmp: snmp.get(target, [SYS_NAME]))


@pytest.mark.parametrize("wrong", ["auth_key", "v3_user"])
def test_v3_wrong_credentials_raise_auth_failed_with_the_agents_report(snmpd: Agent, wrong: str) -> None:
    target = replace(v3_target(snmpd), **{wrong: "wrong-secret-123"})
    with pytest.raises(DeviceAuthFailed, match="Wrong SNMP PDU digest|Unknown USM user") as info:
        run(lambda snmp: snmp.get(target, [SYS_NAME]))
    assert f"127.0.0.1:{snmpd.port}" in info.value.message


def test_v3_wrong_priv_key_is_unreachable_with_a_hint(snmpd: Agent) -> None:
    # snmpd silently drops what it cannot decrypt, so this looks like a timeout; the message says what to check.
    target = replace(v3_target(snmpd), priv_key="wrong-priv-123", timeout=0.3, retries=0)
    with pytest.raises(DeviceUnreachable, match="wrong priv key"):
        run(lambda snmp: snmp.get(target, [SYS_NAME]))


class ScriptedResponder:
    """A UDP 'agent' on a free port whose answer to the n-th request comes from ``script(n, request)``."""

    def __init__(self, script: Callable[[int, v2c.Message], bytes | None]) -> None:
        self.script = script
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = int(self.sock.getsockname()[1])
        self.requests = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            message, _ = decoder.decode(data, asn1Spec=v2c.Message())
            self.requests += 1
            answer = self.script(self.requests, message)
            if answer is not None:
                self.sock.sendto(answer, addr)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def responder() -> Iterator[Callable[[Callable[[int, v2c.Message], bytes | None]], ScriptedResponder]]:
    started: list[ScriptedResponder] = []

    def start(script: Callable[[int, v2c.Message], bytes | None]) -> ScriptedResponder:
        started.append(ScriptedResponder(script))
        return started[-1]

    yield start
    for r in started:
        r.close()


def answer(request: v2c.Message, varbinds: list[tuple[str, object]]) -> bytes:
    """A well-formed Response to ``request`` built with pysnmp (independent of the code under test)."""
    pdu = v2c.ResponsePDU()
    v2c.apiPDU.set_defaults(pdu)
    v2c.apiPDU.set_request_id(pdu, v2c.apiPDU.get_request_id(v2c.apiMessage.get_pdu(request)))
    v2c.apiPDU.set_varbinds(pdu, [(v2c.ObjectIdentifier(o), v) for o, v in varbinds])
    msg = v2c.Message()
    v2c.apiMessage.set_defaults(msg)
    v2c.apiMessage.set_community(msg, v2c.apiMessage.get_community(request))
    v2c.apiMessage.set_pdu(msg, pdu)
    return bytes(encoder.encode(msg))


def scripted_target(port: int) -> SnmpTarget:
    return SnmpTarget("127.0.0.1", port, community="public", timeout=0.3, retries=1)


def test_agent_that_stops_answering_mid_walk_is_unreachable(responder: Callable[..., ScriptedResponder]) -> None:
    def script(n: int, request: v2c.Message) -> bytes | None:
        if n == 1:  # first page: two rows, then silence
            return answer(request, [(f"{IF_DESCR}.1", v2c.OctetString(b"ether1")),
                                    (f"{IF_DESCR}.2", v2c.OctetString(b"ether2"))])
        return None

    agent = responder(script)
    with pytest.raises(DeviceUnreachable, match=f"no answer from 127.0.0.1:{agent.port} after 2 tries"):
        run(lambda snmp: snmp.bulk_walk(scripted_target(agent.port), IF_DESCR, 2))
    assert agent.requests == 3  # page 1, then page 2 sent twice


def test_truncated_reply_is_rejected_with_what_was_wrong(responder: Callable[..., ScriptedResponder]) -> None:
    agent = responder(lambda n, request: answer(request, [(SYS_NAME, v2c.OctetString(b"x" * 40))])[:-10])
    with pytest.raises(DeviceRejected, match=r"malformed reply: truncated: .* \(\d+ bytes\)"):
        run(lambda snmp: snmp.get(scripted_target(agent.port), [SYS_NAME]))


def test_garbage_datagram_is_rejected_with_a_reason(responder: Callable[..., ScriptedResponder]) -> None:
    agent = responder(lambda n, request: b"\x00\x01garbage")
    with pytest.raises(DeviceRejected, match=r"not an SNMP message \(first byte 0x00\)"):
        run(lambda snmp: snmp.get(scripted_target(agent.port), [SYS_NAME]))


def test_good_reply_to_a_retry_wins_over_an_earlier_malformed_one(responder: Callable[..., ScriptedResponder]) -> None:
    def script(n: int, request: v2c.Message) -> bytes:
        good = answer(request, [(SYS_NAME, v2c.OctetString(b"router1"))])
        return good[:-3] if n == 1 else good

    agent = responder(script)
    result = run(lambda snmp: snmp.get(scripted_target(agent.port), [SYS_NAME]))
    assert isinstance(result, list) and result[0].value == b"router1"


def test_error_status_from_the_agent_is_rejected_naming_the_varbind(
        responder: Callable[..., ScriptedResponder]) -> None:
    def script(n: int, request: v2c.Message) -> bytes:
        data = answer(request, [(SYS_NAME, v2c.Null(""))])
        msg, _ = decoder.decode(data, asn1Spec=v2c.Message())
        pdu = v2c.apiMessage.get_pdu(msg)
        v2c.apiPDU.set_error_status(pdu, 16)
        v2c.apiPDU.set_error_index(pdu, 1)
        return bytes(encoder.encode(msg))

    agent = responder(script)
    with pytest.raises(DeviceRejected, match=f"answered authorizationError at {SYS_NAME}"):
        run(lambda snmp: snmp.get(scripted_target(agent.port), [SYS_NAME]))


def test_agent_returning_oids_out_of_order_is_rejected(responder: Callable[..., ScriptedResponder]) -> None:
    agent = responder(lambda n, request: answer(request, [(f"{IF_DESCR}.5", v2c.OctetString(b"a")),
                                                          (f"{IF_DESCR}.1", v2c.OctetString(b"b"))]))
    with pytest.raises(DeviceRejected, match="out of order"):
        run(lambda snmp: snmp.bulk_walk(scripted_target(agent.port), IF_DESCR, 2))


def test_too_big_makes_the_walk_ask_for_fewer_rows(responder: Callable[..., ScriptedResponder]) -> None:
    asked: list[int] = []

    def script(n: int, request: v2c.Message) -> bytes:
        pdu = v2c.apiMessage.get_pdu(request)
        max_rep = int(v2c.apiBulkPDU.get_max_repetitions(pdu))
        asked.append(max_rep)
        if max_rep > 4:
            data = answer(request, [])
            msg, _ = decoder.decode(data, asn1Spec=v2c.Message())
            v2c.apiPDU.set_error_status(v2c.apiMessage.get_pdu(msg), 1)
            return bytes(encoder.encode(msg))
        return answer(request, [("1.3.6.1.2.1.2.2.1.3.1", v2c.Integer(6))])

    agent = responder(script)
    assert run(lambda snmp: snmp.bulk_walk(scripted_target(agent.port), IF_DESCR, 16)) == []
    assert asked == [16, 8, 4]


def test_v2c_client_refuses_a_v3_target_and_v3_client_a_v2c_one(snmpd: Agent) -> None:
    async def work() -> None:
        async with UdpSnmpClient() as fast:
            with pytest.raises(ValueError, match="v2c only"):
                await fast.get(v3_target(snmpd), [SYS_NAME])
        slow = PysnmpV3Client()
        try:
            with pytest.raises(ValueError, match="v3 only"):
                await slow.get(v2c_target(snmpd), [SYS_NAME])
        finally:
            await slow.close()

    asyncio.run(work())


# --- multi-column walks ----------------------------------------------------------------------------------------

IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
SYSTEM = "1.3.6.1.2.1.1"


def test_bulk_walk_columns_returns_what_a_walk_of_each_column_returns(contract_target: tuple[SnmpTarget, str]) -> None:
    target, _ = contract_target
    # Columns of different lengths (the system group has fewer rows than the interface table), one absent
    # subtree, and max-repetitions 3 so the walk takes several pages.
    columns = [IF_DESCR, SYSTEM, "1.3.6.1.4.1.99999.7", IF_HC_IN_OCTETS, IF_OPER_STATUS]

    async def work(snmp: MultiVersionClient) -> tuple[list[list[object]], list[list[object]]]:
        together = await snmp.bulk_walk_columns(target, columns, 3)
        alone = [await snmp.bulk_walk(target, column, 50) for column in columns]
        return together, alone  # type: ignore[return-value]

    result = run(work)
    assert isinstance(result, tuple)
    together, alone = result

    def steady(column: list[object]) -> list[tuple[object, ...]]:
        # Counters and sysUpTime move between the two reads; names, types and other values must not.
        moving = (SnmpType.COUNTER32, SnmpType.COUNTER64, SnmpType.TIMETICKS)
        return [(vb.oid, vb.type, None if vb.type in moving else vb.value) for vb in column]  # type: ignore[attr-defined]

    assert [steady(c) for c in together] == [steady(c) for c in alone]
    assert len(together[0]) >= 2 and together[2] == [] and len(together[1]) != len(together[0])


def test_bulk_walk_columns_stops_each_column_at_end_of_mib_view(snmpsim: Agent) -> None:
    # tplink.snmprec holds only sysDescr and sysObjectID: both columns run off the end of the MIB.
    rows = run(lambda snmp: snmp.bulk_walk_columns(v2c_target(snmpsim, "tplink"), [SYSTEM, "1.3.6.1.2.1.1.2"], 10))
    assert isinstance(rows, list)
    assert [[vb.oid for vb in column] for column in rows] == [["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0"],
                                                              ["1.3.6.1.2.1.1.2.0"]]


def test_whole_interface_table_of_snmpd_comes_in_one_getbulk(snmpd: Agent) -> None:
    columns = [IF_NAME, IF_OPER_STATUS, IF_HC_IN_OCTETS]

    async def work() -> tuple[int, int, list[list[object]]]:
        async with UdpSnmpClient() as snmp:
            target = v2c_target(snmpd)
            rows = len(await snmp.bulk_walk(target, IF_OPER_STATUS))
            before = snmp.requests_sent
            table = await snmp.bulk_walk_columns(target, columns, rows + 1)
            return rows, snmp.requests_sent - before, table  # type: ignore[return-value]

    rows, requests, table = asyncio.run(work())
    assert requests == 1
    assert [len(column) for column in table] == [rows] * 3


class TableAgent:
    """A scripted v2c agent over a small MIB that answers GETBULK like a real one, but returns at most ``cap``
    varbinds per reply (net-snmp stops at 100) and endOfMibView past the last OID."""

    def __init__(self, mib: dict[str, object], cap: int) -> None:
        self.mib = sorted(((tuple(map(int, oid.split("."))), value) for oid, value in mib.items()))
        self.cap = cap
        self.asked: list[tuple[int, int]] = []
        """(number of OIDs, max-repetitions) of each request."""

    def next_after(self, oid: tuple[int, ...]) -> tuple[str, object]:
        for key, value in self.mib:
            if key > oid:
                return ".".join(map(str, key)), value
        return ".".join(map(str, oid)), rfc1905.endOfMibView

    def __call__(self, n: int, request: v2c.Message) -> bytes:
        pdu = v2c.apiMessage.get_pdu(request)
        reps = int(v2c.apiBulkPDU.get_max_repetitions(pdu))
        cursors = [tuple(o) for o, _ in v2c.apiPDU.get_varbinds(pdu)]
        self.asked.append((len(cursors), reps))
        out: list[tuple[str, object]] = []
        for _ in range(reps):
            for i, cursor in enumerate(cursors):
                oid, value = self.next_after(cursor)
                cursors[i] = tuple(map(int, oid.split(".")))
                out.append((oid, value))
        return answer(request, out[:self.cap])


def test_short_replies_continue_each_column_from_its_last_row(
        responder: Callable[..., ScriptedResponder]) -> None:
    a, b, c = "1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.8", "1.3.6.1.2.1.2.2.1.10"
    mib: dict[str, object] = {f"{a}.{i}": v2c.OctetString(f"ether{i}".encode()) for i in range(1, 8)}
    mib |= {f"{b}.{i}": v2c.Integer(1) for i in (1, 2, 5)}  # a shorter column with gaps
    mib |= {f"{c}.{i}": v2c.Counter32(1000 * i) for i in range(1, 8)}
    agent_script = TableAgent(mib, cap=7)  # not a multiple of the 3 columns: rows end mid-way
    agent = responder(agent_script)
    rows = run(lambda snmp: snmp.bulk_walk_columns(scripted_target(agent.port), [a, b, c], 8))
    assert isinstance(rows, list)
    assert [vb.oid for vb in rows[0]] == [f"{a}.{i}" for i in range(1, 8)]
    assert [vb.oid for vb in rows[1]] == [f"{b}.{i}" for i in (1, 2, 5)]
    assert [vb.value for vb in rows[2]] == [1000 * i for i in range(1, 8)]
    # After a short reply only the rows still expected are asked for, and finished columns are dropped.
    assert agent_script.asked[0] == (3, 8)
    assert all(reps <= 8 for _, reps in agent_script.asked[1:])
    assert agent_script.asked[-1][0] < 3


def test_a_column_that_reaches_end_of_mib_view_ends_while_the_others_go_on(
        responder: Callable[..., ScriptedResponder]) -> None:
    a, last = "1.3.6.1.2.1.2.2.1.2", "1.3.6.1.4.1.14988.1.1.2.1.1.2"
    mib: dict[str, object] = {f"{a}.{i}": v2c.OctetString(b"x") for i in range(1, 13)}
    mib |= {f"{last}.{i}": v2c.OctetString(b"q") for i in (1, 2)}  # the last rows of the MIB
    agent = responder(TableAgent(mib, cap=100))
    rows = run(lambda snmp: snmp.bulk_walk_columns(scripted_target(agent.port), [last, a], 4))
    assert isinstance(rows, list)
    assert [vb.oid for vb in rows[0]] == [f"{last}.1", f"{last}.2"]
    assert len(rows[1]) == 12


def test_multi_column_walk_gets_too_big_then_asks_for_half_the_rows(
        responder: Callable[..., ScriptedResponder]) -> None:
    a, b = "1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.8"
    table = TableAgent({f"{a}.1": v2c.OctetString(b"x"), f"{b}.1": v2c.Integer(1)}, cap=100)

    def script(n: int, request: v2c.Message) -> bytes:
        if int(v2c.apiBulkPDU.get_max_repetitions(v2c.apiMessage.get_pdu(request))) > 2:
            data = answer(request, [])
            msg, _ = decoder.decode(data, asn1Spec=v2c.Message())
            v2c.apiPDU.set_error_status(v2c.apiMessage.get_pdu(msg), 1)
            table.asked.append((0, 0))
            return bytes(encoder.encode(msg))
        return table(n, request)

    agent = responder(script)
    rows = run(lambda snmp: snmp.bulk_walk_columns(scripted_target(agent.port), [a, b], 8))
    assert isinstance(rows, list) and [len(r) for r in rows] == [1, 1]
    assert table.asked[-1] == (2, 2)


def test_multi_column_walk_rejects_an_agent_that_does_not_move_forward(
        responder: Callable[..., ScriptedResponder]) -> None:
    a, b = "1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.8"
    agent = responder(lambda n, request: answer(request, [(f"{a}.5639", v2c.OctetString(b"a")),
                                                          (f"{b}.1", v2c.Integer(1))]))
    with pytest.raises(DeviceRejected, match=rf"out of order while walking {a} \({a}\.5639 after {a}\.5639\)"):
        run(lambda snmp: snmp.bulk_walk_columns(scripted_target(agent.port), [a, b], 1))


def test_rows_with_multi_byte_indexes_are_in_order(responder: Callable[..., ScriptedResponder]) -> None:
    # 5639 encodes as ac 07 and 16385 as 81 80 01: byte order is not OID order.
    a = "1.3.6.1.2.1.2.2.1.2"
    agent = responder(TableAgent({f"{a}.{i}": v2c.OctetString(b"x") for i in (5, 5639, 16385, 2**31)}, cap=2))
    rows = run(lambda snmp: snmp.bulk_walk_columns(scripted_target(agent.port), [a], 10))
    assert isinstance(rows, list)
    assert [vb.oid.rsplit(".", 1)[1] for vb in rows[0]] == ["5", "5639", "16385", str(2**31)]


def test_a_v2c_poller_process_never_loads_pysnmp() -> None:
    """pysnmp and its MIB compiler cost a poll worker ~30 MiB (issue 15): only SNMPv3 devices need them."""
    code = ("import sys; import collectors.snmp, collectors.scheduler, collectors.tasks, collectors.edge.agent; "
            "from collectors.snmp import MultiVersionClient; MultiVersionClient(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pysnmp', 'pysmi')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]", out.stdout[:500]
    import collectors.snmp

    assert collectors.snmp.PysnmpV3Client is PysnmpV3Client  # still importable by name, on demand
