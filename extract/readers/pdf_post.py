"""Finishing touches on the assembled text: table captions and footnotes, title by type size."""
from __future__ import annotations

import re

import numpy as np

from ..document import Document, Page, Table
from ..layout.stats import median

CAPTION = re.compile(r"^\s*(?:table|tab\.|表)\s*([0-9IVX]+)", re.I)


def find_caption(text: str, t: Table) -> None:
    """The "Table N ..." line just above the table (or just below it), and its label."""
    before = text[max(0, t.start - 600):t.start].split("\n")
    after = text[t.end:t.end + 600].split("\n")
    found = None
    for k in range(len(before) - 1, max(len(before) - 6, -1), -1):
        if CAPTION.match(before[k]):
            found = " ".join(x.strip() for x in before[k:] if x.strip())
            break
    if found is None:
        for line in after[:4]:
            if CAPTION.match(line):
                found = line.strip()
                break
    if found:
        t.caption = found
        m = CAPTION.match(found)
        t.label = f"Table {m.group(1)}"


def line_geometry(doc: Document, start: int, end: int) -> tuple[float, float, float] | None:
    """(top, bottom, character height) of the real characters of a line."""
    box = doc.boxes[start:end]
    box = box[~np.isnan(box).any(axis=1)]
    if not len(box):
        return None
    return float(box[:, 1].min()), float(box[:, 3].max()), median(box[:, 3] - box[:, 1])


def title_by_size(doc: Document, page: Page) -> str:
    """The first run of lines in the page's largest type (for PDFs without a Title entry)."""
    lines, pos = [], page.start
    while pos < page.end:
        nl = doc.text.find("\n", pos, page.end)
        nl = page.end if nl < 0 else nl
        geo = line_geometry(doc, pos, nl)
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


def find_footnotes(doc: Document, t: Table, max_lines: int = 8) -> None:
    """Lines set tight under the table (closer than a line height) are its footnotes."""
    cells = [c for c in t.cells if c.end > c.start]
    if not cells:
        return
    bottom = _cells_bottom(doc.boxes[:, 3], cells)
    pos, notes = t.end, []
    while len(notes) < max_lines and pos < len(doc.text):
        nl = doc.text.find("\n", pos)
        nl = len(doc.text) if nl < 0 else nl
        geo = line_geometry(doc, pos, nl)
        if geo is None or doc.page_of(pos) != t.page or CAPTION.match(doc.text[pos:nl]):
            break
        top, bot, height = geo
        if top - bottom > height or top < bottom - 1:
            break
        notes.append(doc.text[pos:nl].strip())
        bottom, pos = bot, nl + 1
    t.footnotes = " ".join(notes)




def _cells_bottom(bottoms: np.ndarray, cells: list) -> float:
    """``max(nanmax(bottoms[c.start:c.end]) for c in cells)``, in one numpy call for a table
    whose cells are in text order and each hold a boxed character (always, when written)."""
    bounds = [b for c in cells for b in (c.start, c.end)]
    if all(a <= b for a, b in zip(bounds, bounds[1:])):
        lo = bounds[0]
        sub = np.append(bottoms[lo:bounds[-1]], np.nan)  # a sentinel: the last end is a valid index
        per_cell = np.fmax.reduceat(sub, np.asarray(bounds) - lo)[::2]
        if not np.isnan(per_cell).any():
            return max(per_cell.tolist())
    return max(float(np.nanmax(bottoms[c.start:c.end])) for c in cells)
