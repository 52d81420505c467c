"""RADIUS AAA decisions for the hotspots, called by FreeRADIUS's rest module through ``captive_portal.api``.

Data flows Access-Request → FreeRADIUS ``authorize`` → ``authorize()`` (brute-force limits, the voucher or
portal grant behind User-Name, today's quotas, the policy rendered for the NAS's dialect) → PAP/CHAP in
FreeRADIUS → ``post_auth()`` (first use of a voucher, the login attempt). Accounting-Request →
``accounting()`` → ``captive_portal.sessions``. Input from the wire is validated here, strictly.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, bindparam, case, func, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from captive_portal import budgets, dialects, sessions
from captive_portal.fastpath import AccountingRequest
from captive_portal.policies import (
    Allowance,
    PolicyLimits,
    Refusal,
    RefusalCode,
    Usage,
    grant_for,
    message,
)
from captive_portal.sessions import AccountingOutcome, AccountingRecord, AcctStatus, Nas, NasCache, as_utc
from netmgr import localtime
from netmgr.db import secret_box
from netmgr.errors import ValidationFailed
from netmgr.localtime import DEFAULT_TIMEZONE
from netmgr.metrics import MetricsStore
from netmgr.models import AccessGrant, HotspotPolicy, HotspotSession, SubscriberDevice, Voucher, VoucherBatch
from netmgr.models.hotspot import LoginAttempt, LoginMethod, SessionStatus, VoucherStatus
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
    """The settings the AAA decisions use (taken from ``Settings.radius`` and the default language)."""

    language: str = "id"
    timezone: str = DEFAULT_TIMEZONE
    max_failures_per_mac: int = 10
    max_failures_per_ip: int = 30
    failure_window_s: int = 900
    interim_interval_s: int = 300
    coa_port: int = 3799
    voucher_failures_per_hotspot_per_hour: int = 60

    @classmethod
    def from_settings(cls, settings: Settings) -> AaaConfig:
        r = settings.radius
        return cls(language=settings.default_language, timezone=settings.timezone,
                   max_failures_per_mac=r.max_failures_per_mac, max_failures_per_ip=r.max_failures_per_ip,
                   failure_window_s=r.failure_window_s, interim_interval_s=r.interim_interval_s,
                   coa_port=r.coa_port,
                   voucher_failures_per_hotspot_per_hour=settings.portal.voucher_failures_per_hotspot_per_hour)


@dataclass
class Decision:
    """The answer for rlm_rest: accept with ``attributes`` (``"reply:…"``/``"control:…"`` keys) or refuse."""

    accept: bool
    attributes: dict[str, int | str] = field(default_factory=dict)
    refusal: RefusalCode | None = None

    @classmethod
    def refuse(cls, code: RefusalCode, language: str) -> Decision:
        return cls(accept=False, attributes={"reply:Reply-Message": message(code, language)}, refusal=code)


@dataclass(frozen=True)
class _Login:
    """What a User-Name resolved to, before quotas."""

    password: str = field(repr=False)
    limits: PolicyLimits
    subscriber_id: int | None
    voucher_id: int | None = None
    voucher_expires_at: datetime | None = None


_V = cast(Table, Voucher.__table__)
_B = cast(Table, VoucherBatch.__table__)
_P = cast(Table, HotspotPolicy.__table__)
_G = cast(Table, AccessGrant.__table__)
_HS = cast(Table, HotspotSession.__table__)
_LA = cast(Table, LoginAttempt.__table__)
_DEV = cast(Table, SubscriberDevice.__table__)
_ACTIVE = SessionStatus.ACTIVE.value
_LIMIT_NAMES = tuple(f.name for f in fields(PolicyLimits))
_POLICY_COLS = (_P.c.id.label("policy_row_id"), *(_P.c[name] for name in _LIMIT_NAMES))

# A voucher, its batch and its policy in one query (outer joins: a missing batch or policy refuses the login).
# Every per-login statement is built once, with bind parameters: building a statement and its cache key
# per call cost more than running it.
_P_CODE = bindparam("code", type_=_V.c.code.type)
_P_USERNAME = bindparam("username", type_=_G.c.username.type)
_VOUCHER_LOOKUP = select(
    _V.c.id, _V.c.code, _V.c.status, _V.c.first_used_at, _V.c.expires_at, _V.c.subscriber_id,
    _B.c.id.label("batch_row_id"), _B.c.hotspot_id, _B.c.valid_until, *_POLICY_COLS,
).select_from(_V.outerjoin(_B, _B.c.id == _V.c.batch_id).outerjoin(_P, _P.c.id == _B.c.policy_id)).where(
    _V.c.code == _P_CODE)

_GRANT_LOOKUP = select(
    _G.c.id, _G.c.password_encrypted, _G.c.hotspot_id, _G.c.subscriber_id, _G.c.mac, _G.c.expires_at,
    *_POLICY_COLS,
).select_from(_G.outerjoin(_P, _P.c.id == _G.c.policy_id)).where(_G.c.username == _P_USERNAME)


def _limits(row: Any) -> PolicyLimits:
    return PolicyLimits(**{name: getattr(row, name) for name in _LIMIT_NAMES})


def _resolve(session: Session, req: RadiusRequest, nas: Nas, now: datetime) -> _Login | Refusal:
    v = session.execute(_VOUCHER_LOOKUP, {"code": req.username.upper()}).first()
    if v is not None:
        if v.batch_row_id is None:
            return Refusal(RefusalCode.UNKNOWN_USER)
        if v.status == VoucherStatus.REVOKED:
            return Refusal(RefusalCode.VOUCHER_REVOKED)
        if v.status == VoucherStatus.USED:
            return Refusal(RefusalCode.VOUCHER_USED)
        if v.expires_at is not None and as_utc(v.expires_at) <= now:
            session.execute(update(Voucher).where(Voucher.id == v.id).values(status=VoucherStatus.USED))
            return Refusal(RefusalCode.VOUCHER_USED)
        if v.first_used_at is None and v.valid_until is not None and as_utc(v.valid_until) <= now:
            return Refusal(RefusalCode.VOUCHER_EXPIRED)
        if v.hotspot_id is not None and v.hotspot_id != nas.hotspot_id:
            return Refusal(RefusalCode.VOUCHER_WRONG_HOTSPOT)
        if v.policy_row_id is None:
            return Refusal(RefusalCode.UNKNOWN_USER)
        return _Login(password=v.code, limits=_limits(v), subscriber_id=v.subscriber_id, voucher_id=v.id,
                      voucher_expires_at=v.expires_at)
    g = session.execute(_GRANT_LOOKUP, {"username": req.username}).first()
    if g is None:
        return Refusal(RefusalCode.UNKNOWN_USER)
    if as_utc(g.expires_at) <= now:
        return Refusal(RefusalCode.GRANT_EXPIRED)
    if g.mac != req.mac:
        return Refusal(RefusalCode.GRANT_WRONG_DEVICE)
    if g.hotspot_id != nas.hotspot_id:
        return Refusal(RefusalCode.VOUCHER_WRONG_HOTSPOT)
    if g.policy_row_id is None:
        return Refusal(RefusalCode.UNKNOWN_USER)
    return _Login(password=secret_box(session).decrypt(g.password_encrypted), limits=_limits(g),
                  subscriber_id=g.subscriber_id)


@dataclass(frozen=True)
class _Usage:
    device: Usage
    person: Usage
    other_devices: int  # active sessions of the voucher from other MACs


@functools.cache
def _usage_statement(by_mac: bool, by_person: bool, by_voucher: bool) -> Select[Any]:
    """Built once per shape, with bind parameters, so a login pays for no SQL construction or cache key."""
    since = bindparam("since", type_=_HS.c.started_at.type)
    mac = bindparam("mac", type_=_HS.c.mac.type)
    parts: list[ColumnElement[bool]] = []
    octets = _HS.c.input_octets + _HS.c.output_octets
    cols: list[ColumnElement[Any]] = []
    for cond in (
        (_HS.c.mac == mac) & (_HS.c.started_at >= since) if by_mac else None,
        (_HS.c.subscriber_id == bindparam("subscriber_id", type_=_HS.c.subscriber_id.type))
        & (_HS.c.started_at >= since) if by_person else None,
    ):
        if cond is None:
            cols += [literal(0), literal(0)]
        else:
            parts.append(cond)
            cols += [func.coalesce(func.sum(case((cond, _HS.c.session_time_s), else_=0)), 0),
                     func.coalesce(func.sum(case((cond, octets), else_=0)), 0)]
    if by_voucher:
        active = ((_HS.c.voucher_id == bindparam("voucher_id", type_=_HS.c.voucher_id.type))
                  & (_HS.c.status == _ACTIVE) & (_HS.c.mac != mac))
        parts.append(active)
        cols.append(func.count(func.distinct(case((active, _HS.c.mac)))))
    else:
        cols.append(literal(0))
    return select(*cols).where(or_(*parts))


def _usage_of(session: Session, *, mac: str, subscriber_id: int | None, voucher_id: int | None,
              since: datetime) -> _Usage:
    """Today's device and person usage and the voucher's other active devices, in one query."""
    shape = (bool(mac), subscriber_id is not None, voucher_id is not None)
    if not any(shape):
        return _Usage(Usage(), Usage(), 0)
    params = {"mac": mac, "since": since, "subscriber_id": subscriber_id, "voucher_id": voucher_id}
    row = session.execute(_usage_statement(*shape), params).one()
    return _Usage(device=Usage(int(row[0] or 0), int(row[1] or 0)), person=Usage(int(row[2] or 0), int(row[3] or 0)),
                  other_devices=int(row[4] or 0))


_INSERT_ATTEMPT = insert(_LA)


def _insert_attempt(session: Session, *, hotspot_id: int | None, username: str, mac: str, ip: str,
                    success: bool, reason: RefusalCode | str = "", now: datetime) -> None:
    """``sessions.record_attempt`` as one Core INSERT (no ORM object to flush)."""
    session.execute(_INSERT_ATTEMPT, {"at": now, "hotspot_id": hotspot_id, "username": username[:64], "mac": mac,
                                      "ip": ip, "success": success, "reason": str(reason)[:200]})


def _find_nas(session: Session, cache: NasCache | None, *, client: str | None, nas_ip: str | None,
              nas_identifier: str | None, called_station: str | None) -> Nas | None:
    """The gateway of a request, by ``sessions.find_nas``'s rule (through the hot path's cache when given)."""
    if cache is not None:
        return cache.find(session, client=client, nas_ip=nas_ip, nas_identifier=nas_identifier,
                          called_station=called_station)
    return sessions.find_nas(session, client=client, nas_ip=nas_ip, nas_identifier=nas_identifier,
                             called_station=called_station)


_VOUCHER_REFUSALS = frozenset({RefusalCode.UNKNOWN_USER, RefusalCode.VOUCHER_USED, RefusalCode.VOUCHER_EXPIRED,
                               RefusalCode.VOUCHER_REVOKED, RefusalCode.VOUCHER_WRONG_HOTSPOT})
"""What a guessed code gets: counted against the hotspot's ceiling of wrong voucher codes."""


def _decide(session: Session, cfg: AaaConfig, req: RadiusRequest, now: datetime,
            nas_cache: NasCache | None) -> tuple[Decision, _Login | None]:
    nas = _find_nas(session, nas_cache, client=req.client, nas_ip=req.nas_ip, nas_identifier=req.nas_identifier,
                    called_station=req.called_station)
    if nas is None or nas.hotspot_id is None:
        return Decision.refuse(RefusalCode.UNKNOWN_NAS, cfg.language), None
    if not nas.enabled:
        return Decision.refuse(RefusalCode.HOTSPOT_DISABLED, cfg.language), None
    by_mac, by_ip = sessions.count_failures(session, mac=req.mac, ip=req.ip,
                                            since=now - timedelta(seconds=cfg.failure_window_s))
    if by_mac >= cfg.max_failures_per_mac or by_ip >= cfg.max_failures_per_ip:
        return Decision.refuse(RefusalCode.TOO_MANY_ATTEMPTS, cfg.language), None
    login = _resolve(session, req, nas, now)
    voucher_try = login.code in _VOUCHER_REFUSALS if isinstance(login, Refusal) else login.voucher_id is not None
    if voucher_try and budgets.vouchers_paused(session, hotspot_id=nas.hotspot_id, now=now,
                                               limit=cfg.voucher_failures_per_hotspot_per_hour) is not None:
        # The hotspot's ceiling of wrong codes (portal and RADIUS together) is reached: every code waits,
        # valid or not, so the answer says nothing about the code. Portal grants (g-…) are not affected.
        _insert_attempt(session, hotspot_id=nas.hotspot_id, username=req.username, mac=req.mac, ip=req.ip,
                        success=False, reason=RefusalCode.TOO_MANY_ATTEMPTS, now=now)
        return Decision.refuse(RefusalCode.TOO_MANY_ATTEMPTS, cfg.language), None
    usage = None
    if not isinstance(login, Refusal):
        usage = _usage_of(session, mac=req.mac, subscriber_id=login.subscriber_id, voucher_id=login.voucher_id,
                          since=localtime.local_day_start(now, cfg.timezone))
        if login.voucher_id is not None and usage.other_devices >= login.limits.max_devices:
            login = Refusal(RefusalCode.TOO_MANY_DEVICES)
    if isinstance(login, Refusal) or usage is None:
        code = login.code if isinstance(login, Refusal) else RefusalCode.UNKNOWN_USER
        _insert_attempt(session, hotspot_id=nas.hotspot_id, username=req.username, mac=req.mac,
                        ip=req.ip, success=False, reason=code, now=now)
        if code in _VOUCHER_REFUSALS:
            budgets.count_wrong_voucher(session, hotspot_id=nas.hotspot_id, now=now,
                                        limit=cfg.voucher_failures_per_hotspot_per_hour)
        return Decision.refuse(code, cfg.language), None
    valid_for = None
    if login.voucher_expires_at is not None:
        valid_for = int((as_utc(login.voucher_expires_at) - now).total_seconds())
    elif login.voucher_id is not None and login.limits.voucher_lifetime_s is not None:
        valid_for = login.limits.voucher_lifetime_s
    verdict = grant_for(login.limits, device_today=usage.device, person_today=usage.person, valid_for_s=valid_for)
    if isinstance(verdict, Refusal):
        _insert_attempt(session, hotspot_id=nas.hotspot_id, username=req.username, mac=req.mac,
                        ip=req.ip, success=False, reason=verdict.code, now=now)
        return Decision.refuse(verdict.code, cfg.language), None
    return Decision(accept=True, attributes=_reply(nas.dialect, verdict)), login


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
        decision.attributes["control:Cleartext-Password"] = login.password
    return decision


def authenticate(session: Session, cfg: AaaConfig, req: RadiusRequest, *, now: datetime,
                 nas_cache: NasCache | None = None) -> Decision:
    """For gateways set to ``Auth-Type rest``: check the PAP password here and answer with the policy."""
    decision, login = _decide(session, cfg, req, now, nas_cache)
    if not decision.accept or login is None:
        return decision
    if req.password is None or not secrets.compare_digest(req.password.encode(), login.password.encode()):
        post_auth(session, cfg, req, now=now, rejected=True, reply_message="", nas_cache=nas_cache)
        return Decision.refuse(RefusalCode.WRONG_PASSWORD, cfg.language)
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
            _insert_attempt(session, hotspot_id=hotspot_id, username=req.username, mac=req.mac, ip=req.ip,
                            success=False, reason=RefusalCode.WRONG_PASSWORD, now=now)
        return
    _insert_attempt(session, hotspot_id=hotspot_id, username=req.username, mac=req.mac, ip=req.ip,
                    success=True, now=now)
    subscriber_id: int | None = None
    v = session.execute(_VOUCHER_FIRST_USE, {"code": req.username.upper()}).first()
    if v is not None:
        values: dict[str, Any] = {}
        subscriber_id = v.subscriber_id
        if subscriber_id is None:
            subscriber_id = sessions.subscriber_for(session, f"voucher:{v.code}", LoginMethod.VOUCHER, now).id
            values["subscriber_id"] = subscriber_id
        if v.first_used_at is None:
            values.update(first_used_at=now, status=VoucherStatus.ACTIVE)
            if v.voucher_lifetime_s is not None:
                values["expires_at"] = now + timedelta(seconds=v.voucher_lifetime_s)
        if values:
            session.execute(update(Voucher).where(Voucher.id == v.id).values(**values))
    else:
        g = session.execute(_GRANT_FIRST_USE, {"username": req.username}).first()
        if g is not None:
            if g.used_at is None:
                session.execute(_GRANT_USED, {"grant_id": g.id, "now": now})
            subscriber_id = g.subscriber_id
    if req.mac:
        _remember_device(session, req.mac, subscriber_id, now)
    session.flush()


# The voucher and its policy's lifetime, or the portal's grant, for post-auth's first-use bookkeeping.
_VOUCHER_FIRST_USE = select(
    _V.c.id, _V.c.code, _V.c.subscriber_id, _V.c.first_used_at, _P.c.voucher_lifetime_s,
).select_from(_V.outerjoin(_B, _B.c.id == _V.c.batch_id).outerjoin(_P, _P.c.id == _B.c.policy_id)).where(
    _V.c.code == _P_CODE)
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
    (The AAA endpoint batches requests through ``captive_portal.fastpath`` instead; this is the one-request
    form, through the ORM.)
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
    return sessions.apply_accounting(session, nas, request.rec, store=store, now=now, timezone=cfg.timezone,
                                     default_interim_s=cfg.interim_interval_s, default_coa_port=cfg.coa_port)


def issue_grant(session: Session, *, hotspot_id: int, subscriber_id: int, policy_id: int, method: LoginMethod,
                mac: str, now: datetime, ttl_s: int = 300) -> tuple[str, str]:
    """A one-time RADIUS login for the portal to hand the gateway after a login method succeeded.

    Returns ``(username, password)``; the login works only from ``mac`` at that hotspot until it expires.
    """
    username = "g-" + secrets.token_hex(12)
    password = secrets.token_urlsafe(12)
    session.add(AccessGrant(
        username=username, password_encrypted=secret_box(session).encrypt(password), hotspot_id=hotspot_id,
        subscriber_id=subscriber_id, policy_id=policy_id, method=method, mac=normalize_mac(mac),
        created_at=now, expires_at=now + timedelta(seconds=ttl_s),
    ))
    session.flush()
    return username, password
