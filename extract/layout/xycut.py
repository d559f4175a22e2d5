"""Reading order by recursive XY-cut (as the corpus's verify.py checks it).

A block is cut at the widest empty vertical gutter that runs its full height (columns);
failing that, at the widest empty horizontal band across its full width (paragraphs,
title block over columns). Leaves are read top to bottom, left column before right, so a
sentence running from the foot of the left column to the head of the right stays whole.
"""
from __future__ import annotations

from itertools import pairwise
from math import isnan

import numpy as np

from .stats import median

MIN_GUTTER = 6.0  # points of empty x-band that count as a column gutter
GUTTER_EM = 0.8  # ... and at least this many times the height of the block's words
MIN_BAND = 7.0  # points of empty y-band that separate blocks


def _widest_gap(lo: np.ndarray, hi: np.ndarray, min_gap: float) -> tuple[float, float] | None:
    """Widest empty stretch strictly inside the union of [lo, hi] intervals."""
    if len(lo) < 2:
        return None
    order = lo.argsort(kind="stable")
    lo_s = lo[order]
    reach = np.maximum.accumulate(hi[order])
    gaps = lo_s[1:] - reach[:-1]
    k = int(gaps.argmax())
    if gaps[k] < min_gap:
        return None
    return float(reach[k]), float(lo_s[k + 1])


def _gutter(box: np.ndarray) -> float | None:
    """x of the widest column gutter in the central 70% of the block, if any."""
    x0, x1 = box[:, 0], box[:, 2]
    order = x0.argsort(kind="stable")
    lo_s = x0[order]
    reach = np.maximum.accumulate(x1[order])
    k = _gutter_at(lo_s, reach, lambda: box[:, 3] - box[:, 1], x0.min(), x1.max())
    return None if k is None else (float(lo_s[k + 1]) + float(reach[k])) / 2


def _gutter_at(lo_s: np.ndarray, reach: np.ndarray, heights, left: float, right: float) -> int | None:
    """The widest column gutter of a block whose items, in x0 order, start at ``lo_s`` and
    reach ``reach`` (running max of x1): ``k`` for the gutter after the ``k``-th item, or
    None. ``heights()``: the items' heights; ``left``, ``right``: the block's extent."""
    gaps = lo_s[1:] - reach[:-1]
    if gaps.max() < MIN_GUTTER:  # no gap can pass (min_gap below is never less; NaN goes on)
        return None
    width = right - left
    mids = (lo_s[1:] + reach[:-1]) / 2
    # wider than the block's type is tall: word spaces in large headings are not gutters
    min_gap = max(MIN_GUTTER, GUTTER_EM * median(heights()))
    ok = (gaps >= min_gap) & (mids > left + 0.15 * width) & (mids < right - 0.15 * width)
    if not ok.any():
        return None
    return int(np.argmax(np.where(ok, gaps, -1)))


def xycut(box: np.ndarray, index: np.ndarray | None = None) -> list[np.ndarray]:
    """Leaves (arrays of item indices) in reading order."""
    if index is None:
        index = np.arange(len(box))
    if len(index) > 1 and _sortable(box, index):
        return _xycut_sorted(box, index)
    out: list[np.ndarray] = []
    stack = [index]
    while stack:  # depth-first, left/top part first
        idx = stack.pop()
        if len(idx) == 0:
            continue
        b = box[idx]
        if len(idx) > 1:
            cut = _gutter(b)
            if cut is not None:
                left = idx[b[:, 2] <= cut]
                right = idx[b[:, 2] > cut]
                stack.extend([right, left])
                continue
            gap = _widest_gap(b[:, 1], b[:, 3], MIN_BAND)
            if gap is not None:
                cut = (gap[0] + gap[1]) / 2
                stack.extend([idx[b[:, 1] >= cut], idx[b[:, 1] < cut]])
                continue
        out.append(idx)
    return out


_FAR = 1e6  # points; page coordinates are far smaller (a PDF page is at most 14,400 pt)


def _sortable(box: np.ndarray, index: np.ndarray) -> bool:
    """Whether :func:`_xycut_sorted` applies: ascending indices, finite boxes of modest
    coordinates with x1 >= x0 and bottom >= top (then every cut splits a block's x0 or top
    order into a head and a tail, see there)."""
    if not (index[1:] > index[:-1]).all():
        return False
    b = box[index]
    return bool(np.isfinite(b).all() and (np.abs(b) < _FAR).all()
                and (b[:, 2] >= b[:, 0]).all() and (b[:, 3] >= b[:, 1]).all())


def _xycut_sorted(box: np.ndarray, index: np.ndarray) -> list[np.ndarray]:
    """:func:`xycut` for :func:`_sortable` input, without sorting each block.

    A block is carried as its items in x0 order and in top order (stable, so ties in index
    order: what ``argsort(kind="stable")`` of the block gives). A gutter cut at the ``k``-th
    item of the x0 order leaves the items before it left of the cut (their x1 reach at most
    the gap's start) and those after it right (their x0, so their x1, beyond the gap's
    end); a band cut likewise splits the top order. Either part's other order is the
    parent's, filtered: no block is sorted but the first, and the leaves are the same.
    """
    x0, top, x1, bot = (np.ascontiguousarray(box[:, j]) for j in range(4))
    member = np.zeros(len(box), bool)

    def split(head: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        member[head] = True
        inside = member[other]
        member[head] = False
        return other[inside], other[~inside]

    out: list[np.ndarray] = []
    stack = [(index[x0[index].argsort(kind="stable")], index[top[index].argsort(kind="stable")])]
    while stack:  # depth-first, left/top part first
        by_x, by_top = stack.pop()
        if len(by_x) > 1:
            lo_s = x0[by_x]
            reach = np.maximum.accumulate(x1[by_x])
            k = _gutter_at(lo_s, reach, lambda ids=by_x: bot[ids] - top[ids], lo_s[0], reach[-1])
            if k is not None:
                left_top, right_top = split(by_x[:k + 1], by_top)
                stack.extend([(by_x[k + 1:], right_top), (by_x[:k + 1], left_top)])
                continue
            lo_s = top[by_top]
            gaps = lo_s[1:] - np.maximum.accumulate(bot[by_top])[:-1]
            k = int(gaps.argmax())
            if gaps[k] >= MIN_BAND:
                above_x, below_x = split(by_top[:k + 1], by_x)
                stack.extend([(below_x, by_top[k + 1:]), (above_x, by_top[:k + 1])])
                continue
        out.append(np.sort(by_x))
    return out


_SMALL = 24  # up to this many items, lines_of runs on Python floats (numpy's calls cost more)


def _lines_small(rows: list[list[float]]) -> list[list[int]] | None:
    """:func:`lines_of` on a few boxes as Python floats: positions of each line's items.
    None when a coordinate is NaN (numpy sorts NaN last, Python's sort has no order for it)."""
    one = _one_band(rows)
    if one is not None:
        return one
    mids = [(r[1] + r[3]) / 2 for r in rows]
    for m, r in zip(mids, rows):
        if isnan(m) or isnan(r[0]):
            return None
    order = sorted(range(len(rows)), key=mids.__getitem__)  # stable, as argsort(kind="stable")
    lines = []
    first = rows[order[0]]
    band_top, band_bot = first[1], first[3]
    line = [order[0]]
    for k in order[1:]:
        r = rows[k]
        t, bt = r[1], r[3]
        lo = band_bot if band_bot < bt else bt  # noqa: FURB136 - as in lines_of
        hi = band_top if band_top > t else t  # noqa: FURB136
        h, band_h = bt - t, band_bot - band_top
        if lo - hi >= 0.5 * (band_h if band_h < h else h):  # noqa: FURB136
            band_top = t if t < band_top else band_top  # noqa: FURB136
            band_bot = bt if bt > band_bot else band_bot  # noqa: FURB136
            line.append(k)
        else:
            lines.append(line)
            line = [k]
            band_top, band_bot = t, bt
    lines.append(line)
    return [sorted(ln, key=lambda k: rows[k][0]) if len(ln) > 1 else ln for ln in lines]


def _one_band(rows: list[list[float]]) -> list[list[int]] | None:
    """The lines of boxes that all have the same top and bottom (a run of words in one
    type): one line, left to right, as the band loop of :func:`_lines_small` finds (every
    box overlaps the band entirely). None for other boxes, a NaN or a negative height."""
    t0, b0 = rows[0][1], rows[0][3]
    if not b0 >= t0:
        return None
    for r in rows:
        if r[1] != t0 or r[3] != b0:
            return None
    xs = [r[0] for r in rows]
    if all(a <= b for a, b in pairwise(xs)):  # (False at a NaN)
        return [list(range(len(xs)))]
    if any(isnan(x) for x in xs):
        return None
    return [sorted(range(len(xs)), key=xs.__getitem__)]


def lines_of(box: np.ndarray, idx: np.ndarray, rows: list[list[float]] | None = None) -> list[np.ndarray]:
    """Items of one leaf grouped into lines (top to bottom), each sorted left to right.

    An item joins the current line when it overlaps the line's band by half the smaller
    height, so raised superscripts stay on their line whichever comes first. ``rows``:
    ``box[idx].tolist()`` when the caller has it already.
    """
    if len(idx) <= 1:  # most calls: one word in a table cell
        return [np.array(idx)] if len(idx) else []
    if len(idx) <= _SMALL:
        lines = _lines_small(box[idx].tolist() if rows is None else rows)
        if lines is not None:
            if len(lines) == 1 and lines[0] == list(range(len(idx))):
                return [idx[:]]  # one line, already left to right: a view, not a gathered copy
            return [idx[ln] for ln in lines]
    b = box[idx]
    order, bo, starts = _runs(b)
    # left to right within each line (stable: ties keep the run's order)
    if len(starts) == 1:
        return [idx[order[bo[:, 0].argsort(kind="stable")]]]
    line_id = np.zeros(len(order), np.intp)
    line_id[starts[1:]] = 1
    line_id = np.cumsum(line_id)
    flat = idx[order[np.lexsort((bo[:, 0], line_id))]]
    starts.append(len(flat))
    return [flat[a:z] for a, z in pairwise(starts)]


def edge_lines_of(box: np.ndarray, idx: np.ndarray, k: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``lines[:k]`` and ``lines[::-1][:k]`` of ``lines = lines_of(box, idx)``, without
    ordering the words of the lines in between, nor (see :func:`_tail_start`) finding
    where those lines start."""
    if len(idx) <= _SMALL:
        lines = lines_of(box, idx)
        return lines[:k], lines[::-1][:k]
    b = box[idx]
    order, bo = _by_middle(b)
    head, whole = _line_starts(bo, limit=k + 1)
    if whole:
        if len(head) <= k:
            lines = lines_of(box, idx)
            return lines[:k], lines[::-1][:k]
        tail = head
    else:  # only the last lines: from a line start no earlier line can move
        first = _tail_start(bo, k)
        tail = _line_starts(bo, first)[0] if first is not None else _line_starts(bo)[0]
    x0 = bo[:, 0]

    def line(starts: list[int], r: int) -> np.ndarray:  # run r left to right, as lines_of's lexsort orders it
        a, z = starts[r], starts[r + 1] if r + 1 < len(starts) else len(order)
        return idx[order[a:z][x0[a:z].argsort(kind="stable")]]

    last = len(tail) - 1
    return [line(head, r) for r in range(k)], [line(tail, r) for r in range(last, last - k, -1)]


def _tail_start(bo: np.ndarray, k: int) -> int | None:
    """A position of ``bo`` (boxes in middle order) where a line starts whatever the lines
    before it, with at least ``k + 1`` such starts from there on; None if there is none.

    An item whose top is at or below the bottom of every item before it overlaps no band
    open before it, so it starts a line (when every box has a positive height: then half
    the smaller height is more than the overlap, which is at most 0).
    """
    tops, bots = bo[:, 1], bo[:, 3]
    if not (np.isfinite(bo[:, [1, 3]]).all() and ((bots - tops) > 1e-6).all()):
        return None
    fresh = np.flatnonzero(tops[1:] >= np.maximum.accumulate(bots)[:-1]) + 1
    return int(fresh[-(k + 1)]) if len(fresh) > k else None


def _runs(b: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The boxes ``b`` ordered by their middle (``order``, ``b[order]``) and where each line
    starts in that order (see :func:`lines_of`)."""
    order, bo = _by_middle(b)
    return order, bo, _line_starts(bo)[0]


def _by_middle(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mid = (b[:, 1] + b[:, 3]) / 2
    order = mid.argsort(kind="stable")
    return order, b[order]


def _line_starts(bo: np.ndarray, first: int = 0, limit: int | None = None) -> tuple[list[int], bool]:
    """Where each line starts among the boxes ``bo`` (in middle order) from ``first`` on (a
    line start), and whether all were found: the search stops at ``limit`` starts."""
    # items join the last line or start a new one, so lines are consecutive runs of
    # ``bo``: the loop only marks where a run starts (plain floats, no min/max calls)
    tops_o, bots_o = bo[first:, 1], bo[first:, 3]
    if len(tops_o) > 16:
        # an item with the very box of the item before it (most words of a line) joins the
        # line and leaves its band as it is: the band already holds that box (h >= 0)
        same = (tops_o[1:] == tops_o[:-1]) & (bots_o[1:] == bots_o[:-1]) & (bots_o[1:] >= tops_o[1:])
        ks = np.flatnonzero(~same) + 1
        ks_l, tops, bots = (ks + first).tolist(), tops_o[ks].tolist(), bots_o[ks].tolist()
        band_top, band_bot = float(tops_o[0]), float(bots_o[0])
    else:
        tops, bots = tops_o.tolist(), bots_o.tolist()
        ks_l = range(first + 1, first + len(tops))
        band_top, band_bot = tops[0], bots[0]
        tops, bots = tops[1:], bots[1:]
    starts = [first]
    for k, t, bt in zip(ks_l, tops, bots):
        lo = band_bot if band_bot < bt else bt  # min(bt, band_bot)  # noqa: FURB136 - faster than min()
        hi = band_top if band_top > t else t  # max(t, band_top)  # noqa: FURB136
        h, band_h = bt - t, band_bot - band_top
        if lo - hi >= 0.5 * (band_h if band_h < h else h):  # noqa: FURB136
            band_top = t if t < band_top else band_top  # noqa: FURB136
            band_bot = bt if bt > band_bot else band_bot  # noqa: FURB136
        else:
            if len(starts) == limit:
                return starts, False
            starts.append(k)
            band_top, band_bot = t, bt
    return starts, True
