"""RADIUS AAA decisions for the hotspots, called by FreeRADIUS's rest module through ``captive_portal.api``.

Data flows Access-Request → FreeRADIUS ``authorize`` → ``authorize()`` (brute-force limits, the voucher or
portal grant behind User-Name, today's quotas, the policy rendered for the NAS's dialect) → PAP/CHAP in
FreeRADIUS → ``post_auth()`` (first use of a voucher, the login attempt). Accounting-Request →
``accounting()`` → ``captive_portal.sessions``. Input from the wire is validated here, strictly.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from captive_portal import dialects, sessions
from captive_portal.fastpath import AccountingRequest
from captive_portal.policies import Allowance, PolicyLimits, Refusal, RefusalCode, day_start, grant_for, message
from captive_portal.sessions import AccountingOutcome, AccountingRecord, AcctStatus, Nas, NasCache, as_utc
from netmgr.db import secret_box
from netmgr.errors import ValidationFailed
from netmgr.metrics import MetricsStore
from netmgr.models import AccessGrant, HotspotPolicy, SubscriberDevice, Voucher, VoucherBatch
from netmgr.models.hotspot import LoginMethod, VoucherStatus
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

    @classmethod
    def from_rest(cls, body: Mapping[str, Any]) -> RadiusRequest:
        """Parse rlm_rest's JSON. Raises ValidationFailed on a malformed User-Name, MAC or IP."""
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
        )


@dataclass(frozen=True)
class AaaConfig:
    """The settings the AAA decisions use (taken from ``Settings.radius`` and the default language)."""

    language: str = "id"
    timezone: str = "Asia/Jakarta"
    max_failures_per_mac: int = 10
    max_failures_per_ip: int = 30
    failure_window_s: int = 900
    interim_interval_s: int = 300
    coa_port: int = 3799

    @classmethod
    def from_settings(cls, settings: Settings) -> AaaConfig:
        r = settings.radius
        return cls(language=settings.default_language, timezone=r.timezone,
                   max_failures_per_mac=r.max_failures_per_mac, max_failures_per_ip=r.max_failures_per_ip,
                   failure_window_s=r.failure_window_s, interim_interval_s=r.interim_interval_s,
                   coa_port=r.coa_port)


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
    policy: HotspotPolicy
    subscriber_id: int | None
    voucher: Voucher | None = None
    grant: AccessGrant | None = None


def _resolve(session: Session, req: RadiusRequest, nas: Nas, now: datetime) -> _Login | Refusal:
    voucher = session.scalar(select(Voucher).where(Voucher.code == req.username.upper()))
    if voucher is not None:
        batch = session.get(VoucherBatch, voucher.batch_id)
        if batch is None:
            return Refusal(RefusalCode.UNKNOWN_USER)
        if voucher.status == VoucherStatus.REVOKED:
            return Refusal(RefusalCode.VOUCHER_REVOKED)
        if voucher.status == VoucherStatus.USED:
            return Refusal(RefusalCode.VOUCHER_USED)
        if voucher.expires_at is not None and as_utc(voucher.expires_at) <= now:
            voucher.status = VoucherStatus.USED
            return Refusal(RefusalCode.VOUCHER_USED)
        if voucher.first_used_at is None and batch.valid_until is not None and as_utc(batch.valid_until) <= now:
            return Refusal(RefusalCode.VOUCHER_EXPIRED)
        if batch.hotspot_id is not None and batch.hotspot_id != nas.hotspot_id:
            return Refusal(RefusalCode.VOUCHER_WRONG_HOTSPOT)
        policy = session.get(HotspotPolicy, batch.policy_id)
        if policy is None:
            return Refusal(RefusalCode.UNKNOWN_USER)
        if sessions.active_devices_of_voucher(session, voucher.id, other_than_mac=req.mac) >= policy.max_devices:
            return Refusal(RefusalCode.TOO_MANY_DEVICES)
        return _Login(password=voucher.code, policy=policy, subscriber_id=voucher.subscriber_id, voucher=voucher)
    grant = session.scalar(select(AccessGrant).where(AccessGrant.username == req.username))
    if grant is None:
        return Refusal(RefusalCode.UNKNOWN_USER)
    if as_utc(grant.expires_at) <= now:
        return Refusal(RefusalCode.GRANT_EXPIRED)
    if grant.mac != req.mac:
        return Refusal(RefusalCode.GRANT_WRONG_DEVICE)
    if grant.hotspot_id != nas.hotspot_id:
        return Refusal(RefusalCode.VOUCHER_WRONG_HOTSPOT)
    policy = session.get(HotspotPolicy, grant.policy_id)
    if policy is None:
        return Refusal(RefusalCode.UNKNOWN_USER)
    return _Login(password=secret_box(session).decrypt(grant.password_encrypted), policy=policy,
                  subscriber_id=grant.subscriber_id, grant=grant)


def _find_nas(session: Session, cache: NasCache | None, *, nas_ip: str | None, nas_identifier: str | None,
              called_station: str | None) -> Nas | None:
    if cache is not None:
        return cache.find(session, nas_ip=nas_ip, nas_identifier=nas_identifier, called_station=called_station)
    return sessions.find_nas(session, nas_ip=nas_ip, nas_identifier=nas_identifier, called_station=called_station)


def _decide(session: Session, cfg: AaaConfig, req: RadiusRequest, now: datetime,
            nas_cache: NasCache | None) -> tuple[Decision, _Login | None]:
    nas = _find_nas(session, nas_cache, nas_ip=req.nas_ip, nas_identifier=req.nas_identifier,
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
    if isinstance(login, Refusal):
        sessions.record_attempt(session, hotspot_id=nas.hotspot_id, username=req.username, mac=req.mac,
                                ip=req.ip, success=False, reason=login.code, now=now)
        return Decision.refuse(login.code, cfg.language), None
    since = day_start(now, cfg.timezone)
    valid_for = None
    if login.voucher is not None and login.voucher.expires_at is not None:
        valid_for = int((as_utc(login.voucher.expires_at) - now).total_seconds())
    elif login.voucher is not None and login.policy.voucher_lifetime_s is not None:
        valid_for = login.policy.voucher_lifetime_s
    verdict = grant_for(PolicyLimits.of(login.policy),
                        device_today=sessions.device_usage_since(session, req.mac, since),
                        person_today=sessions.person_usage_since(session, login.subscriber_id, since),
                        valid_for_s=valid_for)
    if isinstance(verdict, Refusal):
        sessions.record_attempt(session, hotspot_id=nas.hotspot_id, username=req.username, mac=req.mac,
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
    nas = _find_nas(session, nas_cache, nas_ip=req.nas_ip, nas_identifier=req.nas_identifier,
                    called_station=req.called_station)
    hotspot_id = nas.hotspot_id if nas else None
    if rejected:
        if not reply_message:
            sessions.record_attempt(session, hotspot_id=hotspot_id, username=req.username, mac=req.mac, ip=req.ip,
                                    success=False, reason=RefusalCode.WRONG_PASSWORD, now=now)
        return
    sessions.record_attempt(session, hotspot_id=hotspot_id, username=req.username, mac=req.mac, ip=req.ip,
                            success=True, now=now)
    subscriber_id: int | None = None
    voucher = session.scalar(select(Voucher).where(Voucher.code == req.username.upper()))
    if voucher is not None:
        if voucher.subscriber_id is None:
            voucher.subscriber_id = sessions.subscriber_for(session, f"voucher:{voucher.code}",
                                                            LoginMethod.VOUCHER, now).id
        if voucher.first_used_at is None:
            batch = session.get(VoucherBatch, voucher.batch_id)
            policy = session.get(HotspotPolicy, batch.policy_id) if batch else None
            voucher.first_used_at = now
            voucher.status = VoucherStatus.ACTIVE
            if policy is not None and policy.voucher_lifetime_s is not None:
                voucher.expires_at = now + timedelta(seconds=policy.voucher_lifetime_s)
        subscriber_id = voucher.subscriber_id
    else:
        grant = session.scalar(select(AccessGrant).where(AccessGrant.username == req.username))
        if grant is not None:
            grant.used_at = grant.used_at or now
            subscriber_id = grant.subscriber_id
    if req.mac:
        _remember_device(session, req.mac, subscriber_id, now)
    session.flush()


def _remember_device(session: Session, mac: str, subscriber_id: int | None, now: datetime) -> None:
    device = session.scalar(select(SubscriberDevice).where(SubscriberDevice.mac == mac))
    if device is None:
        session.add(SubscriberDevice(mac=mac, subscriber_id=subscriber_id, first_seen_at=now, last_seen_at=now))
    else:
        device.last_seen_at = now
        if subscriber_id is not None:
            device.subscriber_id = subscriber_id


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
    return AccountingRecord(
        status=status, acct_session_id=acct_session_id, username=username,
        mac=normalize_mac(mac_text) if mac_text else "",
        ip=validate_ip(ip_text) if ip_text else "",
        input_octets=_int(body, "Acct-Input-Gigawords") * 2**32 + _int(body, "Acct-Input-Octets"),
        output_octets=_int(body, "Acct-Output-Gigawords") * 2**32 + _int(body, "Acct-Output-Octets"),
        session_time_s=_int(body, "Acct-Session-Time"),
        terminate_cause=_text(body, "Acct-Terminate-Cause")[:40],
        interim_interval_s=interim or None,
    )


def parse_accounting_request(body: Mapping[str, Any], *, now: datetime) -> AccountingRequest | None:
    """The record and the NAS attributes of rlm_rest's JSON; None for a status netmgr does not track.

    Raises:
        ValidationFailed: a malformed session id, MAC, IP or counter.
    """
    rec = parse_accounting(body)
    if rec is None:
        return None
    nas_ip = _text(body, "NAS-IP-Address")
    return AccountingRequest(rec=rec, nas_ip=validate_ip(nas_ip) if nas_ip else None,
                             nas_identifier=_text(body, "NAS-Identifier")[:100] or None,
                             called_station=_text(body, "Called-Station-Id")[:100], now=now)


def accounting(session: Session, cfg: AaaConfig, body: Mapping[str, Any], *, store: MetricsStore | None,
               now: datetime, nas_cache: NasCache | None = None) -> AccountingOutcome:
    """Apply one Accounting-Request; the outcome may carry a Disconnect-Request to send.

    A request from a NAS netmgr does not know is logged and acknowledged, so the gateway stops resending it.
    (The AAA endpoint batches requests through ``captive_portal.fastpath`` instead; this is the one-request
    form, through the ORM.)
    """
    request = parse_accounting_request(body, now=now)
    if request is None:
        return AccountingOutcome()
    nas = _find_nas(session, nas_cache, nas_ip=request.nas_ip, nas_identifier=request.nas_identifier,
                    called_station=request.called_station)
    if nas is None:
        sessions.log.warning("accounting from unknown NAS %s / %s ignored", request.nas_ip, request.nas_identifier)
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
