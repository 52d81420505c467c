"""``netmgr hotspot``: hotspots, policies, voucher batches and who is online, from the command line.

Options → one ``captive_portal.management`` call → a line or a table in Bahasa Indonesia; Disconnect-Requests a
change causes are sent once the change is committed, as the API does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.table import Table

from captive_portal import coa, i18n, management, terms, vouchers
from captive_portal.schemas import BatchCreate, HotspotCreate, HotspotUpdate, PolicyCreate, PolicyUpdate
from captive_portal.sessions import DisconnectOrder
from netmgr import localtime
from netmgr.commands.context import CLI_ACTOR, console, db_session, fail, settings
from netmgr.errors import NetmgrError, ValidationFailed
from netmgr.models.hotspot import LoginMethod, NasDialect
from netmgr.state import AppState

hotspot_app = typer.Typer(help="Hotspot, kebijakan, batch voucher dan sesi aktif (hotspots, policies, vouchers).",
                          no_args_is_help=True)


def _(message: str, **values: Any) -> str:
    """The CLI speaks Indonesian (the portal's catalog); ``values`` fill ``%(name)s``."""
    text = i18n.gettext(message, "id")
    return text % values if values else text


def _field_error(exc: Exception) -> str:
    """One line naming the field for a service or option error (pydantic's errors are ValueErrors)."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return _("Check “%(field)s”: %(problem)s", field=where, problem=first.get("msg", ""))
    if isinstance(exc, ValidationFailed) and exc.field:
        return _("Check “%(field)s”: %(problem)s", field=exc.field, problem=exc.message)
    if isinstance(exc, NetmgrError):
        return exc.message
    return str(exc)


def _send(orders: list[DisconnectOrder]) -> int:
    """Send the Disconnect-Requests after the change was committed; returns how many the gateways ACKed."""
    if not orders:
        return 0
    from captive_portal.api import send_disconnect

    state = AppState.build(settings())
    try:
        return sum(1 for order in orders if send_disconnect(state, order).acked)
    finally:
        state.engine.dispose()


@hotspot_app.command("list")
def list_command() -> None:
    """Every hotspot with its address, gateway and devices online."""
    with db_session() as session:
        result = management.list_hotspots(session, CLI_ACTOR, limit=1000)
        online = management.online_counts(session, [h.id for h in result.items])
        table = Table("id", _("Name"), "slug", _("Gateway"), _("Online now"), _("Status"))
        for h in result.items:
            table.add_row(str(h.id), h.name, h.slug, h.gateway.name, str(online.get(h.id, 0)),
                          _("on") if h.enabled else _("off"))
        console.print(table)


@hotspot_app.command("create")
def create_command(
    name: str,
    slug: str = typer.Option(..., help="portal address: /portal/<slug>/"),
    site_id: int = typer.Option(..., help="site id (netmgr inventory)"),
    gateway_id: int = typer.Option(..., help="the hotspot gateway's device id"),
    dialect: NasDialect = typer.Option(NasDialect.MIKROTIK, help="NAS dialect"),
    ssid: str = typer.Option(""),
    method: list[LoginMethod] = typer.Option(["click_through"], help="login method (repeat for more)"),
    policy_id: int | None = typer.Option(None, help="policy for click-through and phone logins"),
    coa_port: int | None = typer.Option(None, help="the gateway's Disconnect/CoA port when not 3799"),
) -> None:
    """Create a hotspot."""
    try:
        data = HotspotCreate(name=name, slug=slug, site_id=site_id, gateway_device_id=gateway_id, nas_dialect=dialect,
                             ssid=ssid, login_methods=[m.value for m in method], default_policy_id=policy_id,
                             coa_port=coa_port)
        with db_session() as session:
            hotspot = management.create_hotspot(session, CLI_ACTOR, data)
            console.print(_("Hotspot %(name)s created.", name=hotspot.name) + f" (id {hotspot.id})")
    except (NetmgrError, ValueError) as exc:
        raise fail(_field_error(exc)) from exc


def _switch(hotspot_id: int, enabled: bool) -> None:
    try:
        with db_session() as session:
            change = management.update_hotspot(session, CLI_ACTOR, hotspot_id, HotspotUpdate(enabled=enabled),
                                               now=datetime.now(UTC), default_coa_port=settings().radius.coa_port)
            orders, unreachable = change.orders, change.not_reachable
    except (NetmgrError, ValueError) as exc:
        raise fail(_field_error(exc)) from exc
    if enabled:
        console.print(_("Hotspot switched on: citizens can log in again."))
    else:
        _send(orders)
        console.print(_("Hotspot switched off: %(n)s session(s) disconnected, new logins refused.",
                        n=len(orders) + unreachable))


@hotspot_app.command("enable")
def enable_command(hotspot_id: int) -> None:
    """Switch a hotspot on."""
    _switch(hotspot_id, True)


@hotspot_app.command("disable")
def disable_command(hotspot_id: int) -> None:
    """Switch a hotspot off: new logins are refused and the devices online are disconnected."""
    _switch(hotspot_id, False)


@hotspot_app.command("delete")
def delete_command(hotspot_id: int, yes: bool = typer.Option(False, "--yes", help="do not ask")) -> None:
    """Delete a hotspot without devices online or usable vouchers."""
    if not yes:
        typer.confirm(_("Delete hotspot") + f" {hotspot_id}?", abort=True)
    try:
        with db_session() as session:
            management.delete_hotspot(session, CLI_ACTOR, hotspot_id)
    except (NetmgrError, ValueError) as exc:
        raise fail(_field_error(exc)) from exc
    console.print(_("Hotspot deleted."))


@hotspot_app.command("terms-set")
def terms_set_command(
    hotspot_id: int,
    version: str = typer.Option(..., help="the new version's name, e.g. 2026-02 (each name once per hotspot)"),
    terms_file: Path | None = typer.Option(None, help="UTF-8 file with the terms of use (empty file: standard)"),
    privacy_file: Path | None = typer.Option(None, help="UTF-8 file with the privacy notice (empty file: standard)"),
) -> None:
    """Publish a new version of a hotspot's terms and/or privacy text; citizens consent to it from then on."""
    try:
        texts = {name: path.read_text(encoding="utf-8") for name, path in
                 (("terms_text", terms_file), ("privacy_text", privacy_file)) if path is not None}
        data = HotspotUpdate.model_validate({"terms_version": version} | texts)
        with db_session() as session:
            management.update_hotspot(session, CLI_ACTOR, hotspot_id, data,
                                      now=datetime.now(UTC), default_coa_port=settings().radius.coa_port)
    except (NetmgrError, ValueError, OSError) as exc:
        raise fail(_field_error(exc)) from exc
    console.print(_("Terms version %(version)s published.", version=version))


@hotspot_app.command("terms-versions")
def terms_versions_command(hotspot_id: int,
                           show: str | None = typer.Option(None, help="print this version's texts")) -> None:
    """Every version of a hotspot's terms and privacy text, newest first; ``--show`` prints one."""
    try:
        with db_session() as session:
            rows = terms.list_versions(session, CLI_ACTOR, hotspot_id)
            if show is not None:
                chosen = next((v for v in rows if v.version == show), None)
                if chosen is None:
                    raise ValidationFailed(f"hotspot {hotspot_id} has no terms version {show}", field="show")
                console.print(f"# {_('Terms of use')} {chosen.version}\n{chosen.terms_text or '—'}\n\n"
                              f"# {_('Privacy notice')}\n{chosen.privacy_text or '—'}", markup=False)
                return
            table = Table(_("Version"), _("Since"), _("By"))
            for v in rows:
                since = localtime.to_local(v.created_at, settings().timezone).strftime("%Y-%m-%d %H:%M")
                table.add_row(v.version, since, v.created_by)
            console.print(table)
    except (NetmgrError, ValueError) as exc:
        raise fail(_field_error(exc)) from exc


@hotspot_app.command("policies")
def policies_command() -> None:
    """Every policy and what it gives."""
    with db_session() as session:
        table = Table("id", _("Name"), _("What a citizen gets"), _("Devices at once"), _("Opens at"), _("Closes at"))
        for p in management.list_policies(session, CLI_ACTOR, limit=1000).items:
            table.add_row(str(p.id), p.name, vouchers.describe_policy(p), str(p.max_devices), p.opening_start or "—",
                          p.opening_end or "—")
        console.print(table)


def _minutes(value: int | None) -> int | None:
    return None if value is None else value * 60


@hotspot_app.command("policy-create")
def policy_create_command(
    name: str,
    down_kbps: int | None = typer.Option(None, help="download rate, kbit/s"),
    up_kbps: int | None = typer.Option(None, help="upload rate, kbit/s"),
    session_minutes: int | None = typer.Option(None),
    idle_minutes: int | None = typer.Option(None),
    device_daily_minutes: int | None = typer.Option(None),
    device_daily_mb: int | None = typer.Option(None),
    person_daily_minutes: int | None = typer.Option(None),
    person_daily_mb: int | None = typer.Option(None),
    max_devices: int = typer.Option(1),
    opens: str | None = typer.Option(None, help="HH:MM local time, e.g. 06:00"),
    closes: str | None = typer.Option(None, help="HH:MM local time, e.g. 22:00"),
) -> None:
    """Create a policy (empty options: no limit)."""
    try:
        data = PolicyCreate(name=name, rate_down_kbps=down_kbps, rate_up_kbps=up_kbps,
                            session_timeout_s=_minutes(session_minutes), idle_timeout_s=_minutes(idle_minutes),
                            device_daily_time_s=_minutes(device_daily_minutes),
                            device_daily_bytes=device_daily_mb * 10**6 if device_daily_mb else None,
                            person_daily_time_s=_minutes(person_daily_minutes),
                            person_daily_bytes=person_daily_mb * 10**6 if person_daily_mb else None,
                            max_devices=max_devices, opening_start=opens, opening_end=closes)
        with db_session() as session:
            policy = management.create_policy(session, CLI_ACTOR, data)
            console.print(_("Policy %(name)s created.", name=policy.name) + f" (id {policy.id})")
    except (NetmgrError, ValueError) as exc:
        raise fail(_field_error(exc)) from exc


@hotspot_app.command("policy-set")
def policy_set_command(
    policy_id: int,
    session_minutes: int | None = typer.Option(None),
    down_kbps: int | None = typer.Option(None),
    up_kbps: int | None = typer.Option(None),
    max_devices: int | None = typer.Option(None),
    opens: str | None = typer.Option(None, help="HH:MM local time"),
    closes: str | None = typer.Option(None, help="HH:MM local time"),
) -> None:
    """Change a policy; sessions online over the new limits are disconnected."""
    sent = {"session_timeout_s": _minutes(session_minutes), "rate_down_kbps": down_kbps, "rate_up_kbps": up_kbps,
            "max_devices": max_devices, "opening_start": opens, "opening_end": closes}
    try:
        data = PolicyUpdate(**{k: v for k, v in sent.items() if v is not None})
        cfg = settings()
        with db_session() as session:
            change = management.update_policy(session, CLI_ACTOR, policy_id, data, now=datetime.now(UTC),
                                              timezone=cfg.timezone, default_coa_port=cfg.radius.coa_port)
            orders, affected, rates = change.orders, change.affected, change.rate_changes
    except (NetmgrError, ValueError) as exc:
        raise fail(_field_error(exc)) from exc
    _send(orders)
    for rate in rates:
        coa.change_rates(rate.order, rate.attributes, timeout_s=cfg.radius.coa_timeout_s,
                         retries=cfg.radius.coa_retries)
    console.print(_("Policy saved. %(n)s session(s) online were over the new limits and are being disconnected.",
                    n=affected))


@hotspot_app.command("batch-create")
def batch_create_command(
    name: str,
    policy_id: int = typer.Option(...),
    count: int = typer.Option(..., help="how many codes (1-10000)"),
    hotspot_id: int | None = typer.Option(None, help="only for this hotspot (default: every hotspot)"),
    use_before: str | None = typer.Option(None, help="YYYY-MM-DD: codes not logged in by then are refused"),
    price: int | None = typer.Option(None, help="price per voucher, rupiah"),
    pdf: Path | None = typer.Option(None, help="also write the printable sheet here"),
) -> None:
    """Generate a voucher batch (and print its sheet)."""
    try:
        valid_until = (localtime.last_minute_utc(date.fromisoformat(use_before), settings().timezone)
                       if use_before else None)
        data = BatchCreate(name=name, policy_id=policy_id, count=count, hotspot_id=hotspot_id,
                           valid_until=valid_until, price_idr=price)
        with db_session() as session:
            batch = management.create_batch(session, CLI_ACTOR, data)
            if pdf is not None:
                cfg = settings()
                pdf.write_bytes(vouchers.batch_sheet(session, CLI_ACTOR, batch.id, lang=cfg.default_language,
                                                     portal_base_url=cfg.portal.base_url, tz=cfg.timezone)[1])
            console.print(_("%(n)s voucher codes generated.", n=batch.count) + f" (batch {batch.id})")
    except (NetmgrError, ValueError) as exc:
        raise fail(_field_error(exc)) from exc


@hotspot_app.command("batch-report")
def batch_report_command(batch_id: int) -> None:
    """A batch's sales and usage."""
    try:
        with db_session() as session:
            r = management.batch_report(session, CLI_ACTOR, batch_id)
            rows = [(_("Codes"), r.batch.count), (_("Unused"), r.unused), (_("In use"), r.active),
                    (_("Used up"), r.used), (_("Revoked"), r.revoked), (_("Sold (logged in at least once)"), r.sold),
                    (_("Revenue (Rp)"), r.revenue_idr), (_("Sessions"), r.sessions),
                    (_("Data used (MB)"), round(r.octets / 10**6, 1))]
    except (NetmgrError, ValueError) as exc:
        raise fail(_field_error(exc)) from exc
    table = Table(r.batch.name, "")
    for label, value in rows:
        table.add_row(label, str(value))
    console.print(table)


@hotspot_app.command("revoke")
def revoke_command(batch_ids: list[int], yes: bool = typer.Option(False, "--yes", help="do not ask")) -> None:
    """Revoke every usable code of the batches given."""
    if not yes:
        typer.confirm(_("Revoke vouchers") + f" ({', '.join(map(str, batch_ids))})?", abort=True)
    try:
        with db_session() as session:
            revoked = management.revoke_batches(session, CLI_ACTOR, batch_ids)
    except (NetmgrError, ValueError) as exc:
        raise fail(_field_error(exc)) from exc
    console.print(_("%(n)s voucher codes revoked.", n=revoked))


@hotspot_app.command("sessions")
def sessions_command(hotspot_id: int | None = typer.Option(None, "--hotspot")) -> None:
    """Who is online (masked MAC), since when, data used and policy."""
    tz = settings().timezone
    with db_session() as session:
        result = management.live_sessions(session, CLI_ACTOR, hotspot_id=hotspot_id, limit=1000)
        table = Table("id", _("Hotspot"), _("Device"), _("Since"), "MB", _("Policy"))
        for s in result.items:
            table.add_row(str(s.id), s.hotspot_name, s.mac,
                          localtime.to_local(s.since, tz).strftime("%Y-%m-%d %H:%M ") + localtime.zone_label(tz),
                          f"{s.octets / 10**6:.1f}", s.policy_name)
        console.print(table)
