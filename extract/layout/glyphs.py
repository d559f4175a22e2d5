"""Per-character text and boxes of one PDF page, read with pdfium (fast: one C call per glyph, looped in C).

pdfplumber (pdfminer) parses a page in ~0.1–0.2 s; pdfium gives the same characters with
their boxes in a few milliseconds, so the text flow is built from pdfium and pdfplumber is
kept for the table-finding algorithm only.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pypdfium2.raw as pdfium_c

from .rawpdfium import loose_char_boxes

# pdfium reports a hyphen it judges to be a line-end break as U+FFFE (code 2): it is a "-" in the PDF.
_PDFIUM_HYPHEN = ("\ufffe", "\x02")
# Ligature glyphs that pdfium may still hand over as one code point; NFKC gives the letters.
_LIGATURES = {chr(c) for c in range(0xFB00, 0xFB07)}


@dataclass
class Glyphs:
    """The visible characters of a page in content-stream order.

    ``chars[i]`` is one output letter; ``box[i]`` is its ``x0, top, x1, bottom`` in
    pdfplumber's convention (origin top-left, points). ``space_before[i]`` says the PDF put
    a space (real or pdfium-generated) between glyph ``i - 1`` and glyph ``i``.
    """

    chars: list[str]
    box: np.ndarray  # (n, 4) float64
    space_before: np.ndarray  # (n,) bool
    string: str | None = None  # "".join(chars) when known (so words are cut from it)

    def __len__(self) -> int:
        return len(self.chars)


def load_glyphs(textpage, page_top: float) -> Glyphs:
    """Read every visible character of a pdfium text page with its loose box."""
    n = textpage.count_chars()
    if n <= 0:
        return Glyphs([], np.zeros((0, 4)), np.zeros(0, bool))
    raw_page = textpage.raw
    text = textpage.get_text_range(0, n)
    if len(text) != n:  # surrogate pairs or other misalignment: ask char by char
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(raw_page, i) or 0xFFFD) for i in range(n))
    for code in _PDFIUM_HYPHEN:
        text = text.replace(code, "-")
    # isprintable() is False for controls, format, private-use, unassigned and separators;
    # asked once per distinct character, then applied to the whole page with numpy
    distinct = set(text)
    hidden = [ord(c) for c in distinct if c == " " or not c.isprintable()]
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if len(hidden) > 8:
        keep = ~np.isin(codes, hidden)
    else:  # usually a handful: one comparison each is cheaper than np.isin
        keep = np.ones(len(codes), bool)
        for code in hidden:
            keep &= codes != code
    ia = np.flatnonzero(keep)
    out = loose_char_boxes(raw_page, ia)
    # PDF y grows upwards; flip to distances from the top of the page
    box = np.empty_like(out)
    box[:, 0] = out[:, 0]
    box[:, 2] = out[:, 2]
    box[:, 1] = page_top - out[:, 1]
    box[:, 3] = page_top - out[:, 3]
    space_before = np.zeros(len(ia), bool)
    if len(ia) > 1:
        space_before[1:] = np.diff(ia) > 1
    kept = codes[ia].tobytes().decode("utf-32-le", "surrogatepass")  # the kept characters, in order
    chars = list(kept)
    if not _LIGATURES.isdisjoint(distinct):
        chars, box, space_before = _expand_ligatures(chars, box, space_before)
        return Glyphs(chars, box, space_before)
    return Glyphs(chars, box, space_before, kept)


def _expand_ligatures(chars: list[str], box: np.ndarray, space_before: np.ndarray):
    """Replace each ligature glyph by its letters, repeating the glyph's box for each letter."""
    out_chars: list[str] = []
    rows: list[int] = []
    firsts: list[bool] = []
    for i, c in enumerate(chars):
        letters = unicodedata.normalize("NFKC", c) if c in _LIGATURES else c
        for j, letter in enumerate(letters):
            out_chars.append(letter)
            rows.append(i)
            firsts.append(j == 0)
    rows_a = np.asarray(rows)
    sb = space_before[rows_a] & np.asarray(firsts)
    return out_chars, box[rows_a], sb


def glyphs_from_plumber(page) -> Glyphs:
    """The same glyph arrays from a pdfplumber page (the fallback when pdfium cannot open a file).

    A pdfplumber char may hold several letters (a ligature glyph): each letter gets its box.
    """
    chars: list[str] = []
    rows: list[tuple[float, float, float, float]] = []
    spaced: list[bool] = []
    gap = False
    for ch in page.chars:
        text = unicodedata.normalize("NFKC", ch["text"]) if ch["text"] in _LIGATURES else ch["text"]
        if not text or text.isspace():
            gap = True
            continue
        for k, letter in enumerate(text):
            if letter.isspace() or not letter.isprintable():
                continue
            chars.append(letter)
            rows.append((ch["x0"], ch["top"], ch["x1"], ch["bottom"]))
            spaced.append(gap and k == 0)
        gap = False
    box = np.array(rows, dtype=float).reshape(-1, 4)
    return Glyphs(chars, box, np.array(spaced, dtype=bool))
