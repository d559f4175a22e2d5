"""Reviewers' edits: corrections, exclusions, edited-CSV round trips and double extraction.

Every function validates everything first (unknown row id, unknown field, a value that does
not fit its column → :class:`BadEdit`, nothing written), then makes all its changes and their
audit entries in one transaction: an edit is applied whole or not at all, and two reviewers
editing at once are serialised by the database, so neither update is lost.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..rows import COLUMNS
from .audit import default_reviewer, log, now
from .db import Workspace, open_workspace
from .errors import BadEdit
from .values import check_edit

MIN_PREFIX = 4


@dataclass(frozen=True)
class Change:
    """One applied change, as reported back to the reviewer."""

    action: str
    row_id: str
    field: str
    old: str | None
    new: str | None


# --- looking things up ---------------------------------------------------------------------------


def find_row(conn: sqlite3.Connection, text: str) -> str:
    """The full row id for ``text`` (the id itself, or an unambiguous prefix of at least 4 characters)."""
    text = text.strip()
    if conn.execute("SELECT 1 FROM rows WHERE row_id = ?", (text,)).fetchone():
        return text
    hits = [] if len(text) < MIN_PREFIX else [r[0] for r in conn.execute(
        "SELECT row_id FROM rows WHERE row_id >= ? AND row_id < ? LIMIT 2", (text, text + "\uffff"))]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise BadEdit(f"row id {text!r} is ambiguous; give more characters")
    raise BadEdit(f"unknown row id {text!r} (see: litmeta export, or litmeta history)")


def extracted_values(conn: sqlite3.Connection, row_id: str) -> dict[str, str | None]:
    hit = conn.execute("SELECT data FROM extracted WHERE row_id = ? ORDER BY run_id DESC LIMIT 1", (row_id,)).fetchone()
    return json.loads(hit[0]) if hit else {}


def current_value(conn: sqlite3.Connection, row_id: str, field: str) -> str | None:
    hit = conn.execute("SELECT value FROM corrections WHERE row_id = ? AND field = ?", (row_id, field)).fetchone()
    return hit[0] if hit else extracted_values(conn, row_id).get(field)


def _status(conn: sqlite3.Connection, row_id: str) -> str:
    if conn.execute("SELECT 1 FROM exclusions WHERE row_id = ?", (row_id,)).fetchone():
        return "excluded"
    return "corrected" if conn.execute("SELECT 1 FROM corrections WHERE row_id = ?", (row_id,)).fetchone() else "extracted"


def _checked(changes: Mapping[str, Any]) -> dict[str, str | None]:
    if not changes:
        raise BadEdit("nothing to change: give field=value pairs")
    return {field: check_edit(field, value) for field, value in changes.items()}


def _ws(workspace: Workspace | str | Path) -> tuple[Workspace, bool]:
    return (workspace, False) if isinstance(workspace, Workspace) else (open_workspace(workspace), True)


def _run(workspace: Workspace | str | Path, fn):
    ws, owned = _ws(workspace)
    try:
        return ws.write(fn)
    finally:
        if owned:
            ws.close()


# --- the changes, each inside the caller's transaction -------------------------------------------


def set_value(conn: sqlite3.Connection, row_id: str, field: str, value: str | None, *, reviewer: str, reason: str,
              action: str = "correct") -> Change:
    """Put a reviewer's value in force; remember the extracted value it was set against (for conflicts)."""
    old = current_value(conn, row_id, field)
    base = json.dumps(extracted_values(conn, row_id).get(field))
    conn.execute("INSERT OR REPLACE INTO corrections (row_id, field, value, reviewer, at, reason, base) "
                 "VALUES (?,?,?,?,?,?,?)", (row_id, field, value, reviewer, now(), reason, base))
    log(conn, action, reviewer, row_id=row_id, field=field, old=old, new=value, reason=reason)
    return Change(action, row_id, field, old, value)


def set_excluded(conn: sqlite3.Connection, row_id: str, excluded: bool, *, reviewer: str, reason: str) -> Change | None:
    old = _status(conn, row_id)
    if (old == "excluded") == excluded:
        return None
    if excluded:
        conn.execute("INSERT INTO exclusions (row_id, reviewer, at, reason) VALUES (?,?,?,?)",
                     (row_id, reviewer, now(), reason))
    else:
        conn.execute("DELETE FROM exclusions WHERE row_id = ?", (row_id,))
    new = _status(conn, row_id)
    action = "exclude" if excluded else "include"
    log(conn, action, reviewer, row_id=row_id, field="status", old=old, new=new, reason=reason)
    return Change(action, row_id, "status", old, new)


def _need_reason(reason: str, what: str) -> str:
    if not reason or not reason.strip():
        raise BadEdit(f"{what} needs a reason (--reason \"...\")")
    return reason.strip()


# --- public API ----------------------------------------------------------------------------------


def correct(workspace: Workspace | str | Path, row_id: str, changes: Mapping[str, Any], *, reason: str,
            reviewer: str | None = None) -> list[Change]:
    """Correct fields of one row; the reviewer's values stay in force through any re-extraction."""
    return _put_values(workspace, row_id, changes, reason=reason, reviewer=reviewer, action="correct")


def _put_values(workspace: Workspace | str | Path, row_id: str, changes: Mapping[str, Any], *, reason: str,
                reviewer: str | None, action: str) -> list[Change]:
    """correct and resolve: validate, then set every value in one transaction (a resolution is also recorded)."""
    values = _checked(changes)
    reason = _need_reason(reason, f"{action}")
    reviewer = reviewer or default_reviewer()

    def tx(conn: sqlite3.Connection) -> list[Change]:
        rid = find_row(conn, row_id)
        out = []
        for f, v in values.items():
            out.append(set_value(conn, rid, f, v, reviewer=reviewer, reason=reason, action=action))
            if action == "resolve":
                seq = conn.execute("SELECT MAX(seq) FROM audit").fetchone()[0]
                conn.execute("INSERT OR REPLACE INTO resolutions (row_id, field, value, seq) VALUES (?,?,?,?)",
                             (rid, f, v, seq))
        return out

    return _run(workspace, tx)


def exclude(workspace: Workspace | str | Path, row_id: str, *, reason: str, reviewer: str | None = None,
            excluded: bool = True) -> Change | None:
    """Leave a row out of the effective rows (``excluded=False``: bring it back). None when nothing changed."""
    reason = _need_reason(reason, "exclude" if excluded else "include")
    reviewer = reviewer or default_reviewer()
    return _run(workspace, lambda conn: set_excluded(conn, find_row(conn, row_id), excluded,
                                                     reviewer=reviewer, reason=reason))


def include(workspace: Workspace | str | Path, row_id: str, *, reason: str, reviewer: str | None = None) -> Change | None:
    return exclude(workspace, row_id, reason=reason, reviewer=reviewer, excluded=False)


def revert(workspace: Workspace | str | Path, row_id: str, fields: list[str], *, reason: str,
           reviewer: str | None = None) -> list[Change]:
    """Withdraw corrections so the extracted values are in force again (e.g. after a conflict)."""
    reason = _need_reason(reason, "revert")
    reviewer = reviewer or default_reviewer()
    for f in fields:
        if f not in COLUMNS:
            raise BadEdit(f"unknown field {f!r}")

    def tx(conn: sqlite3.Connection) -> list[Change]:
        rid = find_row(conn, row_id)
        out = []
        for f in fields or [r[0] for r in conn.execute("SELECT field FROM corrections WHERE row_id = ?", (rid,))]:
            hit = conn.execute("SELECT value FROM corrections WHERE row_id = ? AND field = ?", (rid, f)).fetchone()
            if not hit:
                raise BadEdit(f"{rid}: no correction of {f!r} to revert")
            conn.execute("DELETE FROM corrections WHERE row_id = ? AND field = ?", (rid, f))
            new = extracted_values(conn, rid).get(f)
            log(conn, "revert", reviewer, row_id=rid, field=f, old=hit[0], new=new, reason=reason)
            out.append(Change("revert", rid, f, hit[0], new))
        return out

    return _run(workspace, tx)


def read_edited(path: str | Path) -> pd.DataFrame:
    """An exported and edited rows file, every cell as text (so nothing is reinterpreted on the way in)."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        from ..rows import read_rows

        return read_rows(path).astype(object)
    except FileNotFoundError:
        raise BadEdit(f"{path}: no such file") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise BadEdit(f"{path}: cannot be read as rows ({str(exc).splitlines()[0]})") from None


def apply_table(workspace: Workspace | str | Path, path: str | Path, *, reason: str | None = None,
                reviewer: str | None = None, double: bool = False) -> list[Change]:
    """Turn each cell changed in an exported file (matched by ``row_id``) into a correction.

    A ``status`` cell changed to or from ``excluded`` excludes or includes the row. With
    ``double=True`` the cells become the reviewer's double-extraction entries instead, and every
    row in the file counts as checked by that reviewer.
    """
    from .effective import load_state, values_of

    table = read_edited(path)
    name = Path(path).name
    if "row_id" not in table.columns:
        raise BadEdit(f"{name}: no row_id column (export the workspace, edit, then apply)")
    unknown = [c for c in table.columns if c not in COLUMNS and c != "row_id"]
    if unknown:
        raise BadEdit(f"{name}: unknown field {unknown[0]!r}")
    reason = reason or f"edited in {name}"
    reviewer = reviewer or default_reviewer()
    fields = [c for c in table.columns if c in COLUMNS and c != "status"]
    edits: list[tuple[str, dict[str, str | None], str | None]] = []
    for i, record in enumerate(table.to_dict("records"), start=2):
        where = f"{name} line {i}"
        rid = str(record["row_id"]).strip()
        if not rid:
            raise BadEdit(f"{where}: empty row_id")
        new = {f: check_edit(f, record[f], where) for f in fields}
        status = str(record.get("status") or "").strip() if "status" in table.columns else None
        edits.append((rid, new, status))

    def tx(conn: sqlite3.Connection) -> list[Change]:
        state = load_state(conn)
        out: list[Change] = []
        for rid, new, status in edits:
            rid = find_row(conn, rid)
            old = values_of(state, rid)
            changed = {f: v for f, v in new.items() if v != old.get(f)}
            if double:
                out.extend(record_entries(conn, rid, changed, reviewer=reviewer))
                continue
            past = past_values(conn, rid)
            for f, v in changed.items():
                if v in past.get(f, ()):  # an export older than the workspace: never undo a later edit
                    out.append(Change("stale", rid, f, old.get(f), v))
                else:
                    out.append(set_value(conn, rid, f, v, reviewer=reviewer, reason=reason))
            exclude = status == "excluded"
            if status and exclude != (old["status"] == "excluded"):
                if not exclude or "excluded" in past.get("status", ()):
                    out.append(Change("stale", rid, "status", old["status"], status))
                    continue
                out.append(set_excluded(conn, rid, True, reviewer=reviewer, reason=reason))
        return out

    return _run(workspace, tx)


def past_values(conn: sqlite3.Connection, row_id: str) -> dict[str, set[str | None]]:
    """Every value each field of a row has held (extracted or set by a reviewer), from the audit log."""
    past: dict[str, set[str | None]] = {}
    for action, field, old, new in conn.execute(
            "SELECT action, field, old, new FROM audit WHERE row_id = ? ORDER BY seq", (row_id,)):
        if action in ("extract", "drop"):
            for blob in (old, new):
                for f, v in (json.loads(blob) if blob else {}).items():
                    past.setdefault(f, set()).add(v)
        elif action in ("correct", "resolve", "revert", "exclude", "include"):
            past.setdefault(field, set()).update((old, new))
    return past


# --- double extraction ---------------------------------------------------------------------------


def record_entries(conn: sqlite3.Connection, row_id: str, values: Mapping[str, str | None], *,
                   reviewer: str) -> list[Change]:
    """A reviewer's independent values for one row (not in force until resolved); the row counts as checked."""
    out = []
    if not conn.execute("SELECT 1 FROM checks WHERE row_id = ? AND reviewer = ?", (row_id, reviewer)).fetchone():
        seq = log(conn, "check", reviewer, row_id=row_id)
        conn.execute("INSERT INTO checks (row_id, reviewer, seq) VALUES (?,?,?)", (row_id, reviewer, seq))
    for field, value in values.items():
        hit = conn.execute("SELECT value FROM entries WHERE row_id = ? AND field = ? AND reviewer = ?",
                           (row_id, field, reviewer)).fetchone()
        old = hit[0] if hit else None
        seq = log(conn, "enter", reviewer, row_id=row_id, field=field, old=old, new=value)
        conn.execute("INSERT OR REPLACE INTO entries (row_id, field, reviewer, value, seq) VALUES (?,?,?,?,?)",
                     (row_id, field, reviewer, value, seq))
        out.append(Change("enter", row_id, field, old, value))
    return out


def enter(workspace: Workspace | str | Path, row_id: str, changes: Mapping[str, Any], *,
          reviewer: str | None = None) -> list[Change]:
    """Double extraction: record one reviewer's values for a row (no pairs: the reviewer agrees with the extraction)."""
    values = {f: check_edit(f, v) for f, v in changes.items()}
    reviewer = reviewer or default_reviewer()
    return _run(workspace, lambda conn: record_entries(conn, find_row(conn, row_id), values, reviewer=reviewer))


def resolve(workspace: Workspace | str | Path, row_id: str, changes: Mapping[str, Any], *, reason: str,
            reviewer: str | None = None) -> list[Change]:
    """Settle a disagreement: the agreed value is put in force and the resolution recorded."""
    return _put_values(workspace, row_id, changes, reason=reason, reviewer=reviewer, action="resolve")
