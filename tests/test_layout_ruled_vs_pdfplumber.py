"""The ruled-table finder (extract.layout.cells.ruled_tables) against pdfplumber's own TableFinder.

Why: the finder re-implements pdfplumber's "lines" strategy on plain tuples for speed, step for
step. If pdfplumber changes its algorithm (or ours drifts), this comparison on random rule sets
(grids with gaps, split and offset rules, stray segments, duplicates, values on and off the
snapping tolerances) fails, and the re-implementation must follow.
"""
from __future__ import annotations

import random
import struct

import pytest
from pdfplumber.table import TableFinder

from extract.layout.cells import _EdgesPage, ruled_tables
from extract.layout.rules import edge as _edge


def bits(x):
    return struct.pack("<d", float(x)) if isinstance(x, float) else ("i", x)


def canon(tables):
    out = []
    for t in tables:
        out.append((sorted(tuple(map(bits, c)) for c in t.cells), tuple(map(bits, t.bbox)),
                    [[None if c is None else tuple(map(bits, c)) for c in r.cells] for r in t.rows]))
    return out


def rand_edges(rng):
    edges = []
    q = rng.choice([0.5, 0.25, 1.0, 0.1, 3.0])
    def val(lo, hi):
        x = rng.uniform(lo, hi)
        r = rng.random()
        if r < 0.5: x = round(x / q) * q
        if r < 0.2: x += rng.choice([0.3, -0.3, 1e-9, 2.9, 3.0, 3.1, -3.0])
        if rng.random() < 0.02: x = -0.0 if rng.random() < 0.5 else 0.0
        return x
    for _ in range(rng.randint(0, 6)):  # grids
        x0, y0 = val(0, 400), val(0, 600)
        nx, ny = rng.randint(1, 7), rng.randint(1, 9)
        xs = sorted(x0 + sum(rng.uniform(1, 60) for _ in range(k)) for k in range(nx + 1))
        ys = sorted(y0 + sum(rng.uniform(1, 30) for _ in range(k)) for k in range(ny + 1))
        for y in ys:
            if rng.random() < 0.85:
                a, b = xs[0] + rng.choice([0, 0, -2, 2, 4]), xs[-1] + rng.choice([0, 0, 2, -2, -5])
                if rng.random() < 0.2:  # split rule
                    m = rng.uniform(a, b)
                    edges.append(_edge(a, y + rng.choice([0, 0, 0.5, 2.5]), m, y, "h"))
                    edges.append(_edge(m + rng.choice([0, 1, 3, 4]), y, b, y, "h"))
                else:
                    edges.append(_edge(a, y, b, y, "h"))
        for x in xs:
            if rng.random() < 0.85:
                a, b = ys[0] + rng.choice([0, 0, -2, 2]), ys[-1] + rng.choice([0, 0, 2, -4])
                if rng.random() < 0.2:
                    m = rng.uniform(a, b)
                    edges.append(_edge(x, a, x, m, "v"))
                    edges.append(_edge(x + rng.choice([0, 0, 1, 2.9]), m + rng.choice([0, 2, 4]), x, b, "v"))
                else:
                    edges.append(_edge(x + rng.choice([0, 0, 0, 1.5]), a, x, b, "v"))
    for _ in range(rng.randint(0, 25)):  # random segments
        if rng.random() < 0.5:
            a, b = sorted((val(0, 500), val(0, 500))); y = val(0, 700)
            edges.append(_edge(a, y, b, y, "h"))
        else:
            a, b = sorted((val(0, 700), val(0, 700))); x = val(0, 500)
            edges.append(_edge(x, a, x, b, "v"))
    if edges and rng.random() < 0.3:  # duplicates
        edges += rng.sample(edges, min(len(edges), rng.randint(1, 5)))
    rng.shuffle(edges)
    return edges



@pytest.mark.parametrize("seed", range(4))
def test_ruled_tables_equal_pdfplumber_tablefinder(seed):
    rng = random.Random(seed)
    tables = 0
    for case in range(100):
        edges = rand_edges(rng)
        ref = canon(TableFinder(_EdgesPage(edges), {}).tables)
        assert canon(ruled_tables(edges)) == ref, f"seed {seed}, case {case}: {len(edges)} edges"
        tables += len(ref)
    assert tables > 50   # the generator makes real tables, not only empty pages
