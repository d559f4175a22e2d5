"""The layout steps' fast paths give exactly what their plain versions give.

Why: each fast path skips work on an argument about its input (sorted orders carried from a
block to its parts, a line start no earlier line can move, boxes of one height, a NUL that no
glyph string holds, ...). These comparisons on random boxes (ties, zero and negative sizes,
NaN, duplicates, columns) fail if such an argument is wrong somewhere.
"""
from __future__ import annotations

import pickle
import re

import numpy as np
import pandas as pd
import pytest

from extract.layout import xycut as xy
from extract.layout.hyphen import vocab_key
from extract.layout.tablemodel import frame_of
from extract.layout.words import _cut


def _boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    kind = rng.integers(0, 6)
    x0 = rng.choice(np.arange(0, 300, 5.0), n) if kind == 0 else rng.uniform(0, 500, n)
    top = rng.choice([100.0, 112.0, 124.0, 118.5], n) if kind in (1, 2) else rng.uniform(0, 700, n)
    h = np.full(n, 10.0) if kind == 2 else rng.choice([10.0, 9.5, 6.0], n) if kind in (1, 3) \
        else rng.uniform(-2 if kind == 5 else 0, 15, n)
    w = rng.uniform(-1 if kind == 5 else 0, 60, n) if rng.random() < 0.7 else rng.choice([0.0, 5.0, 30.0], n)
    if rng.random() < 0.3:  # two columns
        x0 = np.where(rng.random(n) < 0.5, x0 % 200, 300 + x0 % 200)
    b = np.column_stack([x0, top, x0 + w, top + h])
    if rng.random() < 0.05:
        b[rng.integers(0, n), rng.integers(0, 4)] = np.nan
    if rng.random() < 0.2:  # duplicated boxes
        b[:] = np.where(rng.random((n, 1)) < 0.5, b[rng.integers(0, n)], b)
    return b


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("seed", range(4))
def test_layout_fast_paths_equal_plain_ones(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(1500):
        n = int(rng.integers(1, 60))
        b = _boxes(rng, n)
        idx = np.sort(rng.choice(n, int(rng.integers(0, n + 1)), replace=False)).astype(np.intp)
        k = int(rng.integers(1, 5))
        cases.append((b, idx, k, xy.xycut(b, idx), xy.lines_of(b, idx), xy.edge_lines_of(b, idx, k)))
    monkeypatch.setattr(xy, "_sortable", lambda box, index: False)  # every block sorted anew
    monkeypatch.setattr(xy, "_SMALL", 0)  # every leaf through the numpy band loop
    for b, idx, k, leaves, lines, edges in cases:
        assert _same(leaves, xy.xycut(b, idx))
        plain = xy.lines_of(b, idx)
        assert _same(lines, plain)
        assert _same(edges, (plain[:k], plain[::-1][:k]))


def test_words_cut_from_the_page_string_equal_slices():
    rng = np.random.default_rng(0)
    for _ in range(300):
        page = "".join(rng.choice(list("ab-é中\U0001d400.,1"), int(rng.integers(1, 80))))
        starts = np.unique(np.r_[0, rng.integers(0, len(page), int(rng.integers(0, 20)))])
        ends = [*starts[1:].tolist(), len(page)]
        assert _cut(page, starts) == [page[a:z] for a, z in zip(starts.tolist(), ends)]


def test_vocab_key_equals_the_edge_punctuation_regex():
    edge = re.compile(r"^[^\w]+|[^\w\-\u2010]+$")
    words = ["ALPS-", "(n=13)", "_x_", "x_", "mTOR,", "’s", "CD4+", "IL-2", "é", "Ⅻ", "²", "a\u00ad", "٣x"]
    for w in words + [chr(c) + "a" + chr(c) for c in range(32, 0x3000, 7)]:
        assert vocab_key(w) == edge.sub("", w).lower()


def test_table_frame_equals_pandas_own_construction():
    rows = [["Group", "n", "Mean (SD)", None], ["Cohort A", None, None, None],
            ["Treated", "12", "3.1 (0.4)", "x"], ["Control", "", "2.9 (0.5)", None]]
    frame = frame_of(rows)
    plain = pd.DataFrame({"group": ["Cohort A", "Cohort A"], "Group": ["Treated", "Control"],
                          "n": ["12", ""], "Mean (SD)": ["3.1 (0.4)", "2.9 (0.5)"], "": ["x", ""]})
    pd.testing.assert_frame_equal(frame, plain)
    assert list(frame.dtypes) == list(plain.dtypes) and frame.columns.dtype == plain.columns.dtype
    assert pickle.dumps(frame) == pickle.dumps(plain)
