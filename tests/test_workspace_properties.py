"""Property: any sequence of corrections, exclusions, reverts, edited-file applies and re-extractions
leaves the effective rows equal to replaying the audit log, and every reviewer's correction in force."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extract.workspace import (BadEdit, add_extraction, apply_table, correct, effective_rows, exclude, include,
                               init_workspace, load_state, replay_rows, revert)
from extract.workspace.values import canon
from test_workspace_helpers import fake_extractor, write_paper

VALUES = {"events": ["1", "7", "12", ""], "total": ["20", "30"], "title": ["A", "B"], "group": ["overall", "MMF"]}
FIELDS = sorted(VALUES)


def variant_rows(name: str, variant: int) -> list[tuple]:
    """What "the extractor" yields for a paper under rule set ``variant``: values move, rows vanish and appear."""
    rows = [(name, "overall", "death", "patients", 3 + variant % 2, 20),
            (name, "ALPS", "response_overall", "patients", 5, 8 + variant),
            (name, "overall", "infection", "episodes", 2, 20)]
    if variant == 2:
        rows.pop()
    if variant == 3:
        rows.append((name, "MMF", "relapse", "patients", 1, 4))
    return rows


ops = st.lists(st.one_of(
    st.tuples(st.just("correct"), st.integers(0, 20), st.sampled_from(FIELDS), st.integers(0, 3)),
    st.tuples(st.just("apply"), st.integers(0, 20), st.sampled_from(FIELDS), st.integers(0, 3)),
    st.tuples(st.just("exclude"), st.integers(0, 20)),
    st.tuples(st.just("include"), st.integers(0, 20)),
    st.tuples(st.just("revert"), st.integers(0, 20), st.sampled_from(FIELDS)),
    st.tuples(st.just("reextract"), st.integers(0, 3)),
), max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_effective_rows_equal_replay_of_the_audit_log(sequence):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        papers = [tmp / "a.txt", tmp / "b.txt"]
        ws = init_workspace(tmp / "review")
        step = 0

        def reextract(variant: int) -> None:
            nonlocal step
            step += 1
            for p in papers:
                write_paper(p, variant_rows(p.stem, variant))
            add_extraction(ws, papers, extractor=fake_extractor(), version=f"v{step}", reviewer="bot")

        reextract(0)
        model: dict[tuple[str, str], str | None] = {}
        excluded: set[str] = set()
        for op in sequence:
            ids = sorted(load_state(ws.conn).extracted)
            kind = op[0]
            if kind == "reextract":
                reextract(op[1])
                continue
            rid = ids[op[1] % len(ids)]
            if kind in ("correct", "apply"):
                field, value = op[2], VALUES[op[2]][op[3] % len(VALUES[op[2]])]
                if kind == "correct":
                    correct(ws, rid, {field: value}, reason="property", reviewer="ann")
                    model[(rid, field)] = canon(field, value)
                else:
                    edited = tmp / "edited.csv"
                    table = effective_rows(ws.root, include_excluded=True).astype(object)
                    if rid not in set(table["row_id"]):
                        continue  # not in force: not in any export
                    table.loc[table["row_id"] == rid, field] = value
                    table.to_csv(edited, index=False)
                    for change in apply_table(ws, edited, reviewer="bob"):
                        if change.action == "correct":
                            model[(change.row_id, change.field)] = change.new
            elif kind == "exclude":
                exclude(ws, rid, reason="property")
                excluded.add(rid)
            elif kind == "include":
                include(ws, rid, reason="property")
                excluded.discard(rid)
            elif kind == "revert":
                if (rid, op[2]) in model:
                    revert(ws, rid, [op[2]], reason="property")
                    del model[(rid, op[2])]
                else:
                    try:
                        revert(ws, rid, [op[2]], reason="property")
                        raise AssertionError("revert without a correction must be refused")
                    except BadEdit:
                        pass

        state = load_state(ws.conn)
        assert {(r, f): v for r, fields in state.corrections.items() for f, v in fields.items()} == model
        assert state.excluded == excluded
        for full in (False, True):
            pd.testing.assert_frame_equal(replay_rows(ws, include_excluded=full),
                                          effective_rows(ws.root, include_excluded=full))
        shown = effective_rows(ws.root, include_excluded=True).set_index("row_id")
        for (rid, field), value in model.items():  # every correction in force, through any re-extraction
            got = shown.loc[rid, field]
            assert canon(field, None if pd.isna(got) else got) == value
        assert not set(effective_rows(ws.root)["row_id"]) & excluded
        ws.close()
