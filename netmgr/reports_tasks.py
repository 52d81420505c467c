"""Celery tasks of the finance reports (queue ``reports``): monthly statements by e-mail, contract reminders.

Thin wrappers: build the app state, call the functions below, return a small summary. Mail goes through the
SMTP server of the ``notify`` settings section; the sender is injectable so tests use a real SMTP server.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from datetime import date
from email.message import EmailMessage
from typing import Any

from celery import shared_task
from sqlalchemy import select
from sqlalchemy.orm import Session

from netmgr import formats, localtime
from netmgr.models import Agency
from netmgr.models.base import utcnow
from netmgr.reports_export import to_pdf
from netmgr.security.permissions import SYSTEM
from netmgr.services import budget, periods, reports
from netmgr.settings import Settings, get_settings
from netmgr.task_resources import task_resources

log = logging.getLogger(__name__)
Send = Callable[[EmailMessage], None]


def smtp_sender(settings: Settings) -> Send:
    """Sends through the SMTP server of ``settings.notify``."""
    notify = settings.notify

    def send(message: EmailMessage) -> None:
        with smtplib.SMTP(notify.smtp_host, notify.smtp_port, timeout=notify.smtp_timeout_s) as smtp:
            if notify.smtp_starttls:
                smtp.starttls()
            if notify.smtp_user:
                smtp.login(notify.smtp_user, notify.smtp_password.get_secret_value())
            smtp.send_message(message)

    return send


def _message(settings: Settings, to: list[str], subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.notify.email_from
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(body)
    return message


def send_monthly_statements(session: Session, settings: Settings, month: date, send: Send) -> int:
    """E-mail each agency with a contact address its own statement (PDF), and finance staff the whole report.

    Returns how many messages were sent.
    """
    whole = periods.full_report(session, month, settings).report
    key = reports.month_key(month)
    now = utcnow()
    sent = 0
    agencies = {a.id: a for a in session.scalars(select(Agency))}
    for row in whole["agencies"]:
        agency = agencies.get(row["agency_id"]) if row["agency_id"] is not None else None
        if agency is None or not agency.contact_email:
            continue
        statement = {**whole, "agencies": [row], "uplinks": [], "plans": [], "hotspots": [],
                     "recommendations": [r for r in whole["recommendations"]
                                         if row["code"] in r.get("from", []) + r.get("to", [])],
                     "totals": {**whole["totals"], "cost_idr": None}}
        message = _message(settings, [agency.contact_email], f"Laporan bandwidth {key} — {agency.name}",
                           f"Terlampir laporan pemakaian internet {agency.name} bulan {key}.\n"
                           f"Pemakaian: {formats.gigabytes(row['gb'], 'id')}, persentil ke-95: "
                           f"{formats.number(row['p95_mbps'], 'id', decimals=1)} Mbps.\n")
        message.add_attachment(to_pdf(statement, regency=settings.regency_name, lang=settings.default_language,
                                      generated_at=now, tz=settings.timezone),
                               maintype="application", subtype="pdf", filename=f"laporan-{row['code']}-{key}.pdf")
        send(message)
        sent += 1
    if settings.finance.statement_recipients:
        message = _message(settings, settings.finance.statement_recipients, f"Laporan bandwidth {key}",
                           f"Terlampir laporan bandwidth seluruh SOPD bulan {key}.\n"
                           f"Total biaya: {formats.rupiah(whole['totals']['cost_idr'], 'id')}\n")
        message.add_attachment(to_pdf(whole, regency=settings.regency_name, lang=settings.default_language,
                                      generated_at=now, tz=settings.timezone),
                               maintype="application", subtype="pdf", filename=f"laporan-bandwidth-{key}.pdf")
        send(message)
        sent += 1
    return sent


def _reminder_line(c: budget.ContractEntry) -> str:
    if c.expired:
        line = (f"- {c.name} ({c.isp_name}): KONTRAK SUDAH BERAKHIR {c.contract_end}; sejak itu uplink ini tidak "
                f"ditagihkan dalam laporan. Catat perpanjangannya (tanggal dan harga baru) atau hapus uplink ini; "
                f"Rp {c.monthly_cost_idr:,}/bulan")
    else:
        line = (f"- {c.name} ({c.isp_name}): kontrak berakhir {c.contract_end}, perpanjangan masuk APBD "
                f"{c.renewal_budget_year}; RKA jatuh tempo {c.proposal_due}; Rp {c.monthly_cost_idr:,}/bulan")
    return line.replace(",", ".")


def send_contract_reminders(session: Session, settings: Settings, send: Send, *, today: date | None = None) -> int:
    """E-mail finance staff the contracts whose renewal must go into the coming RKA, and those that expired."""
    due = budget.due_reminders(session, SYSTEM, settings.finance, today=today)
    recipients = settings.finance.statement_recipients or settings.notify.email_recipients
    if not due or not recipients:
        return 0
    lines = [_reminder_line(c) for c in due]
    expired = sum(c.expired for c in due)
    subject = f"Pengingat kontrak internet: {len(due)} kontrak perlu dianggarkan"
    if expired:
        subject += f", {expired} sudah berakhir"
    send(_message(settings, recipients, subject,
                  "Kontrak berikut perlu dimasukkan ke usulan anggaran (RKA):\n" + "\n".join(lines) + "\n"))
    return 1


@shared_task(name="reports.monthly_statements")  # type: ignore[untyped-decorator]  # celery is untyped
def monthly_statements(month: str | None = None, force: bool = False) -> dict[str, Any]:
    """Send last month's statements on ``finance.statement_day`` (or any day with ``force`` / a ``month``)."""
    settings = get_settings()
    today = localtime.local_today(settings.timezone)
    if month is None and not force and today.day != settings.finance.statement_day:
        return {"sent": 0, "skipped": "not the statement day"}
    state = task_resources(settings).state
    with state.session_factory() as session:
        sent = send_monthly_statements(session, settings, reports.parse_month(month, today=today),
                                       smtp_sender(settings))
    return {"sent": sent}


@shared_task(name="reports.contract_reminders")  # type: ignore[untyped-decorator]  # celery is untyped
def contract_reminders() -> dict[str, Any]:
    settings = get_settings()
    state = task_resources(settings).state
    with state.session_factory() as session:
        sent = send_contract_reminders(session, settings, smtp_sender(settings))
    return {"sent": sent}
