"""Contract 2: the command line, its JSON keys and its exit codes."""
from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import ROOT

CONTRACT_KEYS = {"k", "measure", "method", "test", "estimate", "se", "ci_low", "ci_high", "pi_low", "pi_high",
                 "stat", "p", "tau2", "tau2_ci_low", "tau2_ci_high", "tau", "i2", "h2", "q", "q_df", "q_p",
                 "back", "studies"}


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    e = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", **(env or {})}
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, env=e, timeout=600)


def test_no_command_is_bad_usage():
    assert run().returncode == 2


def test_unknown_option_is_bad_usage():
    assert run("pool", "--no-such-option").returncode == 2


def test_pool_missing_file_is_one_line_and_exit_2(tmp_path):
    r = run("pool", str(tmp_path / "nope.csv"))
    assert r.returncode == 2
    assert "nope.csv" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_pool_plain_csv_json_matches_metafor(shared, tmp_path):
    """`pool --json` on study,events,total gives metafor's REML logit fit (converged, 1e-6)."""
    src = pd.read_csv(shared / "oracle" / "data" / "pritz1997.csv")
    csv = tmp_path / "p.csv"
    src.rename(columns={"xi": "events", "ni": "total"})[["study", "events", "total"]].to_csv(csv, index=False)
    r = run("pool", str(csv), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert CONTRACT_KEYS <= set(out)
    want = json.loads((shared / "oracle" / "expected" / "pritz1997.json").read_text())
    tight = want["measures"]["PLO"]["fits"]["REML"]["z"]["tight"]
    for key, wkey in [("estimate", "estimate"), ("se", "se"), ("ci_low", "ci.lb"), ("ci_high", "ci.ub"), ("tau2", "tau2")]:
        assert out[key] == pytest.approx(tight[wkey], abs=1e-6), key
    assert out["k"] == len(src) and out["measure"] == "PLO" and out["method"] == "REML"
    assert len(out["studies"]) == len(src)
    assert sum(s["weight"] for s in out["studies"]) == pytest.approx(100.0)


def test_pool_rates_default_irln(tmp_path):
    csv = tmp_path / "r.csv"
    pd.DataFrame({"study": ["a", "b", "c"], "events": [3, 10, 4], "person_time": [1000, 2500, 800]}).to_csv(csv, index=False)
    r = run("pool", str(csv), "--json", "--method", "DL")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["measure"] == "IRLN" and out["method"] == "DL" and out["k"] == 3
    assert 3 / 1000 <= out["back"]["estimate"] <= 10 / 2500 * 2


def test_pool_study_rows_needs_outcome(tmp_path):
    import corpus

    rows = tmp_path / "rows.csv"
    corpus.load_evidence_base(shared=None).to_csv(rows, index=False)
    r = run("pool", str(rows))
    assert r.returncode == 2 and "--outcome" in r.stderr
    r = run("pool", str(rows), "--outcome", "response_complete", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    studies = {s["study"] for s in out["studies"]}
    assert {"zhang2023", "long2018", "huang2022", "wu2021"} <= studies
    assert out["k"] == len(studies)


def test_report_bundled_corpus():
    r = run("report")
    assert r.returncode == 0, r.stderr
    assert "response_overall" in r.stdout.replace(" ", "_") or "response overall" in r.stdout
    assert "\x1b[" not in r.stdout  # no colour codes when piped
    width = max(len(line) for line in r.stdout.splitlines())
    assert width <= 100


def test_report_json_pools_each_outcome_reported_by_two_studies():
    r = run("report", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    pooled = {p["outcome"]: p for p in rep["pooled"]}
    assert {"response_overall", "response_complete"} <= set(pooled)
    for p in pooled.values():
        assert p["k"] >= 2 and p["ci_low"] <= p["estimate"] <= p["ci_high"]
        assert 0 <= p["back"]["ci_low"] <= p["back"]["estimate"] <= p["back"]["ci_high"] <= 1
        assert p["pi_low"] <= p["ci_low"] and p["pi_high"] >= p["ci_high"]


def test_failure_and_warning_lines_print_brackets_literally(capsys):
    """A path or reason with square brackets is text, not rich markup."""
    import cli

    cli._report_failures([("a[b].pdf", "not a PDF [red]x")])
    cli._report_warnings([("c[1].pdf", "pages without text layer (scanned?): 2")])
    err = capsys.readouterr().err
    assert "failed a[b].pdf: not a PDF [red]x" in err
    assert "warning c[1].pdf: pages without text layer (scanned?): 2" in err
