"""Text with a box per character, built piece by piece in reading order.

The PDF reader writes whole blocks of lines (or a table) at a time. Each character's box
is a row of the page's glyph array (or NaN for a character the writer inserted: a space, a
caret, a line break, a tab), so instead of a list entry per character the builder records,
per page, the sequence of words written (a list ``extend`` per block); the rows of all
their characters are computed with numpy when the page is done.
"""
from __future__ import annotations

import numpy as np

_NAN4 = np.full((1, 4), np.nan)


class PageWords:
    """The arrays of one page that :meth:`TextBuilder.put_runs` draws from.

    ``start``/``end``: each word's glyph rows; ``prefixed``: whether the word is written
    with one inserted character before it (a caret or a space) when it is not the first
    of a run; ``sup``: superscript words (their spans are recorded). A sentinel entry
    (index ``len(start)``) stands for an inserted character.
    """

    def __init__(self, boxes: np.ndarray, start: np.ndarray, end: np.ndarray,
                 prefixed: np.ndarray, sup: np.ndarray) -> None:
        self.src = np.vstack([boxes, _NAN4])  # row -1: the NaN box of inserted characters
        self.start = np.append(start, 0).astype(np.intp)
        self.end = np.append(end, 0).astype(np.intp)
        self.prefixed = np.append(prefixed, True).astype(np.intp)
        self.sup = np.append(sup, False).astype(bool)
        self.sentinel = len(start)


_NO_PAGE = PageWords(np.zeros((0, 4)), np.zeros(0, np.intp), np.zeros(0, np.intp),
                     np.zeros(0, bool), np.zeros(0, bool))


class TextBuilder:
    """Accumulates text and its ``(len, 4)`` boxes; inserted text gets NaN boxes.

    Superscript spans (the characters of ``sup`` words, without their caret) are
    collected in ``superscripts`` as ``(start, end)`` pairs, complete after :meth:`flush`.
    """

    def __init__(self) -> None:
        self._text: list[str] = []
        self._boxes: list[np.ndarray] = []
        self.superscripts: list[tuple[int, int]] = []
        self.pos = 0
        self._page = _NO_PAGE
        self._start = 0  # text position where the pending pieces start
        self._pt: list[str] = []  # pending text pieces
        # pending words (page indices; the sentinel for an inserted char), in chunks (lists or
        # arrays: a page's words become one array at flush, without a Python int per word)
        self._seq: list[list[int] | np.ndarray] = []
        self._n = 0  # how many words the chunks hold
        self._first: list[int] = []  # positions in _seq of each run's first word ...
        self._first_pre: list[int] = []  # ... and whether it is prefixed there
        self._drop: list[int] = []  # positions in _seq of words written without their last char

    @property
    def page(self) -> PageWords:
        return self._page

    def set_page(self, page: PageWords) -> None:
        """Words given to :meth:`put_runs` are of this page from now on."""
        self.flush()
        self._page = page

    def put_runs(self, text: str, ids: list[int] | np.ndarray, firsts: list[int], first_prefixed: list[int],
                 drops: list[int] | None = None) -> None:
        """Append ``text``: runs of words of the current page, ``ids`` their words one after
        another (the page's sentinel for each inserted character), ``firsts`` the position in
        ``ids`` of each run's first word and ``first_prefixed`` (0/1) whether it is written
        with one inserted character before it (each other word: if its ``prefixed`` flag
        says so); ``drops``: positions in ``ids`` of words written without their last
        character. ``text`` must be exactly those characters (checked at :meth:`flush`)."""
        base = self._n
        self._first.extend([base + k for k in firsts] if base else firsts)
        self._first_pre.extend(first_prefixed)
        if drops:
            self._drop.extend([base + k for k in drops])
        if len(ids):
            self._seq.append(ids)
            self._n += len(ids)
        if text:
            self._pt.append(text)
            self.pos += len(text)

    def put(self, text: str) -> None:
        """Append inserted characters (NaN boxes)."""
        if text:
            self._seq.append([self._page.sentinel] * len(text))
            self._n += len(text)
            self._pt.append(text)
            self.pos += len(text)

    def flush(self) -> None:
        if not self._pt and not self._seq:
            return
        page = self._page
        seq = np.concatenate(self._seq).astype(np.intp, copy=False) if self._seq else np.zeros(0, np.intp)
        pre = page.prefixed[seq]
        pre[self._first] = self._first_pre
        s = page.start[seq]
        e = page.end[seq]
        if self._drop:
            e[self._drop] -= 1
        lens = pre + (e - s)
        text = "".join(self._pt)
        total = int(lens.sum())
        if total != len(text):
            raise ValueError(f"{len(text)} characters but {total} box rows")
        offsets = np.cumsum(lens) - lens
        rows = np.repeat(s - pre - offsets, lens) + np.arange(total)
        rows[offsets[pre.astype(bool)]] = -1
        self._text.append(text)
        self._boxes.append(page.src[rows])
        sup = np.flatnonzero(page.sup[seq])
        if len(sup):  # a superscript is always prefixed (by its caret)
            a = self._start + offsets[sup] + 1
            self.superscripts.extend(zip(a.tolist(), (a + (e[sup] - s[sup])).tolist()))
        self._start = self.pos
        self._pt, self._seq, self._first, self._first_pre, self._drop = [], [], [], [], []
        self._n = 0

    def last_char(self) -> str:
        for piece in reversed(self._pt):
            return piece[-1]  # pending pieces are never empty
        for piece in reversed(self._text):
            if piece:
                return piece[-1]
        return ""

    def build(self) -> tuple[str, np.ndarray]:
        self.flush()
        text = "".join(self._text)
        boxes = np.concatenate(self._boxes) if self._boxes else np.zeros((0, 4))
        return text, boxes
