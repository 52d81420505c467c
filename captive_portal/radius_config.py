"""Writes a complete FreeRADIUS 3 configuration that fronts netmgr's AAA endpoints.

Data flows inventory (hotspot gateways and their decrypted RADIUS secrets) + settings → ``write_config`` →
``<dir>/raddb/{radiusd.conf,clients.conf,dictionary}`` plus ``log/`` and ``run/``; run it with
``freeradius -f -d <dir>/raddb``. It encodes three traps found on the test bed (docs/radius.md):
``raddbdir`` must be absolute (``-d`` does not define it), netmgr must be up before radiusd (rlm_rest's
first connect), and a Post-Auth-Type REJECT filter so authorize-time policy attributes never leak into
an Access-Reject, where only Reply-Message may remain.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from captive_portal.decisions import RefusalReason, message
from captive_portal.dialects import POLICY_ATTRIBUTES
from netmgr.db import secret_box
from netmgr.models import Device
from netmgr.models.enums import DeviceRole
from netmgr.settings import AccountingMode, Settings

# CoovaChilli's gigawords companion to ChilliSpot-Max-Total-Octets is missing from FreeRADIUS 3.2's dictionary.
LOCAL_DICTIONARY = """\
# netmgr: attributes the hotspot dialects use that FreeRADIUS's dictionary lacks.
BEGIN-VENDOR ChilliSpot
ATTRIBUTE\tChilliSpot-Max-Input-Gigawords\t21\tinteger
ATTRIBUTE\tChilliSpot-Max-Output-Gigawords\t22\tinteger
ATTRIBUTE\tChilliSpot-Max-Total-Gigawords\t23\tinteger
END-VENDOR ChilliSpot
# Written into each accounting detail record (site-local range 3000-3999): the RADIUS client FreeRADIUS matched,
# and when it received the request (seconds.microseconds), for ``captive_portal.spool``.
ATTRIBUTE\tNetmgr-Client\t3191\tstring
ATTRIBUTE\tNetmgr-Received\t3192\tstring
"""


@dataclass(frozen=True)
class RadiusClient:
    """One NAS allowed to talk to FreeRADIUS (a hotspot gateway from the inventory)."""

    name: str
    address: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class RadiusConfig:
    """Where the config was written and what it listens on."""

    root: Path
    raddb: Path
    auth_port: int
    acct_port: int
    clients: tuple[str, ...]


def _quote(value: str) -> str:
    """A FreeRADIUS double-quoted string: backslashes and quotes escaped, ``%`` doubled (no xlat)."""
    if any(c in value for c in "\r\n\x00"):
        raise ValueError("a FreeRADIUS config value cannot contain line breaks or NUL")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def _client_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60] or "nas"


def inventory_clients(session: Session) -> list[RadiusClient]:
    """Every hotspot gateway with a RADIUS secret, its secret decrypted (only for writing clients.conf)."""
    box = secret_box(session)
    devices = session.scalars(select(Device).where(Device.role == DeviceRole.HOTSPOT_GATEWAY,
                                                   Device.radius_secret_encrypted.is_not(None))
                              .order_by(Device.name))
    return [RadiusClient(name=d.name, address=d.mgmt_address, secret=box.decrypt(d.radius_secret_encrypted or ""))
            for d in devices]


def render_clients(clients: Iterable[RadiusClient]) -> str:
    blocks = []
    for c in clients:
        blocks.append(
            f"client {_client_name(c.name)} {{\n"
            f"\tipaddr = {c.address}\n"
            f"\tsecret = {_quote(c.secret)}\n"
            f"\tshortname = {_quote(c.name)}\n"
            "\trequire_message_authenticator = yes\n"
            "}\n"
        )
    return "\n".join(blocks) if blocks else "# no hotspot gateway with a RADIUS secret in the inventory yet\n"


# Every AAA call names the RADIUS client FreeRADIUS matched by source address and secret (its shortname is
# the inventory device name); netmgr takes the gateway from it, not from the packet's NAS-IP-Address.
# rlm_rest URL-escapes what an xlat expands to in ``uri``.
_CLIENT_QUERY = "client=%{client:shortname}"


def _rest_section(name: str, uri: str) -> str:
    return (f"\t\t{name} {{\n\t\t\turi = \"${{..connect_uri}}{uri}\"\n\t\t\tmethod = 'post'\n"
            "\t\t\tbody = 'json'\n\t\t\tauth = 'basic'\n\t\t\tusername = \"freeradius\"\n"
            "\t\t\tpassword = ${..aaa_token}\n\t\t\trequire_auth = yes\n\t\t\ttimeout = 4\n\t\t}\n")


def _spool_module(spool_dir: Path) -> str:
    """rlm_detail writing one file a minute under ``spool_dir`` (``captive_portal.spool`` reads and removes them)."""
    path = str(spool_dir.resolve())
    if any(c in path for c in '"\\%$\r\n\x00'):  # the filename is expanded (xlat), so it cannot be escaped
        raise ValueError(f"the spool directory cannot contain quotes, backslashes, % or $: {path!r}")
    return (f"\tdetail netmgr_spool {{\n\t\tfilename = \"{path}/detail-%Y%m%d-%H%G\"\n"
            "\t\tescape_filenames = no\n\t\tpermissions = 0640\n\t\theader = \"%t\"\n\t\tlocking = yes\n\t}\n")


# Before the record is written: who sent it (the matched client, as the rest calls name it) and when it came
# (``%l`` seconds, ``%M`` microseconds; in a file name ``%G`` is the minute).
_SPOOL_ACCOUNTING = ("\t\tupdate request {\n\t\t\t&Netmgr-Client := \"%{client:shortname}\"\n"
                     "\t\t\t&Netmgr-Received := \"%l.%M\"\n\t\t}\n\t\tnetmgr_spool\n")


def render_radiusd_conf(*, raddb: Path, listen_address: str, auth_port: int, acct_port: int, api_url: str,
                        aaa_token: str, language: str = "id", max_servers: int = 32,
                        static_users: bool = False, spool_dir: Path | None = None) -> str:
    """The whole ``radiusd.conf``. ``static_users`` answers from ``raddb/users`` instead (the benchmark's ceiling);
    ``spool_dir`` writes accounting to detail files there and answers at once instead of asking netmgr."""
    raddb = raddb.resolve()
    strip = "\n".join(f"\t\t\t\t&{name} !* ANY" for name in POLICY_ATTRIBUTES)
    wrong_password = _quote(message(RefusalReason.WRONG_PASSWORD, language))
    if static_users:
        modules_extra = "\tfiles {\n\t\tfilename = ${confdir}/users\n\t\tacctusersfile = ${confdir}/acct_users\n\t}\n"
        authorize = "\t\tfiles\n\t\tpap\n\t\tchap\n"
        accounting = "\t\tok\n"
        post_auth = ""
        reject_rest = ""
        auth_type_rest = ""
    else:
        modules_extra = (
            "\trest {\n"
            f"\t\tconnect_uri = {_quote(api_url.rstrip('/'))}\n"
            f"\t\taaa_token = {_quote(aaa_token)}\n"
            + _rest_section("authorize", "/api/v1/aaa/authorize?" + _CLIENT_QUERY)
            + _rest_section("authenticate", "/api/v1/aaa/authenticate?" + _CLIENT_QUERY)
            + _rest_section("accounting", "/api/v1/aaa/accounting?" + _CLIENT_QUERY)
            + _rest_section("post-auth", "/api/v1/aaa/post-auth?" + _CLIENT_QUERY
                            + "&result=%{control:Post-Auth-Type}&message=%{control:Tmp-String-0}")
            + "\t\tpool {\n\t\t\tstart = 0\n\t\t\tmin = 0\n"
            f"\t\t\tmax = {max_servers}\n\t\t\tspare = 4\n\t\t\tuses = 0\n\t\t\tretry_delay = 1\n"
            "\t\t\tlifetime = 0\n\t\t\tidle_timeout = 60\n\t\t}\n\t}\n"
            + (_spool_module(spool_dir) if spool_dir is not None else "")
        )
        # rest answers 401 with a Reply-Message for refusals, or the password for PAP/CHAP plus the policy.
        authorize = "\t\trest\n\t\tpap\n\t\tchap\n"
        accounting = _SPOOL_ACCOUNTING if spool_dir is not None else "\t\trest\n"
        post_auth = "\t\trest\n"
        reject_rest = "\t\t\trest\n"
        # For gateways set to Auth-Type rest: netmgr checks the password (200 + attributes, or 401).
        auth_type_rest = "\t\tAuth-Type rest {\n\t\t\trest\n\t\t\tif (updated) {\n\t\t\t\tok\n\t\t\t}\n\t\t}\n"
    return f"""# Generated by `netmgr radius config`; edit the inventory and settings, then generate again.
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
raddbdir = {raddb}
confdir = ${{raddbdir}}
modconfdir = ${{confdir}}/mods-config
dictdir = /usr/share/freeradius
libdir = /usr/lib/freeradius
name = freeradius
logdir = ${{confdir}}/../log
run_dir = ${{confdir}}/../run
radacctdir = ${{logdir}}/radacct
pidfile = ${{run_dir}}/${{name}}.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 16384
hostname_lookups = no
log {{
\tdestination = stdout
\tcolourise = no
\tauth = no
}}
security {{
\tallow_core_dumps = no
\tmax_attributes = 200
\treject_delay = 1
\tstatus_server = yes
}}
thread pool {{
\tstart_servers = 4
\tmax_servers = {max_servers}
\tmin_spare_servers = 2
\tmax_spare_servers = {max(4, max_servers // 2)}
\tmax_queue_size = 65536
}}
$INCLUDE clients.conf
modules {{
\talways ok {{
\t\trcode = ok
\t}}
\tpap {{
\t\tnormalise = yes
\t}}
\tchap {{
\t}}
{modules_extra}}}
server default {{
\tlisten {{
\t\ttype = auth
\t\tipaddr = {listen_address}
\t\tport = {auth_port}
\t}}
\tlisten {{
\t\ttype = acct
\t\tipaddr = {listen_address}
\t\tport = {acct_port}
\t}}
\tauthorize {{
{authorize}\t}}
\tauthenticate {{
\t\tAuth-Type PAP {{
\t\t\tpap
\t\t}}
\t\tAuth-Type CHAP {{
\t\t\tchap
\t\t}}
{auth_type_rest}\t}}
\tpreacct {{
\t}}
\taccounting {{
{accounting}\t}}
\tpost-auth {{
{post_auth}\t\tPost-Auth-Type REJECT {{
\t\t\tupdate control {{
\t\t\t\t&Tmp-String-0 := "%{{reply:Reply-Message}}"
\t\t\t}}
\t\t\tupdate reply {{
{strip}
\t\t\t}}
\t\t\tif (!&reply:Reply-Message) {{
\t\t\t\tupdate reply {{
\t\t\t\t\t&Reply-Message := {wrong_password}
\t\t\t\t}}
\t\t\t}}
{reject_rest}\t\t}}
\t}}
}}
"""


def write_config(output: Path, *, clients: Iterable[RadiusClient], settings: Settings, auth_port: int | None = None,
                 acct_port: int | None = None, listen_address: str | None = None, api_url: str | None = None,
                 static_users: str | None = None, max_servers: int = 32) -> RadiusConfig:
    """Write the config under ``output`` (created if missing); secrets go to files only its owner can read.

    Args:
        clients: the NASes (usually ``inventory_clients(session)``).
        settings: netmgr settings (ports, listen address, the AAA token and URL) unless overridden.
        static_users: a FreeRADIUS ``users`` file to answer from instead of netmgr (benchmark ceiling).
    """
    radius = settings.radius
    raddb = output / "raddb"
    spool_dir = Path(radius.spool_dir) if radius.accounting == AccountingMode.SPOOL else None
    if spool_dir is not None:
        spool_dir.mkdir(parents=True, exist_ok=True)
    for sub in (raddb, output / "log", output / "run"):
        sub.mkdir(parents=True, exist_ok=True)
    auth = auth_port or radius.auth_port
    acct = acct_port or radius.acct_port
    client_list = list(clients)
    conf = render_radiusd_conf(
        raddb=raddb, listen_address=listen_address or radius.listen_address, auth_port=auth, acct_port=acct,
        api_url=api_url or radius.aaa_url or settings.public_url, aaa_token=radius.aaa_token.get_secret_value(),
        language=settings.default_language, max_servers=max_servers, static_users=static_users is not None,
        spool_dir=spool_dir)
    _write_private(raddb / "radiusd.conf", conf)
    _write_private(raddb / "clients.conf", render_clients(client_list))
    _write_private(raddb / "dictionary", LOCAL_DICTIONARY)
    if static_users is not None:
        _write_private(raddb / "users", static_users)
        _write_private(raddb / "acct_users", "DEFAULT\n")
    return RadiusConfig(root=output, raddb=raddb, auth_port=auth, acct_port=acct,
                        clients=tuple(c.name for c in client_list))


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)
