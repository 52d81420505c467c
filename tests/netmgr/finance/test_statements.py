"""Monthly statements and contract reminders go out through a real SMTP server, PDFs attached."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader
from sqlalchemy.orm import Session

from netmgr.models import Agency
from netmgr.reports_tasks import send_contract_reminders, send_monthly_statements, smtp_sender
from netmgr.settings import Settings
from tests.netmgr.finance.conftest import MONTH, World, standard_month
from tests.servers.smtp import smtp_server


def test_each_agency_gets_its_own_statement_and_finance_the_whole_report(session: Session, world: World,
                                                                         settings: Settings) -> None:
    standard_month(session, world)
    busy = session.get(Agency, world.agency_busy)
    assert busy is not None
    busy.contact_email = "dukcapil@kotimkab.go.id"
    session.commit()
    with smtp_server() as box:
        configured = settings.model_copy(update={
            "notify": settings.notify.model_copy(update={"smtp_host": box.host, "smtp_port": box.port}),
            "finance": settings.finance.model_copy(update={"statement_recipients": ["bpkad@kotimkab.go.id"]})})
        assert send_monthly_statements(session, configured, MONTH, smtp_sender(configured)) == 2
        assert send_contract_reminders(session, configured, smtp_sender(configured), today=date(2025, 5, 10)) == 1
    (to_agency, statement), (to_finance, whole), (to_reminder, reminder) = box.messages
    assert to_agency == ["dukcapil@kotimkab.go.id"] and to_finance == ["bpkad@kotimkab.go.id"]
    pdf = next(statement.iter_attachments()).get_content()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Dinas Kependudukan dan Pencatatan Sipil" in text and "Inspektorat Daerah" not in text
    whole_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(
        next(whole.iter_attachments()).get_content())).pages)
    assert "Inspektorat Daerah" in whole_text
    # Telkom's contract ends 31 Dec 2025: its renewal needs the 2026 budget, proposed by July 2025.
    assert "telkom-astinet-500" in reminder.get_content() and "APBD 2026" in reminder.get_content()
