"""Ruling lines of a page, read cheaply from pdfium's path objects.

Only pages whose rules can form a table are handed to pdfplumber's table finder; the edges
are given in pdfplumber's own format so its algorithm runs on them unchanged.
"""
from __future__ import annotations

from .rawpdfium import small_path_bounds

THIN = 2.0  # a path thinner than this (points) is a rule
MIN_LEN = 5.0


def edge(x0: float, top: float, x1: float, bottom: float, orientation: str) -> dict:
    """One pdfplumber edge dict (top-down page coordinates)."""
    return {"x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top,
            "width": x1 - x0, "height": bottom - top, "orientation": orientation,
            "object_type": "line"}


def box_edges(x0: float, top: float, x1: float, bottom: float) -> list[dict]:
    """The edges a straight path with this box gives the table finder: a thin one is a rule
    (horizontal or vertical, along its middle), a rectangle gives its four sides as pdfplumber
    does, anything else (a dot, a short tick) none. Shared by the reader and the salvage of
    truncated files, so both classify paths alike."""
    w, h = x1 - x0, bottom - top
    if h <= THIN and w >= MIN_LEN:
        y = (top + bottom) / 2
        return [edge(x0, y, x1, y, "h")]
    if w <= THIN and h >= MIN_LEN:
        x = (x0 + x1) / 2
        return [edge(x, top, x, bottom, "v")]
    if w > THIN and h > THIN:
        return [edge(x0, top, x1, top, "h"), edge(x0, bottom, x1, bottom, "h"),
                edge(x0, top, x0, bottom, "v"), edge(x1, top, x1, bottom, "v")]
    return []


def page_edges(page, page_top: float) -> list[dict]:
    """Horizontal and vertical edges (pdfplumber dicts) of the straight paths on a page.

    Lines and rectangles only: paths with curves are drawings, not table rules. Top-level
    objects only (rules inside form XObjects are rare), read through the raw API because
    wrapping each of a page's thousand objects in Python costs more than the page's text.
    """
    edges: list[dict] = []
    for left, bottom, right, top in small_path_bounds(page.raw, 6):  # a C loop over the objects
        edges += box_edges(left, page_top - top, right, page_top - bottom)
    return edges


def three_line_groups(edges: list[dict], tol: float = 2.0) -> list[tuple[float, float, float, float]]:
    """Boxes of three-line (booktabs) tables: ≥ 3 horizontal rules of the same extent, no verticals."""
    hs = sorted((e for e in edges if e["orientation"] == "h"), key=lambda e: (round(e["x0"]), e["top"]))
    vs = [e for e in edges if e["orientation"] == "v"]
    groups: list[list[dict]] = []
    for e in hs:
        for g in groups:
            if abs(g[0]["x0"] - e["x0"]) <= tol and abs(g[0]["x1"] - e["x1"]) <= tol:
                g.append(e)
                break
        else:
            groups.append([e])
    boxes = []
    for g in groups:
        if len(g) < 3:
            continue
        x0, x1 = g[0]["x0"], g[0]["x1"]
        top, bottom = min(e["top"] for e in g), max(e["bottom"] for e in g)
        if any(x0 - tol <= v["x0"] <= x1 + tol and v["top"] < bottom and v["bottom"] > top for v in vs):
            continue
        boxes.append((x0, top - 2, x1, bottom + 2))
    return boxes
