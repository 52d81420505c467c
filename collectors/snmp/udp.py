"""The fast SNMPv2c client: one asyncio UDP socket, many requests in flight matched by request-id.

Requests are encoded and replies decoded by ``collectors.snmp.ber``; timeouts, retries (with backoff),
tooBig and malformed replies are turned into ``netmgr.errors`` here.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from types import TracebackType
from typing import Any

from collectors.snmp import ber
from collectors.snmp.types import SnmpTarget, SnmpType, VarBind
from netmgr.errors import DeviceRejected, DeviceUnreachable
from netmgr.models.enums import SnmpVersion

log = logging.getLogger(__name__)

MAX_VARBINDS_PER_GET = 40
BACKOFF = 1.5
MAX_WALK_PAGES = 100_000
MAX_BULK_VARBINDS = 160
"""Varbinds asked for in one GETBULK (columns x repetitions): a 10-port device's whole interface table
(11 columns x 11 rows) in one reply of ~5 KB, yet few enough IP fragments for a lossy rural link."""
END_OF_MIB_VIEW = int(SnmpType.END_OF_MIB_VIEW)


@dataclass(eq=False)
class _Pending:
    future: asyncio.Future[ber.Response]
    addr: tuple[str, int]
    rejected: str | None = field(default=None)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, client: UdpSnmpClient) -> None:
        self.client = client

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.client._received(data, (str(addr[0]), int(addr[1])))

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and friends; the affected request will time out with a clear reason.
        log.debug("SNMP socket error: %s", exc)


class UdpSnmpClient:
    """SNMPv2c over one UDP socket. Use as ``async with UdpSnmpClient() as snmp:``.

    Thousands of requests may be in flight at once; ``max_in_flight`` bounds them so a large poll cycle
    cannot overrun the socket buffer or the agents.
    """

    def __init__(self, *, max_in_flight: int = 500, max_bulk_varbinds: int = MAX_BULK_VARBINDS) -> None:
        self._max_bulk_varbinds = max(1, max_bulk_varbinds)
        self._transport: asyncio.DatagramTransport | None = None
        self._pending: dict[int, _Pending] = {}
        self._next_id = random.randrange(1, 1 << 30)  # noqa: S311 - request ids need to be unique, not secret
        self._slots = asyncio.Semaphore(max_in_flight)
        self._resolved: dict[str, str] = {}
        self.requests_sent = 0
        """Datagrams sent (retries included), for benchmarks and the poller's own metrics."""

    async def open(self) -> None:
        if self._transport is not None:
            return
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), family=socket.AF_INET,
                                                           local_addr=("0.0.0.0", 0))  # noqa: S104 - a client socket
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
            except OSError:  # pragma: no cover - the kernel may cap it; the default still works
                pass
        self._transport = transport

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.cancel()
        self._pending.clear()

    async def __aenter__(self) -> UdpSnmpClient:
        await self.open()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    # --- the SnmpClient protocol -------------------------------------------------------------------------

    async def get(self, target: SnmpTarget, oids: list[str]) -> list[VarBind]:
        _check_v2c(target)
        if len(oids) <= MAX_VARBINDS_PER_GET:
            return await self._get_chunk(target, oids)
        chunks = [oids[i:i + MAX_VARBINDS_PER_GET] for i in range(0, len(oids), MAX_VARBINDS_PER_GET)]
        parts = await asyncio.gather(*(self._get_chunk(target, chunk) for chunk in chunks))
        return [vb for part in parts for vb in part]

    async def bulk_walk(self, target: SnmpTarget, root_oid: str, max_repetitions: int = 50) -> list[VarBind]:
        return (await self.bulk_walk_columns(target, [root_oid], max_repetitions))[0]

    async def bulk_walk_columns(self, target: SnmpTarget, columns: Sequence[str],
                                max_repetitions: int = 50) -> list[list[VarBind]]:
        """Walk several subtrees together: each GETBULK carries every column not finished yet.

        A table's columns usually have the same rows, so with ``max_repetitions`` one more than the row
        count a whole table comes back in one round trip. Agents may return fewer rows than asked (net-snmp
        stops at 100 varbinds); the walk then continues from each column's last OID.
        """
        _check_v2c(target)
        if not columns:
            return []
        community = target.community.encode()
        prefixes = [ber.oid_bytes(column.strip(".")) for column in columns]
        found: list[list[ber.RawVarBind]] = [[] for _ in columns]
        cursors = list(prefixes)
        active = list(range(len(columns)))
        reps = max(1, max_repetitions)
        for _ in range(MAX_WALK_PAGES):
            ask = [cursors[c] for c in active]
            # After a short reply, ask only for the rows still expected; past them, for ``reps`` more.
            fetched = min(len(found[c]) for c in active)
            page = max(1, min(reps - fetched if fetched < reps else reps, self._max_bulk_varbinds // len(active)))
            response = await self._exchange(
                target, partial(ber.encode_getbulk_raw, community=community, oids=ask, max_repetitions=page))
            if response.error_status == 1 and reps > 1:  # tooBig: ask for less
                reps = max(1, min(reps, page) // 2)
                continue
            _raise_for_error(target, response)
            raw = response.raw
            if not raw:
                raise DeviceRejected(f"{target.address} answered a GETBULK of {len(ask)} OIDs with no varbinds")
            width = len(active)
            done: set[int] = set()
            before = [cursors[c] for c in active]
            for n, vb in enumerate(raw[:width * page]):
                column = active[n % width]
                if column in done:
                    continue
                oid = vb[0]
                prefix = prefixes[column]
                if vb[1] == END_OF_MIB_VIEW or not oid.startswith(prefix) or len(oid) == len(prefix):
                    done.add(column)
                    continue
                cursors[column] = oid
                found[column].append(vb)
            for column, cursor in zip(active, before, strict=True):
                # Each page must move each column forward, else a broken agent could keep a walk going forever.
                if cursors[column] is not cursor and not ber.oid_after(cursors[column], cursor,
                                                                       len(prefixes[column])):
                    raise DeviceRejected(f"{target.address} returned OIDs out of order while walking "
                                         f"{columns[column]} ({ber.oid_text(cursors[column])} after "
                                         f"{ber.oid_text(cursor)}); the agent is broken")
            active = [c for c in active if c not in done]
            if not active:
                return [[VarBind(ber.oid_text(oid), tag, value) for oid, tag, value in rows] for rows in found]
        raise DeviceRejected(f"{target.address}: walk of {', '.join(columns)} did not end after "
                             f"{MAX_WALK_PAGES} requests")

    # --- internals -----------------------------------------------------------------------------------------

    async def _get_chunk(self, target: SnmpTarget, oids: list[str]) -> list[VarBind]:
        community = target.community.encode()
        response = await self._exchange(target, lambda rid: ber.encode_get(rid, community, oids))
        _raise_for_error(target, response)
        if len(response.raw) != len(oids):
            raise DeviceRejected(f"{target.address} answered {len(response.raw)} varbinds "
                                 f"to a GET of {len(oids)}")
        return response.varbinds

    def _request_id(self) -> int:
        rid = self._next_id
        self._next_id = rid + 1 if rid < 0x7FFFFFFF else 1
        return rid

    async def _resolve(self, host: str) -> str:
        ip = self._resolved.get(host)
        if ip is None:
            try:
                socket.inet_aton(host)
                ip = host
            except OSError:
                infos = await asyncio.get_running_loop().getaddrinfo(host, None, family=socket.AF_INET,
                                                                     type=socket.SOCK_DGRAM)
                if not infos:
                    raise DeviceUnreachable(f"cannot resolve {host}") from None
                ip = str(infos[0][4][0])
            self._resolved[host] = ip
        return ip

    async def _exchange(self, target: SnmpTarget, encode: Callable[[int], bytes]) -> ber.Response:
        """Send one request (retrying on timeout) and return its decoded Response."""
        if self._transport is None:
            raise RuntimeError("UdpSnmpClient is not open; use `async with UdpSnmpClient() as snmp:`")
        ip = self._resolved.get(target.host)
        if ip is None:
            try:
                ip = await self._resolve(target.host)
            except OSError as exc:
                raise DeviceUnreachable(f"cannot resolve {target.host}: {exc}") from exc
        addr = (ip, target.port)
        tries = target.retries + 1
        async with self._slots:
            rid = self._request_id()
            payload = encode(rid)
            loop = asyncio.get_running_loop()
            pending = _Pending(loop.create_future(), addr)
            self._pending[rid] = pending
            try:
                timeout = target.timeout
                for attempt in range(tries):
                    if attempt:
                        # Same request-id on a retry, so a late answer to the first try still counts.
                        pending.future = loop.create_future()
                    self._transport.sendto(payload, addr)
                    self.requests_sent += 1
                    try:
                        async with asyncio.timeout(timeout):
                            return await pending.future
                    except TimeoutError:
                        timeout *= BACKOFF
            finally:
                self._pending.pop(rid, None)
        if pending.rejected is not None:
            log.warning("SNMP %s sent a malformed reply: %s", target.address, pending.rejected)
            raise DeviceRejected(f"{target.address} sent a malformed reply: {pending.rejected}")
        log.info("SNMP %s: no answer after %d tries", target.address, tries)
        raise DeviceUnreachable(f"no answer from {target.address} after {tries} tries "
                                "(wrong community or agent down?)")

    def _received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            response = ber.decode_response(data)
        except ber.BerError as exc:
            self._malformed(data, addr, str(exc))
            return
        pending = self._pending.get(response.request_id)
        if pending is None or pending.addr != addr:
            log.debug("SNMP reply from %s:%d with unknown request-id %d ignored", *addr, response.request_id)
            return
        if not pending.future.done():
            pending.future.set_result(response)

    def _malformed(self, data: bytes, addr: tuple[str, int], reason: str) -> None:
        """Remember why a reply was unusable. A good reply (e.g. to a retry) still wins; if none comes,
        the request fails with this reason instead of a plain timeout."""
        rid = ber.peek_request_id(data)
        candidates = [self._pending[rid]] if rid in self._pending else [
            p for p in self._pending.values() if p.addr == addr]
        log.debug("malformed SNMP datagram (%d bytes) from %s:%d: %s", len(data), *addr, reason)
        for pending in candidates:
            if pending.addr == addr:
                pending.rejected = f"{reason} ({len(data)} bytes)"


def _check_v2c(target: SnmpTarget) -> None:
    if target.version != SnmpVersion.V2C:
        raise ValueError(f"UdpSnmpClient speaks SNMPv2c only, not {target.version.value}")


def _raise_for_error(target: SnmpTarget, response: ber.Response) -> None:
    if response.error_status == 0:
        return
    where = ""
    if 0 < response.error_index <= len(response.raw):
        where = f" at {ber.oid_text(response.raw[response.error_index - 1][0])}"
    raise DeviceRejected(f"{target.address} answered {response.error_name}{where}")
