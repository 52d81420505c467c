"""Voucher batches: generate codes under a policy, revoke them, and print them as a sheet of cards (PDF).

Admin page or CLI → ``create_batch`` (codes from an alphabet without look-alike characters) → database;
``batch_pdf`` lays the codes out as cut-out cards with the hotspot's name, the way Mikhmon users expect, each
with a QR code that opens the hotspot's voucher login with the code filled in.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from captive_portal import i18n
from captive_portal.login_methods.voucher import ALPHABET
from captive_portal.schemas import MAX_BATCH
from netmgr import formats, localtime
from netmgr.errors import NotFound, ValidationFailed
from netmgr.models import HotspotPolicy, Voucher, VoucherBatch
from netmgr.models.hotspot import Hotspot, VoucherStatus
from netmgr.security.permissions import Actor, Permission
from netmgr.services import audit

MAX_NAME = 100
"""The longest batch name (the column's size); the card sheet is laid out for it."""
CODE_LENGTH = 8


def _(message: str) -> str:
    """Marks a msgid for pybabel; the card sheet translates it in the sheet's language."""
    return message


def generate_code(length: int = CODE_LENGTH) -> str:
    """A random code such as ``K7M2QX9P`` (31 symbols: 8 characters give about 2^39 possibilities)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def display_code(code: str) -> str:
    """``K7M2QX9P`` → ``K7M2-QX9P``: easier to read aloud and to type (the dash is ignored on entry)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _chunks(items: Sequence[str], size: int = 1000) -> list[Sequence[str]]:
    """``items`` in slices of ``size`` (bound parameters per statement stay far below SQLite's limit)."""
    return [items[i : i + size] for i in range(0, len(items), size)]


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
    if len(name) > MAX_NAME:
        raise ValidationFailed(f"a batch name has at most {MAX_NAME} characters", field="name")
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
        wanted = {generate_code(code_length) for _ in range(count - len(codes))} - codes
        taken: set[str] = set()
        for chunk in _chunks(sorted(wanted)):
            taken.update(session.scalars(select(Voucher.code).where(Voucher.code.in_(chunk))))
        codes |= wanted - taken
    batch = VoucherBatch(name=name, hotspot_id=hotspot_id, policy_id=policy_id, count=count, valid_until=valid_until,
                         created_by=actor.username, notes=notes)
    session.add(batch)
    session.flush()
    # One multi-row INSERT per chunk, no ORM object per code: 10,000 codes stay a second's work and little memory.
    for chunk in _chunks(sorted(codes)):
        session.execute(insert(Voucher), [{"batch_id": batch.id, "code": c, "status": VoucherStatus.UNUSED}
                                          for c in chunk])
    audit.record(session, actor, action="create", entity_type="voucher_batch", entity_id=batch.id,
                 message="voucher_batch.created", params={"name": name, "count": count},
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
                 message="voucher_batch.revoked",
                 params={"count": revoked, "name": batch.name})
    return revoked


def _duration(seconds: int, lang: str) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if lang == "en":
        parts = ([f"{hours} h"] if hours else []) + ([f"{minutes} min"] if minutes else [])
    else:
        parts = ([f"{hours} jam"] if hours else []) + ([f"{minutes} menit"] if minutes else [])
    return " ".join(parts) or ("< 1 min" if lang == "en" else "< 1 menit")


def _bytes(octets: int, lang: str) -> str:
    if octets >= 10**9:
        return f"{formats.number(round(octets / 10**9, 2), lang)} GB"
    return f"{formats.number(round(octets / 10**6, 1), lang)} MB"


def describe_policy(policy: HotspotPolicy, lang: str = "id") -> str:
    """A policy in a few words for a voucher card: ``2 jam · 1 GB · 5 Mbps``."""
    parts: list[str] = []
    time_limit = policy.voucher_lifetime_s or policy.session_timeout_s or policy.person_daily_time_s
    if time_limit:
        parts.append(_duration(time_limit, lang))
    data = policy.person_daily_bytes or policy.device_daily_bytes
    if data:
        parts.append(_bytes(data, lang))
    if policy.rate_down_kbps:
        parts.append(f"{formats.number(policy.rate_down_kbps / 1000, lang)} Mbps")
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
    """The batch's name (kept under this name for callers that already pass it)."""
    login_url: str = ""
    """The hotspot's voucher login page; each card's QR code opens it with ``?code=`` and the card's code."""


COLUMNS, ROWS = 3, 7
PAD = 3 * mm
QR_SIZE = 19 * mm
MIN_FONT = 5.5


def card_login_url(login_url: str, code: str) -> str:
    """The address a card's QR code opens: the voucher page with the code filled in."""
    separator = "&" if "?" in login_url else "?"
    return f"{login_url}{separator}{urlencode({'code': code})}"


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Words on lines of ``width`` points; a word wider than a line is broken between characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if stringWidth(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while stringWidth(word, font, size) > width and len(word) > 1:
            cut = len(word) - 1
            while cut > 1 and stringWidth(word[:cut], font, size) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


def fit_lines(text: str, font: str, size: float, width: float, max_lines: int,
              min_size: float = MIN_FONT) -> tuple[list[str], float]:
    """``text`` wrapped to at most ``max_lines`` lines of ``width`` points, shrinking the font down to
    ``min_size`` first and ending with "…" only when even that is too long. Returns (lines, font size)."""
    text = " ".join(text.split())
    if not text:
        return [], size
    while True:
        lines = _wrap(text, font, size, width)
        if len(lines) <= max_lines or size <= min_size:
            break
        size = max(min_size, size - 0.5)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and stringWidth(last + "…", font, size) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines, size


def _draw_lines(pdf: canvas.Canvas, lines: Sequence[str], font: str, size: float, x: float, top: float) -> float:
    """Draw ``lines`` downwards from ``top`` (their first baseline sits one font size below it); returns the
    bottom of the block."""
    leading = size * 1.2
    pdf.setFont(font, size)
    y = top
    for line in lines:
        y -= leading
        pdf.drawString(x, y + (leading - size), line)
    return y


QR_MASK = 0
"""A fixed QR mask pattern (any of the 8 is valid; readers take it from the format bits): choosing the "best"
one scores all eight and was three quarters of the time of a 10,000-card sheet."""


def qr_matrix(data: str) -> list[list[bool]]:
    """The QR code of ``data`` (error level M, fixed mask) as rows of dark modules."""
    qr = segno.make(data, error="m", micro=False, mask=QR_MASK)
    return [[bool(v) for v in row] for row in qr.matrix]


def _draw_qr(pdf: canvas.Canvas, data: str, x: float, y: float, size: float) -> None:
    """A QR code of ``data`` in the box (x, y, size) with a two-module quiet zone.

    Drawn as one filled path of the horizontal runs of dark modules, in module units (integers), written as
    literal PDF operators: reportlab formats every float in Python, which was most of a 10,000-card sheet's time.
    """
    matrix = qr_matrix(data)
    module = size / (len(matrix) + 4)
    ops: list[str] = []
    for r, row in enumerate(matrix):
        c, n = 0, len(row)
        while c < n:
            if not row[c]:
                c += 1
                continue
            start = c
            while c < n and row[c]:
                c += 1
            ops.append(f"{start + 2} {r + 2} {c - start} 1 re")
    pdf.saveState()
    pdf.setFillColorRGB(0, 0, 0)
    # Origin at the box's top left, one unit per module, rows downwards.
    pdf.transform(module, 0, 0, -module, x, y + size)
    pdf.addLiteral("\n".join(ops) + "\nf")
    pdf.restoreState()


def batch_pdf(codes: Sequence[str], sheet: CardSheet, *, lang: str = "id") -> bytes:
    """A4 pages of 3 × 7 voucher cards with cut lines, in ``lang``.

    Each card has bands that never share space: the hotspot's name (bold, up to two lines), the batch's name
    (up to two lines), then the Wi-Fi name, the code and what it grants on the left and the QR code on the
    right. A long name shrinks, wraps and at last ends with "…" inside its band.
    """
    t = i18n.translations(lang).gettext
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4, pageCompression=1, invariant=1)
    pdf.setTitle(f"Voucher {sheet.hotspot_name}")
    pdf.setAuthor("netmgr")
    page_w, page_h = A4
    margin = 10 * mm
    card_w = (page_w - 2 * margin) / COLUMNS
    card_h = (page_h - 2 * margin) / ROWS
    per_page = COLUMNS * ROWS
    full = card_w - 2 * PAD
    qr = sheet.login_url and QR_SIZE
    left = full - (qr + 2 * mm if qr else 0)
    hotspot_lines, hotspot_size = fit_lines(sheet.hotspot_name, "Helvetica-Bold", 9, full, 2)
    batch_lines, batch_size = fit_lines(sheet.portal_hint, "Helvetica-Oblique", 7, full, 2)
    ssid_lines, ssid_size = fit_lines(t(_("Wi-Fi: %(ssid)s")) % {"ssid": sheet.ssid} if sheet.ssid else "",
                                      "Helvetica", 7, left, 2)
    policy_lines, policy_size = fit_lines(sheet.policy_text, "Helvetica", 6.5, left, 2)
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
        top = y + card_h - PAD
        top = _draw_lines(pdf, hotspot_lines, "Helvetica-Bold", hotspot_size, x + PAD, top)
        top = _draw_lines(pdf, batch_lines, "Helvetica-Oblique", batch_size, x + PAD, top) - 1 * mm
        if qr:
            _draw_qr(pdf, card_login_url(sheet.login_url, code), x + card_w - PAD - qr, y + PAD, qr)
        top = _draw_lines(pdf, ssid_lines, "Helvetica", ssid_size, x + PAD, top)
        shown = display_code(code)
        code_lines, code_size = fit_lines(shown, "Courier-Bold", 14, left, 1, min_size=8)
        bottom = y + PAD + len(policy_lines) * policy_size * 1.2
        # The code sits in the middle of what is left between the Wi-Fi line and the policy text.
        code_top = min(top, bottom + (top - bottom + code_size * 1.2) / 2)
        _draw_lines(pdf, code_lines, "Courier-Bold", code_size, x + PAD, code_top)
        _draw_lines(pdf, policy_lines, "Helvetica", policy_size, x + PAD, bottom)
    if not codes:
        pdf.setFont("Helvetica", 10)
        pdf.drawString(margin, page_h - margin - 10 * mm, t(_("No vouchers left to print.")))
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def hotspot_login_url(portal_base_url: str, hotspot_slug: str | None) -> str:
    """The voucher page of a hotspot's portal (the portal's start page for a batch valid on every hotspot)."""
    base = portal_base_url.rstrip("/")
    return f"{base}/{hotspot_slug}/voucher" if hotspot_slug else f"{base}/"


def batch_sheet(session: Session, actor: Actor, batch_id: int, *, lang: str = "id",
                include_used: bool = False, portal_base_url: str = "", tz: str) -> tuple[VoucherBatch, bytes]:
    """The printable PDF of a batch (only codes still usable unless ``include_used``).

    With ``portal_base_url`` (``settings.portal.base_url``) every card carries a QR code that opens the
    hotspot's voucher login with its code filled in. A "use before" date is the local date in zone ``tz``
    (``settings.timezone``), written out in ``lang``: "berlaku sampai 31 Desember 2026".
    """
    batch = get_batch(session, actor, batch_id)
    stmt = select(Voucher.code).where(Voucher.batch_id == batch.id).order_by(Voucher.code)
    if not include_used:
        stmt = stmt.where(Voucher.status.in_([VoucherStatus.UNUSED, VoucherStatus.ACTIVE]))
    codes = list(session.scalars(stmt))  # the codes only: no ORM object per voucher
    hotspot = batch.hotspot
    login_url = hotspot_login_url(portal_base_url, hotspot.slug if hotspot else None) if portal_base_url else ""
    policy_text = describe_policy(batch.policy, lang)
    if batch.valid_until is not None:
        last_day = localtime.to_local(batch.valid_until, tz).date()
        policy_text += " · " + i18n.gettext(_("use before %(date)s"), lang) % {
            "date": formats.long_date(last_day, lang)}
    sheet = CardSheet(hotspot_name=hotspot.name if hotspot else batch.name, ssid=hotspot.ssid if hotspot else "",
                      policy_text=policy_text, portal_hint=batch.name if hotspot else "", login_url=login_url)
    return batch, batch_pdf(codes, sheet, lang=lang)
