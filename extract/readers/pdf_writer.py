"""Writing laid-out lines and tables into the document text, one box per character.

Superscripts (affiliation and citation marks such as "Miano1*", "(n = 13)2") are written
with a caret before them, "Miano^1*", "(n = 13)^2", so a number pattern can never glue them
to the text they follow; their spans (without the caret) are collected in
``Writer.superscripts``. Line-end hyphens are rejoined by :mod:`extract.layout.hyphen`.
"""
from __future__ import annotations

import numpy as np

from ..document import Cell
from ..layout.builder import PageWords, TextBuilder
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
        self.pending_space = False  # a space is owed before the next word (multi-line cells)
        self._pd: PageData | None = None  # the page whose words self._forms are
        self._forms: list[str] = []
        self._text: list[str] = []
        self._sup: list[bool] = []

    @property
    def superscripts(self) -> list[tuple[int, int]]:
        """``(start, end)`` of each superscript written (complete once the text is built)."""
        return self.out.superscripts

    def _page(self, pd_: PageData) -> None:
        """Start writing the words of ``pd_``: its arrays for the builder, and each word as
        written after another of its run ("^" before a superscript, a space unless glued)."""
        w = pd_.words
        prefixed = w.sup | ~w.glue
        self.out.set_page(PageWords(pd_.glyphs.box, w.start, w.end, prefixed, w.sup))
        pd_.glyph_rows = self.out.page
        self._pd = pd_
        self._text = w.text
        self._sup = sup = w.sup.tolist()
        glue = w.glue.tolist()
        self._forms = [SUP_MARK + t if s else t if g else " " + t for t, s, g in zip(w.text, sup, glue)]

    def words(self, pd_: PageData, ids: list[int], drop_last: bool = False) -> str:
        """Write a run of words of one line (spaces and carets inserted); returns the text."""
        if not ids:
            self.pending_space = False
            return ""
        if pd_ is not self._pd or pd_.glyph_rows is not self.out.page:
            self._page(pd_)
        joined, pre = self._run(ids, self.pending_space)
        if drop_last:
            joined = joined[:-1]
        self.pending_space = False
        self.out.put_words(joined, ids, pre, drop_last)
        return joined

    def _run(self, ids: list[int], spaced: bool) -> tuple[str, int]:
        """The text of a run of words of the current page, and whether its first word is
        prefixed (a caret before a superscript, else a space if ``spaced``)."""
        first = ids[0]
        if self._sup[first]:
            head, pre = SUP_MARK, 1
        elif spaced:
            head, pre = " ", 1
        else:
            head, pre = "", 0
        if len(ids) == 1:
            return head + self._text[first], pre
        forms = self._forms
        return head + self._text[first] + "".join([forms[i] for i in ids[1:]]), pre

    def line(self, pd_: PageData, items: np.ndarray, nxt: tuple[PageData, np.ndarray] | None) -> None:
        """One line of words; the line break is written unless a hyphenated word continues."""
        ids = items.tolist()
        last = ids[-1]
        if pd_ is not self._pd or pd_.glyph_rows is not self.out.page:
            self._page(pd_)
        decision = None
        if nxt is not None and breaks_at_end(self._text[last]) and not self._sup[last]:
            npd, nitems = nxt
            head = " ".join(npd.words.text[i] for i in nitems[:2].tolist())
            if not CAPTION.match(head):  # a float's caption interrupts the text: leave the break
                decision = keep_hyphen(self._text[last], npd.words.text[int(nitems[0])], self.vocab)
        joined, pre = self._run(ids, self.pending_space)
        self.pending_space = False
        if decision is None:
            self.out.put_words(joined + "\n", ids, pre, False, newline=True)
        else:
            self.out.put_words(joined[:-1] if decision is False else joined, ids, pre, decision is False)

    def table(self, pd_: PageData, pt: PageTable) -> tuple[list[list[str | None]], list[Cell], int, int]:
        """Rows as tab-separated lines; multi-line cells joined with a space."""
        out = self.out
        if out.pos and out.last_char() != "\n":
            out.put("\n")
        if pd_ is not self._pd or pd_.glyph_rows is not out.page:
            self._page(pd_)
        start = pos = out.pos
        sentinel = out.page.sentinel
        pieces: list[str] = []
        seq: list[int] = []
        firsts: list[int] = []
        pres: list[int] = []
        rows: list[list[str | None]] = []
        cells: list[Cell] = []
        for r, row in enumerate(pt.rows):
            texts: list[str | None] = []
            for c, cell in enumerate(row):
                if c:
                    pieces.append("\t")
                    seq.append(sentinel)
                    pos += 1
                if cell is None:
                    texts.append(None)
                    continue
                parts = []
                for k, ln in enumerate(cell):  # lines after the first: a space before
                    ids = ln.tolist()
                    if not ids:
                        continue
                    text, pre = self._run(ids, k > 0)
                    firsts.append(len(seq))
                    pres.append(pre)
                    seq.extend(ids)
                    parts.append(text)
                text = "".join(parts)
                texts.append(text)
                pieces.append(text)
                cells.append(Cell(r, c, text, pos, pos + len(text)))
                pos += len(text)
            pieces.append("\n")
            seq.append(sentinel)
            pos += 1
            rows.append(texts)
        out.put_runs("".join(pieces), seq, firsts, pres)
        self.pending_space = False
        return rows, cells, start, pos
