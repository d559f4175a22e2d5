"""pdfplumber's table finder with a faster cell search (same result, less Python work).

``pdfplumber.table.intersections_to_cells`` rebuilds sets of edge boxes for every pair of
points it compares and scans all later points for each point; on a page with two ruled
tables that is most of the page's reading time. Here the edge sets are built once per
point and the points below / to the right are looked up by coordinate.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict

from pdfplumber import utils
from pdfplumber.table import Table, TableFinder, TableSettings, cells_to_tables, edges_to_intersections


def intersections_to_cells(intersections: dict) -> list[tuple[float, float, float, float]]:
    """The smallest cell starting at each intersection, exactly as pdfplumber defines it."""
    vset = {p: set(map(utils.obj_to_bbox, e["v"])) for p, e in intersections.items()}
    hset = {p: set(map(utils.obj_to_bbox, e["h"])) for p, e in intersections.items()}

    def connects(p1, p2) -> bool:
        if p1[0] == p2[0] and not vset[p1].isdisjoint(vset[p2]):
            return True
        return p1[1] == p2[1] and not hset[p1].isdisjoint(hset[p2])

    points = sorted(intersections)
    by_x: dict[float, list] = defaultdict(list)
    by_y: dict[float, list] = defaultdict(list)
    for p in points:  # sorted by (x, y): each list stays in pdfplumber's order
        by_x[p[0]].append(p)
        by_y[p[1]].append(p)
    cells = []
    for pt in points:
        col, row = by_x[pt[0]], by_y[pt[1]]
        below = col[bisect_right(col, pt):]
        right = row[bisect_right(row, pt):]
        found = None
        for below_pt in below:
            if not connects(pt, below_pt):
                continue
            for right_pt in right:
                if not connects(pt, right_pt):
                    continue
                corner = (right_pt[0], below_pt[1])
                if corner in intersections and connects(corner, right_pt) and connects(corner, below_pt):
                    found = (pt[0], pt[1], corner[0], corner[1])
                    break
            if found:
                break
        if found:
            cells.append(found)
    return cells


class FastTableFinder(TableFinder):
    """TableFinder whose cell search is :func:`intersections_to_cells` above."""

    def __init__(self, page, settings=None) -> None:  # noqa: D107 - mirrors TableFinder
        self.page = page
        self.settings = TableSettings.resolve(settings)
        self.edges = self.get_edges()
        self.intersections = edges_to_intersections(
            self.edges, self.settings.intersection_x_tolerance, self.settings.intersection_y_tolerance)
        self.cells = intersections_to_cells(self.intersections)
        self.tables = [Table(self.page, group) for group in cells_to_tables(self.cells)]
