"""Effective rows: the latest extraction with reviewers' corrections in force and excluded rows left out.

This is what ``pool``, ``forest``, ``report`` and ``export`` read from a workspace. A row the
latest extraction no longer yields stays in force while a reviewer's correction holds it (a
correction is never lost); it is listed by ``conflicts`` for the reviewer to look at.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd

from ..rows import COLUMNS, NUMERIC_COLUMNS
from .audit import Replayed
from .db import open_workspace

ROW_ID = "row_id"


def load_state(conn: sqlite3.Connection) -> Replayed:
    """The current state read from the state tables (the audit log is not consulted)."""
    latest = {r[0] for r in conn.execute("SELECT MAX(run_id) FROM runs GROUP BY doc_id")}
    extracted: dict[str, dict] = {}
    present: set[str] = set()
    # Each row's values from the most recent run that yielded it.
    for row_id, run_id, data in conn.execute(
            "SELECT e.row_id, e.run_id, e.data FROM extracted e JOIN "
            "(SELECT row_id, MAX(run_id) AS run_id FROM extracted GROUP BY row_id) m "
            "ON e.row_id = m.row_id AND e.run_id = m.run_id"):
        extracted[row_id] = json.loads(data)
        if run_id in latest:
            present.add(row_id)
    corrections: dict[str, dict] = {}
    for row_id, field, value in conn.execute("SELECT row_id, field, value FROM corrections"):
        corrections.setdefault(row_id, {})[field] = value
    excluded = {r[0] for r in conn.execute("SELECT row_id FROM exclusions")}
    order = [r[0] for r in conn.execute(
        "SELECT r.row_id FROM rows r JOIN extracted e ON e.run_id = r.first_run AND e.row_id = r.row_id "
        "ORDER BY r.first_run, e.position")]
    return Replayed(extracted, present, corrections, excluded, order)


def in_force(state: Replayed, row_id: str) -> bool:
    """A row counts when the latest extraction yields it or a correction holds it."""
    return row_id in state.present or bool(state.corrections.get(row_id))


def values_of(state: Replayed, row_id: str) -> dict[str, str | None]:
    """The row's effective values: its last extracted values overlaid with corrections."""
    values = dict(state.extracted.get(row_id, {}))
    corrections = state.corrections.get(row_id, {})
    values.update(corrections)
    if row_id in state.excluded:
        values["status"] = "excluded"
    else:
        values["status"] = "corrected" if corrections else "extracted"
    return values


def state_frame(state: Replayed, include_excluded: bool = False) -> pd.DataFrame:
    """Contract 1 columns (plus ``row_id`` last) with numbers as numbers; empty cells are NA, never a made-up value."""
    records = []
    for row_id in state.order:
        if not in_force(state, row_id) or (row_id in state.excluded and not include_excluded):
            continue
        values = values_of(state, row_id)
        records.append({**{c: values.get(c) for c in COLUMNS}, ROW_ID: row_id})
    df = pd.DataFrame(records, columns=[*COLUMNS, ROW_ID], dtype=object)
    for col in NUMERIC_COLUMNS:
        numbers = pd.to_numeric(df[col], errors="coerce")
        whole = numbers.dropna()
        df[col] = numbers.astype("Int64") if len(whole) and (whole % 1 == 0).all() else numbers.astype(float)
    return df


def effective_rows(path: str | Path, include_excluded: bool = False) -> pd.DataFrame:
    """The workspace's effective study rows (corrections applied, excluded rows left out).

    Used wherever a rows CSV is accepted: pool, forest, report, export.
    """
    with open_workspace(path) as ws:
        return state_frame(load_state(ws.conn), include_excluded=include_excluded)
