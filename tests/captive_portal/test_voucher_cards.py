"""The printed voucher card: names never run into each other at the longest length accepted, the text stays
inside its card and off the QR code, and the QR code is the hotspot's voucher login with the card's code."""

from __future__ import annotations

from pathlib import Path

import pytest
import segno
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from sqlalchemy.orm import Session

from captive_portal import vouchers
from netmgr.errors import ValidationFailed
from netmgr.security.permissions import SYSTEM
from tests.captive_portal import portal_support as ps
from tests.pdf_layout import overlapping, render_png, text_boxes

WIDEST = "W" * 100  # the widest letter at the longest name a hotspot or a batch may have
SPACED = ("Wisata Religi Masjid Agung Al-Mukarramah Kecamatan Mentawa Baru Ketapang Kabupaten Kotawaringin "
          "Timur")[:100]
BASE = "https://wifi.kotimkab.go.id/portal"


def _cards(pdf: bytes) -> list[tuple[float, float, float, float]]:
    page_w, page_h = A4
    margin = 10 * mm
    card_w = (page_w - 2 * margin) / vouchers.COLUMNS
    card_h = (page_h - 2 * margin) / vouchers.ROWS
    return [(margin + c * card_w, page_h - margin - (r + 1) * card_h, card_w, card_h)
            for r in range(vouchers.ROWS) for c in range(vouchers.COLUMNS)]


@pytest.mark.parametrize(("hotspot_name", "batch_name"), [(WIDEST, WIDEST), (SPACED, SPACED), ("Taman", "A")])
def test_names_code_and_qr_never_share_space_on_a_card(hotspot_name: str, batch_name: str, tmp_path: Path) -> None:
    codes = ["K7M2QX9PK7M2QX9P", "23456789", *[vouchers.generate_code() for _ in range(19)]]
    sheet = vouchers.CardSheet(hotspot_name=hotspot_name, ssid="S" * 32, policy_text="2 jam · 1 GB · 5 Mbps · "
                               "3 perangkat · berlaku sampai 31 Desember 2026", portal_hint=batch_name,
                               login_url=f"{BASE}/taman-kota/voucher")
    pdf = vouchers.batch_pdf(codes, sheet)
    (boxes,) = text_boxes(pdf)
    assert not overlapping(boxes), overlapping(boxes)[:5]
    for x, y, w, h in _cards(pdf):
        inside = [b for b in boxes if b.x0 >= x and b.x1 <= x + w and b.y0 >= y and b.y1 <= y + h]
        touching = [b for b in boxes if b.x1 > x and b.x0 < x + w and b.y1 > y and b.y0 < y + h]
        assert len(inside) == len(touching) >= 4, "a text runs over its card's cut line"
        qr = (x + w - vouchers.PAD - vouchers.QR_SIZE, y + vouchers.PAD)
        assert not [b.text for b in inside if b.x1 > qr[0] and b.y0 < qr[1] + vouchers.QR_SIZE], "text on the QR"
    text = " ".join(b.text for b in boxes)
    assert "K7M2-QX9P-K7M2-QX9P" in text and "2345-6789" in text
    assert hotspot_name[:5] in text and "Wi-Fi:" in text and "SSSSSSSS" in text
    render_png(pdf, tmp_path, "cards")


def test_each_cards_qr_code_opens_the_voucher_login_with_its_code(tmp_path: Path) -> None:
    code = "K7M2QX9P"
    sheet = vouchers.CardSheet(hotspot_name="Taman Kota", ssid="Sampit Free WiFi", policy_text="2 jam",
                               login_url=f"{BASE}/taman-kota/voucher")
    pdf = vouchers.batch_pdf([code], sheet)
    dpi = 300
    (png,) = render_png(pdf, tmp_path, "qr", dpi=dpi)
    image = Image.open(png).convert("L")
    x, y, w, h = _cards(pdf)[0]
    # The sheet draws every code with one fixed mask (vouchers.QR_MASK); any mask is a valid QR code.
    expected = segno.make(f"{BASE}/taman-kota/voucher?code={code}", error="m", micro=False, mask=vouchers.QR_MASK)
    matrix = [list(row) for row in expected.matrix]
    n = len(matrix)
    module = vouchers.QR_SIZE / (n + 4)
    left = x + w - vouchers.PAD - vouchers.QR_SIZE + 2 * module
    top = A4[1] - (y + vouchers.PAD + vouchers.QR_SIZE - 2 * module)  # from the top of the page
    px = dpi / 72
    printed = [[image.getpixel((round((left + (c + 0.5) * module) * px), round((top + (r + 0.5) * module) * px)))
                < 128 for c in range(n)] for r in range(n)]
    assert printed == [[bool(v) for v in row] for row in matrix]


def test_a_batch_sheet_carries_the_hotspots_login_address_and_its_batch_name(session: Session) -> None:
    h = ps.hotspot(session)
    batch = vouchers.create_batch(session, SYSTEM, name="Car free day", policy_id=h.default_policy_id or 0,
                                  count=2, hotspot_id=h.id)
    session.commit()
    _, pdf = vouchers.batch_sheet(session, SYSTEM, batch.id, portal_base_url=BASE + "/", lang="en",
                                      tz="Asia/Jakarta")
    (boxes,) = text_boxes(pdf)
    text = " ".join(b.text for b in boxes)
    assert h.name in text and "Car free day" in text and "Wi-Fi: Sampit Free WiFi" in text
    assert vouchers.hotspot_login_url(BASE + "/", h.slug) == f"{BASE}/{h.slug}/voucher"
    assert vouchers.card_login_url(f"{BASE}/{h.slug}/voucher", "K7M2QX9P") == f"{BASE}/{h.slug}/voucher?code=K7M2QX9P"


def test_a_batch_name_longer_than_the_database_holds_is_refused(session: Session) -> None:
    h = ps.hotspot(session)
    with pytest.raises(ValidationFailed, match="100"):
        vouchers.create_batch(session, SYSTEM, name="x" * 101, policy_id=h.default_policy_id or 0, count=1)


@pytest.mark.parametrize("tz", ["Asia/Makassar", "Asia/Jayapura"])
def test_a_card_says_what_it_grants_and_its_last_day_in_indonesian(session: Session, tz: str) -> None:
    from datetime import date

    from netmgr import localtime

    pol = ps.policy(session, voucher_lifetime_s=5400, person_daily_bytes=1_500_000_000)
    h = ps.hotspot(session, policy_row=pol)
    until = localtime.last_minute_utc(date(2026, 12, 31), tz)
    batch = vouchers.create_batch(session, SYSTEM, name="Tahun baru", policy_id=pol.id, count=1, hotspot_id=h.id,
                                  valid_until=until)
    session.commit()
    _, pdf = vouchers.batch_sheet(session, SYSTEM, batch.id, tz=tz)
    (boxes,) = text_boxes(pdf)
    text = " ".join(b.text for b in boxes)
    assert "1 jam 30 menit · 1,5 GB · 5 Mbps · berlaku sampai 31 Desember 2026" in " ".join(text.split())
    _, english = vouchers.batch_sheet(session, SYSTEM, batch.id, tz=tz, lang="en")
    (boxes,) = text_boxes(english)
    assert "1.5 GB · 5 Mbps · use before December 31, 2026" in " ".join(" ".join(b.text for b in boxes).split())
