"""What needs a reviewer's eye: conflicts with re-extraction, and disagreements between two reviewers.

A *conflict* is a correction the extractor has since changed its mind about: the latest
extraction differs both from the reviewer's value and from the value the reviewer corrected
(an extractor still producing the value the reviewer already overruled is nothing new), or the
latest extraction no longer yields the corrected row at all. The correction stays in force;
correcting again (or ``revert``) settles it.

A *disagreement* is a field where reviewers who checked the same row hold different values
(a reviewer who checked the row without entering a field accepts the extracted value),
and no resolution has been recorded since their last entry.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass

from .effective import load_state

MISSING = "row no longer extracted"


@dataclass(frozen=True)
class Conflict:
    row_id: str
    study_id: str | None
    field: str
    reviewer_value: str | None
    corrected_from: str | None
    extracted_now: str | None
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Disagreement:
    row_id: str
    study_id: str | None
    field: str
    values: dict[str, str | None]  # reviewer → value

    def to_dict(self) -> dict:
        return asdict(self)


def conflicts(conn: sqlite3.Connection) -> list[Conflict]:
    state = load_state(conn)
    out = []
    for row_id, field, value, base in conn.execute(
            "SELECT row_id, field, value, base FROM corrections ORDER BY row_id, field"):
        extracted = state.extracted.get(row_id, {})
        study = extracted.get("study_id")
        known = base is not None  # NULL: corrected by a litmeta that did not record it (schema 1)
        before = json.loads(base) if known else None
        if row_id not in state.present:
            out.append(Conflict(row_id, study, field, value, before, None, MISSING))
        elif extracted.get(field) != value and (not known or extracted.get(field) != before):
            out.append(Conflict(row_id, study, field, value, before, extracted.get(field),
                                "extraction changed since the correction"))
    return out


def disagreements(conn: sqlite3.Connection, agreed: bool = False) -> list[Disagreement]:
    """Fields where reviewers who checked a row differ (unresolved since their last entry).

    ``agreed=True`` lists the other actionable case instead: every reviewer holds the same value
    and it is not the value in force (settle it with ``resolve``, as for a disagreement).
    """
    state = load_state(conn)
    checked: dict[str, dict[str, int]] = {}
    for row_id, reviewer, seq in conn.execute("SELECT row_id, reviewer, seq FROM checks"):
        checked.setdefault(row_id, {})[reviewer] = seq
    entries: dict[tuple[str, str], dict[str, tuple[str | None, int]]] = {}
    for row_id, field, reviewer, value, seq in conn.execute(
            "SELECT row_id, field, reviewer, value, seq FROM entries ORDER BY row_id, field"):
        entries.setdefault((row_id, field), {})[reviewer] = (value, seq)
    resolved = {(r, f): seq for r, f, seq in conn.execute("SELECT row_id, field, seq FROM resolutions")}
    out = []
    for (row_id, field), given in entries.items():
        reviewers = checked.get(row_id, {})
        if len(reviewers) < 2:
            continue
        extracted = state.extracted.get(row_id, {}).get(field)
        values = {r: given[r][0] if r in given else extracted for r in sorted(reviewers)}
        latest = max([s for _, s in given.values()] + list(reviewers.values()))
        if resolved.get((row_id, field), -1) > latest:
            continue
        distinct = set(values.values())
        in_force = state.corrections.get(row_id, {}).get(field, extracted)
        if (len(distinct) > 1) if not agreed else (len(distinct) == 1 and distinct != {in_force}):
            out.append(Disagreement(row_id, state.extracted.get(row_id, {}).get("study_id"), field, values))
    return out
