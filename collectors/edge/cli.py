"""``netmgr edge …``: register edge collectors at the centre, and run one on the edge box.

Thin: each command calls ``netmgr.services.edges`` or ``collectors.edge.agent`` and prints the outcome.
"""

from __future__ import annotations

import signal
import threading

import typer
from rich.table import Table
from sqlalchemy import select

from collectors.edge.agent import EdgeAgent
from netmgr.commands.context import CLI_ACTOR, console, db_session, fail, settings
from netmgr.errors import NetmgrError
from netmgr.models import Site
from netmgr.services import edges

edge_app = typer.Typer(help="Edge collectors: small pollers at remote sites (docs/deploy.md).", no_args_is_help=True)


@edge_app.command("register")
def register_command(site: str = typer.Argument(..., help="the site's name, as in the inventory"),
                     name: str = typer.Option(..., "--name", help="the edge's name, e.g. edge-kec-baamang")) -> None:
    """Register an edge for a site and print its token (shown once: put it in the box's NETMGR_EDGE__TOKEN)."""
    try:
        with db_session() as session:
            site_id = session.scalar(select(Site.id).where(Site.name == site))
            if site_id is None:
                raise fail(f"no site named {site!r}: `netmgr inventory` lists the sites")
            edge, token = edges.register(session, CLI_ACTOR, site_id=site_id, name=name)
            edge_name = edge.name
    except NetmgrError as exc:
        raise fail(exc) from exc
    console.print(f"edge collector [bold]{edge_name}[/] registered for {site}. Its token (shown only now):")
    console.print(token, soft_wrap=True, highlight=False)
    console.print("On the edge box: NETMGR_EDGE__CENTRE_URL=<this centre's URL> NETMGR_EDGE__TOKEN=<the token> "
                  "netmgr edge run")


@edge_app.command("list")
def list_command() -> None:
    """Every edge collector, its site, when it last called and whether its link is down."""
    with db_session() as session:
        links = edges.links(session, link_down_after_s=settings().edge.link_down_after_s)
    table = Table("edge", "site", "last seen (UTC)", "link", "backlog (points)")
    for link in links:
        table.add_row(link.name, link.site, link.last_seen_at.isoformat(timespec="seconds") if link.last_seen_at
                      else "never", "[red]down[/]" if link.down else "up", str(link.backlog_points))
    console.print(table if links else "no edge collectors: `netmgr edge register SITE --name NAME` adds one")


@edge_app.command("remove")
def remove_command(name: str = typer.Argument(..., help="the edge's name")) -> None:
    """Remove an edge: its token stops working and the centre polls the site's devices itself again."""
    try:
        with db_session() as session:
            match = [e for e in edges.list_edges(session) if e.name == name]
            if not match:
                raise fail(f"no edge collector named {name!r}")
            edges.remove(session, CLI_ACTOR, match[0].id)
    except NetmgrError as exc:
        raise fail(exc) from exc
    console.print(f"edge collector {name} removed")


@edge_app.command("run")
def run_command(once: bool = typer.Option(False, "--once", help="one cycle, then exit (for checks and cron)")) -> None:
    """Run on the edge box: poll the site's devices locally and forward to the centre when the link allows."""
    try:
        agent = EdgeAgent(settings())
    except NetmgrError as exc:
        raise fail(exc) from exc
    try:
        if once:
            result = agent.run_cycle()
            console.print(f"polled {result.ok}/{result.polled} device(s); link to the centre "
                          f"{'up' if result.link_up else 'DOWN'}; {result.buckets_sent} usage bucket(s) sent; "
                          f"{result.backlog_points} point(s) waiting")
            if result.error:
                raise fail(result.error)
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        console.print(f"edge collector polling every {settings().snmp.poll_interval_s} s; centre "
                      f"{agent.client.url}")
        agent.run(stop)
    finally:
        agent.close()


def register(app: typer.Typer) -> None:
    app.add_typer(edge_app, name="edge")
