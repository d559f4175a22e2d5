"""PDF papers: text in reading order with a box per character, tables, running heads apart.

pdfium (pypdfium2) reads the characters and their boxes in milliseconds per page; layout
analysis (words, superscripts, XY-cut columns, running heads and feet, hyphenation) runs on
numpy arrays; pdfplumber's table finder runs only on pages whose rules can form a table,
fed with the same words. See ``extract/layout`` for each step.

Superscripts (affiliation and citation marks such as "Miano1*", "(n = 13)2") are written
with a caret before them, "Miano^1*", "(n = 13)^2", so a number pattern can never glue them
to the text they follow; their spans (without the caret) are listed in
``doc.metadata.extra["superscripts"]`` as ``(start, end)`` pairs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

from ..document import Cell, Document, Page, Table
from ..errors import Corrupt, EmptyFile, Encrypted, NoTextLayer
from ..layout.builder import TextBuilder
from ..layout.glyphs import Glyphs, load_glyphs
from ..layout.hyphen import breaks_at_end, keep_hyphen, vocab_key
from ..layout.pdfmeta import read_metadata
from ..layout.rules import page_edges
from ..layout.running import find_running
from ..layout.tablemodel import frame_of, row_kinds
from ..layout.tables import PageTable, find_tables
from ..layout.words import Words, make_words
from ..layout.xycut import lines_of, xycut

SUP_MARK = "^"
_CAPTION = re.compile(r"^\s*(?:table|tab\.|表)\s*([0-9IVX]+)", re.I)


@dataclass
class _PageData:
    number: int
    width: float
    height: float
    glyphs: Glyphs
    words: Words
    tables: list[PageTable]
    flow: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # words in the text flow
    head: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    glyph_rows: object = None  # the builder's box source for this page, once set
    foot: np.ndarray = field(default_factory=lambda: np.zeros(0, int))


def _open(path: str, data: bytes, password: str | None) -> pdfium.PdfDocument | None:
    """Open with pdfium, turning its error codes into the reader's one-line errors.

    Returns None when pdfium cannot parse the file (the caller tries pdfplumber's parser).
    """
    try:
        return pdfium.PdfDocument(data, password=password)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Encrypted(path, "wrong password" if password else "") from None
        return None


def _read_with_plumber(path: str, data: bytes, password: str | None) -> tuple[list[_PageData], dict, list[str]]:
    """Fallback for files pdfium rejects: pdfminer's more lenient parser, page by page."""
    import io

    import pdfplumber

    from ..layout.glyphs import glyphs_from_plumber

    pages: list[_PageData] = []
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
                    pages.append(_PageData(i + 1, page.width, page.height, glyphs, words, tables, flow))
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


def _read_page(pdf: pdfium.PdfDocument, i: int) -> _PageData:
    page = pdf[i]
    try:
        width, height = page.get_size()
        textpage = page.get_textpage()
        try:
            glyphs = load_glyphs(textpage, height)
        finally:
            textpage.close()
        words = make_words(glyphs)
        tables = find_tables(words, page_edges(page, height), width, height) if len(words) else []
    finally:
        page.close()
    flow = np.ones(len(words), bool)
    for t in tables:
        flow[t.words] = False
    return _PageData(i + 1, width, height, glyphs, words, tables, flow)


def _line_text(pd_: _PageData, items: np.ndarray) -> str:
    return " ".join(pd_.words.text[i] for i in items.tolist())


class _Writer:
    """Writes words, lines and tables into a TextBuilder, rejoining line-end hyphens."""

    def __init__(self, vocab: set[str]) -> None:
        self.out = TextBuilder()
        self.vocab = vocab
        self.superscripts: list[tuple[int, int]] = []
        self.pending_space = False  # a space is owed before the next word (multi-line cells)

    def words(self, pd_: _PageData, ids: list[int], drop_last: bool = False) -> str:
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
        starts, ends, sup, glue = w.start, w.end, w.sup, w.glue
        for k, i in enumerate(ids):
            text = w.text[i]
            s, e = int(starts[i]), int(ends[i])
            if drop_last and k == last:
                text, e = text[:-1], e - 1
            if sup[i]:
                texts.append(SUP_MARK)
                rows.append(-1)
                pos += 1
                self.superscripts.append((pos, pos + len(text)))
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

    def line(self, pd_: _PageData, items: np.ndarray, nxt: tuple[_PageData, np.ndarray] | None) -> None:
        """One line of words; the line break is written unless a hyphenated word continues."""
        ids = items.tolist()
        last = ids[-1]
        decision = None
        if nxt is not None and not pd_.words.sup[last] and breaks_at_end(pd_.words.text[last]):
            npd, nitems = nxt
            decision = keep_hyphen(pd_.words.text[last], npd.words.text[int(nitems[0])], self.vocab)
        self.words(pd_, ids, drop_last=decision is False)
        if decision is None:
            self.out.put("\n", [-1])

    def table(self, pd_: _PageData, pt: PageTable) -> tuple[list[list[str | None]], list[Cell], int, int]:
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


def read_pdf(path: str | Path, data: bytes, password: str | None = None) -> Document:
    """Read a PDF paper into a :class:`Document` (see module doc)."""
    name = str(path)
    if not data or not data.strip():
        raise EmptyFile(name)
    pdf = _open(name, data, password)
    if pdf is None:
        pages, info, warnings = _read_with_plumber(name, data, password)
    else:
        warnings = []
        try:
            pages = []
            for i in range(len(pdf)):
                try:
                    pages.append(_read_page(pdf, i))
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
    return _assemble(Path(name).name, pages, info, warnings)


def _mark_running(pages: list[_PageData]) -> None:
    found = find_running([(p.words.text, p.words.box, p.flow, p.height) for p in pages])
    for p, f in zip(pages, found):
        p.head, p.foot = f["head"], f["foot"]
        p.flow[p.head] = False
        p.flow[p.foot] = False


def _blocks(p: _PageData) -> list[tuple[str, object]]:
    """The page's reading order: ("lines", [word arrays]) and ("table", PageTable) blocks."""
    idx = np.flatnonzero(p.flow)
    n = len(p.words)
    boxes = p.words.box
    if p.tables:
        boxes = np.vstack([boxes, np.array([t.bbox for t in p.tables])])
        idx = np.concatenate([idx, n + np.arange(len(p.tables))])
    out: list[tuple[str, object]] = []
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


def _assemble(source: str, pages: list[_PageData], info: dict, warnings: list[str]) -> Document:
    _mark_running(pages)
    vocab: set[str] = set()
    for p in pages:
        vocab.update(vocab_key(t) for t in p.words.text)
    plan = [(p, _blocks(p)) for p in pages]
    # the flat sequence of lines, to look one line ahead across blocks, columns and pages
    seq: list[tuple[_PageData, np.ndarray]] = [
        (p, ln) for p, blocks in plan for kind, b in blocks if kind == "lines" for ln in b if len(ln)]
    nxt_of = {id(ln): (seq[k + 1] if k + 1 < len(seq) else None) for k, (_, ln) in enumerate(seq)}
    w = _Writer(vocab)
    doc_pages: list[Page] = []
    tables: list[Table] = []
    for p, blocks in plan:
        start = w.out.pos
        for kind, b in blocks:
            if kind == "table":
                tables.append(_table(w, p, b))
                continue
            for ln in b:
                if len(ln):
                    w.line(p, ln, nxt_of[id(ln)])
        doc_pages.append(Page(p.number, start, w.out.pos, p.width, p.height,
                              header=" ".join(_line_text(p, ln) for ln in lines_of(p.words.box, p.head)),
                              footer=" ".join(_line_text(p, ln) for ln in lines_of(p.words.box, p.foot))))
    text, boxes = w.out.build()
    for pg in doc_pages:  # the last page ends where the text ends
        pg.end = min(pg.end, len(text))
    probe = Document(source=source, kind="pdf", text=text, pages=doc_pages, boxes=boxes)
    for t in tables:
        _caption(text, t)
        _footnotes(probe, t)
    first = doc_pages[0]
    meta = read_metadata(info, text[first.start:first.end], first.header)
    if not meta.title:
        meta.title = _title_by_size(probe, first)
    meta.extra["superscripts"] = w.superscripts
    meta.extra["superscript_mark"] = SUP_MARK
    doc = Document(source=source, kind="pdf", text=text, pages=doc_pages, tables=tables,
                   metadata=meta, boxes=boxes, warnings=warnings)
    _add_sections(doc)
    return doc


def _table(w: _Writer, p: _PageData, pt: PageTable) -> Table:
    grid, cells, start, end = w.table(p, pt)
    kinds = row_kinds(grid)
    header = [[c or "" for c in row] for row, k in zip(grid, kinds) if k == "header"]
    return Table(label="", caption="", frame=frame_of(grid), page=p.number, start=start, end=end,
                 header=header, cells=cells)


def _caption(text: str, t: Table) -> None:
    """The "Table N ..." line just above the table (or just below it), and its label."""
    before = text[max(0, t.start - 600):t.start].split("\n")
    after = text[t.end:t.end + 600].split("\n")
    found = None
    for k in range(len(before) - 1, max(len(before) - 6, -1), -1):
        if _CAPTION.match(before[k]):
            found = " ".join(x.strip() for x in before[k:] if x.strip())
            break
    if found is None:
        for line in after[:4]:
            if _CAPTION.match(line):
                found = line.strip()
                break
    if found:
        t.caption = found
        m = _CAPTION.match(found)
        t.label = f"Table {m.group(1)}"


def _line_geometry(doc: Document, start: int, end: int) -> tuple[float, float, float] | None:
    """(top, bottom, character height) of the real characters of a line."""
    box = doc.boxes[start:end]
    box = box[~np.isnan(box).any(axis=1)]
    if not len(box):
        return None
    return float(box[:, 1].min()), float(box[:, 3].max()), float(np.median(box[:, 3] - box[:, 1]))


def _title_by_size(doc: Document, page: Page) -> str:
    """The first run of lines in the page's largest type (for PDFs without a Title entry)."""
    lines, pos = [], page.start
    while pos < page.end:
        nl = doc.text.find("\n", pos, page.end)
        nl = page.end if nl < 0 else nl
        geo = _line_geometry(doc, pos, nl)
        if geo is not None and doc.text[pos:nl].strip():
            lines.append((geo[2], doc.text[pos:nl].strip()))
        pos = nl + 1
    if not lines:
        return ""
    biggest = max(h for h, _ in lines)
    run: list[str] = []
    for h, text in lines:
        if h >= 0.92 * biggest:
            run.append(text)
        elif run:
            break
    return " ".join(run)


def _footnotes(doc: Document, t: Table, max_lines: int = 8) -> None:
    """Lines set tight under the table (closer than a line height) are its footnotes."""
    cells = [c for c in t.cells if c.end > c.start]
    if not cells:
        return
    bottom = max(float(np.nanmax(doc.boxes[c.start:c.end, 3])) for c in cells)
    pos, notes = t.end, []
    while len(notes) < max_lines and pos < len(doc.text):
        nl = doc.text.find("\n", pos)
        nl = len(doc.text) if nl < 0 else nl
        geo = _line_geometry(doc, pos, nl)
        if geo is None or doc.page_of(pos) != t.page or _CAPTION.match(doc.text[pos:nl]):
            break
        top, bot, height = geo
        if top - bottom > height or top < bottom - 1:
            break
        notes.append(doc.text[pos:nl].strip())
        bottom, pos = bot, nl + 1
    t.footnotes = " ".join(notes)


def _add_sections(doc: Document) -> None:
    """Sections come from extract.sections when that module exists (written by another reader)."""
    try:
        from ..sections import find_sections
    except ImportError:
        return
    try:
        doc.sections = find_sections(doc.text)
    except Exception as exc:  # noqa: BLE001 - sections are a convenience, never a failure
        doc.warnings.append(f"sections not found ({type(exc).__name__})")
