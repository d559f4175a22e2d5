"""Consistency flags on hand-built rows: each check flags what it should and nothing else."""
from __future__ import annotations

import pytest

from extract.consistency import (check, check_ci, check_percent, check_rate, decimals, duplicate_cohorts,
                                 parse_scale, proportion_intervals, rate_intervals, rounds_to)
from extract.document import Document, Page, Section, Table

import pandas as pd


def row(**kw):
    base = {"study_id": "s2020", "group": "overall", "group_type": "overall", "outcome": "serious_infection",
            "unit": "patients", "evidence": [], "flags": []}
    base.update(kw)
    return base


def pct(value, events, total):
    return row(reported_value=value, reported_scale="percent", events=events, total=total)


@pytest.mark.parametrize("value,events,total,flag", [
    (76.9, 10, 13, None),          # rounded: fine
    (13.5, 13, 96, None),
    (29.4, 5, 17, None),
    (76.4, 13, 17, "truncated"),   # 76.47 printed as 76.4
    (13, 13, 96, "truncated"),     # 13.54 printed as 13
    (76, 10, 13, "truncated"),     # 76.92 printed as 76
    (60, 10, 13, "disagrees"),
    (120, 10, 13, "outside"),
])
def test_percent_vs_events_over_total(value, events, total, flag):
    flags = check_percent(pct(value, events, total))
    assert (flags == []) if flag is None else (len(flags) == 1 and flag in flags[0])


def test_percent_without_events_must_fit_some_count():
    assert check_percent(pct(35.2, None, 17)) == []          # 6/17 truncated
    assert "fits no whole count" in check_percent(pct(33.0, None, 17))[0]


def test_rate_is_checked_on_its_scale():
    r = row(events=16, person_time=6620, time_unit="months", reported_value=0.24, reported_scale="per 100 person-months")
    assert check_rate(r) == []
    assert "disagrees" in check_rate(dict(r, reported_value=0.32))[0]
    years = dict(r, person_time=6620 / 12, time_unit="years")   # same exposure in years
    assert check_rate(years) == []
    assert check_rate(dict(r, reported_scale="per 1000 person-months", reported_value=2.4)) == []
    assert check_rate(dict(r, reported_scale="percent")) == []  # not a rate: nothing to check


def test_ci_against_exact_poisson_and_approximations():
    r = row(events=16, person_time=6620, time_unit="months", reported_value=0.24,
            reported_scale="per 100 person-months", ci_low=0.14, ci_high=0.39)
    assert check_ci(r) == []                                  # exact Poisson at printed precision
    bad = check_ci(dict(r, ci_low=0.09, ci_high=0.3))
    assert len(bad) == 1 and "exact Poisson interval 0.14-0.39" in bad[0]
    lognormal = row(events=13, person_time=3132, time_unit="months", reported_value=0.42,
                    reported_scale="per 100 person-months", ci_low=0.24, ci_high=0.71)
    assert check_ci(lognormal) == []
    outside = check_ci(dict(r, ci_low=0.25, ci_high=0.39))
    assert any("outside its CI" in f for f in outside)


def test_ci_for_proportions_clopper_pearson():
    lo, hi = proportion_intervals(13, 17)["Clopper-Pearson"]
    r = pct(76.5, 13, 17) | {"ci_low": round(lo * 100, 1), "ci_high": round(hi * 100, 1)}
    assert check_ci(r) == []
    assert "Clopper-Pearson" in check_ci(dict(r, ci_low=40.0, ci_high=99.0))[0]


def test_interval_helpers_agree_with_scipy_definitions():
    lo, hi = rate_intervals(0, 100)["exact Poisson"]
    assert lo == 0 and hi == pytest.approx(3.6889 / 100, rel=1e-4)
    assert decimals(0.3) == 1 and decimals(27.66) == 2 and decimals(13.0) == 0
    assert rounds_to(0.2417, 0.24) and not rounds_to(0.2417, 0.25)
    assert parse_scale("*100 p/m/r") == (100.0, "months") and parse_scale("percent") is None


def _doc_with_places():
    text = "Abstract ... Results ... Table 3 ..."
    t = Table("Table 3", "", pd.DataFrame(), 1, 25, 36)
    return Document("x.md", "markdown", text, [Page(1, 0, len(text))], tables=[t],
                    sections=[Section("abstract", "Abstract", 0, 12), Section("results", "Results", 12, 25)])


def ev(start, field):
    return [{"quote": "x", "page": 1, "start": start, "end": start + 1, "field": field}]


def test_same_figure_stated_twice_flags_every_copy():
    doc = _doc_with_places()
    rate = dict(group="ALPS-like", group_type="diagnosis", population="ALPS-like", events=13, person_time=3132,
                time_unit="months", reported_scale="per 100 person-months", unit="episodes")
    rows = [row(**rate, reported_value=0.32, evidence=ev(14, "rate")),
            row(**rate, reported_value=0.42, evidence=ev(26, "rate")),
            row(**rate, reported_value=0.42, evidence=ev(2, "rate"))]
    out = check(rows, doc)
    assert any("rate 0.32 in results vs 0.42 in Table 3" in f for f in out[0]["flags"])
    assert any("rate 0.42 in Table 3 vs 0.32 in results" in f for f in out[1]["flags"])
    assert any("vs 0.32 in results" in f for f in out[2]["flags"])
    assert not any("in abstract" in f for f in out[1]["flags"])   # equal values are not a disagreement
    assert rows[0]["flags"] == []                                   # inputs untouched


def test_ci_stated_twice_and_precision_aware_equality():
    doc = _doc_with_places()
    base = dict(events=6, person_time=2866, time_unit="months", reported_value=0.21, reported_scale="per 100 person-months",
                group="diagnosed after 2015", group_type="period", unit="episodes")
    rows = [row(**base, ci_low=0.08, ci_high=0.5, evidence=ev(14, "ci")),
            row(**base, ci_low=0.09, ci_high=0.47, evidence=ev(26, "ci"))]
    out = check(rows, doc)
    assert "CI 0.08-0.5 in results vs 0.09-0.47 in Table 3" in out[0]["flags"]
    same = check([row(**pct(12, 6, 49)), row(**pct(12.24, 6, 49))], doc)
    assert not any(" vs " in f for r in same for f in r["flags"])


def test_treatment_groups_meet_across_labels():
    doc = _doc_with_places()
    rows = [row(group="Only SR", group_type="treatment", intervention="sirolimus", total=31, evidence=ev(14, "total")),
            row(group="SR", group_type="treatment", intervention="sirolimus", total=33, evidence=ev(26, "total")),
            row(group="MMF", group_type="treatment", intervention="mycophenolate mofetil", total=35, evidence=ev(26, "total"))]
    out = check(rows, doc)
    assert "total 31 in results vs 33 in Table 3" in out[0]["flags"]
    assert out[2]["flags"] == []


def test_subgroups_must_add_up_within_one_table():
    doc = _doc_with_places()
    mk = lambda g, gt, n, pt: row(group=g, group_type=gt, total=n, person_time=pt, time_unit="months",
                                   intervention=g if gt == "treatment" else None, evidence=ev(26, "total"))
    good = [mk("overall", "overall", 96, 6620), mk("MMF", "treatment", 35, 2494), mk("SR", "treatment", 33, 2091),
            mk("SEQ", "treatment", 28, 2035)]
    assert all(r["flags"] == [] for r in check(good, doc))
    bad = [dict(r) for r in good]
    bad[1]["person_time"] = 573
    out = check(bad, doc)
    assert any("do not add up to 6620" in f for f in out[0]["flags"])
    assert any("do not add up" in f for f in out[1]["flags"])


def test_duplicate_cohorts():
    a = [row(study_id="a2020", first_author="Mattia Comella", centre="Genoa", period="2015-2023", total=96)]
    b = [row(study_id="b2021", first_author="Comella M", centre="genoa", period="2015-2023", total=80)]
    c = [row(study_id="c2021", first_author="Comella M", centre="Rome", total=96)]
    d = [row(study_id="d2022", first_author="Other X", evidence=[{"quote": "NCT01234567", "page": 1, "start": 0, "end": 11}])]
    e = [row(study_id="e2022", first_author="Someone Y", registration="NCT01234567")]
    out = duplicate_cohorts({"a2020": a, "b2021": b, "c2021": c, "d2022": d, "e2022": e})
    assert any("duplicate cohort of b2021" in f for f in out["a2020"][0]["flags"])
    assert not any("c2021" in f for f in out["a2020"][0]["flags"])  # only author + total: not enough
    assert any("duplicate cohort of e2022 (same registration)" in f for f in out["d2022"][0]["flags"])
    assert out["c2021"][0]["flags"] == []


def test_other_groups_meet_whatever_their_wording():
    doc = _doc_with_places()
    rate = dict(reported_scale="per 100 person-months", unit="episodes")
    rows = [row(group="others", group_type="diagnosis", reported_value=0.09, evidence=ev(2, "rate"), **rate),
            row(group="Other AICs", group_type="diagnosis", population="AIC", reported_value=0.06,
                evidence=ev(26, "rate"), **rate)]
    assert "rate 0.09 in abstract vs 0.06 in Table 3" in check(rows, doc)[0]["flags"]


def test_composition_rows_give_the_group_size():
    doc = _doc_with_places()
    rows = [row(group="SR", group_type="treatment", intervention="sirolimus", outcome="patients", events=31, total=96,
                reported_value=32, reported_scale="percent", evidence=ev(14, "events")),
            row(group="SR", group_type="treatment", intervention="sirolimus", total=33, evidence=ev(26, "total"))]
    out = check(rows, doc)
    assert "total 31 in results vs 33 in Table 3" in out[0]["flags"]
    assert not any("total 96" in f for f in out[0]["flags"])


def test_rows_read_back_from_csv_with_nan_and_json_text():
    nan = float("nan")
    rows = [row(group=nan, group_type="overall", intervention=nan, population=nan, events=13, total=96,
                reported_value=13, reported_scale="percent", ci_low=nan, ci_high=nan, flags='["kept"]',
                evidence='[{"quote": "13", "page": 1, "start": 0, "end": 2}]'),
            row(group="overall", group_type="overall", events=nan, total=96, reported_value=14,
                reported_scale="percent")]
    out = check(rows, None)
    assert out[0]["flags"][0] == "kept" and any("truncated" in f for f in out[0]["flags"])
    assert any("percent 13 in page 1 vs 14" in f for f in out[0]["flags"])
    assert not any("nan" in f.lower() for r in out for f in r["flags"])


def test_figures_at_different_time_points_are_not_one_figure_stated_twice():
    from extract.consistency import stated_twice

    def row(events, pct, when):
        return dict(study_id="s", group="overall", group_type="overall", outcome="response_overall", events=events,
                    total=19, reported_value=pct, reported_scale="percent", flags=[f"time point: {when}"], evidence=[])

    flags = stated_twice([row(10, 52.6, "at 3 months"), row(14, 73.7, "at 6 months"), row(12, 63.2, "at 6 months")])
    assert flags[0] == []
    assert any("73.7" in f and "63.2" in f for f in flags[1]) and any("63.2" in f for f in flags[2])
