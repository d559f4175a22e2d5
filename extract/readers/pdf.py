"""PDF papers: text in reading order with a box per character, tables, running heads apart.

pdfium (pypdfium2) reads the characters and their boxes in milliseconds per page; layout
analysis (words, superscripts, XY-cut columns, running heads and feet, hyphenation) runs on
numpy arrays; pdfplumber's table finder runs only on pages whose rules can form a table,
fed with the same words. See ``extract/layout`` for each step; ``pdf_pages`` reads pages,
``pdf_writer`` writes the text, ``pdf_post`` finds captions, footnotes and the title.

Superscripts (affiliation and citation marks such as "Miano1*", "(n = 13)2") are written
with a caret before them, "Miano^1*", "(n = 13)^2", so a number pattern can never glue them
to the text they follow; their spans (without the caret) are listed in
``doc.metadata.extra["superscripts"]`` as ``(start, end)`` pairs.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..document import Document, Page, Table
from ..errors import Corrupt, EmptyFile, NoTextLayer
from ..layout.hyphen import breaks_at_end, vocab_key
from ..layout.pdfmeta import read_metadata
from ..layout.running import find_running
from ..layout.stats import median
from ..layout.tablemodel import frame_of, row_kinds
from ..layout.tables import PageTable
from ..layout.xycut import lines_of, xycut
from .pdf_pages import PageData, open_pdf, read_page, read_with_plumber
from .pdf_post import CAPTION, find_caption, find_footnotes, title_by_size
from .pdf_writer import SUP_MARK, Writer, line_text

__all__ = ["SUP_MARK", "read_pdf"]


def read_pdf(path: str | Path, data: bytes, password: str | None = None) -> Document:
    """Read a PDF paper into a :class:`Document` (see module doc)."""
    name = str(path)
    if not data or not data.strip():
        raise EmptyFile(name)
    pdf = open_pdf(name, data, password)
    if pdf is None:
        try:
            pages, info, warnings = read_with_plumber(name, data, password)
        except Corrupt as exc:  # page tree or fonts lost (a cut download): what the content streams hold
            from .pdf_salvage import salvage_document  # (imported only for such files)
            return salvage_document(name, data, exc)
    else:
        warnings = []
        try:
            pages = []
            for i in range(len(pdf)):
                try:
                    pages.append(read_page(pdf, i))
                except Exception as exc:  # noqa: BLE001 - one unreadable page must not lose the rest
                    warnings.append(f"page {i + 1}: unreadable ({type(exc).__name__})")
            info = pdf.get_metadata_dict()
        finally:
            pdf.close()
    if not pages:
        raise Corrupt(name, "no readable page")
    if not any(len(p.words) for p in pages):
        raise NoTextLayer(name, f"{len(pages)} page(s), no characters")
    empty = [p.number for p in pages if not len(p.words)]
    if empty:
        warnings.append(f"pages without text layer (scanned?): {', '.join(map(str, empty))}")
    return assemble(Path(name).name, pages, info, warnings)


def _mark_running(pages: list[PageData]) -> None:
    found = find_running([(p.words.text, p.words.box, p.flow, p.height) for p in pages])
    for p, f in zip(pages, found):
        p.head, p.foot = f["head"], f["foot"]
        p.flow[p.head] = False
        p.flow[p.foot] = False


def _blocks(p: PageData) -> list[tuple[str, object]]:
    """The page's reading order: ("lines", [word arrays]) and ("table", PageTable) blocks."""
    idx = np.flatnonzero(p.flow)
    n = len(p.words)
    boxes = p.words.box
    if p.tables:
        boxes = np.vstack([boxes, np.array([t.bbox for t in p.tables])])
        idx = np.concatenate([idx, n + np.arange(len(p.tables))])
    out: list[tuple[str, object]] = []
    if not p.tables:
        return [("lines", lines_of(boxes, leaf)) for leaf in xycut(boxes, idx)]
    for leaf in xycut(boxes, idx):
        tabs = leaf[leaf >= n]
        words = leaf[leaf < n]
        if len(tabs) == 0:
            out.append(("lines", lines_of(boxes, words)))
            continue
        # a leaf holding a table: words above it, the table, words below it
        for t in sorted(tabs.tolist(), key=lambda k: boxes[k, 1]):
            above = words[boxes[words, 3] <= boxes[t, 1] + 1]
            if len(above):
                out.append(("lines", lines_of(boxes, above)))
            out.append(("table", p.tables[t - n]))
            words = words[boxes[words, 3] > boxes[t, 1] + 1]
        if len(words):
            out.append(("lines", lines_of(boxes, words)))
    return out


def _starts_caption(p: PageData, block: tuple[str, object]) -> bool:
    kind, lines = block
    if kind != "lines" or not lines:
        return False
    return bool(CAPTION.match(" ".join(p.words.text[i] for i in lines[0][:2].tolist())))


def _ends_broken(p: PageData, block: tuple[str, object]) -> bool:
    kind, lines = block
    return kind == "lines" and bool(lines) and breaks_at_end(p.words.text[int(lines[-1][-1])])


def _lift_continuations(plan: list[tuple[PageData, list[tuple[str, object]]]]) -> None:
    """A word broken at a column foot and continued after a float (caption, table, notes)
    is continued first: the continuation line is moved before the float.
    """
    for k, (p, blocks) in enumerate(plan):
        i = 0
        while i + 1 < len(blocks):
            if not (_starts_caption(p, blocks[i]) and blocks[i + 1][0] == "table"):
                i += 1
                continue
            before = (p, blocks[i - 1]) if i else ((plan[k - 1][0], plan[k - 1][1][-1]) if k and plan[k - 1][1] else None)
            j = i + 2
            if j < len(blocks) and blocks[j][0] == "lines" and blocks[j][1]:
                first = p.words.box[blocks[j][1][0]]
                height = median(first[:, 3] - first[:, 1])
                if first[:, 1].min() <= blocks[i + 1][1].bbox[3] + height:  # the table's notes
                    j += 1
            if (before is None or not _ends_broken(*before) or j >= len(blocks) or blocks[j][0] != "lines"
                    or _starts_caption(p, blocks[j])):  # another float follows: no continuation here
                i += 2
                continue
            lines = blocks[j][1]
            blocks[j] = ("lines", lines[1:])
            blocks.insert(i, ("lines", lines[:1]))
            i += 3


def assemble(source: str, pages: list[PageData], info: dict, warnings: list[str]) -> Document:
    """The Document of read pages: running heads and feet marked, reading-order text with its
    offset map, tables, sections and metadata (also what the salvage of a truncated file builds)."""
    _mark_running(pages)
    distinct: set[str] = set()  # each distinct word of the document keyed once
    for p in pages:
        distinct.update(p.words.text)
    vocab = set(map(vocab_key, distinct))
    plan = [(p, _blocks(p)) for p in pages]
    _lift_continuations(plan)
    # the flat sequence of lines, to look one line ahead across blocks, columns and pages
    # (a table in between ends the run: a word is never rejoined across a table)
    seq: list[tuple[PageData, np.ndarray] | None] = []
    for p, blocks in plan:
        for kind, b in blocks:
            if kind == "table":
                seq.append(None)
            else:
                seq.extend((p, ln) for ln in b if len(ln))
    w = Writer(vocab)
    doc_pages: list[Page] = []
    tables: list[Table] = []
    k = 0  # seq[k]: the next line (or table) to write
    for p, blocks in plan:
        start = w.out.pos
        for kind, b in blocks:
            if kind == "table":
                tables.append(_table(w, p, b))
                k += 1
            else:
                k = w.lines(p, b, seq, k)
        doc_pages.append(Page(p.number, start, w.out.pos, p.width, p.height,
                              header=" ".join(line_text(p, ln) for ln in lines_of(p.words.box, p.head)),
                              footer=" ".join(line_text(p, ln) for ln in lines_of(p.words.box, p.foot))))
        p.release()  # written; only the next page is ever looked ahead to
    text, boxes = w.out.build()
    for pg in doc_pages:  # the last page ends where the text ends
        pg.end = min(pg.end, len(text))
    doc = Document(source=source, kind="pdf", text=text, pages=doc_pages, tables=tables,
                   boxes=boxes, warnings=warnings)
    for t in tables:
        find_caption(text, t)
        find_footnotes(doc, t)
    first = doc_pages[0]
    doc.metadata = read_metadata(info, _prose(doc, first), first.header)
    if not doc.metadata.title:
        doc.metadata.title = title_by_size(doc, first)
    doc.metadata.extra["superscripts"] = w.superscripts
    doc.metadata.extra["superscript_mark"] = SUP_MARK
    _add_sections(doc)
    return doc


def _prose(doc: Document, page: Page) -> str:
    """The page's text without its tables and captions (their years are not the paper's)."""
    text = doc.text[page.start:page.end]
    for t in sorted((t for t in doc.tables if t.page == page.number), key=lambda t: -t.start):
        a, b = t.start - page.start, t.end - page.start
        text = text[:max(a, 0)] + text[max(b, 0):]
    return "\n".join(line for line in text.split("\n") if not CAPTION.match(line))


def _table(w: Writer, p: PageData, pt: PageTable) -> Table:
    grid, cells, start, end = w.table(p, pt)
    kinds = row_kinds(grid)
    header = [[c or "" for c in row] for row, k in zip(grid, kinds) if k == "header"]
    return Table(label="", caption="", frame=frame_of(grid), page=p.number, start=start, end=end,
                 header=header, cells=cells)


def _add_sections(doc: Document) -> None:
    """Sections come from extract.sections when that module exists (written by another reader)."""
    try:
        from ..sections import find_sections
    except ImportError:
        return
    try:
        doc.sections = find_sections(doc.text, doc.tables, title=doc.metadata.title)
    except Exception as exc:  # noqa: BLE001 - sections are a convenience, never a failure
        doc.warnings.append(f"sections not found ({type(exc).__name__})")
