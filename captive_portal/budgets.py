"""Budgets a client cannot dodge: OTP SMS per hotspot, installation and source address; wrong codes per hotspot
and source. Keyed only on what the browser cannot choose (the hotspot it reached, the address netmgr sees).

Login methods call ``spend_sms`` before sending a code and ``failure_refusal`` before checking one, and count
each guess with ``count_source_failure``; ``captive_portal.decisions`` (portal and AAA fast lane alike) reads
and counts the hotspot's ceiling of wrong voucher codes with ``vouchers_paused`` and ``count_wrong_voucher``.
Spending a hotspot's or the installation's budget to its end raises one alert per budget and window
(``netmgr.services.alerts``). Counters live in ``portal_budget_counters``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Protocol, cast

from sqlalchemy import Executable, Table, bindparam, delete, select
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from netmgr import localtime
from netmgr.models import Hotspot, PortalBudgetCounter
from netmgr.models.alerts import AlertKind, SubjectType
from netmgr.services import alerts
from netmgr.settings import PortalSettings

INSTALLATION_KEY = "*"


class Budget(StrEnum):
    """A limit with its own counter; the value is stored in ``portal_budget_counters.budget``."""

    SMS_HOTSPOT_HOUR = "sms_hotspot_hour"
    SMS_INSTALLATION_DAY = "sms_installation_day"
    SMS_SOURCE_HOUR = "sms_source_hour"
    VOUCHER_FAILURES_HOTSPOT_HOUR = "voucher_failures_hotspot_hour"
    FAILURES_SOURCE_HOUR = "failures_source_hour"


@dataclass(frozen=True)
class Exhausted:
    """A budget that is spent: which one, and how long until its window ends."""

    budget: Budget
    retry_after_s: int


class _Named(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...


class Visit(Protocol):
    """What the budgets read about one request (a ``LoginContext`` is one)."""

    @property
    def hotspot(self) -> _Named: ...
    @property
    def portal(self) -> PortalSettings: ...
    @property
    def source_ip(self) -> str: ...
    @property
    def gateway_hosts(self) -> Sequence[str]: ...
    @property
    def now(self) -> datetime: ...
    @property
    def timezone(self) -> str:
        """The installation's zone (``Settings.timezone``): the SMS day starts at its midnight."""


# --- windows and counters ----------------------------------------------------------------------------------


def _hour(now: datetime) -> tuple[datetime, datetime]:
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return start, start + timedelta(hours=1)


def _day(now: datetime, tz: str) -> tuple[datetime, datetime]:
    return localtime.local_day_bounds(now, tz)


_COUNTERS = cast(Table, PortalBudgetCounter.__table__)


@lru_cache(maxsize=4)
def _spend_statement(dialect: str) -> Executable:
    """Add one to a counter and return its new value, in one atomic statement (safe under concurrency)."""
    table = _COUNTERS
    stmt: SqliteInsert | PgInsert
    if dialect == "sqlite":
        stmt = sqlite_insert(table)
    elif dialect == "postgresql":
        stmt = pg_insert(table)
    else:
        raise RuntimeError(f"the portal supports SQLite and PostgreSQL, not {dialect}")
    stmt = stmt.values(budget=bindparam("budget"), key=bindparam("key"), window_start=bindparam("window_start"),
                       spent=1)
    return stmt.on_conflict_do_update(index_elements=[table.c.budget, table.c.key, table.c.window_start],
                                      set_={"spent": table.c.spent + 1}).returning(table.c.spent)


_SPENT = select(PortalBudgetCounter.spent).where(
    PortalBudgetCounter.budget == bindparam("budget"), PortalBudgetCounter.key == bindparam("key"),
    PortalBudgetCounter.window_start == bindparam("window_start"))


def _window_key(start: datetime) -> int:
    return int(start.timestamp())


def _spent(session: Session, budget: Budget, key: str, start: datetime) -> int:
    value = session.connection().execute(_SPENT, {"budget": budget.value, "key": key,
                                                  "window_start": _window_key(start)}).scalar()
    return int(value or 0)


def _spend(session: Session, budget: Budget, key: str, start: datetime) -> int:
    """Add one to a counter in the request's transaction and return its new value.

    On PostgreSQL the row stays locked until the request commits, so OTP requests of one hotspot (and, for the
    installation's budget, all of them) take turns while an SMS is being sent; once a budget is spent the
    refusals only read, and take no turn. A counter on a connection of its own would avoid the turns but
    needs a second pooled connection per request, and a flood of requests each holding one and waiting for
    another can starve the pool. A request that fails (the SMS gateway is down) rolls its counters back.
    """
    statement = _spend_statement(session.get_bind().dialect.name)
    values = {"budget": budget.value, "key": key, "window_start": _window_key(start)}
    return int(session.connection().execute(statement, values).scalar_one())


def purge_counters(session: Session, *, now: datetime) -> int:
    """Delete counters of windows that ended more than two days ago; returns how many."""
    horizon = _window_key(now - timedelta(days=2))
    result = session.execute(delete(PortalBudgetCounter).where(PortalBudgetCounter.window_start < horizon))
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- the source address ------------------------------------------------------------------------------------


def _bare_host(host: str) -> str:
    """``192.168.201.1:2050`` → ``192.168.201.1``; ``[fe80::1]:2050`` → ``fe80::1``; names stay as they are."""
    host = host.strip()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def source_key(visit: Visit) -> str | None:
    """The address a per-source budget counts for, or None when the request came through a NAT.

    The address is the HTTP client as netmgr sees it (behind a trusted reverse proxy, the one the proxy
    names), never the ``ip`` the gateway redirect carries; an IPv6 client counts as its /64. A gateway that
    NATs its citizens shows one address for all of them: its own hosts and ``portal.nat_networks`` are not
    counted per source.
    """
    source = visit.source_ip.strip()
    if not source:
        return None
    if source in {_bare_host(h) for h in visit.gateway_hosts}:
        return None
    try:
        address = ipaddress.ip_address(source)
    except ValueError:
        return source[:64]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for network in visit.portal.nat_networks:
        try:
            if address in ipaddress.ip_network(network.strip(), strict=False):
                return None
        except ValueError:
            continue
    if isinstance(address, ipaddress.IPv6Address):
        # One device may use any address of its /64 (privacy extensions): count the /64.
        return ipaddress.IPv6Network((address, 64), strict=False).compressed
    return address.compressed


# --- the rules ---------------------------------------------------------------------------------------------


def _seconds_left(end: datetime, now: datetime) -> int:
    return max(1, int((end - now).total_seconds()))


def _sms_budgets(visit: Visit) -> list[tuple[Budget, str, int, tuple[datetime, datetime]]]:
    portal, now = visit.portal, visit.now
    budgets = []
    source = source_key(visit)
    if source is not None:
        budgets.append((Budget.SMS_SOURCE_HOUR, source, portal.sms_per_source_per_hour, _hour(now)))
    budgets.append((Budget.SMS_HOTSPOT_HOUR, str(visit.hotspot.id), portal.sms_per_hotspot_per_hour, _hour(now)))
    budgets.append((Budget.SMS_INSTALLATION_DAY, INSTALLATION_KEY, portal.sms_per_installation_per_day,
                    _day(now, visit.timezone)))
    return budgets


def spend_sms(session: Session, visit: Visit) -> Exhausted | None:
    """Count one OTP SMS against the source, hotspot and installation budgets, or say which one is spent.

    Every budget is read first, so a request refused by one budget spends none of the others (a flood at one
    hotspot does not eat the installation's budget). The budget that reaches its end raises the alert.
    """
    budgets = _sms_budgets(visit)
    for budget, key, limit, (start, end) in budgets:
        if _spent(session, budget, key, start) >= limit:
            return Exhausted(budget, _seconds_left(end, visit.now))
    for budget, key, limit, (start, end) in budgets:
        spent = _spend(session, budget, key, start)
        if spent > limit:  # another request took the last one a moment ago
            return Exhausted(budget, _seconds_left(end, visit.now))
        if spent == limit:
            _alert_sms_spent(session, visit, budget, limit, start)
    return None


def _alert_sms_spent(session: Session, visit: Visit, budget: Budget, limit: int, start: datetime) -> None:
    if budget == Budget.SMS_HOTSPOT_HOUR:
        alerts.raise_once(
            session, kind=AlertKind.SMS_BUDGET, subject_type=SubjectType.HOTSPOT, subject_id=visit.hotspot.id,
            subject_name=visit.hotspot.name, window_start=start, now=visit.now, value=limit,
            message=(f"🟠 ANGGARAN SMS HABIS: hotspot {visit.hotspot.name} sudah mengirim {limit} SMS OTP "
                     f"dalam jam ini; login dengan SMS ditahan sampai jam berikutnya (NETMGR_PORTAL__"
                     f"SMS_PER_HOTSPOT_PER_HOUR)"))
    elif budget == Budget.SMS_INSTALLATION_DAY:
        alerts.raise_once(
            session, kind=AlertKind.SMS_BUDGET, subject_type=SubjectType.INSTALLATION, subject_id=0,
            subject_name="netmgr", window_start=start, now=visit.now, value=limit,
            message=(f"🟠 ANGGARAN SMS HARIAN HABIS: semua hotspot sudah mengirim {limit} SMS OTP hari ini; "
                     f"login dengan SMS ditahan sampai tengah malam (NETMGR_PORTAL__SMS_PER_INSTALLATION_PER_DAY)"))


def failure_refusal(session: Session, visit: Visit) -> Exhausted | None:
    """Whether this source address made too many failed logins (voucher or OTP) this hour."""
    source = source_key(visit)
    if source is None:
        return None
    start, end = _hour(visit.now)
    if _spent(session, Budget.FAILURES_SOURCE_HOUR, source, start) >= visit.portal.failures_per_source_per_hour:
        return Exhausted(Budget.FAILURES_SOURCE_HOUR, _seconds_left(end, visit.now))
    return None


def vouchers_paused(session: Session, *, hotspot_id: int, limit: int, now: datetime) -> Exhausted | None:
    """Whether the hotspot took ``limit`` wrong voucher codes this hour, on its portal page and through its
    gateway's RADIUS together: voucher login pauses there until the hour ends."""
    start, end = _hour(now)
    if _spent(session, Budget.VOUCHER_FAILURES_HOTSPOT_HOUR, str(hotspot_id), start) >= limit:
        return Exhausted(Budget.VOUCHER_FAILURES_HOTSPOT_HOUR, _seconds_left(end, now))
    return None


def count_wrong_voucher(session: Session, *, hotspot_id: int, limit: int, now: datetime,
                        hotspot_name: str | None = None) -> None:
    """Count a wrong voucher code at the hotspot; the one that reaches ``limit`` raises the alert."""
    start, _ = _hour(now)
    if _spend(session, Budget.VOUCHER_FAILURES_HOTSPOT_HOUR, str(hotspot_id), start) != limit:
        return
    name = hotspot_name or session.scalar(select(Hotspot.name).where(Hotspot.id == hotspot_id)) or str(hotspot_id)
    alerts.raise_once(
        session, kind=AlertKind.VOUCHER_GUESSING, subject_type=SubjectType.HOTSPOT, subject_id=hotspot_id,
        subject_name=name, window_start=start, now=now, value=limit,
        message=(f"🟠 TEBAK VOUCHER: hotspot {name} menerima {limit} kode voucher salah dalam jam ini; login "
                 f"voucher ditahan sampai jam berikutnya (NETMGR_PORTAL__VOUCHER_FAILURES_PER_HOTSPOT_PER_HOUR)"))


def count_source_failure(session: Session, visit: Visit) -> None:
    """Count a failed login (a guess) against its source address's hourly budget."""
    source = source_key(visit)
    if source is not None:
        _spend(session, Budget.FAILURES_SOURCE_HOUR, source, _hour(visit.now)[0])
