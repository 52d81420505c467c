"""``netmgr radius config`` writes the FreeRADIUS configuration; ``netmgr radius test`` sends one Access-Request;
``netmgr radius-spool`` applies the accounting FreeRADIUS spooled; ``netmgr sms test`` sends a test SMS through
the portal's gateway."""

from __future__ import annotations

import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import typer
from pyrad import packet
from pyrad.client import Client, Timeout

from captive_portal import coa, sms, spool
from captive_portal.accounting import AccountingSettings
from captive_portal.coa import radius_dictionary
from captive_portal.login_methods import LoginRefused
from captive_portal.radius_config import RadiusClient, inventory_clients, write_config
from captive_portal.sessions import DisconnectOrder
from netmgr.commands.context import console, db_session, fail, settings
from netmgr.errors import NetmgrError
from netmgr.metrics import make_metrics_store
from netmgr.state import AppState

sms_app = typer.Typer(help="The SMS gateway that sends the portal's OTP codes.", no_args_is_help=True)
radius_app = typer.Typer(help="RADIUS AAA for the hotspots (FreeRADIUS in front of netmgr).", no_args_is_help=True)


@radius_app.command("config")
def config_command(
    output: Path = typer.Option(..., "--output", "-o", help="directory to write (raddb/, log/, run/)"),
    test_client_secret: str | None = typer.Option(
        None, help="also accept requests from 127.0.0.1 with this secret (for `netmgr radius test`)"),
) -> None:
    """Write a complete FreeRADIUS config: clients from the inventory's hotspot gateways, rest → netmgr."""
    cfg = settings()
    if not cfg.radius.aaa_token.get_secret_value():
        raise fail("set NETMGR_RADIUS__AAA_TOKEN first: FreeRADIUS presents it to netmgr's AAA endpoints")
    try:
        with db_session() as session:
            clients = inventory_clients(session)
    except NetmgrError as exc:
        raise fail(exc) from exc
    if test_client_secret and all(c.address != "127.0.0.1" for c in clients):
        clients.append(RadiusClient(name="netmgr-radius-test", address="127.0.0.1", secret=test_client_secret))
    written = write_config(output, clients=clients, settings=cfg)
    console.print(f"wrote [bold]{written.raddb}[/] with {len(written.clients)} client(s); "
                  f"auth {written.auth_port}/udp, acct {written.acct_port}/udp")
    console.print(f"start netmgr first, then: [bold]freeradius -f -d {written.raddb}[/]")


@radius_app.command("test")
def test_command(
    username: str = typer.Argument(..., help="voucher code or grant user name"),
    password: str = typer.Argument(..., help="its password (a voucher's code)"),
    secret: str = typer.Option(..., "--secret", help="the RADIUS secret FreeRADIUS expects from this address"),
    server: str = typer.Option("", help="FreeRADIUS address (default: NETMGR_RADIUS__LISTEN_ADDRESS)"),
    port: int = typer.Option(0, help="auth port (default: NETMGR_RADIUS__AUTH_PORT)"),
    nas_ip: str = typer.Option("127.0.0.1", help="NAS-IP-Address to send; the gateway is the RADIUS client "
                               "FreeRADIUS matches for this host's address, and another gateway's address is refused"),
    mac: str = typer.Option("02:00:00:00:00:01", help="Calling-Station-Id of the pretend citizen device"),
) -> None:
    """Send one Access-Request as a gateway would, and print the answer with its attributes."""
    cfg = settings().radius
    client = Client(server=server or cfg.listen_address, authport=port or cfg.auth_port, secret=secret.encode(),
                    dict=radius_dictionary(), retries=2, timeout=3)
    request = client.CreateAuthPacket(code=packet.AccessRequest, User_Name=username)
    request["User-Password"] = request.PwCrypt(password)
    request["NAS-IP-Address"] = nas_ip
    request["Calling-Station-Id"] = mac
    request.add_message_authenticator()
    try:
        reply = client.SendPacket(request)
    except Timeout:
        raise fail("no answer: is FreeRADIUS running, and does it know this address and secret?") from None
    verdict = {packet.AccessAccept: "[green]Access-Accept[/]", packet.AccessReject: "[red]Access-Reject[/]"}
    console.print(verdict.get(reply.code, f"code {reply.code}"))
    for key in reply.keys():
        console.print(f"  {key} = {', '.join(str(v) for v in reply[key])}")
    if reply.code != packet.AccessAccept:
        raise typer.Exit(1)


@sms_app.command("test")
def sms_test_command(phone: str = typer.Argument(..., help="an Indonesian mobile number, e.g. 0812-3456-7890")) -> None:
    """Send a test SMS (in Indonesian) through NETMGR_PORTAL__SMS_SENDER and say whether the gateway took it."""
    cfg = settings()
    try:
        shown = sms.send_test(cfg, phone)
    except LoginRefused:
        raise fail("not an Indonesian mobile number; example: 0812-3456-7890") from None
    except NetmgrError as exc:
        raise fail(exc) from exc
    console.print(f"the {cfg.portal.sms_sender} gateway took the test SMS to {shown}; check that it arrives")


def spool_command(
    once: bool = typer.Option(False, "--once", help="apply what the spool holds now, then exit"),
) -> None:
    """Apply the accounting FreeRADIUS wrote to its detail spool (NETMGR_RADIUS__ACCOUNTING=spool), in batches.

    Runs until stopped (SIGTERM or Ctrl-C finish the current batch). Run one per spool directory.
    """
    cfg = settings()
    state = AppState.build(cfg)
    store = make_metrics_store(cfg)
    radius = cfg.radius
    reader = spool.SpoolReader(state.session_factory, Path(radius.spool_dir), store=store, batch=radius.spool_batch,
                               settings=AccountingSettings(timezone=cfg.timezone,
                                                           default_interim_s=radius.interim_interval_s,
                                                           default_coa_port=radius.coa_port))
    senders = ThreadPoolExecutor(max_workers=4, thread_name_prefix="disconnect")

    def send(order: DisconnectOrder) -> None:
        senders.submit(coa.disconnect_and_record, order, factory=state.session_factory, radius=radius)

    stop = threading.Event()
    try:
        if once:
            console.print(f"applied {spool.drain(reader, send=send)} accounting record(s) from {radius.spool_dir}")
            return
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        console.print(f"applying RADIUS accounting from {radius.spool_dir}; Ctrl-C stops")
        spool.run(reader, stop=stop, poll_s=radius.spool_poll_s, send=send)
    finally:
        senders.shutdown(wait=True)
        store.close()
        state.engine.dispose()


def register(app: typer.Typer) -> None:
    from captive_portal.hotspot_cli import hotspot_app

    app.command("radius-spool")(spool_command)

    app.add_typer(radius_app, name="radius")
    app.add_typer(hotspot_app, name="hotspot")
    app.add_typer(sms_app, name="sms")
