"""Running heads, feet and page numbers: found by repetition across pages, not by their wording.

A line at the top or bottom edge of a page is running matter when one of its fragments
(pieces separated by wide gaps) recurs at an edge of another page once digits are masked
("Comella et al.", "##.####/fimmu.####.#######"), contains such a recurring fragment
("DOI 10.3389/…" on page 1), or looks like a page number ("05", "Page 3 of 9", "3/9").
Up to three lines per edge are examined, from the edge inwards; a running line must stand
apart from the text next to it (a gap wider than its own height), which body lines never do.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .stats import median
from .xycut import edge_lines_of

EDGE_BAND = 0.12  # fraction of the page height where running matter may stand
MAX_LINES = 3
MIN_SHARE = 0.4  # a fragment must recur on this share of the pages (body text repeats less)
_PAGENO = re.compile(r"^(?:page\s*)?[#ivxlc]{1,6}(?:\s*(?:of|/)\s*#+)?$", re.IGNORECASE)


@dataclass
class EdgeLine:
    page: int
    where: str  # "head" or "foot"
    items: np.ndarray  # word indices of the line, left to right
    keys: list[str]  # masked fragments
    detached: bool  # separated from the next line inwards by more than its own height


_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


def _key(text: str) -> str:
    return _SPACES.sub(" ", _DIGITS.sub("#", text.lower())).strip()


def _fragments(texts: list[str], box: np.ndarray, items: np.ndarray) -> list[str]:
    """Split a line into fragments at gaps wider than the line height."""
    frags: list[list[str]] = [[]]
    height = median(box[items, 3] - box[items, 1]) if len(items) else 0.0
    wide = max(height, 1.0)
    prev_x1 = None
    for i, (x0, _, x1, _) in zip(items.tolist(), box[items].tolist()):
        if prev_x1 is not None and x0 - prev_x1 > wide:
            frags.append([])
        frags[-1].append(texts[i])
        prev_x1 = x1
    return [_key(" ".join(f)) for f in frags if f]


def _edge_lines(page: int, texts: list[str], box: np.ndarray, keep: np.ndarray, height: float) -> list[EdgeLine]:
    """Groups of lines at each edge that stand apart from the text inwards of them.

    Lines closer than their own height are one group (a head set on two staggered lines).
    """
    idx = np.flatnonzero(keep)
    if len(idx) == 0:
        return []
    heads, feet = edge_lines_of(box, idx, MAX_LINES + 1)  # lines[:4] and lines[::-1][:4]
    out = []
    for where, seq in (("head", heads), ("foot", feet)):
        group: list[np.ndarray] = []
        for depth, ln in enumerate(seq[:MAX_LINES]):
            b = box[ln]
            inside = b[:, 3].max() < EDGE_BAND * height if where == "head" else b[:, 1].min() > (1 - EDGE_BAND) * height
            if not inside:
                break
            group.append(ln)
            own = median(b[:, 3] - b[:, 1])
            detached = True
            if depth + 1 < len(seq):
                nb = box[seq[depth + 1]]
                gap = nb[:, 1].min() - b[:, 3].max() if where == "head" else b[:, 1].min() - nb[:, 3].max()
                detached = gap > 0.8 * own
            if detached:
                keys = [k for g in group for k in _fragments(texts, box, g)]
                out.append(EdgeLine(page, where, np.concatenate(group), keys, True))
                group = []
    return out


def find_running(pages: list[tuple[list[str], np.ndarray, np.ndarray, float]]) -> list[dict[str, np.ndarray]]:
    """For each page ``(texts, boxes, keep_mask, height)``: word indices of its head and foot.

    Returns one ``{"head": indices, "foot": indices}`` per page (head/foot lines in order).
    """
    edges = [_edge_lines(p, t, b, k, h) for p, (t, b, k, h) in enumerate(pages)]
    seen: Counter[tuple[str, str]] = Counter()
    for page_edges in edges:
        for key in {(e.where, k) for e in page_edges for k in e.keys}:
            seen[key] += 1
    multi = len(pages) >= 2
    need = max(2, int(np.ceil(MIN_SHARE * len(pages))))
    recurring = {k for (w, k), c in seen.items() if multi and c >= need}
    long_recurring = [k for k in recurring if len(k) >= 8]
    result = []
    for page_edges in edges:
        found: dict[str, list[int]] = {"head": [], "foot": []}
        stopped: set[str] = set()
        for e in page_edges:  # ordered from each edge inwards
            if e.where in stopped:
                continue
            running = e.detached and any(
                k in recurring or _PAGENO.match(k) or any(r in k for r in long_recurring) for k in e.keys
            )
            if running:
                found[e.where].extend(e.items.tolist())
            else:
                stopped.add(e.where)
        result.append({w: np.asarray(v, int) for w, v in found.items()})
    return result
