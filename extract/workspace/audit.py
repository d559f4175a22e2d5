"""The audit trail: every change (who, when, old value, new value, reason), append-only.

Every state change in the workspace writes one audit entry in the same transaction, so the
log and the state can never disagree. :func:`replay` rebuilds the effective rows from the
log alone; the tests check it always equals :func:`~extract.workspace.effective.effective_rows`,
which is what makes the log a trustworthy record rather than a side note.

Actions: ``extract`` (a row's extracted values, ``new`` = JSON of the row), ``drop`` (the
latest extraction of its document no longer yields the row), ``correct`` / ``resolve`` (a
reviewer's value in force), ``revert`` (a correction withdrawn), ``exclude`` / ``include``,
``enter`` / ``check`` (double extraction: a reviewer's independent value / a row checked),
``document`` (a new document or version).
"""
from __future__ import annotations

import getpass
import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

AFFECTS_VALUES = ("extract", "drop", "correct", "resolve", "revert", "exclude", "include")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_reviewer() -> str:
    """The OS user, so that every entry names someone even when ``--reviewer`` is not given."""
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # no user name in the environment (some containers)
        return "unknown"


def log(conn: sqlite3.Connection, action: str, reviewer: str, *, row_id: str | None = None,
        field: str | None = None, old: str | None = None, new: str | None = None,
        reason: str = "", at: str | None = None) -> int:
    """Append one entry (inside the caller's transaction) and return its sequence number."""
    cur = conn.execute(
        "INSERT INTO audit (at, reviewer, action, row_id, field, old, new, reason) VALUES (?,?,?,?,?,?,?,?)",
        (at or now(), reviewer, action, row_id, field, old, new, reason or ""))
    return int(cur.lastrowid)


@dataclass(frozen=True)
class Entry:
    """One audit entry as shown by ``history``."""

    seq: int
    at: str
    reviewer: str
    action: str
    row_id: str | None
    field: str | None
    old: str | None
    new: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def changes(self) -> list[tuple[str, str | None, str | None]]:
        """(field, old, new) triples; an ``extract`` entry is expanded into the fields that changed."""
        if self.action in ("extract", "drop"):
            old = json.loads(self.old) if self.old else {}
            new = json.loads(self.new) if self.new else {}
            keys = list(new) + [k for k in old if k not in new]
            return [(k, old.get(k), new.get(k)) for k in keys if old.get(k) != new.get(k)]
        return [(self.field or "", self.old, self.new)]


    def summary(self) -> str:
        """One line for ``history``: a new row by its identity and counts, otherwise each change as old → new."""
        if self.action == "extract" and not self.old:
            new = json.loads(self.new)
            keys = ("study_id", "group", "outcome", "events", "total", "person_time")
            return "new row: " + " · ".join(f"{k}={new[k]}" for k in keys if new.get(k) is not None)
        if self.action == "check":
            return "row checked"
        if self.action == "document":
            return f"{self.field}: {self.new[:12]}…"
        return "; ".join(f"{f}: {_show(o)} → {_show(n)}" for f, o, n in self.changes())


def _show(value: str | None) -> str:
    return "∅" if value is None else value


def entries(conn: sqlite3.Connection, row_id: str | None = None) -> list[Entry]:
    sql = "SELECT seq, at, reviewer, action, row_id, field, old, new, reason FROM audit"
    rows = conn.execute(sql + (" WHERE row_id = ? ORDER BY seq" if row_id else " ORDER BY seq"),
                        (row_id,) if row_id else ()).fetchall()
    return [Entry(*r) for r in rows]


@dataclass
class Replayed:
    """State rebuilt from the log: extracted values, which rows the latest extraction yields, corrections, exclusions."""

    extracted: dict[str, dict[str, str | None]]
    present: set[str]
    corrections: dict[str, dict[str, str | None]]
    excluded: set[str]
    order: list[str]


def replay(log_entries: Iterable[Entry]) -> Replayed:
    """Rebuild the state from audit entries only (the log is the source of truth for every value)."""
    state = Replayed({}, set(), {}, set(), [])
    for e in log_entries:
        if e.action not in AFFECTS_VALUES or e.row_id is None:
            continue
        row = e.row_id
        if row not in state.extracted and row not in state.corrections:
            state.order.append(row)
        if e.action == "extract":
            state.extracted[row] = json.loads(e.new)
            state.present.add(row)
        elif e.action == "drop":
            state.present.discard(row)
        elif e.action in ("correct", "resolve"):
            state.corrections.setdefault(row, {})[e.field] = e.new
        elif e.action == "revert":
            state.corrections.get(row, {}).pop(e.field, None)
        elif e.action == "exclude":
            state.excluded.add(row)
        elif e.action == "include":
            state.excluded.discard(row)
    return state
