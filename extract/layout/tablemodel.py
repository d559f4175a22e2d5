"""From a page table (cells as words) to the Document's :class:`~extract.document.Table`.

Rows are classified so that grouping rows do not pose as data: a row whose first cell is
the only one filled, the rest merged away ("Global cohort", "Diagnosis"), is a group label;
a row with a label and only wordy, digit-free notes ("Treatment | | Months of therapy
(total)") is a sub-header. Consecutive group rows nest (a run of two is level 0 then 1), and
each body row carries the current levels joined with " / " in a ``group`` column.
"""
from __future__ import annotations

import re
from functools import cache

import pandas as pd

_DIGIT = re.compile(r"\d")


def _is_group(row: list[str | None]) -> bool:
    return bool(row and row[0]) and len(row) > 1 and all(c is None for c in row[1:])


def _is_subheader(row: list[str | None]) -> bool:
    if not row or not row[0] or len(row) < 2:
        return False
    rest = [c for c in row[1:] if c]
    return bool(rest) and len(rest) < len(row) - 1 and not any(_DIGIT.search(c) for c in rest)


def row_kinds(rows: list[list[str | None]]) -> list[str]:
    """'header' for the first row, then 'group' or 'body' for each following row."""
    kinds = ["header"] if rows else []
    for row in rows[1:]:
        kinds.append("group" if _is_group(row) or _is_subheader(row) else "body")
    return kinds


def group_labels(rows: list[list[str | None]], kinds: list[str]) -> list[str]:
    """The group path of every row (empty for header and group rows themselves)."""
    runs: list[tuple[int, int]] = []  # (first row, length) of each run of group rows
    i = 0
    while i < len(rows):
        if kinds[i] == "group":
            j = i
            while j < len(rows) and kinds[j] == "group":
                j += 1
            runs.append((i, j - i))
            i = j
        else:
            i += 1
    depth = max((n for _, n in runs), default=0)
    level_of = {}
    for first, n in runs:
        for k in range(n):
            level_of[first + k] = depth - n + k
    levels: list[str] = []
    out = []
    for i, row in enumerate(rows):
        if kinds[i] == "group":
            lvl = level_of[i]
            levels = levels[:lvl] + [""] * (lvl - len(levels)) + [row[0] or ""]
            out.append("")
        elif kinds[i] == "body":
            out.append(" / ".join(x for x in levels if x))
        else:
            out.append("")
    return out


def frame_of(rows: list[list[str | None]]) -> pd.DataFrame:
    """Body rows under the header labels, with the ``group`` column first."""
    kinds = row_kinds(rows)
    groups = group_labels(rows, kinds)
    header = [c or "" for c in rows[0]] if rows else []
    labels: list[str] = []
    for h in header:
        name, k = h, 2
        while name in labels or name == "group":
            name, k = f"{h} ({k})", k + 1
        labels.append(name)
    body = [[c if c is not None else "" for c in r] for r, kd in zip(rows, kinds) if kd == "body"]
    group = [g for g, kd in zip(groups, kinds) if kd == "body"]
    if body and labels and all(len(r) == len(labels) for r in body):
        columns = [group, *map(list, zip(*body))]
        fast = _str_frame(["group", *labels], columns)
        if fast is not None:
            return fast
        # column by column: the same frame as below at a third of pandas' row-wise cost
        return pd.DataFrame(dict(zip(["group", *labels], columns)))
    frame = pd.DataFrame(body, columns=labels) if labels else pd.DataFrame()
    frame.insert(0, "group", group)
    return frame


@cache
def _str_dtype():
    """The dtype pandas infers for a column of Python strings (probed once: pandas 3's
    ``str``, a pyarrow-backed ``StringDtype``; ``object`` before it)."""
    return pd.Series(["x"]).dtype


def _str_frame(labels: list[str], columns: list[list[str]]) -> pd.DataFrame | None:
    """``pd.DataFrame(dict(zip(labels, columns)))`` for distinct string labels and
    equally long columns of Python strings, built from ready string arrays (a table's
    frame costs a tenth of pandas' inference per column and block); None where strings
    are not inferred as a ``StringDtype`` or pandas lacks ``DataFrame._from_arrays``."""
    dtype = _str_dtype()
    if not isinstance(dtype, pd.StringDtype) or not hasattr(pd.DataFrame, "_from_arrays"):
        return None
    make = dtype.construct_array_type()._from_sequence

    def fresh() -> pd.StringDtype:  # a dtype object per array, as pandas makes them (so a
        return pd.StringDtype(dtype.storage, dtype.na_value)  # pickled frame is the same bytes)

    arrays = [make(col, dtype=fresh()) for col in columns]
    return pd.DataFrame._from_arrays(arrays, columns=pd.Index(labels, dtype=fresh()),
                                     index=pd.RangeIndex(len(columns[0])), verify_integrity=False)
