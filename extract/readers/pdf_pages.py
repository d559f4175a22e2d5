"""Reading the pages of a PDF: glyphs, words, rules and tables of each page.

pdfium does the reading; when pdfium rejects a file, pdfminer (through pdfplumber) is tried,
since it tolerates some damage pdfium does not. Both give the same :class:`PageData`.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import pypdfium2 as pdfium

from ..errors import Corrupt, Encrypted
from ..layout.glyphs import Glyphs, glyphs_from_plumber, load_glyphs
from ..layout.rules import page_edges
from ..layout.tables import PageTable, find_tables
from ..layout.words import Words, make_words


@dataclass
class PageData:
    """What the layout steps need of one page: its glyphs, words and tables."""

    number: int
    width: float
    height: float
    glyphs: Glyphs | None
    words: Words | None
    tables: list[PageTable]
    flow: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # words in the text flow
    head: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    foot: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    glyph_rows: object = None  # the builder's box source for this page, once set

    def release(self) -> None:
        """Drop the per-character data once the page is written (keeps long PDFs small)."""
        self.glyphs = self.words = None
        self.tables = []
        self.glyph_rows = None


def open_pdf(path: str, data: bytes, password: str | None) -> pdfium.PdfDocument | None:
    """Open with pdfium, turning its error codes into the reader's one-line errors.

    Returns None when pdfium cannot parse the file (the caller tries pdfplumber's parser).
    """
    try:
        return pdfium.PdfDocument(data, password=password)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Encrypted(path, "wrong password" if password else "") from None
        return None


def read_with_plumber(path: str, data: bytes, password: str | None) -> tuple[list[PageData], dict, list[str]]:
    """Fallback for files pdfium rejects: pdfminer's more lenient parser, page by page."""
    import pdfplumber

    pages: list[PageData] = []
    warnings = ["pdfium could not open the file; read with pdfplumber's parser"]
    try:
        with pdfplumber.open(io.BytesIO(data), password=password or "") as pdf:
            info = {k: v for k, v in (pdf.metadata or {}).items() if isinstance(v, str)}
            for i, page in enumerate(pdf.pages):
                try:
                    glyphs = glyphs_from_plumber(page)
                    words = make_words(glyphs)
                    tables = find_tables(words, list(page.edges), page.width, page.height) if len(words) else []
                    flow = np.ones(len(words), bool)
                    for t in tables:
                        flow[t.words] = False
                    pages.append(PageData(i + 1, page.width, page.height, glyphs, words, tables, flow))
                except Exception as exc:  # noqa: BLE001 - keep the pages that can be read
                    warnings.append(f"page {i + 1}: unreadable ({type(exc).__name__})")
                finally:
                    page.close()
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many types on broken files
        if pages:
            warnings.append(f"stopped after page {len(pages)}: {type(exc).__name__}")
        else:
            raise Corrupt(path, f"neither pdfium nor pdfminer can parse it: {type(exc).__name__}") from None
    return pages, info, warnings


def read_page(pdf: pdfium.PdfDocument, i: int) -> PageData:
    page = pdf[i]
    try:
        # characters come in the page's user space: flip y about the media box top, and size
        # the page by its unrotated media box (a /Rotate entry does not move the characters)
        x0, y0, x1, top = page.get_mediabox()
        width, height = x1 - x0, top - y0
        # the rules first, while the page's objects pdfium just parsed are still in the CPU
        # cache (read after the text, they cost a fifth more)
        edges = page_edges(page, top)
        textpage = page.get_textpage()
        try:
            glyphs = load_glyphs(textpage, top)
        finally:
            textpage.close()
        words = make_words(glyphs)
        tables = find_tables(words, edges, width, height) if len(words) else []
    finally:
        page.close()
    flow = np.ones(len(words), bool)
    for t in tables:
        flow[t.words] = False
    return PageData(i + 1, width, height, glyphs, words, tables, flow)


