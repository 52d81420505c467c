"""Voucher batches: unambiguous codes, permissions, revocation, and the printable PDF sheet."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from captive_portal import vouchers
from captive_portal.login_methods.voucher import ALPHABET, normalise_code
from captive_portal.schemas import BatchCreate
from netmgr.errors import PermissionDenied, ValidationFailed
from netmgr.models import AuditLog, Voucher
from netmgr.models.enums import Role
from netmgr.models.hotspot import VoucherStatus
from netmgr.security.permissions import SYSTEM, Actor
from tests.captive_portal import portal_support as ps


def test_codes_avoid_look_alike_characters() -> None:
    codes = {vouchers.generate_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(c) == 8 and set(c) <= set(ALPHABET) for c in codes)
    assert not set("".join(codes)) & set("01OIL")
    assert normalise_code(" k7m2-qx9p ") == "K7M2QX9P"
    assert vouchers.display_code("K7M2QX9P") == "K7M2-QX9P"


def test_batch_is_created_audited_and_revoked(session: Session) -> None:
    h = ps.hotspot(session)
    batch = vouchers.create_batch(session, SYSTEM, name="Car free day", policy_id=h.default_policy_id or 0,
                                  count=25, hotspot_id=h.id)
    session.commit()
    assert len({v.code for v in batch.vouchers}) == 25
    assert session.scalar(select(AuditLog).where(AuditLog.entity_type == "voucher_batch")) is not None
    first = batch.vouchers[0]
    first.status = VoucherStatus.USED
    session.commit()
    assert vouchers.revoke_batch(session, SYSTEM, batch.id) == 24
    session.commit()
    statuses = {v.status for v in session.scalars(select(Voucher).where(Voucher.batch_id == batch.id))}
    assert statuses == {VoucherStatus.USED, VoucherStatus.REVOKED}


def test_finance_may_not_make_vouchers_and_counts_are_bounded(session: Session) -> None:
    h = ps.hotspot(session)
    finance = Actor(user_id=None, username="bpkad", role=Role.FINANCE)
    with pytest.raises(PermissionDenied):
        vouchers.create_batch(session, finance, name="x", policy_id=h.default_policy_id or 0, count=1)
    with pytest.raises(ValidationFailed):
        vouchers.create_batch(session, SYSTEM, name="x", policy_id=h.default_policy_id or 0, count=0)


def test_pdf_sheet_has_a_card_per_code_with_the_hotspot_name(session: Session, tmp_path: Path) -> None:
    pol = ps.policy(session, voucher_lifetime_s=7200, person_daily_bytes=1_000_000_000)
    h = ps.hotspot(session, policy_row=pol)
    batch = vouchers.create_batch(session, SYSTEM, name="Alun-alun", policy_id=pol.id, count=30, hotspot_id=h.id)
    session.commit()
    _, pdf = vouchers.batch_sheet(session, SYSTEM, batch.id, tz="Asia/Jakarta")
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext is missing: apt-get install poppler-utils (./dev test installs it)"
    text = subprocess.run([pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count("\f") >= 2  # 30 cards at 21 a page: two pages
    for v in batch.vouchers:
        assert vouchers.display_code(v.code) in text
    assert h.name in text and "2 jam" in text and "1 GB" in text


def test_demo_gets_taman_kota_hotspot_with_a_printable_batch_once(session: Session) -> None:
    from captive_portal.portal import seed_demo_hotspot
    from netmgr.demo import seed

    seed.seed_demo(session, timezone="Asia/Jakarta")
    hotspot = seed_demo_hotspot(session, seed.DEMO_ACTOR)
    again = seed_demo_hotspot(session, seed.DEMO_ACTOR)
    session.commit()
    assert hotspot is not None and again is not None and hotspot.id == again.id
    batches = vouchers.list_batches(session, SYSTEM, hotspot_id=hotspot.id)
    assert len(batches) == 1 and batches[0].count == 24
    _, pdf = vouchers.batch_sheet(session, SYSTEM, batches[0].id, tz="Asia/Jakarta")
    assert pdf.startswith(b"%PDF")


def test_a_batch_of_ten_thousand_codes_is_made_and_one_more_is_refused(session: Session) -> None:
    h = ps.hotspot(session)
    assert vouchers.MAX_BATCH == 10_000
    with pytest.raises(ValidationFailed, match="10000"):
        vouchers.create_batch(session, SYSTEM, name="Festival", policy_id=h.default_policy_id or 0, count=10_001)
    with pytest.raises(PydanticValidationError):
        BatchCreate(name="Festival", policy_id=h.default_policy_id or 0, count=10_001)
    batch = vouchers.create_batch(session, SYSTEM, name="Festival", policy_id=h.default_policy_id or 0,
                                  count=10_000, hotspot_id=h.id)
    session.commit()
    codes = list(session.scalars(select(Voucher.code).where(Voucher.batch_id == batch.id)))
    assert len(codes) == len(set(codes)) == 10_000 and batch.count == 10_000
