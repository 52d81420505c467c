"""Uplink contracts over time: which terms bill which days of a month, and the history kept on renewal.

Data flow: the uplink's current terms (entered on the uplink form, API or CSV) + ``uplink_contract_history``
(earlier terms, archived here by the uplinks service when terms change) → ``billing_periods`` → the monthly
report (``reports.load_month``) and the budget year's projection (``budget.budget_status``).

The rule, in one place: a day is billed under the most recently entered contract that covers it (current
terms before every archived row, a later archived row before an earlier one); a day no contract covers
costs nothing.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr.models import Uplink, UplinkContractHistory


@dataclass(frozen=True)
class ContractTerms:
    """What an uplink is billed at between two dates (None: open on that side)."""

    start: date | None
    end: date | None
    monthly_price_idr: int
    tax_percent: float
    billing_model: str
    committed_mbps: int | None
    price_per_gb_idr: int | None

    def covers(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class BillingPeriod:
    """The consecutive days ``first``..``last`` of one month billed under ``terms``."""

    terms: ContractTerms
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def days_in_month(month: date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


def billing_periods(contracts: Sequence[ContractTerms], month: date) -> list[BillingPeriod]:
    """The periods of ``month`` each contract bills, oldest day first; days no contract covers are left out.

    Args:
        contracts: an uplink's contracts in the order they were entered (the current terms last); on a day
            several cover, the one entered last bills it, so a corrected contract never bills twice.
        month: any day of the month.
    """
    first = month.replace(day=1)
    periods: list[BillingPeriod] = []
    for offset in range(days_in_month(first)):
        day = first + timedelta(days=offset)
        terms = next((c for c in reversed(contracts) if c.covers(day)), None)
        if terms is None:
            continue
        if periods and periods[-1].terms is terms and periods[-1].last == day - timedelta(days=1):
            periods[-1] = replace(periods[-1], last=day)
        else:
            periods.append(BillingPeriod(terms, day, day))
    return periods


def current_terms(uplink: Uplink) -> ContractTerms:
    return ContractTerms(uplink.contract_start, uplink.contract_end, uplink.monthly_price_idr, uplink.tax_percent,
                         str(uplink.billing_model), uplink.committed_mbps, uplink.price_per_gb_idr)


def _archived_terms(row: UplinkContractHistory) -> ContractTerms:
    return ContractTerms(row.contract_start, row.contract_end, row.monthly_price_idr, row.tax_percent,
                         str(row.billing_model), row.committed_mbps, row.price_per_gb_idr)


def contracts_by_uplink(session: Session, uplinks: Iterable[Uplink]) -> dict[int, list[ContractTerms]]:
    """Each uplink's contracts in the order they were entered: archived terms, then the current ones."""
    rows = list(uplinks)
    history: dict[int, list[ContractTerms]] = {u.id: [] for u in rows}
    if rows:
        for h in session.scalars(select(UplinkContractHistory)
                                 .where(UplinkContractHistory.uplink_id.in_(list(history)))
                                 .order_by(UplinkContractHistory.id)):
            history[h.uplink_id].append(_archived_terms(h))
    return {u.id: [*history[u.id], current_terms(u)] for u in rows}


def archive_replaced_terms(session: Session, uplink: Uplink, before: ContractTerms) -> UplinkContractHistory | None:
    """Keep ``before`` (the uplink's terms until this change) for the days it billed before the new contract.

    A new contract that starts later than the old one (a renewal, or a new price from a date) leaves the old
    terms billing the days up to the day before the new start. Anything else is a correction and replaces
    the old terms outright, so nothing is billed twice: a change that keeps the start or moves it earlier
    (a mistyped price, an extension), a start date filled in where there was none, or a start date moved
    later with every other term unchanged.

    Returns:
        The archived row, or None.
    """
    after = current_terms(uplink)
    if after == before or after.start is None or before.start is None or after.start <= before.start:
        return None
    if replace(after, start=before.start) == before:
        return None  # only the start moved later: a start date corrected, not a new contract
    last = after.start - timedelta(days=1)
    end = last if before.end is None else min(before.end, last)
    row = UplinkContractHistory(
        uplink_id=uplink.id, contract_start=before.start, contract_end=end,
        monthly_price_idr=before.monthly_price_idr, tax_percent=before.tax_percent,
        billing_model=before.billing_model, committed_mbps=before.committed_mbps,
        price_per_gb_idr=before.price_per_gb_idr)
    session.add(row)
    return row
