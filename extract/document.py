"""The Document: one paper as text in reading order, with a way back to where each character stands.

Every number litmeta extracts must carry its proof, so every reader (PDF, HTML, text, JATS)
produces the same plain object model, in the spirit of pdfplumber's pages → words → tables:

- ``doc.text``: the whole paper in reading order (running heads/feet removed, hyphenation
  rejoined, ligatures expanded). Tables are part of ``doc.text`` too, written as tab-separated
  lines where they stand, so a table cell is quotable like any sentence.
- ``doc.pages``: the pages, each with the ``[start, end)`` range of ``doc.text`` it covers
  (one page for non-paginated inputs) and its running head/foot kept as metadata.
- ``doc.boxes``: for PDFs, an ``(len(text), 4)`` float array of ``x0, top, x1, bottom`` per
  character (NaN for characters the reader inserted, such as a joining space).
- ``doc.elements``: for markup inputs, ``(start, end, path)`` spans naming the element a
  character came from (``body/sec[2]/p[3]``).
- ``doc.sections``, ``doc.tables``, ``doc.metadata``.

Offsets are Python string indices into ``doc.text``; ``doc.quote(start, end)`` is exactly
``doc.text[start:end]``. A quote is verifiable when that slice equals the stored quote.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Page:
    """One page: the slice of ``Document.text`` it covers, its size and its running head/foot."""

    number: int  # 1-based
    start: int
    end: int
    width: float | None = None
    height: float | None = None
    header: str = ""
    footer: str = ""


@dataclass
class Section:
    """A recognisable part of the paper.

    ``name`` is normalised (``title``, ``abstract``, ``introduction``, ``methods``,
    ``results``, ``discussion``, ``conclusion``, ``tables``, ``references``, ``other``);
    ``heading`` is the heading as printed.
    """

    name: str
    heading: str
    start: int
    end: int


@dataclass
class Cell:
    """One table cell and where its text stands in ``Document.text`` (empty cells: start == end)."""

    row: int
    col: int
    text: str
    start: int
    end: int


@dataclass
class Table:
    """A results table.

    ``frame`` holds the body rows with the header as column labels; grouped sub-header rows
    (a merged row such as "Global cohort" or "Treatment") are not body rows but become the
    ``group`` column (levels joined with " / "). ``cells`` maps every body and header cell
    (row index into ``header_rows + body``) to its offsets in ``Document.text``.
    """

    label: str  # "Table 3"
    caption: str
    frame: pd.DataFrame
    page: int | None
    start: int
    end: int
    header: list[list[str]] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    footnotes: str = ""

    def __getattr__(self, name: str) -> Any:
        """A field a loader deferred, built on first access and then kept as a plain attribute.

        Why: the document cache (:mod:`extract.cache`) loads a table without building its
        DataFrame and cells, which cost more to rebuild than the rest of a cached Document;
        they are built only if someone reads ``frame`` / ``cells``. Only called for names not
        already set, so a parsed table (every field set) never comes here.
        """
        deferred = self.__dict__.get("_deferred")
        if deferred is not None and name in deferred:
            return self.__dict__.setdefault(name, deferred[name]())
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def cell(self, row: int, col: int) -> Cell | None:
        for c in self.cells:
            if c.row == row and c.col == col:
                return c
        return None


@dataclass
class Metadata:
    """Bibliographic facts the document states about itself (PDF info, meta tags, JATS front)."""

    title: str = ""
    authors: list[str] = field(default_factory=list)
    journal: str = ""
    year: int | None = None
    doi: str = ""
    pmid: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Document:
    source: str  # file name as given
    kind: str  # "pdf", "html", "text", "markdown", "jats"
    text: str
    pages: list[Page]
    tables: list[Table] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    metadata: Metadata = field(default_factory=Metadata)
    boxes: np.ndarray | None = None
    elements: list[tuple[int, int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sha256: str = ""

    def __post_init__(self) -> None:
        self._page_starts = [p.start for p in self.pages]

    # --- locating -------------------------------------------------------------------------
    def quote(self, start: int, end: int) -> str:
        return self.text[start:end]

    def page_of(self, offset: int) -> int:
        """1-based page number holding the character at ``offset``."""
        if not self.pages:
            return 1
        if not hasattr(self, "_page_starts") or len(self._page_starts) != len(self.pages):
            self._page_starts = [p.start for p in self.pages]
        i = bisect.bisect_right(self._page_starts, offset) - 1
        return self.pages[max(i, 0)].number

    def bbox(self, start: int, end: int) -> tuple[float, float, float, float] | None:
        """Union box (x0, top, x1, bottom) of the characters in ``[start, end)`` on the page of ``start``."""
        if self.boxes is None or end <= start:
            return None
        page = self.page_of(start)
        pg = next(p for p in self.pages if p.number == page)
        sub = self.boxes[start:min(end, pg.end)]
        sub = sub[~np.isnan(sub).any(axis=1)] if len(sub) else sub
        if not len(sub):
            return None
        return (float(sub[:, 0].min()), float(sub[:, 1].min()), float(sub[:, 2].max()), float(sub[:, 3].max()))

    def element_of(self, offset: int) -> str | None:
        for s, e, path in self.elements:
            if s <= offset < e:
                return path
        return None

    def section_of(self, offset: int) -> str | None:
        best = None
        for s in self.sections:
            if s.start <= offset < s.end and (best is None or s.start >= best.start):
                best = s
        return best.name if best else None

    def evidence(self, start: int, end: int) -> dict[str, Any]:
        """The proof of a value: its quote and where it stands (Contract 1's evidence item)."""
        return {"quote": self.text[start:end], "page": self.page_of(start), "start": start, "end": end}

    def iter_sections(self, *names: str) -> Iterator[Section]:
        for s in self.sections:
            if not names or s.name in names:
                yield s

    @property
    def n_pages(self) -> int:
        return len(self.pages)
