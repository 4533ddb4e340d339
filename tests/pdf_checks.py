"""Checks for the printed forms, read the way a person reads them: the PDF's text through a PDF
reader (pypdf), each word's box from poppler's ``pdftotext -bbox``, and every page rendered to
an image (poppler's ``pdftoppm``), so that a test asserts on page count and box positions, not
pixels:

- ``text in doc`` / ``doc.count(text)`` / ``assert_once``: a title printed once (compared
  without whitespace: a reader breaks lines and spaces CJK text its own way);
- ``assert_on_every_page``: the complaint number in every page's header;
- ``assert_together(first, last)``: a table row (its first and its last words) on one page;
- ``assert_inside_pages``: every word box, and every page's ink, inside the page with a
  margin (an overflowing table or a line running off the paper fails).

``read_pdf(data)`` does the reading and rendering once. Set ``PDF_CHECKS_DIR`` to keep the
page images (``<name>-<page>.png``) to look at."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

PT_PER_MM = 72 / 25.4
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                   r"(.*?)</word>")
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)


@dataclass(frozen=True)
class Box:
    """A word on a page, in points from the page's top left corner."""

    page: int  # 1-based
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass
class Page:
    number: int
    width: float  # points
    height: float
    text: str  # as the PDF reader extracts it
    boxes: list[Box] = field(default_factory=list)
    ink: tuple[float, float, float, float] | None = None  # bounding box of non-white, points
    image: Path | None = None


    def __contains__(self, fragment: str) -> bool:
        """``fragment in page``, however the reader broke its lines."""
        return _squash(fragment) in _squash(self.text)


@dataclass
class PdfDoc:
    pages: list[Page]

    @property
    def page_count(self) -> int:
        return len(self.pages)

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.pages)

    def __contains__(self, fragment: str) -> bool:
        """``fragment in doc``: printed somewhere, however the reader broke its lines."""
        return self.count(fragment) > 0

    def count(self, fragment: str) -> int:
        return _squash(self.text).count(_squash(fragment))

    def pages_with(self, fragment: str) -> list[int]:
        wanted = _squash(fragment)
        return [p.number for p in self.pages if wanted in _squash(p.text)]

    def assert_once(self, fragment: str) -> None:
        assert self.count(fragment) == 1, (fragment, self.count(fragment))

    def assert_on_every_page(self, fragment: str) -> None:
        assert self.pages_with(fragment) == [p.number for p in self.pages], \
            (fragment, self.pages_with(fragment), self.page_count)

    def assert_together(self, first: str, last: str) -> None:
        """``first`` and ``last`` (e.g. a row's first cell and the end of its last) are each
        printed once, and on the same page: the row was not split."""
        a, b = self.pages_with(first), self.pages_with(last)
        assert len(a) == 1 and a == b, f"{first!r} on pages {a}, {last!r} on pages {b}"

    def assert_inside_pages(self, margin_mm: float = 3) -> None:
        """No word box and no ink closer than ``margin_mm`` to a page's edge."""
        m = margin_mm * PT_PER_MM
        for page in self.pages:
            for box in page.boxes:
                assert m <= box.x0 and box.x1 <= page.width - m and m <= box.y0 \
                    and box.y1 <= page.height - m, f"{box} outside page {page.number}"
            assert page.ink is not None, f"page {page.number} is blank"
            x0, y0, x1, y1 = page.ink
            assert m <= x0 and x1 <= page.width - m and m <= y0 and y1 <= page.height - m, \
                f"ink {page.ink} reaches the edge of page {page.number}"


def _squash(text: str) -> str:
    """Whitespace removed: a PDF reader breaks lines and spaces CJK text its own way."""
    return re.sub(r"\s+", "", text)


def _boxes(path: Path) -> list[tuple[float, float, list[Box]]]:
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    pages = []
    for number, (width, height, body) in enumerate(_PAGE.findall(out), start=1):
        boxes = [Box(number, unescape(t), float(a), float(b), float(c), float(d))
                 for a, b, c, d, t in _WORD.findall(body)]
        pages.append((float(width), float(height), boxes))
    return pages


def _render(path: Path, out_dir: Path, name: str, dpi: int) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(path),
                    str(out_dir / name)], check=True, capture_output=True)
    return sorted(out_dir.glob(f"{name}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


def _ink(image: Path, dpi: int) -> tuple[float, float, float, float] | None:
    from PIL import Image, ImageOps

    with Image.open(image) as picture:
        box = ImageOps.invert(picture.convert("L")).point(lambda v: 255 if v > 24 else 0)\
            .getbbox()
    if box is None:
        return None
    scale = 72 / dpi
    return tuple(v * scale for v in box)


def read_pdf(data: bytes, name: str = "page", dpi: int = 60) -> PdfDoc:
    """Read ``data`` (a PDF): text per page, word boxes, and each page rendered to an image."""
    from pypdf import PdfReader

    assert data.startswith(b"%PDF-"), data[:40]
    reader = PdfReader(io.BytesIO(data))
    keep = os.environ.get("PDF_CHECKS_DIR")
    work = Path(tempfile.mkdtemp(prefix="pdf-checks-"))
    try:
        path = work / "doc.pdf"
        path.write_bytes(data)
        layout = _boxes(path)
        images = _render(path, work, name, dpi)
        assert len(images) == len(reader.pages) == len(layout), \
            (len(images), len(reader.pages), len(layout))
        pages = []
        for i, (page, (width, height, boxes), image) in enumerate(
                zip(reader.pages, layout, images, strict=True), start=1):
            kept = None
            if keep:
                Path(keep).mkdir(parents=True, exist_ok=True)
                kept = Path(shutil.copy(image, Path(keep) / image.name))
            pages.append(Page(i, width, height, page.extract_text() or "", boxes,
                              _ink(image, dpi), kept))
        return PdfDoc(pages)
    finally:
        shutil.rmtree(work, ignore_errors=True)
