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
from ..layout.hyphen import HYPHENS, breaks_at_end, keep_hyphen
from ..layout.tables import PageTable
from .pdf_pages import PageData
from .pdf_post import CAPTION

SUP_MARK = "^"


def line_text(pd_: PageData, items: np.ndarray) -> str:
    return " ".join(pd_.words.text[i] for i in items.tolist())


class Writer:
    """Writes lines and tables into a TextBuilder, rejoining line-end hyphens."""

    def __init__(self, vocab: set[str]) -> None:
        self.out = TextBuilder()
        self.vocab = vocab
        self._pd: PageData | None = None  # the page whose words self._forms are
        self._forms: list[str] = []
        self._text: list[str] = []
        self._sup: list[bool] = []

    @property
    def superscripts(self) -> list[tuple[int, int]]:
        """``(start, end)`` of each superscript written (complete once the text is built)."""
        return self.out.superscripts

    def _page(self, pd_: PageData) -> None:
        """Start writing the words of ``pd_`` (unless they are the current ones): its arrays
        for the builder, and each word as written after another of its run ("^" before a
        superscript, nothing before a glued word, else a space)."""
        if pd_ is self._pd and pd_.glyph_rows is self.out.page:
            return
        w = pd_.words
        prefixed = w.sup | ~w.glue
        self.out.set_page(PageWords(pd_.glyphs.box, w.start, w.end, prefixed, w.sup))
        pd_.glyph_rows = self.out.page
        self._pd = pd_
        self._text = text = w.text
        self._sup = w.sup.tolist()
        forms = list(map(" ".__add__, text))  # most words: a space before (the rest are few)
        for i in np.flatnonzero(w.glue).tolist():
            forms[i] = text[i]
        for i in np.flatnonzero(w.sup).tolist():
            forms[i] = SUP_MARK + text[i]
        self._forms = forms

    def lines(self, pd_: PageData, lines: list[np.ndarray], seq: list[tuple[PageData, np.ndarray] | None],
              k: int) -> int:
        """The lines of one block of ``pd_``, each ended by a line break unless a hyphenated
        word continues on the next line. ``seq`` is the document's flat sequence of lines
        (``(page, line)``, None for a table) and ``seq[k]`` this block's first (non-empty)
        line; returns the index in ``seq`` after the block's last line.

        The block goes to the builder in one call: a call per line cost more than its words.
        """
        if not lines:
            return k
        self._page(pd_)
        text, sup, forms = self._text, self._sup, self._forms
        newline = np.array([self.out.page.sentinel], np.intp)
        pieces: list[str] = []
        chunks: list[np.ndarray] = []  # the lines' word arrays (and line breaks), joined once
        n = 0  # words in chunks
        firsts: list[int] = []
        pres: list[int] = []
        drops: list[int] = []
        for ln in lines:
            ids = ln.tolist()
            if not ids:
                continue
            k += 1  # seq[k]: the line after this one
            first = ids[0]
            firsts.append(n)
            chunks.append(ln)
            n += len(ids)
            if sup[first]:
                pieces.append(SUP_MARK + text[first])
                pres.append(1)
            else:
                pieces.append(text[first])
                pres.append(0)
            if len(ids) > 1:
                pieces += [forms[i] for i in ids[1:]]
            last = ids[-1]
            decision = None
            if text[last][-1] in HYPHENS:  # (most lines end otherwise: no call)
                decision = self._hyphen(last, seq[k] if k < len(seq) else None)
            if decision is None:
                pieces.append("\n")
                chunks.append(newline)
                n += 1
            elif decision is False:  # the hyphen goes: the word continues on the next line
                pieces[-1] = pieces[-1][:-1]
                drops.append(n - 1)
        if chunks:
            self.out.put_runs("".join(pieces), np.concatenate(chunks), firsts, pres, drops)
        return k

    def _hyphen(self, last: int, nxt: tuple[PageData, np.ndarray] | None) -> bool | None:
        """How a line ending in word ``last`` of the current page meets the line ``nxt``:
        :func:`keep_hyphen`'s decision, or None to leave the line break."""
        word = self._text[last]
        if nxt is None or not breaks_at_end(word) or self._sup[last]:
            return None
        npd, nitems = nxt
        if CAPTION.match(" ".join(npd.words.text[i] for i in nitems[:2].tolist())):
            return None  # a float's caption interrupts the text: leave the break
        return keep_hyphen(word, npd.words.text[int(nitems[0])], self.vocab)

    def table(self, pd_: PageData, pt: PageTable) -> tuple[list[list[str | None]], list[Cell], int, int]:
        """Rows as tab-separated lines; multi-line cells joined with a space."""
        out = self.out
        if out.pos and out.last_char() != "\n":
            out.put("\n")
        self._page(pd_)
        start = pos = out.pos
        sentinel = out.page.sentinel
        words, sup, forms = self._text, self._sup, self._forms
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
                    firsts.append(len(seq))
                    seq += ids
                    first = ids[0]
                    if sup[first]:  # (most cells are one word: no call per line)
                        parts.append(SUP_MARK + words[first])
                        pres.append(1)
                    elif k:
                        parts.append(" " + words[first])
                        pres.append(1)
                    else:
                        parts.append(words[first])
                        pres.append(0)
                    if len(ids) > 1:
                        parts += [forms[i] for i in ids[1:]]
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
        return rows, cells, start, pos
