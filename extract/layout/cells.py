"""pdfplumber's table finder, faster (same result, less Python work).

``pdfplumber.table.intersections_to_cells`` rebuilds sets of edge boxes for every pair of
points it compares and scans all later points for each point; on a page with two ruled
tables that is most of the page's reading time. Here the edge sets are built once per
point and the points below / to the right are looked up by coordinate.

:func:`ruled_tables` runs the whole "lines" strategy (pdfplumber's default settings) on
plain tuples instead of edge dicts: prefilter, snap, join, filter, intersections, cells,
tables, with pdfplumber's arithmetic step for step (``x0 + (avg - x0)``, sums left to
right with the builtin ``sum``, ``height + diff``) so every coordinate is the same float.
"""
from __future__ import annotations

import math
from collections import defaultdict
from itertools import groupby
from operator import itemgetter

import numpy as np
from pdfplumber import utils
from pdfplumber.table import (
    Table,
    TableFinder,
    TableSettings,
    cells_to_tables,
    edges_to_intersections,
)
from pdfplumber.table import intersections_to_cells as plumber_cells

SNAP = JOIN = INTERSECT = 3  # pdfplumber's default tolerances (snap, join, intersection)
EDGE_MIN_PREFILTER, EDGE_MIN = 1, 3  # its edge_min_length_prefilter and edge_min_length


def intersections_to_cells(intersections: dict) -> list[tuple[float, float, float, float]]:
    """The smallest cell starting at each intersection, exactly as pdfplumber defines it."""
    if any(x != x or y != y for x, y in intersections):  # noqa: PLR0124 - NaN: no order to rely on
        return plumber_cells(intersections)  # (edges_to_intersections never makes such points)
    vm, hm = {}, {}
    vid: dict = {}
    hid: dict = {}
    for p, e in intersections.items():
        vm[p] = _mask(map(utils.obj_to_bbox, e["v"]), vid)
        hm[p] = _mask(map(utils.obj_to_bbox, e["h"]), hid)
    return _cells(vm, hm)


def _mask(boxes, ids: dict) -> int:
    """The set of ``boxes`` as a bit mask, one bit per distinct box (numbered in ``ids``)."""
    m = 0
    for b in boxes:
        m |= 1 << ids.setdefault(b, len(ids))
    return m


def _cells(vm: dict, hm: dict) -> list[tuple[float, float, float, float]]:
    """:func:`intersections_to_cells` given, per intersection point, its vertical and its
    horizontal edges as bit masks (:func:`_mask`).

    Two points "connect" (pdfplumber's ``edge_connects``) when they share an edge: on one
    column a vertical one, on one row a horizontal one, a nonzero ``&`` of their masks.
    The points right of a point that connect to it are found once (when a point below
    connects), not once per point below.
    """
    points = sorted(vm)
    index = {p: i for i, p in enumerate(points)}
    V = [vm[p] for p in points]
    H = [hm[p] for p in points]
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    by_x: dict[float, list[int]] = defaultdict(list)
    by_y: dict[float, list[int]] = defaultdict(list)
    at_x, at_y = [], []  # each point's place in its column and in its row
    for i, (x, y) in enumerate(points):  # sorted by (x, y): each list stays in pdfplumber's order
        col, row = by_x[x], by_y[y]
        at_x.append(len(col))
        at_y.append(len(row))
        col.append(i)
        row.append(i)
    cells = []
    for i, v0 in enumerate(V):
        h0 = H[i]
        row = None
        for b in by_x[xs[i]][at_x[i] + 1:]:  # the points below, top down
            if not V[b] & v0:
                continue
            if row is None:  # the points right of pt, left to right
                row = by_y[ys[i]][at_y[i] + 1:]
            y, hb = ys[b], H[b]
            connected = False  # a point right of pt that connects to it (looked at lazily:
            for r in row:  # the first one usually closes the cell)
                if not H[r] & h0:
                    continue
                connected = True
                x = xs[r]
                c = index.get((x, y))
                if c is not None and V[c] & V[r] and H[c] & hb:
                    cells.append((xs[i], ys[i], x, y))
                    break
            else:
                if connected:
                    continue
            break  # a cell, or none can close without a rule to the right
    return cells


class FastTableFinder(TableFinder):
    """TableFinder whose cell search is :func:`intersections_to_cells` above."""

    def __init__(self, page, settings=None) -> None:
        self.page = page
        self.settings = TableSettings.resolve(settings)
        self.edges = self.get_edges()
        self.intersections = edges_to_intersections(
            self.edges, self.settings.intersection_x_tolerance, self.settings.intersection_y_tolerance)
        self.cells = intersections_to_cells(self.intersections)
        self.tables = [Table(self.page, group) for group in cells_to_tables(self.cells)]


# --- the "lines" strategy on tuples ----------------------------------------------------------
# An edge is a list [x0, top, x1, bottom, width, height] (the dict keys pdfplumber reads).
_KEYS = itemgetter("x0", "top", "x1", "bottom", "width", "height")


def _snap(edges: list[list], at: int, tol: float) -> list[list]:
    """``utils.snap_objects``: edges clustered on coordinate ``at`` (0: x0 of verticals,
    1: top of horizontals), each moved to its cluster's mean, in cluster order (the edge
    lists are changed: they are :func:`ruled_tables`' own)."""
    values = sorted({e[at] for e in edges})
    cluster = {}
    k, last = 0, None
    for x in values:  # utils.cluster_list: a chain of gaps <= tol
        if last is not None and not x <= last + tol:
            k += 1
        cluster[x] = k
        last = x
    keys = [cluster[e[at]] for e in edges]
    by_cluster = sorted(range(len(edges)), key=keys.__getitem__)  # stable, as sorting the edges
    out = []
    for _, run in groupby(by_cluster, key=keys.__getitem__):
        group = [edges[i] for i in run]
        avg = sum([e[at] for e in group]) / len(group)
        for e in group:  # utils.move_object: both ends moved by (avg - coordinate), in place
            d = avg - e[at]
            e[at] = e[at] + d
            e[at + 2] = e[at + 2] + d
            out.append(e)
    return out


def _join(group: list[list], lo: int, tol: float) -> list[list]:
    """``join_edge_group``: edges on one line (``lo`` 0: horizontal, 1: vertical) joined
    where they overlap or nearly touch."""
    hi = lo + 2
    group = sorted(group, key=itemgetter(lo))
    joined = [group[0]]
    for e in group[1:]:
        last = joined[-1]
        if e[lo] <= last[hi] + tol:
            if e[hi] > last[hi]:  # utils.resize_object on x1 (width) or bottom (height), in place
                if lo == 0:
                    last[2] = e[2]
                    last[4] = e[2] - last[0]
                else:
                    last[5] = last[5] + (e[3] - last[3])
                    last[3] = e[3]
        else:
            joined.append(e)
    return joined


def _merge(edges: list[list], at: int) -> list[list]:
    """``merge_edges`` for one orientation (``at`` 1: horizontal, 0: vertical), then
    ``filter_edges(min_length=EDGE_MIN)``."""
    snapped = _snap(edges, at, SNAP)
    snapped.sort(key=itemgetter(at))
    lo, dim = (0, 4) if at == 1 else (1, 5)
    out = []
    for _, group in groupby(snapped, key=itemgetter(at)):
        out.extend(_join(list(group), lo, JOIN))
    return [e for e in out if e[dim] >= EDGE_MIN]


class _Row:
    __slots__ = ("cells",)

    def __init__(self, cells: list) -> None:
        self.cells = cells


class RuledTable:
    """What the page's table code reads of a ``pdfplumber.table.Table``: ``bbox`` and
    ``rows`` (each with ``cells``, None where no cell starts), computed once; ``cells`` are
    pdfplumber's but not always in its order (see :func:`_groups`)."""

    __slots__ = ("bbox", "cells", "rows")

    def __init__(self, cells: list[tuple[float, float, float, float]]) -> None:
        self.cells = cells
        self.bbox = (min(map(itemgetter(0), cells)), min(map(itemgetter(1), cells)),
                     max(map(itemgetter(2), cells)), max(map(itemgetter(3), cells)))
        xs = sorted(set(map(itemgetter(0), cells)))
        rows = []
        for _, row_cells in groupby(sorted(cells, key=itemgetter(1, 0)), itemgetter(1)):
            at = {c[0]: c for c in row_cells}
            rows.append(_Row([at.get(x) for x in xs]))
        self.rows = rows


def _groups(cells: list[tuple]) -> list[list[tuple]]:
    """``cells_to_tables``: the groups of cells sharing corners, top to bottom, each of two
    cells or more.

    pdfplumber sweeps the cells until a sweep adds none, so its groups are the connected
    components (by shared corners) and are sorted by their top-left cell, a key no two
    groups share; found here by union-find. The order of cells within a group, which
    pdfplumber's sweeps set, is kept by nothing downstream except where a coordinate is
    zero (``min``/``max`` then tell 0.0 from -0.0 by which comes first): such cells go
    through pdfplumber's own function.
    """
    if any(0.0 in c for c in cells):
        return cells_to_tables(cells)
    owner: dict = {}
    parent: list[int] = []
    label = []
    for x0, top, x1, bottom in cells:
        r = -1
        for corner in ((x0, top), (x0, bottom), (x1, top), (x1, bottom)):
            o = owner.get(corner)
            if o is None:
                continue
            while parent[o] != o:
                o = parent[o]
            if r < 0:
                r = o
            elif o != r:
                parent[o] = r
        if r < 0:
            r = len(parent)
            parent.append(r)
        owner[(x0, top)] = owner[(x0, bottom)] = owner[(x1, top)] = owner[(x1, bottom)] = r
        label.append(r)
    members: dict[int, list] = defaultdict(list)
    for cell, r in zip(cells, label):
        while parent[r] != r:
            r = parent[r]
        members[r].append(cell)
    tables = [t for t in members.values() if len(t) > 1]
    tables.sort(key=lambda t: min((c[1], c[0]) for c in t))
    return tables


def ruled_tables(edges: list[dict]) -> list:
    """``TableFinder(page).tables`` for a page whose edges are ``edges`` (pdfplumber edge
    dicts), default settings: :class:`RuledTable` objects, or pdfplumber's own tables
    when a coordinate is not finite (the float tricks above assume finite values)."""
    v, h = [], []
    for e in edges:  # filter_edges(orientation, min_length=EDGE_MIN_PREFILTER)
        o = e["orientation"]
        if o == "v":
            if e["height"] >= EDGE_MIN_PREFILTER:
                v.append(list(_KEYS(e)))
        elif o == "h" and e["width"] >= EDGE_MIN_PREFILTER:
            h.append(list(_KEYS(e)))
    if not v or not h:
        return []
    if not math.isfinite(sum(map(sum, v)) + sum(map(sum, h))):  # a NaN or an infinity (or overflow)
        return FastTableFinder(_EdgesPage(edges), {}).tables
    h = _merge(h, 1)
    v = _merge(v, 0)
    if not v or not h:
        return []
    # edges_to_intersections: every (vertical, horizontal) pair within the tolerance, with
    # pdfplumber's loop order (verticals by x0, top; horizontals by top, x0)
    v.sort(key=itemgetter(0, 1))
    h.sort(key=itemgetter(1, 0))
    va, ha = np.array(v), np.array(h)
    vx, vtop, vbot = va[:, 0:1], va[:, 1:2], va[:, 3:4]
    hx0, htop, hx1 = ha[:, 0], ha[:, 1], ha[:, 2]
    hit = (vtop <= htop + INTERSECT) & (vbot >= htop - INTERSECT) & (vx >= hx0 - INTERSECT) & (vx <= hx1 + INTERSECT)
    vi, hi = np.nonzero(hit)
    if not len(vi):
        return []
    vid: dict = {}
    hid: dict = {}
    vbit = [_mask((tuple(e[:4]),), vid) for e in v]
    hbit = [_mask((tuple(e[:4]),), hid) for e in h]
    vm: dict = {}
    hm: dict = {}
    for i, j in zip(vi.tolist(), hi.tolist()):
        p = (v[i][0], h[j][1])
        vm[p] = vm.get(p, 0) | vbit[i]
        hm[p] = hm.get(p, 0) | hbit[j]
    cells = _cells(vm, hm)
    return [RuledTable(group) for group in _groups(cells)]


class _EdgesPage:
    """A page object for TableFinder with only edges ("lines" strategy)."""

    def __init__(self, edges: list[dict]) -> None:
        self.edges = edges
        self.bbox = (0, 0, 0, 0)
        self.chars: list = []
