"""Every rule of a citizen's login, in one place: the portal pages and the AAA fast lane both ask here.

Data flows a login try (the portal's voucher form, or an Access-Request through ``captive_portal.aaa``) →
``check_login`` (failed-attempt limits, the hotspot's ceiling of wrong codes, voucher or grant validity, the
devices a voucher may serve, today's quotas) → a ``Login`` with its ``Allowance``, or a ``Refusal`` whose
``RefusalReason`` is recorded in ``hotspot_login_attempts`` and read to the citizen by ``message`` (gettext,
Bahasa Indonesia first). The limits are ``Settings.portal`` (``NETMGR_PORTAL__…``), one set for both lanes.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, assert_never, cast

from sqlalchemy import ColumnElement, Select, Table, bindparam, case, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from captive_portal import budgets, i18n
from captive_portal.policies import Allowance, PolicyLimits, Usage
from netmgr import localtime
from netmgr.db import secret_box
from netmgr.models import AccessGrant, HotspotPolicy, HotspotSession, Voucher, VoucherBatch
from netmgr.models.hotspot import LoginAttempt, LoginMethod, SessionStatus, VoucherStatus
from netmgr.settings import PortalSettings


def _(msgid: str) -> str:
    """Marks a msgid for the portal's catalog (``captive_portal/locale``); ``message`` translates it."""
    return msgid


class RefusalReason(StrEnum):
    """Why a login was refused, on the portal page or through RADIUS; stored in ``hotspot_login_attempts``.

    The citizen reads ``message(reason)``. Every reason in ``CODE_REASONS`` reads the same, so a guesser
    cannot tell a real code from a made-up one; the attempt row keeps the precise reason for the operator.
    """

    UNKNOWN_USER = "unknown_user"
    """No voucher has this code and no grant this user name."""
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 - a reason code, not a password
    VOUCHER_USED = "voucher_used"
    """Used up: closed after use, or its lifetime since the first login has passed."""
    VOUCHER_EXPIRED = "voucher_expired"
    """Never used, and its batch's 'use before' date has passed."""
    VOUCHER_REVOKED = "voucher_revoked"
    VOUCHER_WRONG_HOTSPOT = "voucher_wrong_hotspot"
    GRANT_EXPIRED = "grant_expired"
    GRANT_WRONG_DEVICE = "grant_wrong_device"
    TOO_MANY_DEVICES = "too_many_devices"
    DEVICE_TIME_USED = "device_time_used"
    DEVICE_DATA_USED = "device_data_used"
    PERSON_TIME_USED = "person_time_used"
    PERSON_DATA_USED = "person_data_used"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    VOUCHERS_PAUSED = "vouchers_paused"
    """The hotspot took its ceiling of wrong voucher codes this hour: voucher login waits, others work."""
    FREE_SESSION_USED = "free_session_used"
    PHONE_INVALID = "phone_invalid"
    OTP_WRONG = "otp_wrong"
    OTP_EXPIRED = "otp_expired"
    OTP_TOO_MANY_SMS = "otp_too_many_sms"
    SMS_UNAVAILABLE = "sms_unavailable"
    """The hotspot's or the installation's SMS budget is spent for now: other methods still work."""
    CONSENT_MISSING = "consent_missing"
    METHOD_DISABLED = "method_disabled"
    NO_GATEWAY = "no_gateway"
    UNKNOWN_NAS = "unknown_nas"
    HOTSPOT_CLOSED = "hotspot_closed"
    BAD_REQUEST = "bad_request"


CODE_REASONS = frozenset({RefusalReason.UNKNOWN_USER, RefusalReason.VOUCHER_USED, RefusalReason.VOUCHER_EXPIRED,
                          RefusalReason.VOUCHER_REVOKED, RefusalReason.VOUCHER_WRONG_HOTSPOT})
"""What a code that does not let anybody in now gets: one message for all, and a count against the hotspot's
ceiling of wrong voucher codes."""

GUESSES = CODE_REASONS | {RefusalReason.WRONG_PASSWORD, RefusalReason.OTP_WRONG}
"""The failures the attempt limits count: wrong codes and passwords. A used-up quota or a voucher busy on
another device is recorded too, but a citizen retrying it is not guessing."""

THROTTLES = frozenset({RefusalReason.TOO_MANY_ATTEMPTS, RefusalReason.VOUCHERS_PAUSED,
                       RefusalReason.OTP_TOO_MANY_SMS, RefusalReason.SMS_UNAVAILABLE})
"""Refusals by a limit rather than by the credential (HTTP 429 on the portal; never recorded as attempts)."""


def public_name(reason: RefusalReason) -> str:
    """The reason as it may leave netmgr (error texts, logs of the request): ``code_not_usable`` for every
    ``CODE_REASONS`` member, so only the attempt row tells an unknown code from a used one."""
    return "code_not_usable" if reason in CODE_REASONS else reason.value


def _msgid(reason: RefusalReason) -> str:
    """The English msgid of ``reason``'s message; ``%(minutes)s`` is filled in by ``message``."""
    match reason:
        case (RefusalReason.UNKNOWN_USER | RefusalReason.VOUCHER_USED | RefusalReason.VOUCHER_EXPIRED
              | RefusalReason.VOUCHER_REVOKED | RefusalReason.VOUCHER_WRONG_HOTSPOT):
            return _("This voucher code cannot be used. Check that you typed it as printed: a code that is used "
                     "up, expired or cancelled does not work again.")
        case RefusalReason.WRONG_PASSWORD:
            return _("Wrong voucher code or password")
        case RefusalReason.GRANT_EXPIRED:
            return _("Your login has expired, please log in again")
        case RefusalReason.GRANT_WRONG_DEVICE:
            return _("This login was made for another device")
        case RefusalReason.TOO_MANY_DEVICES:
            return _("This voucher is already in use on another device")
        case RefusalReason.DEVICE_TIME_USED:
            return _("This device's daily time quota is used up")
        case RefusalReason.DEVICE_DATA_USED:
            return _("This device's daily data quota is used up")
        case RefusalReason.PERSON_TIME_USED:
            return _("Your daily time quota is used up")
        case RefusalReason.PERSON_DATA_USED:
            return _("Your daily data quota is used up")
        case RefusalReason.TOO_MANY_ATTEMPTS:
            return _("Too many attempts, try again in %(minutes)s minutes")
        case RefusalReason.VOUCHERS_PAUSED:
            return _("Voucher login is paused here after too many wrong codes. Try again in %(minutes)s minutes "
                     "or use another way to log in below.")
        case RefusalReason.FREE_SESSION_USED:
            return _("You have used today's free session on this device. Come back tomorrow or use a voucher.")
        case RefusalReason.PHONE_INVALID:
            return _("This is not an Indonesian mobile number. Example: 0812 3456 7890")
        case RefusalReason.OTP_WRONG:
            return _("The code is wrong. Check the SMS and try again.")
        case RefusalReason.OTP_EXPIRED:
            return _("The code has expired. Ask for a new one.")
        case RefusalReason.OTP_TOO_MANY_SMS:
            return _("Too many codes were sent to this number. Try again in an hour.")
        case RefusalReason.SMS_UNAVAILABLE:
            return _("Logging in by SMS is not available here right now. Please use another way to log in below.")
        case RefusalReason.CONSENT_MISSING:
            return _("Please tick the box to accept the terms first.")
        case RefusalReason.METHOD_DISABLED:
            return _("This way of logging in is not available here.")
        case RefusalReason.NO_GATEWAY:
            return _("We cannot see your Wi-Fi connection. Disconnect from the Wi-Fi, connect again and wait for "
                     "this page.")
        case RefusalReason.UNKNOWN_NAS:
            return _("This gateway is not registered")
        case RefusalReason.HOTSPOT_CLOSED:
            return _("This hotspot is closed right now.")
        case RefusalReason.BAD_REQUEST:
            return _("Invalid request")
        case _:
            assert_never(reason)


def message(reason: RefusalReason, language: str = "id", *, retry_after_s: int | None = None) -> str:
    """What the citizen reads for ``reason`` in ``language`` (Bahasa Indonesia when the language is unknown).

    ``retry_after_s`` fills in the minutes of a pause (five when not given).
    """
    text = i18n.gettext(_msgid(reason), i18n.normalise(language) or i18n.DEFAULT_LANGUAGE)
    if "%(minutes)s" in text:
        text = text % {"minutes": max(1, (retry_after_s or 300) // 60)}
    return text


@dataclass(frozen=True)
class Refusal:
    """A login refused for ``reason``; ``retry_after_s`` says when a pause ends."""

    reason: RefusalReason
    retry_after_s: int | None = None

    def message(self, language: str = "id") -> str:
        return message(self.reason, language, retry_after_s=self.retry_after_s)


# --- daily quotas ------------------------------------------------------------------------------------------


def _remaining(limit: int | None, used: int) -> int | None:
    return None if limit is None else max(0, limit - used)


def _min_known(*values: int | None) -> int | None:
    known = [v for v in values if v is not None]
    return min(known) if known else None


def closing_in_s(limits: PolicyLimits, *, now: datetime, timezone: str) -> int | None:
    """Seconds until the policy's hotspot hours end after ``now`` (0: closed now), or None without hours.

    Hours are local to the installation (``timezone``); ``22:00``-``06:00`` runs overnight.
    """
    if not limits.opening_start or not limits.opening_end:
        return None
    start, end = time.fromisoformat(limits.opening_start), time.fromisoformat(limits.opening_end)
    local = localtime.to_local(now, timezone)
    clock = local.time().replace(tzinfo=None)
    is_open = start <= clock < end if start <= end else (clock >= start or clock < end)
    if not is_open:
        return 0
    closing = datetime.combine(local.date(), end, tzinfo=local.tzinfo)
    if closing <= local:
        closing += timedelta(days=1)
    return max(1, int((closing - local).total_seconds()))


def grant_for(limits: PolicyLimits, *, device_today: Usage, person_today: Usage,
              valid_for_s: int | None = None, closes_in_s: int | None = None) -> Allowance | Refusal:
    """What a login may get now, or why it may not (a daily quota used up, the voucher's lifetime over).

    Args:
        limits: the policy.
        device_today: what this MAC used today (all hotspots).
        person_today: what this voucher/phone used today (all its devices).
        valid_for_s: seconds until the credential itself ends (a voucher's lifetime), if it does.
        closes_in_s: seconds until the hotspot closes (``closing_in_s``): the session ends then at the latest.
    """
    device_time = _remaining(limits.device_daily_time_s, device_today.time_s)
    person_time = _remaining(limits.person_daily_time_s, person_today.time_s)
    device_data = _remaining(limits.device_daily_bytes, device_today.octets)
    person_data = _remaining(limits.person_daily_bytes, person_today.octets)
    for left, reason in ((person_time, RefusalReason.PERSON_TIME_USED),
                         (device_time, RefusalReason.DEVICE_TIME_USED),
                         (person_data, RefusalReason.PERSON_DATA_USED),
                         (device_data, RefusalReason.DEVICE_DATA_USED)):
        if left is not None and left <= 0:
            return Refusal(reason)
    if valid_for_s is not None and valid_for_s <= 0:
        return Refusal(RefusalReason.VOUCHER_USED)
    return Allowance(
        session_timeout_s=_min_known(limits.session_timeout_s, device_time, person_time, valid_for_s, closes_in_s),
        idle_timeout_s=limits.idle_timeout_s,
        interim_interval_s=limits.interim_interval_s,
        rate_down_kbps=limits.rate_down_kbps,
        rate_up_kbps=limits.rate_up_kbps,
        data_bytes=_min_known(device_data, person_data),
    )


def exhausted(*, allowance_bytes: int | None, allowance_time_s: int | None, used: Usage) -> RefusalReason | None:
    """Whether a running session has used what it was allowed (the reason to disconnect it), else None."""
    if allowance_bytes is not None and used.octets >= allowance_bytes:
        return RefusalReason.PERSON_DATA_USED
    if allowance_time_s is not None and used.time_s >= allowance_time_s:
        return RefusalReason.PERSON_TIME_USED
    return None


# --- the limits on failed attempts -------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptLimits:
    """How many failed logins (``GUESSES``) may come from one device and one IP in ``window_s`` before they
    pause for it, and how many wrong voucher codes one hotspot takes in a clock hour before voucher login
    pauses there. One set for the portal and RADIUS: ``Settings.portal`` (``NETMGR_PORTAL__…``)."""

    per_device: int = 5
    per_ip: int = 20
    window_s: int = 300
    voucher_failures_per_hotspot_per_hour: int = 60

    @classmethod
    def of(cls, portal: PortalSettings) -> AttemptLimits:
        return cls(per_device=portal.max_failed_attempts, per_ip=portal.max_failed_attempts_per_ip,
                   window_s=portal.lockout_s,
                   voucher_failures_per_hotspot_per_hour=portal.voucher_failures_per_hotspot_per_hour)


@dataclass(frozen=True)
class Attempt:
    """One login try: where (the hotspot), who (MAC and IP as the gateway says), with what user name, when."""

    hotspot_id: int
    username: str
    mac: str
    ip: str
    now: datetime
    hotspot_name: str | None = None
    """For the operator's alert when the hotspot's ceiling of wrong codes is reached (read when None)."""


_LA = cast(Table, LoginAttempt.__table__)
_GUESS_VALUES = tuple(sorted(r.value for r in GUESSES))


@functools.cache
def _failures_statement(by_mac: bool, by_ip: bool) -> Select[Any]:
    """Built once per shape with bind parameters (the AAA hot path asks for every login)."""
    mac = bindparam("mac", type_=_LA.c.mac.type)
    ip = bindparam("ip", type_=_LA.c.ip.type)
    # An empty MAC or IP matches nothing: the attempt rows of requests without one store "".
    count_mac = func.coalesce(func.sum(case((_LA.c.mac == mac, 1), else_=0)), 0) if by_mac else literal(0)
    count_ip = func.coalesce(func.sum(case((_LA.c.ip == ip, 1), else_=0)), 0) if by_ip else literal(0)
    matches = [_LA.c.mac == mac] if by_mac else []
    matches += [_LA.c.ip == ip] if by_ip else []
    since = bindparam("since", type_=_LA.c.at.type)
    # The reasons as fixed parameters, not an expanding IN list: that is rendered again at every execution.
    guesses = [literal(value, type_=_LA.c.reason.type) for value in _GUESS_VALUES]
    return select(count_mac, count_ip).where(or_(*matches), _LA.c.at >= since, _LA.c.success.is_(False),
                                             _LA.c.reason.in_(guesses))


def count_failures(session: Session, *, mac: str, ip: str, since: datetime) -> tuple[int, int]:
    """Failed logins (``GUESSES``) since ``since`` from this MAC and from this IP (one query, both indexes)."""
    if not mac and not ip:
        return 0, 0
    row = session.execute(_failures_statement(bool(mac), bool(ip)), {"mac": mac, "ip": ip, "since": since}).one()
    return int(row[0] or 0), int(row[1] or 0)


def attempts_refusal(session: Session, limits: AttemptLimits, *, mac: str, ip: str,
                     now: datetime) -> Refusal | None:
    """Refuse while this device or this IP failed too often lately (a pause of ``window_s``)."""
    by_mac, by_ip = count_failures(session, mac=mac, ip=ip, since=now - timedelta(seconds=limits.window_s))
    if by_mac >= limits.per_device or by_ip >= limits.per_ip:
        return Refusal(RefusalReason.TOO_MANY_ATTEMPTS, retry_after_s=limits.window_s)
    return None


def vouchers_paused(session: Session, limits: AttemptLimits, *, hotspot_id: int, now: datetime) -> Refusal | None:
    """Refuse every voucher code, valid or not, while the hotspot is past its ceiling of wrong codes this hour
    (portal and RADIUS together), so the answer says nothing about the code."""
    spent = budgets.vouchers_paused(session, hotspot_id=hotspot_id, now=now,
                                    limit=limits.voucher_failures_per_hotspot_per_hour)
    return None if spent is None else Refusal(RefusalReason.VOUCHERS_PAUSED, retry_after_s=spent.retry_after_s)


_INSERT_ATTEMPT = insert(_LA)


def record_attempt(session: Session, *, hotspot_id: int | None, username: str, mac: str, ip: str,
                   success: bool, reason: RefusalReason | str = "", now: datetime) -> None:
    """One ``hotspot_login_attempts`` row, as one Core INSERT (no ORM object to flush)."""
    session.execute(_INSERT_ATTEMPT, {"at": now, "hotspot_id": hotspot_id, "username": username[:64], "mac": mac,
                                      "ip": ip, "success": success, "reason": str(reason)[:200]})


def record_refusal(session: Session, limits: AttemptLimits, attempt: Attempt, reason: RefusalReason) -> None:
    """Record a refused login; a wrong voucher code also counts against the hotspot's ceiling."""
    record_attempt(session, hotspot_id=attempt.hotspot_id, username=attempt.username, mac=attempt.mac,
                   ip=attempt.ip, success=False, reason=reason, now=attempt.now)
    if reason in CODE_REASONS:
        budgets.count_wrong_voucher(session, hotspot_id=attempt.hotspot_id, hotspot_name=attempt.hotspot_name,
                                    limit=limits.voucher_failures_per_hotspot_per_hour, now=attempt.now)


# --- credentials: vouchers and portal grants ---------------------------------------------------------------

_V = cast(Table, Voucher.__table__)
_B = cast(Table, VoucherBatch.__table__)
_P = cast(Table, HotspotPolicy.__table__)
_G = cast(Table, AccessGrant.__table__)
_HS = cast(Table, HotspotSession.__table__)
_ACTIVE = SessionStatus.ACTIVE.value
_LIMIT_NAMES = tuple(f.name for f in fields(PolicyLimits))
_POLICY_COLS = (_P.c.id.label("policy_row_id"), *(_P.c[name] for name in _LIMIT_NAMES))

# A voucher, its batch and its policy in one query (outer joins: a missing batch or policy refuses the login).
# Every per-login statement is built once, with bind parameters: building a statement and its cache key
# per call cost more than running it.
_VOUCHER_LOOKUP = select(
    _V.c.id, _V.c.code, _V.c.status, _V.c.first_used_at, _V.c.expires_at, _V.c.subscriber_id,
    _B.c.id.label("batch_row_id"), _B.c.hotspot_id, _B.c.valid_until, *_POLICY_COLS,
).select_from(_V.outerjoin(_B, _B.c.id == _V.c.batch_id).outerjoin(_P, _P.c.id == _B.c.policy_id)).where(
    _V.c.code == bindparam("code", type_=_V.c.code.type))

_GRANT_LOOKUP = select(
    _G.c.id, _G.c.password_encrypted, _G.c.hotspot_id, _G.c.subscriber_id, _G.c.mac, _G.c.expires_at,
    *_POLICY_COLS,
).select_from(_G.outerjoin(_P, _P.c.id == _G.c.policy_id)).where(
    _G.c.username == bindparam("username", type_=_G.c.username.type))


def _limits(row: Any) -> PolicyLimits | None:
    if row.policy_row_id is None:
        return None
    return PolicyLimits(**{name: getattr(row, name) for name in _LIMIT_NAMES})


@dataclass(frozen=True)
class VoucherFacts:
    """A voucher with what its batch and policy say about it, e.g. ``K7M2QX9P``, unused, for hotspot 3."""

    id: int
    code: str
    status: str
    first_used_at: datetime | None
    expires_at: datetime | None
    subscriber_id: int | None
    in_batch: bool
    hotspot_id: int | None
    """The batch's hotspot; None: every hotspot."""
    valid_until: datetime | None
    policy_id: int | None
    limits: PolicyLimits | None


@dataclass(frozen=True)
class GrantFacts:
    """A portal grant (``g-…``): the one-time RADIUS login the portal hands a gateway after a login method."""

    id: int
    password_encrypted: str
    hotspot_id: int
    subscriber_id: int
    mac: str
    expires_at: datetime
    policy_id: int | None
    limits: PolicyLimits | None


def find_voucher(session: Session, code: str) -> VoucherFacts | None:
    """The voucher with ``code`` (as stored: upper case), or None."""
    v = session.execute(_VOUCHER_LOOKUP, {"code": code}).first() if code else None
    if v is None:
        return None
    return VoucherFacts(id=v.id, code=v.code, status=str(v.status), first_used_at=v.first_used_at,
                        expires_at=v.expires_at, subscriber_id=v.subscriber_id, in_batch=v.batch_row_id is not None,
                        hotspot_id=v.hotspot_id, valid_until=v.valid_until, policy_id=v.policy_row_id,
                        limits=_limits(v))


def find_grant(session: Session, username: str) -> GrantFacts | None:
    g = session.execute(_GRANT_LOOKUP, {"username": username}).first()
    if g is None:
        return None
    return GrantFacts(id=g.id, password_encrypted=g.password_encrypted, hotspot_id=g.hotspot_id,
                      subscriber_id=g.subscriber_id, mac=g.mac, expires_at=g.expires_at, policy_id=g.policy_row_id,
                      limits=_limits(g))


def voucher_refusal(session: Session, voucher: VoucherFacts, *, hotspot_id: int,
                    now: datetime) -> RefusalReason | None:
    """Why ``voucher`` cannot log in at ``hotspot_id`` now, or None when it can.

    A voucher whose lifetime since its first login has passed is marked used on the way.
    """
    if not voucher.in_batch or voucher.limits is None:
        return RefusalReason.UNKNOWN_USER
    if voucher.status == VoucherStatus.REVOKED:
        return RefusalReason.VOUCHER_REVOKED
    if voucher.status == VoucherStatus.USED:
        return RefusalReason.VOUCHER_USED
    if voucher.expires_at is not None and voucher.expires_at <= now:
        session.execute(update(_V).where(_V.c.id == voucher.id).values(status=VoucherStatus.USED))
        return RefusalReason.VOUCHER_USED
    if voucher.first_used_at is None and voucher.valid_until is not None and voucher.valid_until <= now:
        return RefusalReason.VOUCHER_EXPIRED
    if voucher.hotspot_id is not None and voucher.hotspot_id != hotspot_id:
        return RefusalReason.VOUCHER_WRONG_HOTSPOT
    return None


def grant_refusal(grant: GrantFacts, *, hotspot_id: int, mac: str, now: datetime) -> RefusalReason | None:
    """Why a portal grant cannot log in (expired, another device's, another hotspot's), or None."""
    if grant.limits is None:
        return RefusalReason.UNKNOWN_USER
    if grant.expires_at <= now:
        return RefusalReason.GRANT_EXPIRED
    if grant.mac != mac:
        return RefusalReason.GRANT_WRONG_DEVICE
    if grant.hotspot_id != hotspot_id:
        return RefusalReason.VOUCHER_WRONG_HOTSPOT
    return None


def voucher_valid_for(voucher: VoucherFacts, now: datetime) -> int | None:
    """Seconds the voucher still runs: until its expiry once started, its whole lifetime before."""
    if voucher.expires_at is not None:
        return int((voucher.expires_at - now).total_seconds())
    if voucher.limits is not None and voucher.first_used_at is None:
        return voucher.limits.voucher_lifetime_s
    return None


def start_voucher(session: Session, voucher: VoucherFacts, *, subscriber_id: int, now: datetime) -> None:
    """A voucher's first login starts it: its lifetime runs from now, and it belongs to ``subscriber_id``.

    Later logins change nothing (a person keeps the voucher they first used it as).
    """
    values: dict[str, Any] = {}
    if voucher.subscriber_id is None:
        values["subscriber_id"] = subscriber_id
    if voucher.first_used_at is None:
        values.update(first_used_at=now, status=VoucherStatus.ACTIVE)
        if voucher.limits is not None and voucher.limits.voucher_lifetime_s:
            values["expires_at"] = now + timedelta(seconds=voucher.limits.voucher_lifetime_s)
    if values:
        session.execute(update(_V).where(_V.c.id == voucher.id).values(**values))


def issue_grant(session: Session, *, hotspot_id: int, subscriber_id: int, policy_id: int, method: LoginMethod,
                mac: str, now: datetime, ttl_s: int = 300) -> tuple[str, str]:
    """A one-time RADIUS login for the gateway after a portal login method succeeded (click-through, OTP).

    Returns ``(username, password)``; ``check_login`` lets it in only from ``mac`` at that hotspot until it
    expires. One cached Core INSERT (a portal login is a handful of statements).
    """
    username = "g-" + secrets.token_hex(12)
    password = secrets.token_urlsafe(12)
    session.connection().execute(_G.insert(), {
        "username": username, "password_encrypted": secret_box(session).encrypt(password), "hotspot_id": hotspot_id,
        "subscriber_id": subscriber_id, "policy_id": policy_id, "method": method.value, "mac": mac,
        "created_at": now, "expires_at": now + timedelta(seconds=ttl_s)})
    return username, password


# --- today's usage -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageToday:
    device: Usage
    person: Usage
    other_devices: int
    """Active sessions of the voucher from other MACs."""


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


def usage_today(session: Session, limits: PolicyLimits, *, mac: str, subscriber_id: int | None,
                voucher_id: int | None, now: datetime, timezone: str) -> UsageToday:
    """Today's (installation's local day) device and person usage and the voucher's other active devices.

    Only the sums ``limits`` has quotas for are made (the others read 0): a policy without daily limits costs
    no query at all on a free login, and one query at most on any login.
    """
    by_device = limits.device_daily_time_s is not None or limits.device_daily_bytes is not None
    by_person = limits.person_daily_time_s is not None or limits.person_daily_bytes is not None
    shape = (bool(mac) and by_device, subscriber_id is not None and by_person, voucher_id is not None)
    if not any(shape):
        return UsageToday(Usage(), Usage(), 0)
    params = {"mac": mac, "since": localtime.local_day_start(now, timezone), "subscriber_id": subscriber_id,
              "voucher_id": voucher_id}
    row = session.execute(_usage_statement(*shape), params).one()
    return UsageToday(device=Usage(int(row[0] or 0), int(row[1] or 0)),
                      person=Usage(int(row[2] or 0), int(row[3] or 0)), other_devices=int(row[4] or 0))


def allowance_today(session: Session, limits: PolicyLimits, *, mac: str, subscriber_id: int | None, now: datetime,
                    timezone: str, valid_for_s: int | None = None) -> Allowance | Refusal:
    """What a login under ``limits`` gets now after today's usage, or why it gets nothing (a free login's quota
    check; vouchers and grants get it inside ``check_login``)."""
    closes = closing_in_s(limits, now=now, timezone=timezone)
    if closes == 0:
        return Refusal(RefusalReason.HOTSPOT_CLOSED)
    usage = usage_today(session, limits, mac=mac, subscriber_id=subscriber_id, voucher_id=None, now=now,
                        timezone=timezone)
    return grant_for(limits, device_today=usage.device, person_today=usage.person, valid_for_s=valid_for_s,
                     closes_in_s=closes)


# --- the decision ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    """A login that may go ahead: whose it is, under which policy, and what it gets now."""

    allowance: Allowance
    limits: PolicyLimits
    policy_id: int
    subscriber_id: int | None
    voucher: VoucherFacts | None = None
    grant: GrantFacts | None = None


def check_login(session: Session, limits: AttemptLimits, attempt: Attempt, *, timezone: str,
                voucher: VoucherFacts | None, grant: GrantFacts | None = None) -> Login | Refusal:
    """The decision on one login with a voucher code or a portal grant (``attempt.username``), for both lanes.

    In order: the device's and IP's failed attempts; for a voucher code (or a name that is nothing), the
    hotspot's ceiling of wrong codes; the credential's validity; a voucher's other devices; today's quotas.
    A refusal past the limits is recorded (``record_refusal``); a refusal by a limit is not, so a device
    retrying while it waits does not extend its own pause. ``voucher`` and ``grant`` are what
    ``find_voucher``/``find_grant`` found for the name (both None: an unknown name).
    """
    throttled = attempts_refusal(session, limits, mac=attempt.mac, ip=attempt.ip, now=attempt.now)
    if throttled is None and grant is None:
        throttled = vouchers_paused(session, limits, hotspot_id=attempt.hotspot_id, now=attempt.now)
    if throttled is not None:
        return throttled
    verdict = _check_credential(session, attempt, timezone=timezone, voucher=voucher, grant=grant)
    if isinstance(verdict, Refusal):
        record_refusal(session, limits, attempt, verdict.reason)
    return verdict


def _check_credential(session: Session, attempt: Attempt, *, timezone: str, voucher: VoucherFacts | None,
                      grant: GrantFacts | None) -> Login | Refusal:
    if voucher is not None:
        refused = voucher_refusal(session, voucher, hotspot_id=attempt.hotspot_id, now=attempt.now)
        if refused is not None or voucher.limits is None or voucher.policy_id is None:
            return Refusal(refused or RefusalReason.UNKNOWN_USER)
        closes = closing_in_s(voucher.limits, now=attempt.now, timezone=timezone)
        if closes == 0:
            return Refusal(RefusalReason.HOTSPOT_CLOSED)
        usage = usage_today(session, voucher.limits, mac=attempt.mac, subscriber_id=voucher.subscriber_id,
                            voucher_id=voucher.id, now=attempt.now, timezone=timezone)
        if usage.other_devices >= voucher.limits.max_devices:
            return Refusal(RefusalReason.TOO_MANY_DEVICES)
        verdict = grant_for(voucher.limits, device_today=usage.device, person_today=usage.person,
                            valid_for_s=voucher_valid_for(voucher, attempt.now), closes_in_s=closes)
        if isinstance(verdict, Refusal):
            return verdict
        return Login(allowance=verdict, limits=voucher.limits, policy_id=voucher.policy_id,
                     subscriber_id=voucher.subscriber_id, voucher=voucher)
    if grant is not None:
        refused = grant_refusal(grant, hotspot_id=attempt.hotspot_id, mac=attempt.mac, now=attempt.now)
        if refused is not None or grant.limits is None or grant.policy_id is None:
            return Refusal(refused or RefusalReason.UNKNOWN_USER)
        closes = closing_in_s(grant.limits, now=attempt.now, timezone=timezone)
        if closes == 0:
            return Refusal(RefusalReason.HOTSPOT_CLOSED)
        usage = usage_today(session, grant.limits, mac=attempt.mac, subscriber_id=grant.subscriber_id,
                            voucher_id=None, now=attempt.now, timezone=timezone)
        verdict = grant_for(grant.limits, device_today=usage.device, person_today=usage.person, closes_in_s=closes)
        if isinstance(verdict, Refusal):
            return verdict
        return Login(allowance=verdict, limits=grant.limits, policy_id=grant.policy_id,
                     subscriber_id=grant.subscriber_id, grant=grant)
    return Refusal(RefusalReason.UNKNOWN_USER)
