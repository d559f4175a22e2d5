"""Reading order by recursive XY-cut (as the corpus's verify.py checks it).

A block is cut at the widest empty vertical gutter that runs its full height (columns);
failing that, at the widest empty horizontal band across its full width (paragraphs,
title block over columns). Leaves are read top to bottom, left column before right, so a
sentence running from the foot of the left column to the head of the right stays whole.
"""
from __future__ import annotations

import numpy as np

from .stats import median

MIN_GUTTER = 6.0  # points of empty x-band that count as a column gutter
GUTTER_EM = 0.8  # ... and at least this many times the height of the block's words
MIN_BAND = 7.0  # points of empty y-band that separate blocks


def _widest_gap(lo: np.ndarray, hi: np.ndarray, min_gap: float) -> tuple[float, float] | None:
    """Widest empty stretch strictly inside the union of [lo, hi] intervals."""
    if len(lo) < 2:
        return None
    order = np.argsort(lo, kind="stable")
    lo_s, hi_s = lo[order], hi[order]
    reach = np.maximum.accumulate(hi_s)
    gaps = lo_s[1:] - reach[:-1]
    k = int(np.argmax(gaps))
    if gaps[k] < min_gap:
        return None
    return float(reach[k]), float(lo_s[k + 1])


def _gutter(box: np.ndarray) -> float | None:
    """x of the widest column gutter in the central 70% of the block, if any."""
    x0, x1 = box[:, 0], box[:, 2]
    left, right = x0.min(), x1.max()
    width = right - left
    order = np.argsort(x0, kind="stable")
    lo_s, hi_s = x0[order], x1[order]
    reach = np.maximum.accumulate(hi_s)
    gaps = lo_s[1:] - reach[:-1]
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


def lines_of(box: np.ndarray, idx: np.ndarray) -> list[np.ndarray]:
    """Items of one leaf grouped into lines (top to bottom), each sorted left to right.

    An item joins the current line when it overlaps the line's band by half the smaller
    height, so raised superscripts stay on their line whichever comes first.
    """
    if len(idx) <= 1:  # most calls: one word in a table cell
        return [np.array(idx)] if len(idx) else []
    b = box[idx]
    mid = (b[:, 1] + b[:, 3]) / 2
    order = np.argsort(mid, kind="stable")
    # items join the last line or start a new one, so lines are consecutive runs of
    # ``order``: the loop only marks where a run starts (plain floats, no min/max calls)
    tops, bots = b[order, 1].tolist(), b[order, 3].tolist()
    starts = [0]
    band_top, band_bot = tops[0], bots[0]
    for k in range(1, len(tops)):
        t, bt = tops[k], bots[k]
        lo = band_bot if band_bot < bt else bt  # min(bt, band_bot)
        hi = band_top if band_top > t else t  # max(t, band_top)
        h, band_h = bt - t, band_bot - band_top
        if lo - hi >= 0.5 * (band_h if band_h < h else h):
            band_top = t if t < band_top else band_top
            band_bot = bt if bt > band_bot else band_bot
        else:
            starts.append(k)
            band_top, band_bot = t, bt
    # left to right within each line (stable: ties keep the run's order)
    if len(starts) == 1:
        return [idx[order[np.argsort(b[order, 0], kind="stable")]]]
    line_id = np.zeros(len(order), np.intp)
    line_id[starts[1:]] = 1
    line_id = np.cumsum(line_id)
    flat = idx[order[np.lexsort((b[order, 0], line_id))]]
    starts.append(len(flat))
    return [flat[a:z] for a, z in zip(starts[:-1], starts[1:])]
