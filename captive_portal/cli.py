"""``netmgr radius config`` writes the FreeRADIUS configuration; ``netmgr radius test`` sends one Access-Request;
``netmgr sms test`` sends a test SMS through the portal's gateway."""

from __future__ import annotations

from pathlib import Path

import typer
from pyrad import packet
from pyrad.client import Client, Timeout

from captive_portal import sms
from captive_portal.coa import radius_dictionary
from captive_portal.login_methods import LoginRefused
from captive_portal.radius_config import RadiusClient, inventory_clients, write_config
from netmgr.commands.context import console, db_session, fail, settings
from netmgr.errors import NetmgrError

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


def register(app: typer.Typer) -> None:
    from captive_portal.hotspot_cli import hotspot_app

    app.add_typer(radius_app, name="radius")
    app.add_typer(hotspot_app, name="hotspot")
    app.add_typer(sms_app, name="sms")
