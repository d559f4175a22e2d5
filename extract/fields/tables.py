"""Results tables → study rows (Contract 1), one per table row × outcome.

Why by header meaning: papers put patients, months, events, rates and intervals in any column
order and under many names, so each column is recognised from what its header says
(``Patients (n)``, ``Months of FU (total)``, ``SIE (incidence *100 p/m/r)``, ``95% CI``…),
never from its position. A sub-header inside the body (``Treatment | | Months of therapy
(total)``) both opens a new group level and renames the columns it fills for the rows below
it; the change is recorded in the rows' ``flags``.

Three kinds of table give rows:

- *rate / proportion tables* (a patients column): one row per group with patients,
  person-time, events, a rate or percent and its interval. The rate (or percent) is the row's
  ``reported_value``; a ``k (p%)`` cell gives both the count and the percent, each with its own
  span. Several outcome columns (``CR n (%)``, ``PR n (%)``) give one row per outcome. A
  ``Cumulative incidence (%)`` column becomes a second row with outcome
  ``cumulative_incidence`` (events and total as on the rate row, ``reported_scale`` percent),
  so a rate and a cumulative proportion never share one ``reported_value``.
- *arms as columns* headed ``Sirolimus (n = 17)`` with outcomes as rows: one row per arm ×
  outcome row the vocabulary knows (baseline rows such as age give nothing).
- *contingency tables* whose columns are "patients with the event" and "without it" (counts
  with column percents): each characteristic row becomes events = count with the event,
  total = with + without, unit ``patients``; the printed column percents are not row
  proportions and are not copied as ``reported_value``.

Per-patient listings (a ``Patient``/``Case`` first column, or no patients column) give no rows.

Grouping convention: ``group`` is the row label as printed; a period level
("Patients diagnosed after 2015") is prefixed as ``diagnosed after 2015 / ALPS-like``; a row
labelled Overall/Total is ``overall`` (or the period itself, group_type ``period``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..document import Cell, Document, Table

# --- header meaning ----------------------------------------------------------------------------

_CI = re.compile(r"\b\d{2}\s*%?\s*(?:CI|conf)|\bconfidence\b|\bCI\b", re.I)
_CUMULATIVE = re.compile(r"cumulative|\bcum\.?\s", re.I)
_RATE = re.compile(
    r"per\s*(?:100|1,?000)\b|\*\s*100|/\s*100\b|\bp/?[mydw]/?r\b"
    r"|incidence\s*(?:rate|density)|\brate\b|\bincidence\b", re.I)
_PVALUE = re.compile(r"^\s*p(?:[-\s]?value)?\s*$", re.I)
_TIME = re.compile(r"\b(months?|years?|days?|weeks?)\b|\bFU\b|follow[-\s]?up|person[-\s]?time|exposure", re.I)
_PERCENT = re.compile(r"%|percent|proportion", re.I)
_TOTAL = re.compile(r"\bpatients?\b|\bsubjects?\b|\bchildren\b|\bcases\b|^\s*n\s*$|\(\s*n\s*\)|\bno\.?\s+of\s+pts", re.I)
_EVENTS = re.compile(r"\(\s*n\s*\)|\bevents?\b|\bepisodes?\b|\binfections?\b|\bresponders?\b|\bresponses?\b|\bdeaths?\b"
                     r"|\brelapses?\b|\bSIEs?\b", re.I)
_PATIENT_ID = re.compile(r"^\s*(patient|case|pt|no\.?|#|id)\s*$", re.I)
_WITH = re.compile(r"\b(with|at least|had|having)\b", re.I)
_WITHOUT = re.compile(r"\b(no|without|free of|none)\b", re.I)

_UNIT_OF = {"month": "months", "year": "years", "day": "days", "week": "weeks"}


@dataclass
class Column:
    """What a column holds: ``role`` is total/person_time/events/rate/ci/cumulative/percent/p."""

    role: str
    header: str
    scale: str = ""
    time_unit: str = ""


def _clean(text: Any) -> str:
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return ""
    text = re.sub(r"<[^>]+>", "", str(text))
    return re.sub(r"\s+", " ", text).strip()


def rate_scale(header: str) -> str:
    """The printed rate scale in words: ``*100 p/m/r`` → ``per 100 person-months``."""
    h = header.lower()
    m = re.search(r"(?:per|\*|/)\s*(1,?000|100)\b|\b(1,?000|100)\s*(?=p/|person|pt|patient)", h)
    per = (m.group(1) or m.group(2)).replace(",", "") if m else ""
    unit = "months"
    for word, u in (("p/y", "years"), ("py", "years"), ("year", "years"), ("p/d", "days"), ("day", "days"),
                    ("p/m", "months"), ("pm", "months"), ("month", "months")):
        if word in h:
            unit = u
            break
    single = unit[:-1]
    return f"per {per} person-{single}s" if per else f"per person-{single}"


def classify_header(header: str) -> Column | None:
    """The role a column header names, or None for the label column and unknown columns."""
    h = _clean(header)
    if not h:
        return None
    if _CI.search(h):
        return Column("ci", h)
    if _CUMULATIVE.search(h):
        return Column("cumulative", h, scale="percent")
    if _RATE.search(h):
        return Column("rate", h, scale=rate_scale(h))
    if _PVALUE.match(h):
        return Column("p", h)
    if _TIME.search(h):
        unit = re.search(r"\b(month|year|day|week)s?\b", h, re.I)
        return Column("person_time", h, time_unit=_UNIT_OF[unit.group(1).lower()] if unit else "months")
    if _TOTAL.search(h) and not _EVENTS.search(re.sub(r"\(\s*n\s*\)", "", h)):
        return Column("total", h)
    if _EVENTS.search(h):
        return Column("events", h)
    if _PERCENT.search(h):
        return Column("percent", h, scale="percent")
    return None


# --- numbers in cells --------------------------------------------------------------------------

_NUM = r"\d[\d,]*(?:\.\d+)?"
_RANGE = re.compile(rf"^\(?\s*({_NUM})\s*(?:-|–|—|‐|to|,)\s*({_NUM})\s*\)?$")
_COUNT_PCT = re.compile(rf"({_NUM})\s*\(\s*({_NUM})\s*%?\s*\)")
_COUNT_PERCENT = re.compile(rf"({_NUM})\s*\(\s*({_NUM})\s*%\s*\)")
_PLAIN = re.compile(rf"^({_NUM})\s*%?$")


def _row_values(rec: pd.Series, names: list[str]) -> list[str]:
    """Cell texts of one frame row by data-column position (safe with repeated column labels)."""
    cols = [i for i, c in enumerate(rec.index) if c != "group"]
    return [_clean(rec.iloc[i]) for i in cols[:len(names)]]


def _group_text(rec: pd.Series) -> str:
    hits = [i for i, c in enumerate(rec.index) if c == "group"]
    return _clean(rec.iloc[hits[0]]) if hits else ""


def to_number(text: str) -> float | None:
    """``3,132`` → 3132.0; anything that is not one plain number → None."""
    m = _PLAIN.match(_clean(text))
    return float(m.group(1).replace(",", "")) if m else None


def _intish(x: float | None) -> int | float | None:
    return int(x) if x is not None and float(x).is_integer() else x


# --- cells ------------------------------------------------------------------------------------


class CellIndex:
    """Finds the ``Cell`` (offsets in ``Document.text``) behind each frame value.

    Readers number cell rows differently (header + body rows only, or every printed row with
    the group rows too), so frame rows are aligned to cell rows in order by their texts; cell
    rows that no frame row takes are the group / sub-header rows, kept in ``group_rows``.
    """

    def __init__(self, table: Table, doc: Document, names: list[str] | None = None) -> None:
        self.table, self.doc = table, doc
        self.by_pos = {(c.row, c.col): c for c in table.cells}
        n_header = len(table.header)
        names = names if names is not None else [c for c in table.frame.columns if c != "group"]
        cell_rows = sorted({c.row for c in table.cells if c.row >= n_header})
        self.rows: list[int | None] = []
        pointer = 0
        for _, rec in table.frame.iterrows():
            values = _row_values(rec, names)
            found = None
            for k in range(pointer, len(cell_rows)):
                if self._row_matches(cell_rows[k], values):
                    found, pointer = cell_rows[k], k + 1
                    break
            self.rows.append(found)
        taken = {r for r in self.rows if r is not None}
        self.group_rows = []
        for r in cell_rows:
            if r in taken:
                continue
            width = 1 + max(c.col for c in table.cells if c.row == r)
            texts = [_clean(self.by_pos[(r, j)].text) if (r, j) in self.by_pos else "" for j in range(width)]
            self.group_rows.append({"label": texts[0] if texts else "", "cells": texts, "row": r})

    def _text(self, cell: Cell | None) -> str:
        if cell is None:
            return ""
        return _clean(cell.text) or _clean(self.doc.text[cell.start:cell.end])

    def _row_matches(self, row: int, values: list[str]) -> bool:
        filled = [(j, v) for j, v in enumerate(values) if v]
        return bool(filled) and all(self._text(self.by_pos.get((row, j))) == v for j, v in filled)

    def find(self, body_row: int, col: int, text: str) -> Cell | None:
        """The cell of frame row ``body_row``, column ``col``, if its text is ``text``."""
        row = self.rows[body_row] if body_row < len(self.rows) else None
        cell = self.by_pos.get((row, col)) if row is not None else None
        if cell is None or cell.end <= cell.start or self._text(cell) != _clean(text):
            return None
        return cell


def _span(cell: Cell | None, doc: Document, piece: str, occurrence: int = 0) -> tuple[int | None, int | None]:
    """Offsets of ``piece`` inside ``cell`` (the whole cell when piece is the cell)."""
    if cell is None:
        return None, None
    text = doc.text[cell.start:cell.end]
    at = -1
    for _ in range(occurrence + 1):
        at = text.find(piece, at + 1)
        if at < 0:
            return None, None
    return cell.start + at, cell.start + at + len(piece)


# --- groups -----------------------------------------------------------------------------------

_AXES = {
    "diagnosis": re.compile(r"\b(diagnos[ie]s|phenotypes?|diseases?|conditions?)\b", re.I),
    "treatment": re.compile(r"\b(treatments?|therap(y|ies)|regimens?|drugs?|arms?)\b", re.I),
}
_OVERALL = re.compile(r"^(global|whole|entire|all|total|overall)\b.*|.*\b(cohort|population)$", re.I)
_PERIOD = re.compile(r"\b(19|20)\d{2}\b|\b(after|before|since|until|period|era)\b", re.I)
_ARM_AXES = ("diagnosis", "treatment")
_OVERALL_ROW = re.compile(r"^(overall|total|all(\s+patients)?|whole\s+cohort)$", re.I)


def _axis(level: str) -> str | None:
    for axis, pat in _AXES.items():
        if pat.search(level):
            return axis
    return None


def _period_label(level: str) -> str:
    """"Patients diagnosed after 2015" → "diagnosed after 2015"."""
    return re.sub(r"^(patients|subjects|children|cases)\s+", "", level, flags=re.I).strip()


def describe_group(levels: list[str], label: str) -> tuple[str, str]:
    """(group, group_type) from the group levels above a row and its printed label."""
    period, axis, unknown = "", None, ""
    for level in levels:
        level = _clean(level)
        if not level:
            continue
        found = _axis(level)
        if found and not _PERIOD.search(level):
            axis = found
        elif _PERIOD.search(level):
            period = _period_label(level)
        elif _OVERALL.match(level):
            period = ""
        else:
            unknown = level  # "Other", "Age group": the vocabulary decides below, else this level names the axis
    if _OVERALL_ROW.match(label):
        return (period, "period") if period else ("overall", "overall")
    group = f"{period} / {label}" if period else label
    if axis is None:
        from ..vocab import load_vocab
        vocab = load_vocab()
        axis = ("diagnosis" if vocab.normalise("diagnosis", label) else "treatment" if vocab.normalise("drug", label)
                else re.sub(r"\W+", "_", unknown.lower()).strip("_") or "subgroup")
    return group, axis


# --- the table walker ------------------------------------------------------------------------


def _columns(table: Table) -> tuple[list[str], dict[int, Column], int]:
    """Data column names (without ``group``), their roles by position, and the label column."""
    names = [c for c in table.frame.columns if c != "group"]
    roles: dict[int, Column] = {}
    for j, name in enumerate(names):
        col = None if j == 0 and _PATIENT_ID.match(_clean(name)) else classify_header(str(name))
        if col is not None:
            roles[j] = col
    label_col = next((j for j in range(len(names)) if j not in roles), 0)
    return names, roles, label_col


def _is_listing(table: Table, names: list[str], roles: dict[int, Column], label_col: int) -> bool:
    """Per-patient tables (Patient 1…13) and tables without a denominator give no pooled rows."""
    if _PATIENT_ID.match(_clean(names[label_col])):
        return True
    labels = [_row_values(rec, names)[label_col] for _, rec in table.frame.iterrows()]
    return bool(labels) and all(re.fullmatch(r"\d+", v) for v in labels if v)


def _event_outcome(header: str) -> str:
    from ..vocab import load_vocab
    return load_vocab().normalise("outcome", header) or "events"


def table_rows(doc: Document, study: dict) -> list[dict]:
    """Every results table of ``doc`` as Contract-1 rows carrying ``study``'s bibliographic fields."""
    rows: list[dict] = []
    for table in doc.tables:
        rows.extend(rows_from_table(table, doc, study))
    return rows


def rows_from_table(table: Table, doc: Document, study: dict) -> list[dict]:
    """The rows of one table (see the module docstring for which tables give rows)."""
    if table.frame is None or table.frame.empty:
        return []
    names, roles, label_col = _columns(table)
    if _is_listing(table, names, roles, label_col):
        return []
    kinds = {c.role for c in roles.values()}
    if "total" in kinds and kinds & {"events", "rate", "cumulative", "percent"}:
        return _rate_rows(table, doc, study, names, roles, label_col)
    return (_contingency_rows(table, doc, study, names, label_col)
            or _arm_column_rows(table, doc, study, names, label_col))


_ARM_N = re.compile(r"\(\s*n\s*=\s*(\d[\d,]*)\s*\)|n\s*=\s*(\d[\d,]*)", re.I)


def _arm_column_rows(table: Table, doc: Document, study: dict, names: list[str], label_col: int) -> list[dict]:
    """Outcomes as rows, arms as columns headed ``Sirolimus (n = 17)``: cells ``k (p%)`` → one row per arm × outcome.

    Rows whose label names no outcome of the vocabulary (baseline characteristics) give nothing.
    """
    from ..vocab import load_vocab

    vocab = load_vocab()
    arms: dict[int, tuple[str, int, Cell | None]] = {}
    for j, name in enumerate(names):
        m = _ARM_N.search(_clean(name))
        if j == label_col or not m:
            continue
        header_cell = next((c for c in table.cells if c.col == j and c.row < len(table.header)
                            and _ARM_N.search(c.text or "")), None)
        arms[j] = (_ARM_N.sub("", _clean(name)).strip(" ,;:") or f"column {j + 1}",
                   int((m.group(1) or m.group(2)).replace(",", "")), header_cell)
    if not arms:
        return []
    index = CellIndex(table, doc, names)
    out: list[dict] = []
    for i, (_, rec) in enumerate(table.frame.iterrows()):
        values = _row_values(rec, names)
        outcome = vocab.normalise("outcome", values[label_col]) if values[label_col] else None
        if not outcome:
            continue
        for j, (arm, n, header_cell) in arms.items():
            got, cols, ev, missing = _read_cells(values, {j: Column("events", names[j])}, index, i, doc)
            if "events" not in got or got["events"] > n:
                continue
            if header_cell is not None:
                raw = _ARM_N.search(doc.text[header_cell.start:header_cell.end])
                if raw:
                    g = 1 if raw.group(1) else 2
                    item = doc.evidence(header_cell.start + raw.start(g), header_cell.start + raw.end(g))
                    item["field"] = "total"
                    ev.append(item)
            group, group_type = describe_group([], arm)
            row = _base(study, table)
            _population_intervention(row, group_type, arm)
            row.update(group=group, group_type=group_type, outcome=outcome, unit="patients",
                       events=_intish(got["events"]), total=n, evidence=ev, flags=missing)
            if "percent" in got:
                row.update(reported_value=got["percent"], reported_scale="percent")
            out.append(row)
    return out


def _base(study: dict, table: Table) -> dict:
    from ..rows import COLUMNS
    keep = ("study_id", "source", "doi", "pmid", "title", "first_author", "year", "journal",
            "design", "multicenter", "evidence_level", "population", "intervention")
    row = {c: None for c in COLUMNS}
    row.update({k: study.get(k) for k in keep if k in study})
    row.update(evidence=[], flags=[], confidence=0.9, status="extracted")
    return row


def _population_intervention(row: dict, group_type: str, label: str) -> None:
    from ..vocab import load_vocab
    vocab = load_vocab()
    if group_type == "diagnosis":
        row["population"] = vocab.normalise("diagnosis", label) or label
    elif group_type == "treatment":
        row["intervention"] = vocab.normalise("drug", label) or label


def _sub_header(values: list[str], label_col: int) -> bool:
    """A body row with a label and no numbers: a group level, maybe renaming some columns."""
    others = [v for j, v in enumerate(values) if j != label_col and v]
    return bool(values[label_col]) and not any(to_number(v) is not None or _RANGE.match(v) for v in others)


def _renames(cells: list[str], roles: dict[int, Column], label: str, table_label: str,
             skip: int) -> tuple[dict[int, Column], list[str]]:
    """Columns a sub-header row renames (``Months of therapy (total)``) and a note for each."""
    new: dict[int, Column] = {}
    notes: list[str] = []
    for j, text in enumerate(cells):
        text = _clean(text)
        if j == skip or not text:
            continue
        col = classify_header(text)
        if col is None:
            continue
        new[j] = col
        old = roles.get(j)
        if old is not None and old.role == col.role and old.header != col.header:
            notes.append(f"{col.role}: column '{old.header}' holds '{col.header}' for the '{label}' rows "
                         f"({table_label} sub-header)")
    return new, notes


def _folded_paths(table: Table, roles: dict[int, Column], label_col: int,
                  index: CellIndex) -> list[tuple[dict[int, Column], list[str]]]:
    """Per body row, the column renames of the group rows above it.

    Readers built on :func:`extract.tables.make_table` fold sub-header rows into the ``group``
    column and keep their cells in ``frame.attrs["group_rows"]``; a run of *k* group rows
    replaces the last *k* levels of the path, so walking the paths in order tells which group
    row each level came from.
    """
    group_rows = list(table.frame.attrs.get("group_rows") or index.group_rows)
    paths = [[g for g in _clean(v).split(" / ") if g] for v in table.frame.get("group", [""] * len(table.frame))]
    out: list[tuple[dict[int, Column], list[str]]] = []
    prev: list[str] = []
    source: list[dict | None] = []
    pointer = 0
    for path in paths:
        if path != prev or not out:
            common = 0
            while common < min(len(prev), len(path)) and prev[common] == path[common] and path != prev:
                common += 1
            k = len(path) - common if path != prev else 0
            consumed = group_rows[pointer:pointer + k]
            pointer += k
            source = source[:common] + [g if g and _clean(g.get("label")) == lvl else None
                                        for g, lvl in zip(consumed + [None] * (k - len(consumed)), path[common:])]
        merged: dict[int, Column] = {}
        notes: list[str] = []
        for g in source:
            if g:
                new, n = _renames(g.get("cells", []), roles, _clean(g.get("label")), table.label, label_col)
                merged.update(new)
                notes.extend(n)
        out.append((merged, notes))
        prev = path
    return out


def _read_cells(values: list[str], current: dict[int, Column], index: CellIndex, i: int,
                doc: Document) -> tuple[dict[str, Any], dict[str, Column], list[dict], list[str]]:
    """The numbers of one body row by role, the columns they came from and their evidence."""
    got: dict[str, Any] = {}
    cols: dict[str, Column] = {}
    ev: list[dict] = []
    missing: list[str] = []
    for j, col in current.items():
        text = values[j] if j < len(values) else ""
        if not text or col.role == "p":
            continue
        both = _COUNT_PERCENT.fullmatch(text) if col.role in ("events", "percent") else None
        if both:  # "3 (60%)": a count and its percent, each with its own span of the cell
            k, pct = (float(g.replace(",", "")) for g in both.groups())
            got["events"], got["percent"] = k, pct
            cols["events"] = cols["percent"] = Column("percent", col.header, scale="percent")
            cell = index.find(i, j, text)
            if cell is None:
                missing.append(f"{col.role} {text}: cell not located in the document text")
                continue
            raw = _COUNT_PERCENT.search(doc.text[cell.start:cell.end])
            for field_name, g in (("events", 1), ("percent", 2)):
                if raw is None:
                    break
                item = doc.evidence(cell.start + raw.start(g), cell.start + raw.end(g))
                item["field"] = field_name
                ev.append(item)
            continue
        if col.role == "ci":
            m = _RANGE.match(text)
            if not m:
                continue
            got["ci"] = tuple(float(g.replace(",", "")) for g in m.groups())
        else:
            num = to_number(text)
            if num is None:
                m = _COUNT_PCT.match(text)
                if not m:
                    continue
                num = float(m.group(1).replace(",", ""))
            got[col.role] = num
        cols[col.role] = col
        cell = index.find(i, j, text)
        if cell is None:
            missing.append(f"{col.role} {text}: cell not located in the document text")
            continue
        item = doc.evidence(cell.start, cell.end)
        item["field"] = col.role
        ev.append(item)
    return got, cols, ev, missing


def _outcome_columns(roles: dict[int, Column]) -> list[int]:
    """Count/percent columns that each name an outcome (``CR n (%)``, ``PR n (%)``, ``Deaths``)."""
    from ..vocab import load_vocab

    vocab = load_vocab()
    return [j for j, c in roles.items() if c.role in ("events", "percent") and vocab.normalise("outcome", c.header)]


def _rate_rows(table: Table, doc: Document, study: dict, names: list[str], roles: dict[int, Column],
               label_col: int) -> list[dict]:
    """Rows of a table with a patients column; one row per outcome column when several name outcomes."""
    outcome_cols = _outcome_columns(roles)
    if len(outcome_cols) < 2:
        return _rate_rows_for(table, doc, study, names, roles, label_col)
    out: list[dict] = []
    for j in outcome_cols:
        only = {k: c for k, c in roles.items() if k == j or k not in outcome_cols}
        out += _rate_rows_for(table, doc, study, names, only, label_col)
    return out + _group_sizes(out)


def _group_sizes(rows: list[dict]) -> list[dict]:
    """One ``patients`` row per diagnosis/treatment group of the table: its patients-column count.

    Why: the group sizes are the table's composition of the cohort ("ITP 20 of 52"), a fact of
    their own, read only when the table prints the cohort they divide (a Total row) as their total."""
    overall = next((r["total"] for r in rows if r["group_type"] == "overall" and r.get("total") is not None), None)
    if overall is None:
        return []
    out: dict[str, dict] = {}
    for r in rows:
        if r["group_type"] not in _ARM_AXES or r.get("total") is None or r["group"] in out:
            continue
        ev = [e for e in r["evidence"] if e["field"] == "total"]
        if not ev:
            continue
        out[r["group"]] = dict(r, outcome="patients", unit="patients", events=r["total"], total=overall,
                               reported_value=None, reported_scale=None, ci_low=None, ci_high=None,
                               person_time=None, time_unit=None, evidence=ev, flags=list(r["flags"]))
    return list(out.values())


def _rate_rows_for(table: Table, doc: Document, study: dict, names: list[str], roles: dict[int, Column],
                   label_col: int) -> list[dict]:
    index = CellIndex(table, doc, names)
    folded = _folded_paths(table, roles, label_col, index)
    out: list[dict] = []
    sub_levels: list[str] = []
    sub_roles: dict[int, Column] = {}
    sub_notes: list[str] = []
    last_group = None
    for i, (_, rec) in enumerate(table.frame.iterrows()):
        values = _row_values(rec, names)
        group_text = _group_text(rec)
        if group_text != last_group:  # a new group path resets in-body sub-headers
            last_group, sub_levels, sub_roles, sub_notes = group_text, [], {}, []
        if _sub_header(values, label_col):  # a sub-header the reader left in the body
            sub_levels = [values[label_col]]
            sub_roles, sub_notes = _renames(values, roles, values[label_col], table.label, label_col)
            continue
        label = values[label_col]
        if not label:
            continue
        renamed, notes = folded[i] if i < len(folded) else ({}, [])
        current = {**roles, **renamed, **sub_roles}
        got, cols, ev, missing = _read_cells(values, current, index, i, doc)
        if not (set(got) & {"events", "rate", "cumulative", "percent", "total"}):
            continue
        levels = [g for g in group_text.split(" / ") if g]
        out.extend(_rows_for(table, study, levels + sub_levels, label, got, cols, ev, notes + sub_notes + missing))
    return out


def _rows_for(table: Table, study: dict, levels: list[str], label: str, got: dict[str, Any],
              cols: dict[str, Column], ev: list[dict], flags: list[str]) -> list[dict]:
    """One table row's figures as the rate/percent row and the cumulative-incidence row."""
    group, group_type = describe_group(levels, label)
    row = _base(study, table)
    _population_intervention(row, group_type, label)
    event_col = cols.get("events") or cols.get("percent") or cols.get("rate") or cols.get("cumulative")
    outcome = _event_outcome(event_col.header) if event_col else "events"
    if event_col and re.search(r"patients?\s+with", event_col.header, re.I):
        unit = "patients"
    else:
        unit = "episodes" if "rate" in got or "person_time" in got else "patients"
    row.update(group=group, group_type=group_type, outcome=outcome, unit=unit,
               events=_intish(got.get("events")), total=_intish(got.get("total")),
               person_time=_intish(got.get("person_time")),
               time_unit=cols["person_time"].time_unit if "person_time" in cols else None,
               flags=list(flags))
    out = []
    key = "rate" if "rate" in got else "percent" if "percent" in got else None
    if key or "cumulative" not in got:
        main = dict(row, evidence=[e for e in ev if e["field"] != "cumulative"])
        if key:
            main.update(reported_value=got[key], reported_scale=cols[key].scale)
        if "ci" in got and (key or "cumulative" not in got):
            main["ci_low"], main["ci_high"] = got["ci"]
        out.append(main)
    if "cumulative" in got:
        cum = dict(row, outcome="cumulative_incidence", reported_value=got["cumulative"], reported_scale="percent",
                   person_time=None, time_unit=None, flags=list(flags),
                   evidence=[e for e in ev if e["field"] in ("cumulative", "events", "total")])
        if "ci" in got and not key:
            cum["ci_low"], cum["ci_high"] = got["ci"]
            cum["evidence"] += [e for e in ev if e["field"] == "ci"]
        out.append(cum)
    return out


def _contingency_rows(table: Table, doc: Document, study: dict, names: list[str], label_col: int) -> list[dict]:
    """Characteristic × (with event, without event) counts → events / total per characteristic."""
    with_col = without_col = None
    for j, name in enumerate(names):
        n = _clean(name)
        if j == label_col or not n:
            continue
        if _WITHOUT.search(n) and without_col is None:
            without_col = j
        elif _WITH.search(n) and with_col is None:
            with_col = j
    if with_col is None or without_col is None:
        return []
    outcome = _event_outcome(_clean(names[with_col]))
    if outcome == "events":
        return []
    index = CellIndex(table, doc, names)
    out: list[dict] = []
    block = ""
    for i, (_, rec) in enumerate(table.frame.iterrows()):
        values = _row_values(rec, names)
        label = values[label_col]
        a, b = values[with_col], values[without_col]
        ma, mb = _COUNT_PERCENT.search(a), _COUNT_PERCENT.search(b)
        if not (ma and mb):
            if label and not (ma or mb):  # an in-body sub-header ("Diagnosis | n (%)")
                block = label
            continue
        if not label:
            continue
        levels = [g for g in _group_text(rec).split(" / ") if g]
        group, group_type = describe_group(levels + ([block] if block else []), label)
        row = _base(study, table)
        _population_intervention(row, group_type, label)
        k_with, k_without = int(float(ma.group(1).replace(",", ""))), int(float(mb.group(1).replace(",", "")))
        ev = []
        for col, text, m, field in ((with_col, a, ma, "events"), (without_col, b, mb, "without_event")):
            cell = index.find(i, col, text)
            start, end = _span(cell, doc, m.group(1), occurrence=_occurrence(text, m))
            if start is not None:
                item = doc.evidence(start, end)
                item["field"] = field
                ev.append(item)
        row.update(group=group, group_type=group_type, outcome=outcome, unit="patients",
                   events=k_with, total=k_with + k_without, evidence=ev,
                   flags=[f"total {k_with + k_without} = {k_with} with + {k_without} without the event "
                          f"({table.label} columns)"], confidence=0.8)
        out.append(row)
    return out


def _occurrence(text: str, m: re.Match) -> int:
    """How many times the matched number appears in the cell before the match."""
    return text[: m.start(1)].count(m.group(1))
