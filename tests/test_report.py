"""The terminal report: golden text at 100 and 80 columns, and the same content as JSON and Markdown."""
from __future__ import annotations

import json
import re

import pytest

import corpus
from meta.report import build_report
from tests.conftest import ROOT
from tests.test_cli import run

GOLDEN = ROOT / "tests" / "golden"


@pytest.mark.parametrize("width", [100, 80])
def test_report_matches_golden_text(width):
    """Regenerate with: NO_COLOR=1 COLUMNS=W python cli.py report > tests/golden/report_bundled_W.txt"""
    r = run("report", env={"COLUMNS": str(width)})
    assert r.returncode == 0, r.stderr
    assert r.stdout == (GOLDEN / f"report_bundled_{width}.txt").read_text(encoding="utf-8")
    assert max(len(line) for line in r.stdout.splitlines()) <= width


def test_json_and_markdown_say_the_same():
    rep = build_report(corpus.load_evidence_base(shared=None))
    d = rep.to_dict()
    md = rep.to_markdown()
    assert json.loads(json.dumps(d))  # plain JSON
    for p in d["pooled"]:
        est = f"{p['back']['estimate'] * 100:.1f}"
        line = next(line for line in md.splitlines() if line.startswith(f"| {p['outcome']} "))
        assert f"| {p['k']} | {est} |" in line
    assert d["studies"] == corpus.load_evidence_base(shared=None)["study_id"].nunique()


def test_warnings_name_small_k_and_high_heterogeneity():
    rep = build_report(corpus.load_evidence_base(shared=None))
    k2 = [p.outcome for p in rep.pooled if p.result.k < 3]
    assert k2 and all(any(w.startswith(f"{o}: only") for w in rep.warnings) for o in k2)
    high = [p.outcome for p in rep.pooled if p.result.to_dict()["i2"] > 75]
    assert all(any(re.match(rf"{o}: I² = \d+%", w) for w in rep.warnings) for o in high)


def test_plots_written_per_outcome(tmp_path):
    rep = build_report(corpus.load_evidence_base(shared=None))
    written = rep.write_plots(tmp_path)
    assert len(written) == len(rep.pooled) and all(p.stat().st_size > 5000 for p in written)


def test_duplicate_cohorts_are_warned():
    rows = corpus.load_evidence_base(shared=None)
    twin = rows[rows["study_id"] == "zhang2023"].assign(study_id="zhang2023b")
    import pandas as pd

    rep = build_report(pd.concat([rows, twin], ignore_index=True))
    assert any("possible duplicate cohort" in w and "zhang2023b" in w for w in rep.warnings)
