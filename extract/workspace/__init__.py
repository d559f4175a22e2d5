"""The review workspace: extractions, reviewers' corrections and an audit trail that is never lost.

A workspace is a folder with one SQLite database (WAL mode). Public API::

    init_workspace(path) -> Workspace          open_workspace(path) -> Workspace
    is_workspace(path) -> bool                 effective_rows(path, include_excluded=False) -> DataFrame
    add_extraction(ws, paths_or_result, *, extractor=None, workers=1, reviewer=None) -> AddReport
    correct / exclude / include / revert / apply_table / enter / resolve  (corrections.py)
    conflicts(conn) / disagreements(conn)      history(path, row_id=None) -> list[Entry]
    replay_rows(path) -> DataFrame             (the effective rows rebuilt from the audit log alone)
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .audit import Entry, entries, replay
from .corrections import Change, apply_table, correct, enter, exclude, include, resolve, revert
from .db import SCHEMA_VERSION, Workspace, init_workspace, is_workspace, open_workspace
from .effective import effective_rows, load_state, state_frame
from .errors import BadEdit, NotAWorkspace, UnusableWorkspace, WorkspaceError
from .review import Conflict, Disagreement, conflicts, disagreements
from .store import AddReport, add_extraction, row_id


def history(path: str | Path | Workspace, row: str | None = None) -> list[Entry]:
    """The audit entries, oldest first (of one row when ``row`` is given; a unique id prefix will do)."""
    from .corrections import find_row

    if isinstance(path, Workspace):
        return entries(path.conn, find_row(path.conn, row) if row else None)
    with open_workspace(path) as ws:
        return history(ws, row)


def replay_rows(path: str | Path | Workspace, include_excluded: bool = False) -> pd.DataFrame:
    """Effective rows rebuilt from the audit log alone; always equal to :func:`effective_rows`."""
    if isinstance(path, Workspace):
        return state_frame(replay(entries(path.conn)), include_excluded=include_excluded)
    with open_workspace(path) as ws:
        return replay_rows(ws, include_excluded)


__all__ = [
    "AddReport", "BadEdit", "Change", "Conflict", "Disagreement", "Entry", "NotAWorkspace", "SCHEMA_VERSION",
    "UnusableWorkspace", "Workspace", "WorkspaceError", "add_extraction", "apply_table", "conflicts", "correct",
    "disagreements", "effective_rows", "enter", "exclude", "history", "include", "init_workspace", "is_workspace",
    "load_state", "open_workspace", "replay_rows", "resolve", "revert", "row_id",
]
