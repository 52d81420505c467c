"""Where a PDF puts its text, for layout tests: one box per text run (pypdf's text positions and the font's
metrics), overlap checks, and pages rendered to PNG with poppler's pdftoppm to look at."""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth


@dataclass(frozen=True)
class TextBox:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: TextBox, slack: float = 0.3) -> bool:
        return (min(self.x1, other.x1) - max(self.x0, other.x0) > slack
                and min(self.y1, other.y1) - max(self.y0, other.y0) > slack)

    def inside(self, x0: float, y0: float, x1: float, y1: float, slack: float = 0.3) -> bool:
        return (self.x0 >= x0 - slack and self.x1 <= x1 + slack and self.y0 >= y0 - slack
                and self.y1 <= y1 + slack)


def text_boxes(pdf: bytes) -> list[list[TextBox]]:
    """Per page, a box for every non-blank run of text: from its baseline's start, as wide as the font
    measures the text, from the descender (0.2 em below) to the cap height (0.72 em above)."""
    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        boxes: list[TextBox] = []
        # pypdf reports each run of a line (a font change mid-line, such as bold) at the line's start, not
        # where the previous run ended: runs that start at the same point continue after each other.
        advance: dict[tuple[float, float], float] = {}

        def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float,
                  boxes: list[TextBox] = boxes, advance: dict[tuple[float, float], float] = advance) -> None:
            if not text or font is None:
                return
            scale_x = tm[0] * cm[0] + tm[1] * cm[2]
            scale_y = tm[2] * cm[1] + tm[3] * cm[3]
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            name = str(font["/BaseFont"]).lstrip("/")
            start = (round(x, 2), round(y, 2))
            lines = text.split("\n")
            for i, line in enumerate(lines):
                width = stringWidth(line, name, size) * scale_x
                offset = advance.get(start, 0.0) if i == 0 else 0.0
                if line.strip():
                    em = size * scale_y
                    boxes.append(TextBox(line.strip(), x + offset, y - 0.2 * em, x + offset + width, y + 0.72 * em))
                if i == 0 and len(lines) == 1:
                    advance[start] = offset + width

        page.extract_text(visitor_text=visit)
        pages.append(boxes)
    return pages


def overlapping(boxes: list[TextBox]) -> list[tuple[str, str]]:
    """Every pair of text runs that share space on the page."""
    return [(a.text, b.text) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]


def render_png(pdf: bytes, directory: Path, name: str, dpi: int = 60) -> list[Path]:
    """The pages as PNG files (``name-1.png`` …) made by pdftoppm, to look at and to measure."""
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is missing: apt-get install poppler-utils (./dev test installs it)"
    source = directory / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run([pdftoppm, "-png", "-r", str(dpi), str(source), str(directory / name)], check=True)
    return sorted(directory.glob(f"{name}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def inked_fraction(png: Path) -> float:
    """How far down the page the content reaches, as a fraction of its height (1.0: to the bottom margin)."""
    image = Image.open(png).convert("L")
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    lowest = 0
    for y in range(height):
        if any(pixels[x, y] < 200 for x in range(0, width, 2)):
            lowest = y
    return lowest / height
