"""The workspace with the real pipeline on the shared corpus: row ids stable across re-extraction,
corrections survive a new extractor version, an untouched export applies as no change at all."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from extract.rows import write_rows
from extract.workspace import add_extraction, apply_table, conflicts, correct, effective_rows, history, init_workspace

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEEDS = SHARED / "corpus" / "seeds"


@pytest.fixture(scope="module")
def corpus_review(tmp_path_factory):
    if not SEEDS.is_dir():
        pytest.skip(f"shared corpus not found at {SEEDS} (the ../shared folder is absent)")
    root = tmp_path_factory.mktemp("corpus") / "review"
    with init_workspace(root) as ws:
        report = add_extraction(ws, [SEEDS], version="first")
    assert not report.failures, report.failures
    return root


def test_real_rows_keep_ids_and_corrections_through_reextraction(corpus_review):
    first = effective_rows(corpus_review)
    assert len(first) > 0 and first["row_id"].is_unique
    target = first[first["events"].notna()].iloc[0]
    correct(corpus_review, target["row_id"], {"events": int(target["events"]) + 1},
            reason="checked against the table", reviewer="ann")
    with init_workspace(corpus_review) as ws:
        before = len(history(ws))
        report = add_extraction(ws, [SEEDS], version="second")
        assert report.extracted == len(list(SEEDS.iterdir())) and report.skipped == 0
        new_entries = [e.action for e in history(ws)[before:]]
        assert conflicts(ws.conn) == []
    second = effective_rows(corpus_review)
    assert list(second["row_id"]) == list(first["row_id"])
    assert "drop" not in new_entries and "extract" not in new_entries  # same values: nothing to log
    after = second.set_index("row_id").loc[target["row_id"]]
    assert after["events"] == int(target["events"]) + 1 and after["status"] == "corrected"
    untouched = second["row_id"] != target["row_id"]
    pd.testing.assert_frame_equal(first[untouched], second[untouched])


def test_untouched_export_applies_as_no_change(corpus_review, tmp_path):
    for suffix in (".csv", ".json", ".parquet"):
        exported = tmp_path / f"rows{suffix}"
        write_rows(effective_rows(corpus_review), exported)
        assert apply_table(corpus_review, exported, reviewer="ann") == []
