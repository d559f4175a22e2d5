"""Tables on a page: pdfplumber's table finder run on pdfium's words and rules.

pdfplumber's algorithm (edges → intersections → cells → tables) is used on the words and
rules already read with pdfium, so a table page costs milliseconds instead of a full
pdfminer parse. Ruled tables use the "lines" strategy, run by :func:`.cells.ruled_tables`
(the same tables, computed on tuples); three-line tables (three horizontal rules, no
verticals) are cropped to their outer rules and read with the "text" strategy by
pdfplumber's TableFinder fed with a light page object.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cells import FastTableFinder as TableFinder
from .cells import ruled_tables
from .rules import three_line_groups
from .words import Words
from .xycut import lines_of


@dataclass
class PageTable:
    """A table found on a page: its box and, per row and column, the words of each cell.

    A cell is ``None`` where a merged cell covers it (pdfplumber's convention), otherwise
    a list of lines, each an array of word indices left to right.
    """

    bbox: tuple[float, float, float, float]
    rows: list[list[list[np.ndarray] | None]]
    words: np.ndarray  # indices of every word inside the table


class _Page:
    """The few attributes of a pdfplumber page that its TableFinder reads."""

    def __init__(self, bbox, edges, words):
        self.bbox = bbox
        self.edges = edges
        self._words = words
        self.chars: list = []

    def extract_words(self, **_kw):
        return self._words


def _word_dicts(words: Words, idx: np.ndarray) -> list[dict]:
    out = []
    for i in idx.tolist():
        x0, top, x1, bottom = words.box[i]
        out.append({"text": words.text[i], "x0": x0, "x1": x1, "top": top, "bottom": bottom,
                    "doctop": top, "upright": True, "width": x1 - x0, "height": bottom - top,
                    "direction": "ltr"})
    return out


def _inside(words: Words, bbox, pad: float = 1.0) -> np.ndarray:
    b = words.box
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    return np.flatnonzero((cx >= bbox[0] - pad) & (cx <= bbox[2] + pad) & (cy >= bbox[1] - pad) & (cy <= bbox[3] + pad))


def _collect(words: Words, table, pad: float = 0.5, spill: np.ndarray | None = None) -> PageTable | None:
    """Words of each cell. ``spill``: words of the table's frame that no cell caught (a
    wrapped last line below the text-strategy rows) join the cell of their column above."""
    inside = _inside(words, table.bbox)
    if len(inside) == 0:
        return None
    sub = words.box[inside]
    cx, cy = (sub[:, 0] + sub[:, 2]) / 2, (sub[:, 1] + sub[:, 3]) / 2
    grid = [row.cells for row in table.rows]
    boxes = [cell for cells in grid for cell in cells if cell is not None]
    found = inside[:0]
    ends: list[int] = []
    if boxes:  # every cell against every word at once; a cell's words stay in page order
        c = np.array(boxes, dtype=float)
        hit = ((cx >= c[:, 0:1] - pad) & (cx <= c[:, 2:3] + pad)
               & (cy >= c[:, 1:2] - pad) & (cy <= c[:, 3:4] + pad))
        ends = np.cumsum(hit.sum(axis=1)).tolist()
        found = inside[np.nonzero(hit)[1]]
    box = words.box
    if spill is not None:
        rows = _cell_words(grid, found, ends)
        left = _attach_spill(words, table, rows, np.setdiff1d(spill, inside))
        inside = np.setdiff1d(np.union1d(inside, spill), left)
        rows = [[None if c is None else lines_of(box, c) for c in r] for r in rows]
    else:
        rows = _cell_lines(box, grid, found, ends)
    return PageTable(tuple(float(v) for v in table.bbox), rows, inside)


def _cell_spans(grid: list[list], ends: list[int]) -> list[list[tuple[int, int] | None]]:
    """Per row and column: where the cell's words lie among the found words
    (``ends[k - 1]:ends[k]`` for the k-th cell), None where no cell starts."""
    rows = []
    k, start = 0, 0
    for cells in grid:
        out: list[tuple[int, int] | None] = []
        for cell in cells:
            if cell is None:
                out.append(None)
                continue
            out.append((start, ends[k]))
            start = ends[k]
            k += 1
        rows.append(out)
    return rows


def _cell_words(grid: list[list], found: np.ndarray, ends: list[int]) -> list[list[np.ndarray | None]]:
    """Per row and column: the words of each cell, None where no cell starts."""
    return [[None if sp is None else found[sp[0]:sp[1]] for sp in r] for r in _cell_spans(grid, ends)]


def _cell_lines(box: np.ndarray, grid: list[list], found: np.ndarray, ends: list[int]) -> list[list]:
    """:func:`_cell_words` with each cell's words as lines (:func:`lines_of`), the boxes of
    all cells' words fetched at once (most cells hold one word or none: one line or none)."""
    flat = box[found].tolist()

    def lines(a: int, z: int) -> list:
        if z - a == 1:
            return [found[a:z]]
        return [] if z == a else lines_of(box, found[a:z], flat[a:z])

    return [[None if sp is None else lines(*sp) for sp in r] for r in _cell_spans(grid, ends)]


def _attach_spill(words: Words, table, rows: list, extra: np.ndarray) -> np.ndarray:
    """Give each stray word to the nearest filled cell of the last row
    reaching its middle (its own row, or the row above).

    Returns the words that found no cell (they stay in the text flow).
    """
    left = []
    for i in extra.tolist():
        x0, top, x1, bottom = words.box[i]
        cx, cy = (x0 + x1) / 2, (top + bottom) / 2
        best = None
        for r, row in enumerate(table.rows):
            for c, cell in enumerate(row.cells):
                if cell is None or cell[1] > cy or not len(rows[r][c]):
                    continue
                dist = max(cell[0] - cx, cx - cell[2], 0.0)
                key = (-cell[1], dist)
                if best is None or key < best[0]:
                    best = (key, r, c)
        if best is None:
            left.append(i)
        else:
            rows[best[1]][best[2]] = np.append(rows[best[1]][best[2]], i)
    return np.asarray(left, int)


def _useful(pt: PageTable, words: Words, table) -> bool:
    """A real table: two rows and two columns with text, and column borders crossing no word.

    Prose that happens to sit between rules (a framed abstract, a box of links) is cut by
    the text strategy into "columns" whose borders run through words; a table's do not.
    """
    filled_rows = sum(1 for r in pt.rows if any(c for c in r if c))
    if filled_rows < 2 or len(pt.rows[0]) < 2:
        return False
    lefts = {c[0] for row in table.rows for c in row.cells if c is not None}  # a few distinct
    borders = sorted({round(x, 1) for x in lefts})
    borders = [x for x in borders if x > table.bbox[0] + 1]
    if not borders:
        return True
    b = words.box[pt.words]
    x = np.array(borders)[:, None]
    crossing = int(((b[:, 0] < x - 1) & (b[:, 2] > x + 1)).sum())
    return crossing <= max(1, 0.05 * len(pt.words))


def find_tables(words: Words, edges: list[dict], width: float, height: float) -> list[PageTable]:
    """Ruled and three-line tables of one page, top to bottom."""
    if len(words) == 0 or not edges:
        return []
    found: list[PageTable] = []
    n_h = sum(e["orientation"] == "h" for e in edges)
    n_v = len(edges) - n_h
    if n_h >= 2 and n_v >= 2:
        for t in ruled_tables(edges):  # TableFinder(page, {}).tables, on tuples
            pt = _collect(words, t)
            if pt is not None and _useful(pt, words, t):
                found.append(pt)
    for box in three_line_groups(edges):
        if any(_overlaps(box, pt.bbox) for pt in found):
            continue
        idx = _inside(words, box)
        if len(idx) < 4:
            continue
        crop_edges = [e for e in edges if _overlaps((e["x0"], e["top"], e["x1"], e["bottom"]), box)]
        settings = {"vertical_strategy": "text", "horizontal_strategy": "text"}
        finder = TableFinder(_Page(box, crop_edges, _word_dicts(words, idx)), settings)
        for t in finder.tables:
            pt = _collect(words, t, spill=idx)
            if pt is not None:
                pt.rows = [r for r in pt.rows if any(c for c in r if c)]
                if _useful(pt, words, t):
                    found.append(pt)
    found.sort(key=lambda pt: pt.bbox[1])
    return found


def _overlaps(a, b) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]
