"""Glyphs grouped into words, with superscripts split off and flagged.

Vectorised with numpy: a page has thousands of glyphs and the reader must stay near
100 pages/s. A glyph starts a new word where the PDF had a space, where the pen moves back
or off the current line, where the horizontal gap is wider than a share of the line
height (``WORD_GAP``), or where a superscript run starts or ends (so "Miano1*" becomes "Miano" + sup "1*").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .glyphs import Glyphs

# pdfium does not always report the space between two words of a tightly justified line;
# letters within a word sit 0–0.5 pt apart, so a gap above this share of the line height
# (about 1.4 pt in 9.5 pt type) separates words.
WORD_GAP = 0.15


@dataclass
class Words:
    """Words of one page. ``start``/``end`` index into the page's glyph arrays."""

    text: list[str]
    start: np.ndarray
    end: np.ndarray
    box: np.ndarray  # (m, 4): x0, top, x1, bottom
    sup: np.ndarray  # superscript run (citation / affiliation mark)
    glue: np.ndarray  # follows the previous word with no space (split only by sup change)

    def __len__(self) -> int:
        return len(self.text)


def _empty() -> Words:
    z = np.zeros(0, int)
    return Words([], z, z, np.zeros((0, 4)), np.zeros(0, bool), np.zeros(0, bool))


def make_words(g: Glyphs) -> Words:
    """Group a page's glyphs into words (see module doc for the rules)."""
    n = len(g)
    if n == 0:
        return _empty()
    x0, top, x1, bot = np.ascontiguousarray(g.box.T)  # contiguous columns: faster elementwise ops
    h = np.maximum(bot - top, 1e-3)
    new_line = np.ones(n, bool)
    new_line[1:] = (x0[1:] < x0[:-1] - 1.0) | (top[1:] >= bot[:-1]) | (bot[1:] <= top[:-1])
    starts = np.flatnonzero(new_line)
    line_id = np.cumsum(new_line) - 1
    ref_h = np.maximum.reduceat(h, starts)[line_id]
    ref_bot = np.maximum.reduceat(bot, starts)[line_id]
    sup = (h < 0.85 * ref_h) & (bot < ref_bot - 0.2 * ref_h)
    gap = np.zeros(n)
    gap[1:] = x0[1:] - x1[:-1]
    spaced = new_line | g.space_before | (gap > WORD_GAP * ref_h)
    sup_change = np.zeros(n, bool)
    sup_change[1:] = sup[1:] != sup[:-1]
    new_word = spaced | sup_change
    ws = np.flatnonzero(new_word)
    we = np.append(ws[1:], n)
    box = np.hstack([np.minimum.reduceat(g.box[:, :2], ws), np.maximum.reduceat(g.box[:, 2:], ws)])
    page = g.string
    if page is not None and len(page) == n:  # one character per glyph: cut words from the string
        text = _cut(page, ws)
    else:
        chars = g.chars
        text = ["".join(chars[a:b]) for a, b in zip(ws.tolist(), we.tolist())]
    return Words(text, ws, we, box, sup[ws].copy(), ~spaced[ws])


def _cut(page: str, starts: np.ndarray) -> list[str]:
    """``page`` cut at ``starts`` (the first is 0): a NUL put before each word start, then one
    ``split`` in C instead of a slice per word. Glyph strings hold printable characters only
    (see :func:`.glyphs.load_glyphs`), never a NUL."""
    if "\x00" in page:  # (never from load_glyphs; kept exact for any other caller)
        return [page[a:b] for a, b in zip(starts.tolist(), [*starts[1:].tolist(), len(page)])]
    codes = np.frombuffer(page.encode("utf-32-le", "surrogatepass"), np.uint32)
    shift = np.zeros(len(codes), np.intp)
    shift[starts[1:]] = 1
    spread = np.zeros(len(codes) + len(starts) - 1, np.uint32)  # zeros: the NULs
    spread[np.arange(len(codes)) + np.cumsum(shift)] = codes
    return spread.tobytes().decode("utf-32-le", "surrogatepass").split("\x00")
