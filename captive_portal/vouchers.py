"""Voucher batches: generate codes under a policy, revoke them, and print them as a sheet of cards (PDF).

Admin page or CLI → ``create_batch`` (codes from an alphabet without look-alike characters) → database;
``batch_pdf`` lays the codes out as cut-out cards with the hotspot's name, the way Mikhmon users expect.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from captive_portal.login_methods.voucher import ALPHABET
from netmgr.errors import NotFound, ValidationFailed
from netmgr.models import HotspotPolicy, Voucher, VoucherBatch
from netmgr.models.hotspot import Hotspot, VoucherStatus
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit

MAX_BATCH = 5000
CODE_LENGTH = 8


def generate_code(length: int = CODE_LENGTH) -> str:
    """A random code such as ``K7M2QX9P`` (31 symbols: 8 characters give about 2^39 possibilities)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def display_code(code: str) -> str:
    """``K7M2QX9P`` → ``K7M2-QX9P``: easier to read aloud and to type (the dash is ignored on entry)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def create_batch(session: Session, actor: Actor, *, name: str, policy_id: int, count: int,
                 hotspot_id: int | None = None, valid_until: datetime | None = None, notes: str = "",
                 code_length: int = CODE_LENGTH) -> VoucherBatch:
    """Make ``count`` unused vouchers under ``policy_id`` (for one hotspot, or every hotspot when None).

    Raises:
        PermissionDenied: the actor may not manage the portal.
        ValidationFailed: bad count, name or code length.
        NotFound: the policy or hotspot does not exist.
    """
    actor.require(Permission.PORTAL_MANAGE)
    name = name.strip()
    if not name:
        raise ValidationFailed("a batch needs a name", field="name")
    if not 1 <= count <= MAX_BATCH:
        raise ValidationFailed(f"count must be between 1 and {MAX_BATCH}", field="count")
    if not 6 <= code_length <= 16:
        raise ValidationFailed("codes are 6 to 16 characters long", field="code_length")
    if session.get(HotspotPolicy, policy_id) is None:
        raise NotFound(f"policy {policy_id} does not exist")
    if hotspot_id is not None and session.get(Hotspot, hotspot_id) is None:
        raise NotFound(f"hotspot {hotspot_id} does not exist")
    codes: set[str] = set()
    while len(codes) < count:
        wanted = {generate_code(code_length) for _ in range(count - len(codes))}
        taken = set(session.scalars(select(Voucher.code).where(Voucher.code.in_(wanted))))
        codes |= wanted - taken
    batch = VoucherBatch(name=name, hotspot_id=hotspot_id, policy_id=policy_id, count=count, valid_until=valid_until,
                         created_by=actor.username, notes=notes)
    batch.vouchers = [Voucher(code=c, status=VoucherStatus.UNUSED) for c in sorted(codes)]
    session.add(batch)
    session.flush()
    audit.record(session, actor, action="create", entity_type="voucher_batch", entity_id=batch.id,
                 summary=f"voucher batch {name!r}: {count} codes",
                 after={"name": name, "policy_id": policy_id, "hotspot_id": hotspot_id, "count": count,
                        "valid_until": valid_until})
    return batch


def get_batch(session: Session, actor: Actor, batch_id: int) -> VoucherBatch:
    actor.require(Permission.PORTAL_MANAGE)
    batch = session.get(VoucherBatch, batch_id)
    if batch is None:
        raise NotFound(f"voucher batch {batch_id} does not exist")
    return batch


def list_batches(session: Session, actor: Actor, *, hotspot_id: int | None = None) -> Sequence[VoucherBatch]:
    actor.require(Permission.PORTAL_MANAGE)
    stmt = select(VoucherBatch).order_by(VoucherBatch.created_at.desc(), VoucherBatch.id.desc())
    if hotspot_id is not None:
        stmt = stmt.where(VoucherBatch.hotspot_id == hotspot_id)
    return list(session.scalars(stmt))


def revoke_batch(session: Session, actor: Actor, batch_id: int) -> int:
    """Revoke every voucher of the batch that is not used up yet; returns how many were revoked."""
    batch = get_batch(session, actor, batch_id)
    result = session.execute(update(Voucher).where(
        Voucher.batch_id == batch.id, Voucher.status.in_([VoucherStatus.UNUSED, VoucherStatus.ACTIVE]))
        .values(status=VoucherStatus.REVOKED))
    revoked = int(result.rowcount)  # type: ignore[attr-defined]
    audit.record(session, actor, action="revoke", entity_type="voucher_batch", entity_id=batch.id,
                 summary=f"revoked {revoked} vouchers of batch {batch.name!r}")
    return revoked


def _duration(seconds: int, lang: str) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if lang == "en":
        parts = ([f"{hours} h"] if hours else []) + ([f"{minutes} min"] if minutes else [])
    else:
        parts = ([f"{hours} jam"] if hours else []) + ([f"{minutes} menit"] if minutes else [])
    return " ".join(parts) or ("< 1 min" if lang == "en" else "< 1 menit")


def _bytes(octets: int) -> str:
    if octets >= 10**9:
        return f"{octets / 10**9:g} GB"
    return f"{octets / 10**6:g} MB"


def describe_policy(policy: HotspotPolicy, lang: str = "id") -> str:
    """A policy in a few words for a voucher card: ``2 jam · 1 GB · 5 Mbps``."""
    parts: list[str] = []
    time_limit = policy.voucher_lifetime_s or policy.session_timeout_s or policy.person_daily_time_s
    if time_limit:
        parts.append(_duration(time_limit, lang))
    data = policy.person_daily_bytes or policy.device_daily_bytes
    if data:
        parts.append(_bytes(data))
    if policy.rate_down_kbps:
        parts.append(f"{policy.rate_down_kbps / 1000:g} Mbps")
    if policy.max_devices > 1:
        parts.append(f"{policy.max_devices} {'devices' if lang == 'en' else 'perangkat'}")
    return " · ".join(parts)


@dataclass(frozen=True)
class CardSheet:
    """What is printed on every card of a sheet."""

    hotspot_name: str
    ssid: str
    policy_text: str
    portal_hint: str = ""


COLUMNS, ROWS = 3, 8


def batch_pdf(codes: Sequence[str], sheet: CardSheet) -> bytes:
    """A4 pages of 3 × 8 voucher cards with cut lines: hotspot name, SSID, code, what it grants."""
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"Voucher {sheet.hotspot_name}")
    pdf.setAuthor("netmgr")
    page_w, page_h = A4
    margin = 10 * mm
    card_w = (page_w - 2 * margin) / COLUMNS
    card_h = (page_h - 2 * margin) / ROWS
    per_page = COLUMNS * ROWS
    for index, code in enumerate(codes):
        slot = index % per_page
        if slot == 0 and index:
            pdf.showPage()
        col, row = slot % COLUMNS, slot // COLUMNS
        x = margin + col * card_w
        y = page_h - margin - (row + 1) * card_h
        pdf.setDash(2, 2)
        pdf.setLineWidth(0.4)
        pdf.rect(x, y, card_w, card_h)
        pdf.setDash()
        pdf.setFont("Helvetica-Bold", 9)
        pdf.drawString(x + 3 * mm, y + card_h - 5 * mm, sheet.hotspot_name[:40])
        pdf.setFont("Helvetica", 7)
        if sheet.ssid:
            pdf.drawString(x + 3 * mm, y + card_h - 9 * mm, f"WiFi: {sheet.ssid}"[:50])
        pdf.setFont("Courier-Bold", 15)
        pdf.drawCentredString(x + card_w / 2, y + card_h / 2 - 3 * mm, display_code(code))
        pdf.setFont("Helvetica", 7)
        pdf.drawString(x + 3 * mm, y + 3 * mm, sheet.policy_text[:60])
        if sheet.portal_hint:
            pdf.drawRightString(x + card_w - 3 * mm, y + card_h - 5 * mm, sheet.portal_hint[:20])
    if not codes:
        pdf.setFont("Helvetica", 10)
        pdf.drawString(margin, page_h - margin - 10 * mm, "(no vouchers)")
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def batch_sheet(session: Session, actor: Actor, batch_id: int, *, lang: str = "id",
                include_used: bool = False) -> tuple[VoucherBatch, bytes]:
    """The printable PDF of a batch (only codes still usable unless ``include_used``)."""
    batch = get_batch(session, actor, batch_id)
    codes = [v.code for v in batch.vouchers
             if include_used or v.status in (VoucherStatus.UNUSED, VoucherStatus.ACTIVE)]
    hotspot = batch.hotspot
    sheet = CardSheet(hotspot_name=hotspot.name if hotspot else batch.name, ssid=hotspot.ssid if hotspot else "",
                      policy_text=describe_policy(batch.policy, lang), portal_hint=batch.name[:20])
    return batch, batch_pdf(codes, sheet)
