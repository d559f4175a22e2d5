"""Writing laid-out lines and tables into the document text, one box per character.

Superscripts (affiliation and citation marks such as "Miano1*", "(n = 13)2") are written
with a caret before them, "Miano^1*", "(n = 13)^2", so a number pattern can never glue them
to the text they follow; their spans (without the caret) are collected in
``Writer.superscripts``. Line-end hyphens are rejoined by :mod:`extract.layout.hyphen`.
"""
from __future__ import annotations

import numpy as np

from ..document import Cell
from ..layout.builder import TextBuilder
from ..layout.hyphen import breaks_at_end, keep_hyphen
from ..layout.tables import PageTable
from .pdf_pages import PageData
from .pdf_post import CAPTION

SUP_MARK = "^"


def line_text(pd_: PageData, items: np.ndarray) -> str:
    return " ".join(pd_.words.text[i] for i in items.tolist())


class Writer:
    """Writes words, lines and tables into a TextBuilder, rejoining line-end hyphens."""

    def __init__(self, vocab: set[str]) -> None:
        self.out = TextBuilder()
        self.vocab = vocab
        self.superscripts: list[tuple[int, int]] = []
        self.pending_space = False  # a space is owed before the next word (multi-line cells)
        self._lists_of: object = None  # the Words whose arrays self._lists holds
        self._lists: tuple[list, list, list, list] = ([], [], [], [])

    def words(self, pd_: PageData, ids: list[int], drop_last: bool = False) -> str:
        """Write a run of words of one line (spaces and carets inserted); returns the text."""
        w = pd_.words
        out = self.out
        if out._src is not pd_.glyph_rows:
            out.set_source(pd_.glyphs.box)
            pd_.glyph_rows = out._src
        texts: list[str] = []
        rows: list[int] = []
        pos = out.pos
        last = len(ids) - 1
        if self._lists_of is not w:  # the page's word arrays as lists, once per page
            self._lists = (w.start.tolist(), w.end.tolist(), w.sup.tolist(), w.glue.tolist())
            self._lists_of = w
        starts, ends, sup, glue = self._lists
        wtext, sups = w.text, self.superscripts
        for k, i in enumerate(ids):
            text = wtext[i]
            s, e = starts[i], ends[i]
            if drop_last and k == last:
                text, e = text[:-1], e - 1
            if sup[i]:
                texts.append(SUP_MARK)
                rows.append(-1)
                pos += 1
                sups.append((pos, pos + len(text)))
            elif (k and not glue[i]) or (k == 0 and self.pending_space):
                texts.append(" ")
                rows.append(-1)
                pos += 1
            texts.append(text)
            rows.extend(range(s, e))
            pos += len(text)
        self.pending_space = False
        joined = "".join(texts)
        out.put(joined, rows)
        return joined

    def line(self, pd_: PageData, items: np.ndarray, nxt: tuple[PageData, np.ndarray] | None) -> None:
        """One line of words; the line break is written unless a hyphenated word continues."""
        ids = items.tolist()
        last = ids[-1]
        decision = None
        if nxt is not None and not pd_.words.sup[last] and breaks_at_end(pd_.words.text[last]):
            npd, nitems = nxt
            head = " ".join(npd.words.text[i] for i in nitems[:2].tolist())
            if not CAPTION.match(head):  # a float's caption interrupts the text: leave the break
                decision = keep_hyphen(pd_.words.text[last], npd.words.text[int(nitems[0])], self.vocab)
        self.words(pd_, ids, drop_last=decision is False)
        if decision is None:
            self.out.put("\n", [-1])

    def table(self, pd_: PageData, pt: PageTable) -> tuple[list[list[str | None]], list[Cell], int, int]:
        """Rows as tab-separated lines; multi-line cells joined with a space."""
        if self.out.pos and self.out.last_char() != "\n":
            self.out.put("\n", [-1])
        start = self.out.pos
        rows: list[list[str | None]] = []
        cells: list[Cell] = []
        for r, row in enumerate(pt.rows):
            texts: list[str | None] = []
            for c, cell in enumerate(row):
                if c:
                    self.out.put("\t", [-1])
                if cell is None:
                    texts.append(None)
                    continue
                cs, parts = self.out.pos, []
                for k, ln in enumerate(cell):
                    self.pending_space = k > 0
                    parts.append(self.words(pd_, ln.tolist()))
                texts.append("".join(parts))
                cells.append(Cell(r, c, texts[-1], cs, self.out.pos))
            self.out.put("\n", [-1])
            rows.append(texts)
        return rows, cells, start, self.out.pos


