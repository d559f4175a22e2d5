"""The disagreements printed in the Comella paper (corpus/README.md) become flags when rows
read from its text (built by hand here, with offsets found in the seed at test time) meet the
rows table_rows reads from its Tables 1 and 3."""
from __future__ import annotations

from pathlib import Path

import pytest

from extract import read
from extract.consistency import check
from extract.fields.tables import table_rows

SEED = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "seeds" / "comella2024_front_immunol.md"
STUDY = {"study_id": "comella2024"}
PM = "per 100 person-months"


@pytest.fixture(scope="module")
def flagged():
    if not SEED.exists():
        pytest.skip("../shared/corpus (the shared test corpus) is absent")
    doc = read(SEED)
    results = next(s for s in doc.sections if s.name == "results")

    def ev(locator: str, after: str) -> list[dict]:
        """Evidence for ``locator``: its first occurrence after ``after`` within the Results section."""
        at = doc.text.index(after, results.start)
        start = doc.text.index(locator, at)
        assert start < results.end
        return [doc.evidence(start, start + len(locator))]

    text_rows = [
        dict(STUDY, group="ALPS-like", group_type="diagnosis", population="ALPS-like", outcome="serious_infection",
             unit="episodes", reported_value=0.32, reported_scale=PM, evidence=ev("0.32", "other diagnosis")),
        dict(STUDY, group="overall", group_type="overall", outcome="serious_infection", unit="episodes", events=16,
             person_time=6620, time_unit="months", reported_value=0.24, reported_scale=PM, ci_low=0.09, ci_high=0.3,
             evidence=ev("0.09", "crude rate of 0.24")),
        dict(STUDY, group="diagnosed after 2015", group_type="period", outcome="serious_infection", unit="episodes",
             events=6, person_time=2866, time_unit="months", reported_value=0.21, reported_scale=PM, ci_low=0.08,
             ci_high=0.5, evidence=ev("0.08", "crude rate of 0.21")),
        dict(STUDY, group="SR", group_type="treatment", intervention="sirolimus", total=31, evidence=ev("31", "SR (")),
        dict(STUDY, group="SR after MMF failure", group_type="treatment",
             intervention="sirolimus+mycophenolate mofetil", total=30, evidence=ev("30", "MMF failure (")),
        dict(STUDY, group="overall", group_type="overall", outcome="serious_infection", unit="patients", events=13,
             total=96, reported_value=13, reported_scale="percent", evidence=ev("13", "documented in")),
        dict(STUDY, group="SIE patients / ALPS-like", group_type="diagnosis", outcome="alps_like_share",
             unit="patients", events=10, total=13, reported_value=76, reported_scale="percent",
             evidence=ev("10", "ALPS-like diagnosis (")),
    ]
    rows = text_rows + table_rows(doc, STUDY)
    return check(rows, doc), len(text_rows)


def _flags(rows, **where):
    return [f for r in rows if all(r.get(k) == v for k, v in where.items()) for f in r["flags"]]


def test_alps_like_rate_in_text_vs_table3(flagged):
    rows, _ = flagged
    assert "rate 0.32 in results vs 0.42 in Table 3" in _flags(rows, group="ALPS-like", reported_value=0.32)
    assert "rate 0.42 in Table 3 vs 0.32 in results" in _flags(rows, group="ALPS-like", reported_value=0.42)


def test_overall_and_after_2015_intervals(flagged):
    rows, _ = flagged
    overall = _flags(rows, group="overall", reported_value=0.24)
    assert "CI 0.09-0.3 in results vs 0.14-0.39 in Table 3" in overall
    assert any(f.startswith("CI 0.09-0.3 disagrees with the exact Poisson interval 0.14-0.39") for f in overall)
    assert "CI 0.08-0.5 in results vs 0.09-0.47 in Table 3" in _flags(rows, group="diagnosed after 2015",
                                                                         reported_value=0.21)


def test_treatment_group_sizes_text_and_table1_vs_table3(flagged):
    rows, _ = flagged
    sr = _flags(rows, group="SR", total=33)
    assert "total 33 in Table 3 vs 31 in results" in sr and "total 33 in Table 3 vs 31 in Table 1" in sr
    assert "total 28 in Table 3 vs 30 in results" in _flags(rows, group="Sequential MMF+SR", total=28)


def test_truncated_percents(flagged):
    rows, _ = flagged
    assert any("13/96 = 13.5% truncated" in f for f in _flags(rows, events=13, total=96))
    assert any("10/13 = 76.9% truncated" in f for f in _flags(rows, events=10, total=13))


def test_table3_rows_agree_with_themselves(flagged):
    rows, n_text = flagged
    for r in rows[n_text:]:
        own = [f for f in r["flags"] if not (" vs " in f or "do not add up" in f or "sub-header" in f
                                               or "without the event" in f)]
        assert own == [], (r["group"], own)   # every Table 3 rate, CI and percent fits its counts
