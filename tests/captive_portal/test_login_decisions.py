"""One home for login decisions: the portal's voucher form and the AAA fast lane (RADIUS authorize) give the same
answer, write the same attempt rows and count the same failures for the same inputs, for every refusal reason."""

from __future__ import annotations

import ast
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from captive_portal import aaa, decisions
from captive_portal.decisions import RefusalReason
from captive_portal.login_methods import LoginContext, LoginRefused, login_with_voucher
from captive_portal.policies import PolicyLimits
from netmgr.models import HotspotSession, PortalBudgetCounter, Voucher, VoucherBatch
from netmgr.models.hotspot import LoginAttempt, LoginMethod, SessionStatus, Subscriber, VoucherStatus
from netmgr.settings import PortalSettings, RadiusSettings, Settings
from tests.captive_portal.hotspot_data import Seeded, add_voucher, client_at, seed_hotspot

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)  # noon in WIB: today's sessions are not cut by midnight
MAC = "46:12:1F:20:79:D7"
OTHER_MAC = "AA:BB:CC:00:00:02"
IP = "10.5.50.23"
CODE = "CASE0001"
LIMITS = {"max_failed_attempts": 3, "max_failed_attempts_per_ip": 6, "lockout_s": 600,
          "voucher_failures_per_hotspot_per_hour": 4}


@dataclass(frozen=True)
class Outcome:
    """What one lane decided and wrote: the reason (None: let in), the message, the rows it added."""

    reason: RefusalReason | None
    message: str
    attempts: list[tuple[str, str, str, bool, str]]
    counters: list[tuple[str, str, int]]
    vouchers: list[tuple[str, str]]


def _settings() -> Settings:
    return Settings(portal=PortalSettings(**LIMITS))  # type: ignore[arg-type]


def _rows(session: Session) -> tuple[list[Any], list[Any], list[Any]]:
    attempts = sorted((a.username, a.mac, a.ip, a.success, a.reason) for a in session.scalars(select(LoginAttempt)))
    counters = sorted((c.budget, c.key, c.spent) for c in session.scalars(select(PortalBudgetCounter)))
    vouchers = sorted((v.code, str(v.status)) for v in session.scalars(select(Voucher)))
    return attempts, counters, vouchers


def _new(before: list[Any], after: list[Any]) -> list[Any]:
    rest = list(after)
    for row in before:
        if row in rest:
            rest.remove(row)
    return rest


@dataclass
class _Config:
    free_logins_per_day: int = 1


def _portal(session: Session, seeded: Seeded, settings: Settings, code: str) -> tuple[RefusalReason | None, str]:
    session.refresh(seeded.hotspot)
    ctx = LoginContext(hotspot=seeded.hotspot, config=_Config(), portal=settings.portal, mac=MAC, ip=IP,
                       language="id", now=NOW, timezone=settings.timezone)
    try:
        login_with_voucher(session, ctx, code)
    except LoginRefused as exc:
        return exc.reason, decisions.message(exc.reason, "id", retry_after_s=exc.retry_after_s)
    return None, ""


def _radius(session: Session, seeded: Seeded, settings: Settings, code: str) -> tuple[RefusalReason | None, str]:
    req = aaa.RadiusRequest(username=code, mac=MAC, ip=IP, nas_ip=seeded.nas.mgmt_address,
                            client=client_at(session, seeded.nas.mgmt_address))
    decision = aaa.authorize(session, aaa.AaaConfig.from_settings(settings), req, now=NOW)
    return decision.refusal, "" if decision.accept else str(decision.attributes["reply:Reply-Message"])


def _run(session: Session, lane: Callable[..., tuple[RefusalReason | None, str]], seeded: Seeded,
         settings: Settings, code: str) -> Outcome:
    attempts, counters, vouchers = _rows(session)
    reason, text = lane(session, seeded, settings, code)
    session.flush()
    after = _rows(session)
    outcome = Outcome(reason, text, _new(attempts, after[0]), _new(counters, after[1]), _new(vouchers, after[2]))
    session.rollback()
    return outcome


# --- the cases: each arranges the database, then both lanes try the returned code from MAC at IP ----------


def _session_row(s: Session, seeded: Seeded, *, mac: str, voucher_id: int | None = None,
                 subscriber_id: int | None = None, time_s: int = 0, octets: int = 0, active: bool = False) -> None:
    s.add(HotspotSession(hotspot_id=seeded.hotspot.id, nas_device_id=seeded.nas.id,
                         acct_session_id=f"s-{mac}-{voucher_id}-{subscriber_id}-{time_s}-{octets}", mac=mac,
                         voucher_id=voucher_id, subscriber_id=subscriber_id,
                         status=SessionStatus.ACTIVE if active else SessionStatus.CLOSED,
                         started_at=NOW - timedelta(hours=1), last_update_at=NOW - timedelta(minutes=5),
                         session_time_s=time_s, input_octets=octets))


def _subscribed(s: Session, seeded: Seeded, code: str) -> Voucher:
    voucher = add_voucher(s, seeded.batch, code)
    person = Subscriber(identity=f"voucher:{code}", kind=LoginMethod.VOUCHER, created_at=NOW)
    s.add(person)
    s.flush()
    voucher.subscriber_id = person.id
    return voucher


def _fresh(s: Session, seeded: Seeded, other: Seeded) -> str:
    add_voucher(s, seeded.batch, CODE)
    return CODE


def _unknown(s: Session, seeded: Seeded, other: Seeded) -> str:
    return "NOSUCH01"


def _with_status(status: VoucherStatus) -> Callable[[Session, Seeded, Seeded], str]:
    def arrange(s: Session, seeded: Seeded, other: Seeded) -> str:
        add_voucher(s, seeded.batch, CODE, status=status)
        return CODE
    return arrange


def _lapsed(s: Session, seeded: Seeded, other: Seeded) -> str:
    voucher = add_voucher(s, seeded.batch, CODE, status=VoucherStatus.ACTIVE)
    voucher.first_used_at, voucher.expires_at = NOW - timedelta(days=1), NOW - timedelta(minutes=1)
    return CODE


def _batch_past_its_date(s: Session, seeded: Seeded, other: Seeded) -> str:
    batch = VoucherBatch(name="Kedaluwarsa", hotspot_id=seeded.hotspot.id, policy_id=seeded.policy.id, count=0,
                         valid_until=NOW - timedelta(days=1))
    s.add(batch)
    s.flush()
    add_voucher(s, batch, CODE)
    return CODE


def _other_hotspots(s: Session, seeded: Seeded, other: Seeded) -> str:
    add_voucher(s, other.batch, CODE)
    return CODE


def _busy_elsewhere(s: Session, seeded: Seeded, other: Seeded) -> str:
    voucher = add_voucher(s, seeded.batch, CODE, status=VoucherStatus.ACTIVE)
    voucher.first_used_at, voucher.expires_at = NOW - timedelta(hours=1), NOW + timedelta(hours=5)
    _session_row(s, seeded, mac=OTHER_MAC, voucher_id=voucher.id, active=True)
    return CODE


def _person_used(**usage: int) -> Callable[[Session, Seeded, Seeded], str]:
    def arrange(s: Session, seeded: Seeded, other: Seeded) -> str:
        voucher = _subscribed(s, seeded, CODE)
        _session_row(s, seeded, mac=OTHER_MAC, subscriber_id=voucher.subscriber_id, **usage)
        return CODE
    return arrange


def _device_used(**usage: int) -> Callable[[Session, Seeded, Seeded], str]:
    def arrange(s: Session, seeded: Seeded, other: Seeded) -> str:
        add_voucher(s, seeded.batch, CODE)
        _session_row(s, seeded, mac=MAC, **usage)
        return CODE
    return arrange


def _failed(n: int, *, mac: str = MAC, reason: RefusalReason = RefusalReason.UNKNOWN_USER,
            then: Callable[[Session, Seeded, Seeded], str] = _fresh) -> Callable[[Session, Seeded, Seeded], str]:
    def arrange(s: Session, seeded: Seeded, other: Seeded) -> str:
        for i in range(n):
            decisions.record_attempt(s, hotspot_id=seeded.hotspot.id, username=f"OLD{i:05d}",
                                     mac=mac if mac else f"02:00:00:00:00:{i:02X}", ip=IP, success=False,
                                     reason=reason, now=NOW - timedelta(minutes=5))
        return then(s, seeded, other)
    return arrange


def _ceiling_reached(s: Session, seeded: Seeded, other: Seeded) -> str:
    hour = NOW.replace(minute=0, second=0, microsecond=0)
    s.add(PortalBudgetCounter(budget="voucher_failures_hotspot_hour", key=str(seeded.hotspot.id),
                              window_start=int(hour.timestamp()),
                              spent=LIMITS["voucher_failures_per_hotspot_per_hour"]))
    return _fresh(s, seeded, other)


def _closed(s: Session, seeded: Seeded, other: Seeded) -> str:
    seeded.hotspot.enabled = False
    return _fresh(s, seeded, other)


def _hours(start: str, end: str) -> Callable[[Session, Seeded, Seeded], str]:
    """The policy's hotspot hours, in the installation's zone (WIB here: NOW is 12:00)."""
    def arrange(s: Session, seeded: Seeded, other: Seeded) -> str:
        seeded.policy.opening_start, seeded.policy.opening_end = start, end
        return _fresh(s, seeded, other)
    return arrange


CASES: dict[str, tuple[RefusalReason | None, Callable[[Session, Seeded, Seeded], str]]] = {
    "valid code": (None, _fresh),
    "unknown code": (RefusalReason.UNKNOWN_USER, _unknown),
    "used code": (RefusalReason.VOUCHER_USED, _with_status(VoucherStatus.USED)),
    "lifetime over": (RefusalReason.VOUCHER_USED, _lapsed),
    "revoked code": (RefusalReason.VOUCHER_REVOKED, _with_status(VoucherStatus.REVOKED)),
    "batch past its date": (RefusalReason.VOUCHER_EXPIRED, _batch_past_its_date),
    "another hotspot's code": (RefusalReason.VOUCHER_WRONG_HOTSPOT, _other_hotspots),
    "busy on another device": (RefusalReason.TOO_MANY_DEVICES, _busy_elsewhere),
    "person's time used": (RefusalReason.PERSON_TIME_USED, _person_used(time_s=3600)),
    "person's data used": (RefusalReason.PERSON_DATA_USED, _person_used(octets=6 * 2**30)),
    "device's time used": (RefusalReason.DEVICE_TIME_USED, _device_used(time_s=1800)),
    "device's data used": (RefusalReason.DEVICE_DATA_USED, _device_used(octets=2 * 2**30)),
    "device failed too often": (RefusalReason.TOO_MANY_ATTEMPTS, _failed(3)),
    "device failed once less": (None, _failed(2)),
    "IP failed too often": (RefusalReason.TOO_MANY_ATTEMPTS, _failed(6, mac="")),
    "retrying a used-up quota is not guessing": (
        RefusalReason.PERSON_TIME_USED,
        _failed(5, reason=RefusalReason.PERSON_TIME_USED, then=_person_used(time_s=3600))),
    "hotspot's ceiling of wrong codes": (RefusalReason.VOUCHERS_PAUSED, _ceiling_reached),
    "hotspot switched off": (RefusalReason.HOTSPOT_CLOSED, _closed),
    "before the park opens at 13:00": (RefusalReason.HOTSPOT_CLOSED, _hours("13:00", "22:00")),
    "overnight hours, closed at noon": (RefusalReason.HOTSPOT_CLOSED, _hours("18:00", "06:00")),
    "open until 12:30": (None, _hours("06:00", "12:30")),
}

PORTAL_ONLY = {RefusalReason.FREE_SESSION_USED, RefusalReason.PHONE_INVALID, RefusalReason.OTP_WRONG,
               RefusalReason.OTP_EXPIRED, RefusalReason.OTP_TOO_MANY_SMS, RefusalReason.SMS_UNAVAILABLE,
               RefusalReason.CONSENT_MISSING, RefusalReason.METHOD_DISABLED, RefusalReason.NO_GATEWAY}
"""Reasons of the portal's other methods and pages (click-through, OTP, a missing gateway redirect)."""
RADIUS_ONLY = {RefusalReason.WRONG_PASSWORD, RefusalReason.GRANT_EXPIRED, RefusalReason.GRANT_WRONG_DEVICE,
               RefusalReason.UNKNOWN_NAS, RefusalReason.BAD_REQUEST}
"""Reasons only a gateway's request can meet: a PAP/CHAP password, a portal grant, the NAS, a malformed packet."""


def test_every_refusal_reason_is_a_case_here_or_belongs_to_one_lane() -> None:
    covered = {reason for reason, _ in CASES.values() if reason is not None}
    assert covered | PORTAL_ONLY | RADIUS_ONLY == set(RefusalReason)
    assert not covered & (PORTAL_ONLY | RADIUS_ONLY)


@pytest.mark.parametrize("case", list(CASES))
def test_portal_and_radius_decide_and_count_the_same(session: Session, case: str) -> None:
    expected, arrange = CASES[case]
    seeded = seed_hotspot(session, device_daily_time_s=1800, device_daily_bytes=2 * 2**30)
    other = seed_hotspot(session, nas_address="127.0.0.2")
    settings = _settings()
    code = arrange(session, seeded, other)
    session.commit()

    portal = _run(session, _portal, seeded, settings, code)
    radius = _run(session, _radius, seeded, settings, code)

    assert portal.reason == expected
    assert (portal.reason, portal.message, portal.attempts, portal.counters) == (
        radius.reason, radius.message, radius.attempts, radius.counters)
    if expected is not None:  # (a valid code: the portal starts the voucher now, RADIUS at post-auth)
        assert portal.vouchers == radius.vouchers
        # a pause names its minutes: the device's window, or the rest of the hour
        retry = {RefusalReason.TOO_MANY_ATTEMPTS: 600, RefusalReason.VOUCHERS_PAUSED: 3600}.get(expected)
        assert radius.message == decisions.message(expected, "id", retry_after_s=retry)


def test_a_login_shortly_before_closing_time_ends_at_closing_time(session: Session) -> None:
    """At 12:00 WIB under hours 06:00-12:30, a two-hour session is cut to the half hour left (RADIUS and portal)."""
    seeded = seed_hotspot(session, session_timeout_s=7200)
    other = seed_hotspot(session, nas_address="127.0.0.2")
    code = _hours("06:00", "12:30")(session, seeded, other)
    session.commit()
    req = aaa.RadiusRequest(username=code, mac=MAC, ip=IP, nas_ip=seeded.nas.mgmt_address,
                            client=client_at(session, seeded.nas.mgmt_address))
    decision = aaa.authorize(session, aaa.AaaConfig.from_settings(_settings()), req, now=NOW)
    assert decision.accept and decision.attributes["reply:Session-Timeout"] == 1800
    session.rollback()
    assert decisions.closing_in_s(PolicyLimits.of(seeded.policy), now=NOW, timezone="Asia/Jakarta") == 1800
    assert decisions.closing_in_s(PolicyLimits.of(seeded.policy), now=NOW, timezone="Asia/Makassar") == 0


def test_a_refused_code_never_tells_whether_it_exists(session: Session) -> None:
    seeded = seed_hotspot(session)
    other = seed_hotspot(session, nas_address="127.0.0.2")
    settings = _settings()
    answers = set()
    for name, (reason, arrange) in CASES.items():
        if reason not in decisions.CODE_REASONS:
            continue
        code = arrange(session, seeded, other)
        session.commit()
        for lane in (_portal, _radius):
            outcome = _run(session, lane, seeded, settings, code)
            assert outcome.reason == reason, name
            answers.add(outcome.message)
        session.execute(delete(Voucher))
        session.commit()
    assert answers == {"Kode voucher ini tidak dapat dipakai. Periksa apakah kode diketik sesuai cetakan: kode yang "
                       "sudah habis dipakai, kedaluwarsa, atau dibatalkan tidak berlaku lagi."}


def test_failures_in_either_lane_count_toward_the_one_limit(session: Session) -> None:
    seeded = seed_hotspot(session)
    seed_hotspot(session, nas_address="127.0.0.2")
    settings = _settings()
    add_voucher(session, seeded.batch, CODE)
    lanes = [_portal, _radius, _portal]  # three wrong codes, the limit, through both doors

    for n, lane in enumerate(lanes):
        reason, _ = lane(session, seeded, settings, f"WRONG{n:03d}")
        session.commit()
        assert reason == RefusalReason.UNKNOWN_USER

    assert _portal(session, seeded, settings, CODE)[0] == RefusalReason.TOO_MANY_ATTEMPTS
    assert _radius(session, seeded, settings, CODE)[0] == RefusalReason.TOO_MANY_ATTEMPTS


def test_every_reason_reads_in_bahasa_indonesia_first_and_in_english_on_request() -> None:
    for reason in RefusalReason:
        indonesian, english = decisions.message(reason, "id"), decisions.message(reason, "en")
        assert indonesian and english and indonesian != english, reason
        assert decisions.message(reason, "xx") == indonesian  # an unknown language reads Indonesian


def test_one_set_of_attempt_limits_in_the_settings() -> None:
    assert not [name for name in RadiusSettings.model_fields if "fail" in name]
    limits = decisions.AttemptLimits.of(PortalSettings(**LIMITS))  # type: ignore[arg-type]
    assert (limits.per_device, limits.per_ip, limits.window_s) == (3, 6, 600)
    cfg = aaa.AaaConfig.from_settings(Settings(portal=PortalSettings(**LIMITS)))  # type: ignore[arg-type]
    assert cfg.attempts == limits


# --- a second home cannot come back ------------------------------------------------------------------------

OWNED = {"issue_grant", "grant_for", "exhausted", "count_failures", "record_attempt", "voucher_refusal",
         "grant_refusal", "attempts_refusal", "start_voucher"}
"""Functions of the login rules: each is defined once, in captive_portal/decisions.py."""


def _trees() -> list[tuple[str, ast.Module]]:
    found = []
    for package in ("captive_portal", "netmgr", "collectors", "provisioning"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found.append((str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8"))))
    return found


def test_each_login_rule_has_one_definition() -> None:
    homes: dict[str, list[str]] = {}
    for where, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in OWNED:
                homes.setdefault(node.name, []).append(where)
    assert homes == {name: ["captive_portal/decisions.py"] for name in OWNED}


def test_one_refusal_enum_and_no_dict_of_messages() -> None:
    enums, dicts = [], []
    for where, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and "Refusal" in node.name and any(
                    isinstance(b, ast.Name) and b.id.endswith("Enum") for b in node.bases):
                enums.append(f"{where}:{node.name}")
            if isinstance(node, ast.Dict) and any(
                    isinstance(k, ast.Attribute) and isinstance(k.value, ast.Name) and "Refusal" in k.value.id
                    for k in node.keys):
                dicts.append(f"{where}:{node.lineno}")
    assert enums == ["captive_portal/decisions.py:RefusalReason"]
    assert dicts == []


def test_only_the_decisions_compare_voucher_states() -> None:
    """Whether a voucher can be used is decided in decisions.py only. Filters in SQL queries (``Voucher.status ==
    VoucherStatus.REVOKED`` in a batch's sales report) count vouchers; they decide no login, so they are not
    looked at."""
    places = []
    for where, tree in _trees():
        for node in ast.walk(tree):
            in_a_query = (isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute)
                          and isinstance(node.left.value, ast.Name) and node.left.value.id == "Voucher")
            if isinstance(node, ast.Compare) and not in_a_query and any(
                    isinstance(c, ast.Attribute) and isinstance(c.value, ast.Name) and c.value.id == "VoucherStatus"
                    and c.attr in ("USED", "REVOKED") for c in node.comparators):
                places.append(where)
    assert set(places) == {"captive_portal/decisions.py"}


def test_the_old_radius_limits_say_which_setting_replaced_them(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="netmgr.settings")

    settings = Settings(radius={"max_failures_per_mac": 3, "failure_window_s": 60})  # type: ignore[arg-type]

    assert settings.portal.max_failed_attempts == 5  # not read: one limit for both lanes
    assert "NETMGR_RADIUS__MAX_FAILURES_PER_MAC is no longer read" in caplog.text
    assert "set NETMGR_PORTAL__MAX_FAILED_ATTEMPTS instead" in caplog.text
    assert "set NETMGR_PORTAL__LOCKOUT_S instead" in caplog.text


def test_a_refused_codes_exception_names_no_precise_reason() -> None:
    errors = {(str(LoginRefused(reason)), LoginRefused(reason).http_status) for reason in decisions.CODE_REASONS}

    assert errors == {("login refused: code_not_usable", 403)}
