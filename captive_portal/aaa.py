"""RADIUS AAA decisions for the hotspots, called by FreeRADIUS's rest module through ``captive_portal.api``.

Data flows Access-Request → FreeRADIUS ``authorize`` → ``authorize()`` (the gateway, then the voucher or
portal grant behind User-Name judged by ``captive_portal.decisions`` — the portal's rules, limits and messages
— and the policy rendered for the NAS's dialect) → PAP/CHAP in
FreeRADIUS → ``post_auth()`` (first use of a voucher, the login attempt). Accounting-Request →
``accounting()`` → ``captive_portal.sessions``. Input from the wire is validated here, strictly.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from captive_portal import decisions, dialects, sessions
from captive_portal.accounting import AccountingItem, AccountingRequest, AccountingSettings, apply_accounting_batch
from captive_portal.decisions import AttemptLimits, Refusal, RefusalReason
from captive_portal.policies import Allowance
from captive_portal.sessions import AccountingOutcome, AccountingRecord, AcctStatus, Nas, NasCache
from netmgr.db import secret_box
from netmgr.errors import ValidationFailed
from netmgr.metrics import MetricsStore
from netmgr.models import AccessGrant, SubscriberDevice
from netmgr.models.hotspot import LoginMethod
from netmgr.settings import Settings

MAX_USERNAME = 64
MAX_SESSION_ID = 64
_MAC_HEX = re.compile(r"^[0-9A-Fa-f]{12}$")
_MAC_SEPARATED = re.compile(r"^[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}$")
_MAC_CISCO = re.compile(r"^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}$")
_PRINTABLE = re.compile(r"^[\x21-\x7e]+$")


def normalize_mac(value: str) -> str:
    """``AA:BB:CC:DD:EE:FF`` from any of the forms gateways send (``aa-bb-…``, ``aabb.ccdd.eeff``, bare hex).

    Raises:
        ValidationFailed: anything else, including a MAC with stray text around it.
    """
    text = value.strip()
    if _MAC_SEPARATED.match(text) or _MAC_CISCO.match(text) or _MAC_HEX.match(text):
        digits = re.sub(r"[^0-9A-Fa-f]", "", text).upper()
        return ":".join(digits[i:i + 2] for i in range(0, 12, 2))
    raise ValidationFailed(f"not a MAC address: {value[:40]!r}", field="mac")


def validate_ip(value: str) -> str:
    """The address in canonical form; raises ValidationFailed for anything that is not one IPv4/IPv6 address."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError as exc:
        raise ValidationFailed(f"not an IP address: {value[:45]!r}", field="ip") from exc


def validate_username(value: str) -> str:
    text = value.strip()
    if not text or len(text) > MAX_USERNAME or not _PRINTABLE.match(text):
        raise ValidationFailed("user name must be 1-64 printable characters without spaces", field="username")
    return text


def _first(body: Mapping[str, Any], name: str) -> Any:
    """The first value of attribute ``name`` in rlm_rest's JSON (``{"name": {"type": …, "value": [..]}}``)."""
    entry = body.get(name)
    if entry is None:
        return None
    if isinstance(entry, Mapping):
        values = entry.get("value")
        if isinstance(values, list):
            return values[0] if values else None
        return values
    if isinstance(entry, list):
        return entry[0] if entry else None
    return entry


def _text(body: Mapping[str, Any], name: str) -> str:
    value = _first(body, name)
    return "" if value is None else str(value)


def _int(body: Mapping[str, Any], name: str) -> int:
    value = _first(body, name)
    if value is None or value == "":
        return 0
    try:
        number = int(str(value))
    except ValueError as exc:
        raise ValidationFailed(f"{name} is not a number: {str(value)[:20]!r}", field=name) from exc
    if number < 0 or number >= 2**32:
        raise ValidationFailed(f"{name} is out of range: {number}", field=name)
    return number


@dataclass(frozen=True)
class RadiusRequest:
    """An Access-Request as rlm_rest forwards it, validated."""

    username: str
    password: str | None = field(default=None, repr=False)
    mac: str = ""
    ip: str = ""
    nas_ip: str = ""
    nas_identifier: str = ""
    called_station: str = ""
    client: str = ""
    """The RADIUS client FreeRADIUS matched (its shortname, the gateway's inventory name): who is asking."""

    @classmethod
    def from_rest(cls, body: Mapping[str, Any], *, client: str) -> RadiusRequest:
        """Parse rlm_rest's JSON; ``client`` is the ``?client=`` FreeRADIUS put in the URL.

        Raises:
            ValidationFailed: a malformed User-Name, MAC or IP.
        """
        mac_text = _text(body, "Calling-Station-Id")
        ip_text = _text(body, "Framed-IP-Address")
        nas_ip = _text(body, "NAS-IP-Address")
        password = _first(body, "User-Password")
        return cls(
            username=validate_username(_text(body, "User-Name")),
            password=None if password is None else str(password),
            mac=normalize_mac(mac_text) if mac_text else "",
            ip=validate_ip(ip_text) if ip_text else "",
            nas_ip=validate_ip(nas_ip) if nas_ip else "",
            nas_identifier=_text(body, "NAS-Identifier")[:100],
            called_station=_text(body, "Called-Station-Id")[:100],
            client=client[:sessions.MAX_CLIENT_NAME],
        )


@dataclass(frozen=True)
class AaaConfig:
    """The settings the AAA decisions use (taken from ``Settings`` and its default language)."""

    timezone: str
    """The installation's zone (``settings.timezone``): daily quotas and opening hours."""
    language: str = "id"
    attempts: AttemptLimits = field(default_factory=AttemptLimits)
    """The failed-login limits, the portal's (``Settings.portal``): one set for both lanes."""
    interim_interval_s: int = 300
    coa_port: int = 3799

    @classmethod
    def from_settings(cls, settings: Settings) -> AaaConfig:
        r = settings.radius
        return cls(language=settings.default_language, timezone=settings.timezone,
                   attempts=AttemptLimits.of(settings.portal), interim_interval_s=r.interim_interval_s,
                   coa_port=r.coa_port)


@dataclass
class Decision:
    """The answer for rlm_rest: accept with ``attributes`` (``"reply:…"``/``"control:…"`` keys) or refuse."""

    accept: bool
    attributes: dict[str, int | str] = field(default_factory=dict)
    refusal: RefusalReason | None = None

    @classmethod
    def refuse(cls, refusal: Refusal, language: str) -> Decision:
        return cls(accept=False, attributes={"reply:Reply-Message": refusal.message(language)},
                   refusal=refusal.reason)


_G = cast(Table, AccessGrant.__table__)
_DEV = cast(Table, SubscriberDevice.__table__)
_P_USERNAME = bindparam("username", type_=_G.c.username.type)


def _find_nas(session: Session, cache: NasCache | None, *, client: str | None, nas_ip: str | None,
              nas_identifier: str | None, called_station: str | None) -> Nas | None:
    """The gateway of a request, by ``sessions.find_nas``'s rule (through the hot path's cache when given)."""
    if cache is not None:
        return cache.find(session, client=client, nas_ip=nas_ip, nas_identifier=nas_identifier,
                          called_station=called_station)
    return sessions.find_nas(session, client=client, nas_ip=nas_ip, nas_identifier=nas_identifier,
                             called_station=called_station)


def _decide(session: Session, cfg: AaaConfig, req: RadiusRequest, now: datetime,
            nas_cache: NasCache | None) -> tuple[Decision, decisions.Login | None]:
    nas = _find_nas(session, nas_cache, client=req.client, nas_ip=req.nas_ip, nas_identifier=req.nas_identifier,
                    called_station=req.called_station)
    if nas is None or nas.hotspot_id is None:
        return Decision.refuse(Refusal(RefusalReason.UNKNOWN_NAS), cfg.language), None
    if not nas.enabled:
        return Decision.refuse(Refusal(RefusalReason.HOTSPOT_CLOSED), cfg.language), None
    voucher = decisions.find_voucher(session, req.username.upper())
    grant = decisions.find_grant(session, req.username) if voucher is None else None
    attempt = decisions.Attempt(hotspot_id=nas.hotspot_id, hotspot_name=nas.hotspot_name, username=req.username,
                                mac=req.mac, ip=req.ip, now=now)
    verdict = decisions.check_login(session, cfg.attempts, attempt, timezone=cfg.timezone, voucher=voucher,
                                    grant=grant)
    if isinstance(verdict, Refusal):
        return Decision.refuse(verdict, cfg.language), None
    return Decision(accept=True, attributes=_reply(nas.dialect, verdict.allowance)), verdict


def _password(session: Session, login: decisions.Login) -> str:
    """What FreeRADIUS checks PAP/CHAP against: the voucher's code, or the grant's one-time password."""
    if login.voucher is not None:
        return login.voucher.code
    assert login.grant is not None  # noqa: S101 - check_login lets in a voucher or a grant, nothing else
    return secret_box(session).decrypt(login.grant.password_encrypted)


def _reply(dialect: str, allowance: Allowance) -> dict[str, int | str]:
    return {f"reply:{name}": value for name, value in dialects.render(dialect, allowance).items()}


def authorize(session: Session, cfg: AaaConfig, req: RadiusRequest, *, now: datetime,
              nas_cache: NasCache | None = None) -> Decision:
    """Decide whether ``req`` may log in; an accept carries the password for FreeRADIUS's PAP/CHAP check.

    The password goes back as ``control:Cleartext-Password`` so FreeRADIUS can check PAP and CHAP (MikroTik's
    default login page uses CHAP); the policy goes back as reply attributes in the NAS's dialect.
    ``nas_cache`` (the AAA hot path's) saves the gateway lookup; without it the inventory is read.
    """
    decision, login = _decide(session, cfg, req, now, nas_cache)
    if decision.accept and login is not None:
        decision.attributes["control:Cleartext-Password"] = _password(session, login)
    return decision


def authenticate(session: Session, cfg: AaaConfig, req: RadiusRequest, *, now: datetime,
                 nas_cache: NasCache | None = None) -> Decision:
    """For gateways set to ``Auth-Type rest``: check the PAP password here and answer with the policy."""
    decision, login = _decide(session, cfg, req, now, nas_cache)
    if not decision.accept or login is None:
        return decision
    password = _password(session, login)
    if req.password is None or not secrets.compare_digest(req.password.encode(), password.encode()):
        post_auth(session, cfg, req, now=now, rejected=True, reply_message="", nas_cache=nas_cache)
        return Decision.refuse(Refusal(RefusalReason.WRONG_PASSWORD), cfg.language)
    return decision


def post_auth(session: Session, cfg: AaaConfig, req: RadiusRequest, *, now: datetime, rejected: bool,
              reply_message: str, nas_cache: NasCache | None = None) -> None:
    """Record the outcome FreeRADIUS reached: first use of a voucher on accept, a failed attempt on reject.

    Refusals decided by ``authorize`` were recorded there (they carry a Reply-Message); a reject without one
    is a wrong password found by PAP/CHAP.
    """
    nas = _find_nas(session, nas_cache, client=req.client, nas_ip=req.nas_ip, nas_identifier=req.nas_identifier,
                    called_station=req.called_station)
    hotspot_id = nas.hotspot_id if nas else None
    if rejected:
        if not reply_message:
            decisions.record_attempt(session, hotspot_id=hotspot_id, username=req.username, mac=req.mac,
                                     ip=req.ip, success=False, reason=RefusalReason.WRONG_PASSWORD, now=now)
        return
    decisions.record_attempt(session, hotspot_id=hotspot_id, username=req.username, mac=req.mac, ip=req.ip,
                             success=True, now=now)
    subscriber_id: int | None = None
    voucher = decisions.find_voucher(session, req.username.upper())
    if voucher is not None:
        subscriber_id = voucher.subscriber_id
        if subscriber_id is None:
            subscriber_id = sessions.subscriber_for(session, f"voucher:{voucher.code}", LoginMethod.VOUCHER, now).id
        decisions.start_voucher(session, voucher, subscriber_id=subscriber_id, now=now)
    else:
        g = session.execute(_GRANT_FIRST_USE, {"username": req.username}).first()
        if g is not None:
            if g.used_at is None:
                session.execute(_GRANT_USED, {"grant_id": g.id, "now": now})
            subscriber_id = g.subscriber_id
    if req.mac:
        _remember_device(session, req.mac, subscriber_id, now)
    session.flush()


# The portal's grant, for post-auth's first-use bookkeeping.
_GRANT_FIRST_USE = select(_G.c.id, _G.c.subscriber_id, _G.c.used_at).where(_G.c.username == _P_USERNAME)
_GRANT_USED = update(_G).where(_G.c.id == bindparam("grant_id")).values(
    used_at=bindparam("now", type_=_G.c.used_at.type))


@functools.cache
def _device_upsert(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (mac) DO UPDATE`` for ``dialect``, built once: ``excluded`` alone is an alias
    with a proxy of every column, too costly to make per login."""
    insert_fn: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert_fn(_DEV).values(mac=bindparam("mac", type_=_DEV.c.mac.type),
                                  subscriber_id=bindparam("subscriber_id", type_=_DEV.c.subscriber_id.type),
                                  first_seen_at=bindparam("now", type_=_DEV.c.first_seen_at.type),
                                  last_seen_at=bindparam("now", type_=_DEV.c.last_seen_at.type))
    return stmt.on_conflict_do_update(index_elements=["mac"], set_={
        "last_seen_at": stmt.excluded.last_seen_at,
        "subscriber_id": func.coalesce(stmt.excluded.subscriber_id, _DEV.c.subscriber_id),
    })


def _remember_device(session: Session, mac: str, subscriber_id: int | None, now: datetime) -> None:
    """Insert the device or refresh it, in one upsert (a known owner is kept when this login has none)."""
    session.execute(_device_upsert(session.get_bind().dialect.name),
                    {"mac": mac, "subscriber_id": subscriber_id, "now": now})


def parse_accounting(body: Mapping[str, Any]) -> AccountingRecord | None:
    """An ``AccountingRecord`` from rlm_rest's JSON; None for a status netmgr does not track.

    Raises:
        ValidationFailed: a malformed session id, MAC, IP or counter.
    """
    status_text = _text(body, "Acct-Status-Type")
    try:
        status = AcctStatus(status_text)
    except ValueError:
        return None
    acct_session_id = _text(body, "Acct-Session-Id").strip()
    if status in (AcctStatus.ACCOUNTING_ON, AcctStatus.ACCOUNTING_OFF):
        return AccountingRecord(status=status, acct_session_id=acct_session_id[:MAX_SESSION_ID])
    if not acct_session_id or len(acct_session_id) > MAX_SESSION_ID or not _PRINTABLE.match(acct_session_id):
        raise ValidationFailed("Acct-Session-Id must be 1-64 printable characters", field="Acct-Session-Id")
    mac_text = _text(body, "Calling-Station-Id")
    ip_text = _text(body, "Framed-IP-Address")
    username = _text(body, "User-Name").strip()[:MAX_USERNAME]
    interim = _int(body, "Acct-Interim-Interval")
    # A NAS that sends no gigawords at all has 32-bit counters that wrap (sessions.advance_octets).
    wraps = _first(body, "Acct-Input-Gigawords") is None and _first(body, "Acct-Output-Gigawords") is None
    return AccountingRecord(
        status=status, acct_session_id=acct_session_id, username=username,
        mac=normalize_mac(mac_text) if mac_text else "",
        ip=validate_ip(ip_text) if ip_text else "",
        input_octets=_int(body, "Acct-Input-Gigawords") * 2**32 + _int(body, "Acct-Input-Octets"),
        output_octets=_int(body, "Acct-Output-Gigawords") * 2**32 + _int(body, "Acct-Output-Octets"),
        octets_wrap=wraps,
        session_time_s=_int(body, "Acct-Session-Time"),
        terminate_cause=_text(body, "Acct-Terminate-Cause")[:40],
        interim_interval_s=interim or None,
    )


def parse_accounting_request(body: Mapping[str, Any], *, now: datetime, client: str) -> AccountingRequest | None:
    """The record and the NAS attributes of rlm_rest's JSON; None for a status netmgr does not track.

    ``client`` is the RADIUS client FreeRADIUS matched (the ``?client=`` of the generated config).

    Raises:
        ValidationFailed: a malformed session id, MAC, IP or counter.
    """
    rec = parse_accounting(body)
    if rec is None:
        return None
    nas_ip = _text(body, "NAS-IP-Address")
    return AccountingRequest(rec=rec, client=client[:sessions.MAX_CLIENT_NAME] or None,
                             nas_ip=validate_ip(nas_ip) if nas_ip else None,
                             nas_identifier=_text(body, "NAS-Identifier")[:100] or None,
                             called_station=_text(body, "Called-Station-Id")[:100], now=now)


def accounting(session: Session, cfg: AaaConfig, body: Mapping[str, Any], *, client: str,
               store: MetricsStore | None, now: datetime, nas_cache: NasCache | None = None) -> AccountingOutcome:
    """Apply one Accounting-Request from RADIUS client ``client``; the outcome may carry a Disconnect-Request.

    A request from a NAS netmgr does not know, or one a client sends for another gateway, is logged and
    acknowledged, so the gateway stops resending it.
    (The AAA endpoint batches requests through ``captive_portal.fastpath``; this is the one-request form of the
    same ``captive_portal.accounting``.)
    """
    request = parse_accounting_request(body, now=now, client=client)
    if request is None:
        return AccountingOutcome()
    nas = _find_nas(session, nas_cache, client=request.client, nas_ip=request.nas_ip,
                    nas_identifier=request.nas_identifier, called_station=request.called_station)
    if nas is None:
        sessions.log.warning("accounting from unknown NAS %s (%s / %s) ignored", request.client, request.nas_ip,
                             request.nas_identifier)
        return AccountingOutcome()
    settings = AccountingSettings(timezone=cfg.timezone, default_interim_s=cfg.interim_interval_s,
                                  default_coa_port=cfg.coa_port)
    [outcome] = apply_accounting_batch(session, [AccountingItem(nas=nas, rec=request.rec, now=now)], settings)
    if store is not None and outcome.points:
        store.write(outcome.points)
    return outcome
