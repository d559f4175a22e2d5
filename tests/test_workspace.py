"""The review workspace: documents by content hash, stable row ids, corrections that survive
re-extraction, conflicts, exclusions, edited-file round trips, double extraction, the audit
trail and its append-only guarantee, and schema migration from version 1."""
from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pytest

import cli
from extract.rows import COLUMNS, read_rows
from extract.workspace import (BadEdit, NotAWorkspace, SCHEMA_VERSION, add_extraction, apply_table, conflicts,
                               correct, disagreements, effective_rows, enter, exclude, history, include,
                               init_workspace, is_workspace, open_workspace, replay_rows, resolve, revert)
from extract.workspace import store
from test_workspace_helpers import STANDARD, fake_extractor, write_paper


@pytest.fixture
def review(tmp_path):
    """A workspace with one paper of three rows extracted."""
    paper = write_paper(tmp_path / "paper.txt", STANDARD)
    ws = init_workspace(tmp_path / "review")
    add_extraction(ws, [paper], extractor=fake_extractor(), version="v1", reviewer="bot")
    yield ws, paper
    ws.close()


def rows_of(ws):
    return effective_rows(ws.root).set_index("row_id")


def row_where(ws, **match):
    df = rows_of(ws)
    for k, v in match.items():
        df = df[df[k] == v]
    assert len(df) == 1, match
    return df.index[0]


# --- documents and rows -----------------------------------------------------------------------


def test_effective_rows_have_contract_columns_then_row_id(review):
    ws, _ = review
    df = effective_rows(ws.root)
    assert list(df.columns) == [*COLUMNS, "row_id"]
    assert len(df) == 3 and set(df["status"]) == {"extracted"}
    assert list(df["events"]) == [12, 5, 1]
    assert json.loads(df["evidence"][0])[0]["quote"] == "12"


def test_same_file_twice_is_one_document_and_is_not_reextracted(review, tmp_path):
    ws, paper = review
    copy = tmp_path / "copy-of-paper.txt"
    copy.write_bytes(paper.read_bytes())
    calls: list = []
    report = add_extraction(ws, [paper, copy], extractor=fake_extractor(calls=calls), version="v1")
    assert calls == [] and report.skipped == 2 and report.extracted == 0
    assert ws.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 1
    assert len(rows_of(ws)) == 3


def test_changed_file_is_a_new_version_and_keeps_row_ids(review):
    ws, paper = review
    before = rows_of(ws)
    write_paper(paper, [STANDARD[0], ("smith2020", "ALPS", "response_overall", "patients", 6, 8)])
    report = add_extraction(ws, [paper], extractor=fake_extractor(), version="v1")
    assert (report.versions, report.added, report.extracted) == (1, 0, 1)
    after = rows_of(ws)
    assert set(after.index) < set(before.index)  # the death row is no longer extracted
    assert after.loc[before.index[1], "events"] == 6
    versions = ws.conn.execute("SELECT version FROM versions ORDER BY version").fetchall()
    assert versions == [(1,), (2,)]


def test_true_duplicates_get_distinct_ids_by_ordinal(tmp_path):
    paper = write_paper(tmp_path / "dup.txt", [STANDARD[0], STANDARD[0]])
    with init_workspace(tmp_path / "r") as ws:
        add_extraction(ws, [paper], extractor=fake_extractor(), version="v1")
        ids = list(rows_of(ws).index)
    assert len(ids) == 2 and len(set(ids)) == 2
    assert ids == [store.row_id("dup.txt", "smith2020", "overall", "response_overall", "patients", n) for n in (0, 1)]


def test_batch_clash_suffix_does_not_change_row_ids(tmp_path):
    """The pipeline suffixes study_id (smith2020a) only when a clashing paper is in the same batch."""
    alone = store.assign_row_ids("p.pdf", [{"study_id": "smith2020", "group": "overall", "outcome": "death"}])
    batched = store.assign_row_ids("p.pdf", [{"study_id": "smith2020b", "group": "overall", "outcome": "death"}])
    other = store.assign_row_ids("p.pdf", [{"study_id": "smith2021", "group": "overall", "outcome": "death"}])
    assert alone == batched != other


def test_failures_are_reported_and_nothing_is_written_for_them(tmp_path):
    bad = write_paper(tmp_path / "bad.txt", STANDARD)
    with init_workspace(tmp_path / "r") as ws:
        report = add_extraction(ws, [bad, tmp_path / "missing.txt"], extractor=fake_extractor(), version="v1")
        assert {p for p, _ in report.failures} == {str(bad), str(tmp_path / "missing.txt")}
        assert ws.conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


def test_a_precomputed_pipeline_result_can_be_added(tmp_path):
    paper = write_paper(tmp_path / "p.txt", STANDARD)
    result = fake_extractor()([paper])
    with init_workspace(tmp_path / "r") as ws:
        report = add_extraction(ws, result, version="v1")
        assert report.rows == 3 and len(rows_of(ws)) == 3


def test_rows_naming_no_document_are_reported_not_dropped_silently(tmp_path):
    a = write_paper(tmp_path / "a.txt", STANDARD[:1])
    b = write_paper(tmp_path / "b.txt", STANDARD[1:])
    result = fake_extractor()([a, b])
    result.rows.loc[0, "source"] = "elsewhere.pdf"
    with init_workspace(tmp_path / "r") as ws:
        report = add_extraction(ws, result, version="v1")
        assert report.rows == 2 and report.extracted == 2
        assert report.failures == [("elsewhere.pdf",
                                    "1 rows name a source that is not among the documents; not added")]


# --- corrections and re-extraction ------------------------------------------------------------


def test_correction_survives_reextraction_and_changed_extraction_is_a_conflict(review):
    ws, paper = review
    rid = row_where(ws, group="ALPS")
    correct(ws, rid, {"events": "6"}, reason="table 2 says 6", reviewer="ann")
    add_extraction(ws, [paper], extractor=fake_extractor(), version="v2")  # same answer as before
    assert rows_of(ws).loc[rid, "events"] == 6 and conflicts(ws.conn) == []
    add_extraction(ws, [paper], extractor=fake_extractor(shift=1), version="v3")  # ALPS now 6: agrees
    assert rows_of(ws).loc[rid, "events"] == 6 and conflicts(ws.conn) == []
    add_extraction(ws, [paper], extractor=fake_extractor(shift=2), version="v4")  # 7: a new answer
    df = rows_of(ws)
    assert df.loc[rid, "events"] == 6 and df.loc[rid, "status"] == "corrected"
    [c] = conflicts(ws.conn)
    assert (c.row_id, c.field, c.reviewer_value, c.corrected_from, c.extracted_now) == (rid, "events", "6", "5", "7")
    correct(ws, rid, {"events": "6"}, reason="checked again", reviewer="ann")  # settles it
    assert conflicts(ws.conn) == []


def test_corrected_row_no_longer_extracted_stays_in_force_as_a_conflict(review):
    ws, paper = review
    rid = row_where(ws, outcome="death")
    correct(ws, rid, {"events": "2"}, reason="x", reviewer="ann")
    write_paper(paper, STANDARD[:2])
    add_extraction(ws, [paper], extractor=fake_extractor(), version="v1")
    assert rows_of(ws).loc[rid, "events"] == 2
    assert [c.note for c in conflicts(ws.conn)] == ["row no longer extracted"]


def test_exclude_include_and_revert(review):
    ws, _ = review
    rid = row_where(ws, outcome="death")
    exclude(ws, rid, reason="duplicate cohort", reviewer="ann")
    assert rid not in rows_of(ws).index
    assert effective_rows(ws.root, include_excluded=True).set_index("row_id").loc[rid, "status"] == "excluded"
    assert exclude(ws, rid, reason="again") is None  # nothing changed, nothing logged
    include(ws, rid, reason="not a duplicate after all", reviewer="ann")
    correct(ws, rid, {"total": "21", "title": "A title"}, reason="x")
    assert rows_of(ws).loc[rid, "total"] == 21
    revert(ws, rid, ["total"], reason="was right")
    df = rows_of(ws)
    assert df.loc[rid, "total"] == 20 and df.loc[rid, "title"] == "A title" and df.loc[rid, "status"] == "corrected"
    actions = [e.action for e in history(ws, rid)]
    assert actions == ["extract", "exclude", "include", "correct", "correct", "revert"]


@pytest.mark.parametrize("changes, message", [
    ({"evnts": "3"}, "unknown field 'evnts'"),
    ({"events": "three"}, "is not a number"),
    ({"design": "anecdote"}, "not one of"),
    ({"status": "excluded"}, "use exclude"),
    ({"flags": "{not json"}, "JSON list"),
])
def test_bad_corrections_are_refused_whole(review, changes, message):
    ws, _ = review
    rid = row_where(ws, outcome="death")
    with pytest.raises(BadEdit, match=message):
        correct(ws, rid, {"total": "30", **changes}, reason="x")
    assert rows_of(ws).loc[rid, "total"] == 20


def test_values_have_one_spelling():
    from extract.workspace.values import canon

    assert canon("events", "13") == canon("events", 13.0) == canon("events", " 13 ") == "13"
    assert canon("ci_high", 0.30000000000000004) == canon("ci_high", "0.3") == "0.3"
    assert canon("multicenter", True) == canon("multicenter", "TRUE") == "true"
    assert canon("evidence", '[{"quote": "x", "page": 1}]') == canon("evidence", [{"page": 1, "quote": "x"}])
    assert canon("title", float("nan")) is None and canon("title", "") is None
    assert canon("pmid", 12345678.0) == "12345678"


def test_row_ids_accept_unique_prefixes_only(review):
    ws, _ = review
    rid = row_where(ws, outcome="death")
    correct(ws, rid[:7], {"total": "19"}, reason="prefix")
    assert rows_of(ws).loc[rid, "total"] == 19
    with pytest.raises(BadEdit, match="unknown row id"):
        correct(ws, "rzzzzzzz", {"total": "19"}, reason="x")
    with pytest.raises(BadEdit, match="unknown row id"):
        correct(ws, rid[:2], {"total": "19"}, reason="too short")


def test_reason_is_required(review):
    ws, _ = review
    with pytest.raises(BadEdit, match="reason"):
        exclude(ws, row_where(ws, outcome="death"), reason="  ")


# --- edited files -----------------------------------------------------------------------------


def test_apply_turns_changed_cells_into_corrections_and_never_undoes_later_edits(review, tmp_path):
    ws, _ = review
    exported = tmp_path / "rows.csv"
    assert cli.main(["export", str(ws.root), "-o", str(exported)]) == 0
    death, alps = row_where(ws, outcome="death"), row_where(ws, group="ALPS")
    correct(ws, alps, {"events": "4"}, reason="after the export", reviewer="bob")
    table = pd.read_csv(exported, dtype=str, keep_default_na=False)
    table.loc[table.row_id == death, ["total", "journal"]] = ["22", "Blood"]
    table.loc[table.row_id == death, "status"] = "excluded"
    table.to_csv(exported, index=False)
    changes = apply_table(ws, exported, reviewer="ann")
    applied = {(c.row_id, c.field, c.new) for c in changes if c.action != "stale"}
    assert applied == {(death, "total", "22"), (death, "journal", "Blood"), (death, "status", "excluded")}
    assert [(c.row_id, c.field) for c in changes if c.action == "stale"] == [(alps, "events")]
    assert rows_of(ws).loc[alps, "events"] == 4  # the stale 5 in the file did not undo bob's correction
    assert death not in rows_of(ws).index


def test_apply_refuses_unknown_columns_and_rows_without_writing(review, tmp_path):
    ws, _ = review
    edited = tmp_path / "e.csv"
    df = effective_rows(ws.root)
    df.assign(total=99, extra=1).to_csv(edited, index=False)
    with pytest.raises(BadEdit, match="unknown field 'extra'"):
        apply_table(ws, edited)
    df.assign(total=99, row_id=["rnope0000000"] * len(df)).to_csv(edited, index=False)
    with pytest.raises(BadEdit, match="unknown row id"):
        apply_table(ws, edited)
    assert set(rows_of(ws)["total"]) == {20, 8}


# --- double extraction ------------------------------------------------------------------------


def test_double_extraction_disagreement_and_resolution(review):
    ws, _ = review
    rid = row_where(ws, group="ALPS")
    enter(ws, rid, {"events": "6"}, reviewer="ann")
    assert disagreements(ws.conn) == []  # one reviewer is not double extraction yet
    enter(ws, rid, {}, reviewer="bob")  # bob checked the row and accepts the extracted 5
    [d] = disagreements(ws.conn)
    assert (d.row_id, d.field, d.values) == (rid, "events", {"ann": "6", "bob": "5"})
    assert rows_of(ws).loc[rid, "events"] == 5  # entries are not in force
    resolve(ws, rid, {"events": "6"}, reason="consensus meeting", reviewer="cat")
    assert disagreements(ws.conn) == [] and rows_of(ws).loc[rid, "events"] == 6
    enter(ws, rid, {"events": "7"}, reviewer="bob")  # a later entry reopens it
    assert [d.values for d in disagreements(ws.conn)] == [{"ann": "6", "bob": "7"}]
    assert disagreements(ws.conn, agreed=True) == []


def test_double_extraction_agreement_not_in_force_is_listed(review):
    ws, _ = review
    rid = row_where(ws, outcome="death")
    enter(ws, rid, {"total": "21"}, reviewer="ann")
    enter(ws, rid, {"total": "21", "events": "1"}, reviewer="bob")  # events=1 is what is in force
    assert disagreements(ws.conn) == []
    [a] = disagreements(ws.conn, agreed=True)
    assert (a.row_id, a.field, a.values) == (rid, "total", {"ann": "21", "bob": "21"})
    resolve(ws, rid, {"total": "21"}, reason="both reviewers", reviewer="ann")
    assert disagreements(ws.conn, agreed=True) == [] and rows_of(ws).loc[rid, "total"] == 21


# --- the audit trail --------------------------------------------------------------------------


def test_audit_log_is_append_only(review):
    ws, _ = review
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        ws.conn.execute("UPDATE audit SET reviewer = 'mallory'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        ws.conn.execute("DELETE FROM audit")
    assert {e.reviewer for e in history(ws)} == {"bot"}


def test_history_records_who_when_old_new_and_why(review):
    ws, _ = review
    rid = row_where(ws, outcome="death")
    correct(ws, rid, {"events": "2"}, reason="typo in table", reviewer="ann")
    last = history(ws, rid)[-1]
    assert (last.action, last.reviewer, last.field, last.old, last.new, last.reason) == \
        ("correct", "ann", "events", "1", "2", "typo in table")
    assert last.at.endswith("Z") and last.at[:2] == "20"


def test_replaying_the_log_gives_the_effective_rows(review):
    ws, paper = review
    rid = row_where(ws, outcome="death")
    correct(ws, rid, {"events": "2"}, reason="x")
    exclude(ws, row_where(ws, group="ALPS"), reason="y")
    add_extraction(ws, [paper], extractor=fake_extractor(shift=3), version="v2")
    pd.testing.assert_frame_equal(replay_rows(ws), effective_rows(ws.root))
    pd.testing.assert_frame_equal(replay_rows(ws, include_excluded=True),
                                  effective_rows(ws.root, include_excluded=True))


# --- schema versions --------------------------------------------------------------------------

# The version-1 schema as litmeta 0.1 wrote it, frozen here on purpose: editing version 1 in
# db.py instead of adding a migration must make this test fail.
V1_SCHEMA = """
CREATE TABLE documents (doc_id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, added_at TEXT NOT NULL);
CREATE TABLE versions (sha256 TEXT PRIMARY KEY, doc_id INTEGER NOT NULL, version INTEGER NOT NULL,
                       path TEXT NOT NULL, added_at TEXT NOT NULL);
CREATE TABLE runs (run_id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL, sha256 TEXT NOT NULL,
                   extractor TEXT NOT NULL, at TEXT NOT NULL, n_rows INTEGER NOT NULL);
CREATE TABLE rows (row_id TEXT PRIMARY KEY, doc_id INTEGER NOT NULL, first_run INTEGER NOT NULL);
CREATE TABLE extracted (run_id INTEGER NOT NULL, row_id TEXT NOT NULL, position INTEGER NOT NULL,
                        data TEXT NOT NULL, PRIMARY KEY (run_id, row_id));
CREATE TABLE corrections (row_id TEXT NOT NULL, field TEXT NOT NULL, value TEXT, reviewer TEXT NOT NULL,
                          at TEXT NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (row_id, field));
CREATE TABLE exclusions (row_id TEXT PRIMARY KEY, reviewer TEXT NOT NULL, at TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, reviewer TEXT NOT NULL,
                    action TEXT NOT NULL, row_id TEXT, field TEXT, old TEXT, new TEXT, reason TEXT NOT NULL DEFAULT '');
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


def test_a_version_1_workspace_opens_migrated_with_its_data(tmp_path):
    root = tmp_path / "old"
    root.mkdir()
    conn = sqlite3.connect(root / "workspace.sqlite")
    conn.executescript(V1_SCHEMA)
    values = {c: None for c in COLUMNS} | {"study_id": "lee2019", "group": "overall", "outcome": "death",
                                          "unit": "patients", "events": "3", "total": "30", "status": "extracted"}
    conn.executescript(f"""
        INSERT INTO documents VALUES (1, 'lee.pdf', '2024-01-01T00:00:00Z');
        INSERT INTO versions VALUES ('abc', 1, 1, 'lee.pdf', '2024-01-01T00:00:00Z');
        INSERT INTO runs VALUES (1, 1, 'abc', 'litmeta 0.1', '2024-01-01T00:00:00Z', 1);
        INSERT INTO rows VALUES ('r1', 1, 1);
        INSERT INTO extracted VALUES (1, 'r1', 0, '{json.dumps(values)}');
        INSERT INTO corrections VALUES ('r1', 'events', '4', 'ann', '2024-01-02T00:00:00Z', 'typo');
        INSERT INTO audit (at, reviewer, action, row_id, new) VALUES ('2024-01-01T00:00:00Z', 'bot', 'extract', 'r1',
                                                                     '{json.dumps(values)}');
        INSERT INTO audit (at, reviewer, action, row_id, field, old, new, reason)
            VALUES ('2024-01-02T00:00:00Z', 'ann', 'correct', 'r1', 'events', '3', '4', 'typo');
        PRAGMA application_id = {0x4C4D5457};
        PRAGMA user_version = 1;
    """)
    conn.close()
    with open_workspace(root) as ws:
        assert ws.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        df = rows_of(ws)
        assert df.loc["r1", "events"] == 4 and df.loc["r1", "status"] == "corrected"
        pd.testing.assert_frame_equal(replay_rows(ws), effective_rows(root))
        enter(ws, "r1", {"total": "31"}, reviewer="ann")  # the tables version 2 added work
        assert conflicts(ws.conn) == []


def test_a_workspace_from_a_newer_litmeta_is_refused_untouched(tmp_path):
    with init_workspace(tmp_path / "r") as ws:
        ws.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    before = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    assert cli.main(["conflicts", str(tmp_path / "r")]) == 1
    assert {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()} == before


# --- command line -----------------------------------------------------------------------------


@pytest.fixture
def cli_review(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "pipeline_extractor", fake_extractor())
    paper = write_paper(tmp_path / "paper.txt", STANDARD)
    root = tmp_path / "review"
    assert cli.main(["init", str(root)]) == 0
    bad = write_paper(tmp_path / "bad.txt", STANDARD[:1])
    assert cli.main(["extract", str(paper), str(bad), "--workspace", str(root)]) == 1
    return root


def test_cli_review_cycle(cli_review, tmp_path, capsys):
    root = cli_review
    rid = effective_rows(root).row_id[2]
    assert cli.main(["correct", str(root), rid, "events=2", "total=19", "--reason", "typo", "--reviewer", "ann"]) == 0
    assert cli.main(["exclude", str(root), effective_rows(root).row_id[0], "--reason", "dup"]) == 0
    capsys.readouterr()
    assert cli.main(["history", str(root), rid, "--json"]) == 0
    log = json.loads(capsys.readouterr().out)
    assert [(e["field"], e["old"], e["new"], e["reviewer"]) for e in log[1:]] == \
        [("events", "1", "2", "ann"), ("total", "20", "19", "ann")]
    assert cli.main(["conflicts", str(root), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    for out in ("rows.csv", "rows.json", "rows.parquet"):
        assert cli.main(["export", str(root), "-o", str(tmp_path / out)]) == 0
        df = read_rows(tmp_path / out)
        assert len(df) == 2 and list(df.columns) == [*COLUMNS, "row_id"]
        assert df.set_index("row_id").loc[rid, "events"] == 2


@pytest.mark.parametrize("argv, message", [
    (["correct", "{root}", "{rid}", "evnts=2", "--reason", "x"], "unknown field 'evnts'"),
    (["correct", "{root}", "rnothere0000", "events=2", "--reason", "x"], "unknown row id"),
    (["correct", "{root}", "{rid}", "events", "--reason", "x"], "expected field=value"),
    (["history", "{tmp}/nowhere"], "no such workspace"),
    (["export", "{root}", "-o", "{tmp}/x.xlsx"], "unknown output format"),
    (["correct", "{root}", "{rid}", "events=2"], "--reason"),
])
def test_cli_bad_usage_is_one_line_and_exit_2(cli_review, tmp_path, capsys, argv, message):
    capsys.readouterr()
    rid = effective_rows(cli_review).row_id[0]
    argv = [a.format(root=cli_review, rid=rid, tmp=tmp_path) for a in argv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err
    if "--reason" in argv:
        assert len(err.splitlines()) == 1


def test_is_workspace(cli_review, tmp_path):
    assert is_workspace(cli_review) and is_workspace(cli_review / "workspace.sqlite")
    (tmp_path / "rows.csv").write_text("study,events,total\n")
    assert not is_workspace(tmp_path / "rows.csv") and not is_workspace(tmp_path / "nowhere")


def test_no_such_workspace_is_not_created(tmp_path):
    with pytest.raises(NotAWorkspace):
        open_workspace(tmp_path / "nowhere")
    assert not (tmp_path / "nowhere").exists()
