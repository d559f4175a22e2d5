"""Rows of cells → :class:`~extract.document.Table`, shared by every reader.

Why one helper: whatever the source (tab-separated text, Markdown pipes, HTML ``<table>``,
JATS ``<table-wrap>``, pdfplumber's ``extract_tables``), a table is a grid of cell texts that
stand somewhere in ``Document.text``. Turning that grid into a header, body rows and a
``group`` column (merged group rows such as "Global cohort" / "Diagnosis") is the same job
everywhere, so it lives here once.

Input cells may be ``(text, start, end)`` tuples (offsets into ``Document.text``), plain
strings (offsets unknown: ``start == end == -1``) or ``None`` (a merged / empty cell).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence, Union

import pandas as pd

from .document import Cell, Table

GROUP_SEP = " / "
GROUP_COLUMN = "group"

_DIGIT = re.compile(r"\d")
_INLINE_MARKUP = re.compile(r"</?(?:i|b|em|strong|sup|sub|span|u)\b[^>]*>|\*\*")
_SPACE = re.compile(r"\s+")
_LABEL = re.compile(r"^\s*(?:#+\s*)?(?:\*\*)?\s*((?:table|tab\.|表)\s*(?:[A-Z]?\d+[A-Za-z]?|[IVXLC]+\b))\s*[.:|]?\s*(?:\*\*)?\s*[.:|]?\s*",
                    re.IGNORECASE)

RawCell = Union[tuple[str, int, int], str, None]


@dataclass(frozen=True)
class Span:
    """A piece of ``Document.text``: its text and ``[start, end)``."""

    text: str
    start: int
    end: int


def _span(cell: RawCell) -> Span:
    if cell is None:
        return Span("", -1, -1)
    if isinstance(cell, str):
        return Span(cell, -1, -1)
    if isinstance(cell, Span):
        return cell
    text, start, end = cell
    return Span(text or "", start, end)


def clean_label(text: str) -> str:
    """Header text as a column label: inline markup dropped, whitespace collapsed."""
    return _SPACE.sub(" ", _INLINE_MARKUP.sub("", text)).strip()


def split_caption(line: str) -> tuple[str, str]:
    """``"#### TABLE 3 SIE incidence ..."`` → ``("Table 3", "SIE incidence ...")``; no label → ``("", line)``."""
    m = _LABEL.match(line)
    if not m:
        return "", clean_label(line)
    label = _SPACE.sub(" ", m.group(1)).strip()
    label = "Table " + re.split(r"^(?:table|tab\.|表)\s*", label, flags=re.IGNORECASE)[-1]  # one spelling
    return label, clean_label(line[m.end():]).strip(" *")


def is_caption(line: str) -> bool:
    """True when the line starts like a table caption ("Table 2", "TABLE 1.", "**Table 3**", "表 1")."""
    return bool(_LABEL.match(line))


def _is_numeric_column(values: Iterable[Span]) -> bool:
    filled = [v.text for v in values if v.text.strip()]
    return bool(filled) and sum(bool(_DIGIT.search(t)) for t in filled) * 2 > len(filled)


def _is_group_row(row: Sequence[Span], numeric: Sequence[bool]) -> bool:
    """A merged group row ("Global cohort") or a sub-header row ("Treatment | | Months of therapy").

    The first cell is filled; the other cells are empty, or, in the columns that hold numbers,
    mostly filled with words instead of numbers (a label such as "n (%)" or "Months of therapy").
    """
    if not row or not row[0].text.strip():
        return False
    rest = [(c, numeric[i]) for i, c in enumerate(row) if i > 0 and c.text.strip()]
    if not rest:
        return True
    in_numeric = [c for c, num in rest if num]
    wordy = [c for c in in_numeric if not _DIGIT.search(c.text)]
    return bool(wordy) and len(wordy) * 2 >= len(in_numeric)


def _new_path(path: list[tuple[str, bool, int]], run: list[tuple[str, bool, int]]) -> list[tuple[str, bool, int]]:
    """The group path after a run of group rows.

    A run of *k* rows replaces the last *k* levels ("Global cohort" + "Diagnosis", then
    "Treatment"). Two cases read differently: a lone merged row under a sub-header that has cells
    of its own ("Diagnosis | n (%) | n (%) | 0.038", then "Other") is a category inside it, and a
    lone sub-header replaces the deepest sub-header level and what is under it.
    """
    if len(run) == 1 and path:
        has_cells = run[0][1]
        if not has_cells and path[-1][1]:
            return path + run
        subs = [i for i, level in enumerate(path) if level[1]]
        if has_cells and subs:
            return path[:subs[-1]] + run
    keep = max(len(path) - len(run), 0)
    return path[:keep] + run


def _unique(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, lab in enumerate(labels):
        lab = lab or ("" if i == 0 else f"col{i}")
        if lab in seen or lab == GROUP_COLUMN:
            seen[lab] = seen.get(lab, 1) + 1
            lab = f"{lab}.{seen[lab]}" if lab else f"col{i}"
        seen.setdefault(lab, 1)
        out.append(lab)
    return out


def _trim_columns(rows: list[list[Span]]) -> list[list[Span]]:
    width = max((len(r) for r in rows), default=0)
    rows = [r + [Span("", -1, -1)] * (width - len(r)) for r in rows]
    while width > 1 and all(not r[width - 1].text.strip() for r in rows):
        width -= 1
    return [r[:width] for r in rows]


def make_table(rows: Sequence[Sequence[RawCell]], *, label: str = "", caption: str = "",
               page: int | None = None, n_header: int = 1, footnotes: str = "",
               start: int | None = None, end: int | None = None) -> Table:
    """Build a :class:`Table` from a grid of cells (header rows first).

    Group rows become the ``group`` column (levels joined with ``" / "``): a run of *k*
    consecutive group rows replaces the last *k* levels of the current group path, so
    "Global cohort" + "Diagnosis", then "Treatment", then "Patients diagnosed after 2015" +
    "Diagnosis" give the paths a reader of the printed table would say. The group rows
    themselves (label, cells, offsets) are kept in ``frame.attrs["group_rows"]``, and
    ``frame.attrs["row_groups"]`` gives, per body row, the indexes of the group rows on its path
    (so a sub-header's cells, such as "Months of therapy (total)", can be applied to its rows).
    """
    grid = _trim_columns([[_span(c) for c in r] for r in rows if r is not None])
    grid = [r for r in grid if any(c.text.strip() for c in r)]
    n_header = min(n_header, len(grid))
    head, body = grid[:n_header], grid[n_header:]
    width = len(grid[0]) if grid else 0
    numeric = [_is_numeric_column(r[i] for r in body) for i in range(width)]

    kept: list[list[Span]] = []
    groups: list[str] = []
    group_rows: list[dict] = []
    path: list[tuple[str, bool, int]] = []  # (label, is a sub-header with cells of its own, group_rows index)
    run: list[tuple[str, bool, int]] = []
    row_groups: list[list[int]] = []
    for r in body:
        if _is_group_row(r, numeric) and len(body) > 1:
            level = clean_label(r[0].text)
            run.append((level, any(c.text.strip() for c in r[1:]), len(group_rows)))
            group_rows.append({"label": level, "cells": [c.text for c in r],
                               "start": r[0].start, "end": max(c.end for c in r)})
            continue
        if run:
            path = _new_path(path, run)
            run = []
        kept.append(r)
        groups.append(GROUP_SEP.join(level[0] for level in path))
        row_groups.append([level[2] for level in path])

    header_texts = [" ".join(clean_label(h[i].text) for h in head if h[i].text.strip()).strip()
                    for i in range(width)]
    columns = _unique(header_texts)
    frame = pd.DataFrame([[c.text for c in r] + [g] for r, g in zip(kept, groups)],
                         columns=columns + [GROUP_COLUMN], dtype=object)
    frame.attrs["group_rows"] = group_rows
    frame.attrs["row_groups"] = row_groups  # per body row: indexes into group_rows of its group path

    cells = [Cell(i, j, c.text, c.start, c.end)
             for i, r in enumerate(head + kept) for j, c in enumerate(r)]
    known = [c for r in grid for c in r if c.start >= 0]
    if start is None:
        start = min((c.start for c in known), default=-1)
    if end is None:
        end = max((c.end for c in known), default=-1)
    return Table(label=label, caption=caption, frame=frame, page=page, start=start, end=end,
                 header=[[c.text for c in r] for r in head], cells=cells, footnotes=footnotes)


# --- delimited text (tab-separated rows, Markdown pipe tables) ---------------------------------
_PIPE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def is_pipe_rule(line: str) -> bool:
    """The ``|---|:---:|`` line under a Markdown table header."""
    return bool(_PIPE_RULE.match(line)) and "-" in line


def split_cells(line: str, offset: int, sep: str) -> list[Span]:
    """Cells of one delimited line with offsets into the document (``offset`` = where the line starts).

    Surrounding whitespace is not part of a cell; an empty cell sits at its position with
    ``start == end``.
    """
    if sep == "|":
        body_start, body_end = 0, len(line)
        stripped = line.strip()
        if stripped.startswith("|"):
            body_start = line.index("|") + 1
        if stripped.endswith("|") and len(stripped) > 1:
            body_end = line.rindex("|")
        parts = _split_unescaped_pipes(line, body_start, body_end)
    else:
        parts, pos = [], 0
        for piece in line.split(sep):
            parts.append((pos, pos + len(piece)))
            pos += len(piece) + len(sep)
    cells = []
    for a, b in parts:
        seg = line[a:b]
        lead = len(seg) - len(seg.lstrip())
        text = seg.strip()
        s = offset + a + lead
        cells.append(Span(text, s, s + len(text)))
    return cells


def _split_unescaped_pipes(line: str, a: int, b: int) -> list[tuple[int, int]]:
    parts, start, i = [], a, a
    while i < b:
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == "|":
            parts.append((start, i))
            start = i + 1
        i += 1
    parts.append((start, b))
    return parts
