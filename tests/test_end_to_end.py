"""Issue 2's path, end to end through the command line: papers → rows.csv → pool / report.

The figures are the ones ../shared/corpus/README.md says a correct extractor must find.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.test_cli import run


@pytest.fixture(scope="module")
def seed_rows(shared, tmp_path_factory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("e2e") / "rows.csv"
    seeds = sorted(str(p) for p in (shared / "corpus" / "seeds").iterdir())
    r = run("extract", *seeds, "-o", str(out))
    assert r.returncode == 0, r.stderr
    return pd.read_csv(out)


def _one(df: pd.DataFrame, **where) -> pd.Series:
    sel = df
    for col, val in where.items():
        sel = sel[sel[col] == val]
    assert len(sel) >= 1, where
    return sel.iloc[0]


def test_every_number_carries_verifiable_evidence(seed_rows, shared):
    texts = {p.name: p.read_text(encoding="utf-8") for p in (shared / "corpus" / "seeds").iterdir()}
    numeric = seed_rows[seed_rows[["events", "total", "person_time", "reported_value"]].notna().any(axis=1)]
    assert len(numeric) > 20
    for row in numeric.to_dict("records"):
        ev = json.loads(row["evidence"])
        assert ev, row
        for item in ev:
            assert texts[row["source"]][item["start"]:item["end"]] == item["quote"]


def test_comella_figures(seed_rows):
    c = seed_rows[seed_rows["study_id"] == "comella2024"]
    assert _one(c, outcome="treated", group="overall")["events"] == 96
    ov = c[(c["group"] == "overall") & (c["outcome"] == "serious_infection")]
    episodes = _one(ov, unit="episodes")
    assert (episodes["events"], episodes["total"], episodes["person_time"]) == (16, 96, 6620)
    assert (episodes["reported_value"], episodes["ci_low"], episodes["ci_high"]) == (0.24, 0.09, 0.3)
    assert "per 100 person-months" in episodes["reported_scale"]
    patients = _one(ov, unit="patients")
    assert (patients["events"], patients["total"]) == (13, 96)
    assert (c["design"] == "retrospective").all()


TABLE3 = [  # group (period / label), patients, months, events, rate, ci_low, ci_high — from corpus/README.md
    ("ALPS-like", 47, 3132, 13, 0.42, 0.24, 0.71), ("Other AICs", 49, 3488, 3, 0.09, 0.03, 0.27),
    ("MMF", 35, 2494, 1, 0.04, 0.01, 0.28), ("SR", 33, 2091, 9, 0.43, 0.22, 0.83),
    ("Sequential MMF+SR", 28, 2035, 6, 0.29, 0.13, 0.66),
    ("diagnosed after 2015 / ALPS-like", 22, 1181, 5, 0.42, 0.18, 1.02),
    ("diagnosed after 2015 / Other AICs", 27, 1685, 1, 0.06, 0.01, 0.42),
    ("diagnosed after 2015 / SR", 17, 558, 3, 0.54, 0.17, 1.67),
    ("diagnosed after 2015 / Sequential MMF+SR", 16, 490, 3, 0.61, 0.20, 1.90),
]


@pytest.mark.parametrize("group,n,months,events,rate,lo,hi", TABLE3, ids=[t[0] for t in TABLE3])
def test_comella_table3_rows(seed_rows, group, n, months, events, rate, lo, hi):
    c = seed_rows[(seed_rows["study_id"] == "comella2024") & (seed_rows["outcome"] == "serious_infection")]
    rows = c[(c["total"] == n) & (c["person_time"] == months) & (c["events"] == events)]
    assert len(rows) >= 1, group
    r = rows.iloc[0]
    assert (r["reported_value"], r["ci_low"], r["ci_high"]) == (rate, lo, hi)
    label = group.split(" / ")[-1].split()[0].lower()
    assert label[:3] in str(r["group"]).lower()


def test_okuracar_figures(seed_rows):
    o = seed_rows[seed_rows["study_id"] == "okuracar2024"]
    assert 17 in set(o["total"].dropna()) or 17 in set(o["events"].dropna())
    orr = _one(o, outcome="response_overall", group="overall")
    assert (orr["events"], orr["total"]) == (12, 17)
    crpr = o[(o["events"] == 13) & (o["total"] == 17)]
    assert len(crpr) == 1 and "response" in crpr.iloc[0]["outcome"]
    counts = {r["population"]: r["events"] for r in o[o["outcome"] == "patients"].to_dict("records")}
    assert counts == {"AIHA": 5, "ITP": 6, "Evans syndrome": 6}


def test_papers_without_study_numbers_give_no_outcome_rows(seed_rows):
    for sid in seed_rows["study_id"].unique():
        rows = seed_rows[seed_rows["study_id"] == sid]
        if str(rows.iloc[0]["source"]).startswith("shimano"):
            assert rows["outcome"].isna().all() and len(rows) == 1


def test_pool_and_report_on_extracted_rows(seed_rows, tmp_path):
    path = tmp_path / "rows.csv"
    seed_rows.to_csv(path, index=False)
    r = run("pool", str(path), "--outcome", "serious_infection", "--measure", "IRLN", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["k"] == 1 and out["back"]["estimate"] == pytest.approx(16 / 6620, rel=1e-9)
    r = run("report", str(path))
    assert r.returncode == 0, r.stderr
    assert "comella2024" in r.stdout and "okuracar2024" in r.stdout


def test_batch_goes_on_past_bad_files(shared, tmp_path):
    bad = shared / "corpus" / "bad"
    seed = shared / "corpus" / "seeds" / "okuracar2024_pubmed.txt"
    out = tmp_path / "rows.csv"
    r = run("extract", str(bad / "empty.pdf"), str(seed), str(bad / "not_a_pdf.pdf"), "-o", str(out))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.splitlines() if "failed" in line]
    assert len(lines) == 2 and any("empty.pdf" in line for line in lines) and any("not_a_pdf.pdf" in line for line in lines)
    assert set(pd.read_csv(out)["study_id"]) == {"okuracar2024"}


def test_the_same_paper_twice_is_flagged_as_a_possible_duplicate_cohort(shared):
    """A reviewer who feeds the seed and the PDF of one study must be warned before pooling both."""
    from extract.pipeline import extract_paths
    from meta.report import build_report

    result = extract_paths([shared / "corpus" / "seeds" / "okuracar2024_pubmed.txt",
                            shared / "corpus" / "pdf" / "okuracar2024_scand_j_immunol.pdf"])
    assert sorted(result.rows["study_id"].unique()) == ["okuracar2024a", "okuracar2024b"]
    assert all("possible duplicate cohort" in f for f in result.rows["flags"])
    dup = [w for w in build_report(result.rows).warnings if "duplicate" in w]
    assert len(dup) == 1 and "okuracar2024a" in dup[0] and "okuracar2024b" in dup[0]


def test_pool_forest_and_report_read_a_workspace_with_corrections_applied(shared, tmp_path):
    ws = tmp_path / "review"
    seed = shared / "corpus" / "seeds" / "okuracar2024_pubmed.txt"
    assert run("init", str(ws)).returncode == 0
    assert run("extract", str(seed), "--workspace", str(ws), "--reviewer", "ana").returncode == 0
    rows = run("export", str(ws), "-o", str(tmp_path / "rows.csv"))
    assert rows.returncode == 0, rows.stderr
    df = pd.read_csv(tmp_path / "rows.csv")
    orr = df[(df["outcome"] == "response_overall") & (df["group"] == "overall")].iloc[0]
    r = run("correct", str(ws), orr["row_id"], "events=11", "--reason", "test: a reviewer's value", "--reviewer", "bo")
    assert r.returncode == 0, r.stderr
    out = json.loads(run("pool", str(ws), "--outcome", "response_overall", "--json").stdout)
    assert out["k"] == 1 and out["back"]["estimate"] == pytest.approx(11 / 17)
    assert run("forest", str(ws), "--outcome", "response_overall", "-o", str(tmp_path / "f.svg")).returncode == 0
    assert "okuracar2024" in run("report", str(ws)).stdout
    r = run("exclude", str(ws), orr["row_id"], "--reason", "test: excluded rows are not pooled")
    assert r.returncode == 0, r.stderr
    gone = run("pool", str(ws), "--outcome", "response_overall", "--json")
    assert gone.returncode == 2 and "response_overall" in gone.stderr
