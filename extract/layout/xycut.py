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
    gaps = lo_s[1:] - reach[:-1]
    if gaps.max() < MIN_GUTTER:  # no gap can pass (min_gap below is never less; NaN goes on)
        return None
    left, right = x0.min(), x1.max()
    width = right - left
    mids = (lo_s[1:] + reach[:-1]) / 2
    # wider than the block's type is tall: word spaces in large headings are not gutters
    min_gap = max(MIN_GUTTER, GUTTER_EM * median(box[:, 3] - box[:, 1]))
    ok = (gaps >= min_gap) & (mids > left + 0.15 * width) & (mids < right - 0.15 * width)
    if not ok.any():
        return None
    k = int(np.argmax(np.where(ok, gaps, -1)))
    return float(mids[k])


def xycut(box: np.ndarray, index: np.ndarray | None = None) -> list[np.ndarray]:
    """Leaves (arrays of item indices) in reading order."""
    if index is None:
        index = np.arange(len(box))
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


_SMALL = 24  # up to this many items, lines_of runs on Python floats (numpy's calls cost more)


def _lines_small(rows: list[list[float]]) -> list[list[int]] | None:
    """:func:`lines_of` on a few boxes as Python floats: positions of each line's items.
    None when a coordinate is NaN (numpy sorts NaN last, Python's sort has no order for it)."""
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


def lines_of(box: np.ndarray, idx: np.ndarray) -> list[np.ndarray]:
    """Items of one leaf grouped into lines (top to bottom), each sorted left to right.

    An item joins the current line when it overlaps the line's band by half the smaller
    height, so raised superscripts stay on their line whichever comes first.
    """
    if len(idx) <= 1:  # most calls: one word in a table cell
        return [np.array(idx)] if len(idx) else []
    b = box[idx]
    if len(idx) <= _SMALL:
        lines = _lines_small(b.tolist())
        if lines is not None:
            return [idx[ln] for ln in lines]
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
    ordering the words of the lines in between."""
    if len(idx) <= _SMALL:
        lines = lines_of(box, idx)
        return lines[:k], lines[::-1][:k]
    b = box[idx]
    order, bo, starts = _runs(b)
    if len(starts) <= 2 * k:
        lines = lines_of(box, idx)
        return lines[:k], lines[::-1][:k]
    starts.append(len(order))
    x0 = bo[:, 0]

    def line(r: int) -> np.ndarray:  # run r left to right, as lines_of's lexsort orders it
        a, z = starts[r], starts[r + 1]
        return idx[order[a:z][x0[a:z].argsort(kind="stable")]]

    n = len(starts) - 1
    return [line(r) for r in range(k)], [line(r) for r in range(n - 1, n - 1 - k, -1)]


def _runs(b: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The boxes ``b`` ordered by their middle (``order``, ``b[order]``) and where each line
    starts in that order (see :func:`lines_of`)."""
    mid = (b[:, 1] + b[:, 3]) / 2
    order = mid.argsort(kind="stable")
    # items join the last line or start a new one, so lines are consecutive runs of
    # ``order``: the loop only marks where a run starts (plain floats, no min/max calls)
    bo = b[order]
    tops_o, bots_o = bo[:, 1], bo[:, 3]
    if len(order) > 16:
        # an item with the very box of the item before it (most words of a line) joins the
        # line and leaves its band as it is: the band already holds that box (h >= 0)
        same = (tops_o[1:] == tops_o[:-1]) & (bots_o[1:] == bots_o[:-1]) & (bots_o[1:] >= tops_o[1:])
        ks = np.flatnonzero(~same) + 1
        ks_l, tops, bots = ks.tolist(), tops_o[ks].tolist(), bots_o[ks].tolist()
        band_top, band_bot = float(tops_o[0]), float(bots_o[0])
    else:
        tops, bots = tops_o.tolist(), bots_o.tolist()
        ks_l = range(1, len(tops))
        band_top, band_bot = tops[0], bots[0]
        tops, bots = tops[1:], bots[1:]
    starts = [0]
    for k, t, bt in zip(ks_l, tops, bots):
        lo = band_bot if band_bot < bt else bt  # min(bt, band_bot)  # noqa: FURB136 - faster than min()
        hi = band_top if band_top > t else t  # max(t, band_top)  # noqa: FURB136
        h, band_h = bt - t, band_bot - band_top
        if lo - hi >= 0.5 * (band_h if band_h < h else h):  # noqa: FURB136
            band_top = t if t < band_top else band_top  # noqa: FURB136
            band_bot = bt if bt > band_bot else band_bot  # noqa: FURB136
        else:
            starts.append(k)
            band_top, band_bot = t, bt
    return order, bo, starts
