"""``netmgr discover``, ``netmgr discover-device`` and ``netmgr poll``: SNMP from the command line.

Each command parses options, calls one collector function, and prints a rich table (or JSON).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.table import Table

from collectors.collector_cli import register_collector, show_rates
from collectors.discovery import DiscoveryResult, InterfaceCounters, apply_discovery, discover, read_counters
from collectors.snmp import codecs
from collectors.snmp.client import MultiVersionClient, target_for_device
from collectors.snmp.types import SnmpTarget
from netmgr.commands.context import CLI_ACTOR, console, db_session, fail, settings
from netmgr.errors import NetmgrError
from netmgr.models.enums import SnmpAuthProtocol, SnmpPrivProtocol, SnmpVersion
from netmgr.services.devices import device_credentials, get_device_by_name

T = TypeVar("T")


def _run(work: Callable[[MultiVersionClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with MultiVersionClient() as snmp:
            return await work(snmp)

    return asyncio.run(main())


def _speed(mbps: int | None) -> str:
    if mbps is None:
        return ""
    return f"{mbps / 1000:g}G" if mbps >= 1000 else f"{mbps}M"


def _print_discovery(result: DiscoveryResult) -> None:
    console.print(f"[bold]{result.sys_name or '(no sysName)'}[/]  vendor [bold]{result.vendor}[/]  "
                  f"platform [bold]{result.platform}[/]  model [bold]{result.model or '-'}[/]"
                  + (f"  version {result.os_version}" if result.os_version else "")
                  + (f"  uptime {result.uptime_s}s" if result.uptime_s is not None else ""))
    console.print(f"sysDescr: {' '.join(result.sys_descr.split())}", soft_wrap=True)
    console.print(f"sysObjectID: {result.sys_object_id}")
    table = Table("ifIndex", "name", "descr", "alias", "type", "speed", "mac", "admin", "oper")
    for i in result.interfaces:
        type_name = codecs.IF_TYPE_NAMES.get(i.type, str(i.type)) if i.type is not None else ""
        table.add_row(str(i.if_index), i.name, i.descr, i.alias, type_name, _speed(i.speed_mbps), i.mac,
                      i.admin_status, i.oper_status)
    if result.interfaces:
        console.print(table)
    else:
        console.print("no IF-MIB interfaces")


def discover_command(
    address: str = typer.Argument(..., help="the agent's IP address or host name"),
    port: int = typer.Option(161, help="UDP port of the agent"),
    community: str | None = typer.Option(None, help="SNMPv2c community"),
    v3_user: str | None = typer.Option(None, "--v3-user", help="SNMPv3 user (authPriv with --auth-key/--priv-key)"),
    auth_key: str = typer.Option("", "--auth-key", help="SNMPv3 authentication key"),
    priv_key: str = typer.Option("", "--priv-key", help="SNMPv3 privacy key"),
    auth_proto: SnmpAuthProtocol = typer.Option(SnmpAuthProtocol.SHA, "--auth-proto"),
    priv_proto: SnmpPrivProtocol = typer.Option(SnmpPrivProtocol.AES, "--priv-proto"),
    context: str = typer.Option("", help="SNMPv3 context name"),
    timeout: float = typer.Option(2.0, help="seconds to wait for each answer"),
    retries: int = typer.Option(1, help="resends after a timeout"),
    as_json: bool = typer.Option(False, "--json", help="print the result as JSON"),
) -> None:
    """Identify a device and list its interfaces over SNMP. Changes nothing in the inventory."""
    if (community is None) == (v3_user is None):
        raise fail("give either --community (SNMPv2c) or --v3-user with --auth-key/--priv-key (SNMPv3)")
    if v3_user is not None:
        target = SnmpTarget(host=address, port=port, version=SnmpVersion.V3, v3_user=v3_user, auth_key=auth_key,
                            priv_key=priv_key, auth_protocol=auth_proto, priv_protocol=priv_proto, context=context,
                            timeout=timeout, retries=retries)
    else:
        target = SnmpTarget(host=address, port=port, community=community or "", context=context, timeout=timeout,
                            retries=retries)
    try:
        result = _run(lambda snmp: discover(target, snmp=snmp))
    except NetmgrError as exc:
        raise fail(exc) from exc
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_discovery(result)


def discover_device_command(device: str = typer.Argument(..., help="inventory name of the device")) -> None:
    """Discover an inventory device over SNMP and store its interfaces (matched by name; audited)."""
    try:
        with db_session() as session:
            row = get_device_by_name(session, CLI_ACTOR, device)
            target = target_for_device(row, device_credentials(session, row), settings().snmp)
            result = _run(lambda snmp: discover(target, snmp=snmp))
            outcome = apply_discovery(session, CLI_ACTOR, row.id, result)
    except NetmgrError as exc:
        raise fail(exc) from exc
    _print_discovery(result)
    console.print(f"stored: {len(outcome.created)} new, {len(outcome.updated)} changed, "
                  f"{len(outcome.unchanged)} unchanged, {len(outcome.vanished)} vanished"
                  + (f" ({', '.join(outcome.vanished)})" if outcome.vanished else ""))


def poll_command(device: str = typer.Argument(..., help="inventory name of the device")) -> None:
    """Read a device's uptime and interface counters now and print them (raw counters, no rates)."""
    try:
        with db_session() as session:
            row = get_device_by_name(session, CLI_ACTOR, device)
            target = target_for_device(row, device_credentials(session, row), settings().snmp)
        uptime, counters = _run(lambda snmp: read_counters(target, snmp=snmp))
    except NetmgrError as exc:
        raise fail(exc) from exc
    console.print(f"[bold]{device}[/] ({target.address}) uptime {uptime if uptime is not None else '?'} s")
    console.print(_counter_table(counters))
    show_rates(device)


def _counter_table(counters: list[InterfaceCounters]) -> Table:
    table = Table("ifIndex", "name", "oper", "in octets", "out octets", "bits", "in errors", "out errors")

    def fmt(value: int | None) -> str:
        return "" if value is None else f"{value:,}"

    for c in counters:
        table.add_row(str(c.if_index), c.name, c.oper_status, fmt(c.in_octets), fmt(c.out_octets),
                      "64" if c.hc else "32", fmt(c.in_errors), fmt(c.out_errors))
    return table


def register(app: typer.Typer) -> None:
    app.command("discover")(discover_command)
    app.command("discover-device")(discover_device_command)
    app.command("poll")(poll_command)
    register_collector(app)
