"""table_rows on real tables (the Comella seed, read at test time) and on small hand-made grids."""
from __future__ import annotations

from pathlib import Path

import pytest

from extract import read
from extract.document import Document, Page
from extract.fields.tables import classify_header, describe_group, rate_scale, table_rows
from extract.tables import make_table, split_cells

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
STUDY = {"study_id": "comella2024", "source": "comella2024_front_immunol.md", "design": "retrospective"}


@pytest.fixture(scope="module", params=["seeds/comella2024_front_immunol.md", "pdf/comella2024_front_immunol.pdf"])
def comella_rows(request):
    path = SHARED / "corpus" / request.param
    if not path.exists():
        pytest.skip("../shared/corpus (the shared test corpus) is absent")
    doc = read(path)
    return doc, table_rows(doc, STUDY)


# (period prefix, group, group_type, patients, months, SIE, rate, ci, cumulative %), per corpus/README.md
TABLE3 = [
    ("", "ALPS-like", "diagnosis", 47, 3132, 13, 0.42, (0.24, 0.71), 27.66),
    ("", "Other AICs", "diagnosis", 49, 3488, 3, 0.09, (0.03, 0.27), 6.12),
    ("", "overall", "overall", 96, 6620, 16, 0.24, (0.14, 0.39), 16.67),
    ("", "MMF", "treatment", 35, 2494, 1, 0.04, (0.01, 0.28), 2.86),
    ("", "SR", "treatment", 33, 2091, 9, 0.43, (0.22, 0.83), 27.27),
    ("", "Sequential MMF+SR", "treatment", 28, 2035, 6, 0.29, (0.13, 0.66), 21.43),
    ("diagnosed after 2015 / ", "ALPS-like", "diagnosis", 22, 1181, 5, 0.42, (0.18, 1.02), 22.73),
    ("diagnosed after 2015 / ", "Other AICs", "diagnosis", 27, 1685, 1, 0.06, (0.01, 0.42), 3.7),
    ("", "diagnosed after 2015", "period", 49, 2866, 6, 0.21, (0.09, 0.47), 12.24),
    ("diagnosed after 2015 / ", "MMF", "treatment", 16, 573, 0, 0.0, None, 0),
    ("diagnosed after 2015 / ", "SR", "treatment", 17, 558, 3, 0.54, (0.17, 1.67), 17.65),
    ("diagnosed after 2015 / ", "Sequential MMF+SR", "treatment", 16, 490, 3, 0.61, (0.20, 1.90), 18.75),
]


def _table3(rows):
    return [r for r in rows if any(e["start"] is not None for e in r["evidence"])
            and r["outcome"] == "serious_infection" and r["unit"] == "episodes"]


def test_table3_gives_all_twelve_groups_with_exact_values(comella_rows):
    doc, rows = comella_rows
    rate_rows = _table3(rows)
    assert len(rate_rows) == 12
    by_group = {r["group"]: r for r in rate_rows}
    for prefix, label, gtype, n, months, sie, rate, ci, _ in TABLE3:
        r = by_group[prefix + label]
        assert r["group_type"] == gtype
        assert (r["total"], r["person_time"], r["events"], r["reported_value"]) == (n, months, sie, rate)
        assert r["time_unit"] == "months" and r["reported_scale"] == "per 100 person-months"
        assert (r["ci_low"], r["ci_high"]) == (ci if ci else (None, None))
        assert r["study_id"] == "comella2024" and r["design"] == "retrospective"


def test_table3_cumulative_incidence_rows(comella_rows):
    _, rows = comella_rows
    cum = {r["group"]: r for r in rows if r["outcome"] == "cumulative_incidence"}
    assert len(cum) == 12
    for prefix, label, _, n, _, sie, _, _, pct in TABLE3:
        r = cum[prefix + label]
        assert (r["reported_value"], r["reported_scale"], r["events"], r["total"]) == (pct, "percent", sie, n)
        assert r["person_time"] is None and r["ci_low"] is None


def test_every_number_has_verbatim_cell_evidence(comella_rows):
    doc, rows = comella_rows
    for r in _table3(rows):
        fields = {e["field"] for e in r["evidence"]}
        assert {"total", "person_time", "events", "rate"} <= fields
        for e in r["evidence"]:
            assert doc.text[e["start"]:e["end"]] == e["quote"]
        months = next(e for e in r["evidence"] if e["field"] == "person_time")
        assert float(months["quote"].replace(",", "")) == r["person_time"]


def test_months_of_therapy_switch_is_flagged_only_on_after_2015_treatment_rows(comella_rows):
    _, rows = comella_rows
    for r in _table3(rows):
        switched = any("Months of therapy" in f for f in r["flags"])
        assert switched == (r["group"].startswith("diagnosed after 2015 / ") and r["group_type"] == "treatment")


def test_treatment_and_diagnosis_labels_are_normalised(comella_rows):
    _, rows = comella_rows
    by_group = {r["group"]: r for r in _table3(rows)}
    assert by_group["MMF"]["intervention"] == "mycophenolate mofetil"
    assert "sirolimus" in by_group["Sequential MMF+SR"]["intervention"]
    assert by_group["ALPS-like"]["population"] == "ALPS-like"


def test_table1_contingency_rows_are_events_over_group_totals(comella_rows):
    _, rows = comella_rows
    cont = {r["group"]: r for r in rows if r["unit"] == "patients" and r["outcome"] == "serious_infection"}
    expected = {"ALPS-like": (10, 47), "ITP": (1, 30), "ALPS": (2, 19), "Only MMF": (1, 35), "Only SR": (5, 31),
                "SR after MMF failure": (7, 30)}
    assert {g: (r["events"], r["total"]) for g, r in cont.items()} == expected
    assert cont["Only SR"]["group_type"] == "treatment" and cont["ITP"]["group_type"] == "diagnosis"
    assert all(r["reported_value"] is None for r in cont.values())  # column percents are not row proportions


def test_table2_patient_listing_gives_no_rows(comella_rows):
    doc, rows = comella_rows
    t2 = next(t for t in doc.tables if t.label == "Table 2")
    assert table_rows(Document("x", "text", doc.text, doc.pages, tables=[t2]), STUDY) == []


@pytest.mark.parametrize("header,role", [
    ("Patients (n)", "total"), ("N", "total"), ("Months of FU (total)", "person_time"),
    ("Person-years", "person_time"), ("SIE (n)", "events"), ("Infections", "events"),
    ("SIE (incidence *100 p/m/r)", "rate"), ("Rate per 100 person-months", "rate"), ("95% CI", "ci"),
    ("Cumulative incidence (%)", "cumulative"), ("p", "p"), ("Response rate (%)", "rate"),
    ("Responders (%)", "events"), ("", None), ("Phenotype", None),
])
def test_classify_header(header, role):
    col = classify_header(header)
    assert (col.role if col else None) == role


def test_rate_scale_and_time_units():
    assert rate_scale("SIE (incidence *100 p/m/r)") == "per 100 person-months"
    assert rate_scale("events per 1000 person-years") == "per 1000 person-years"
    assert classify_header("Follow-up (years)").time_unit == "years"


def test_describe_group_conventions():
    assert describe_group(["Global cohort", "Diagnosis"], "ALPS-like") == ("ALPS-like", "diagnosis")
    assert describe_group(["Patients diagnosed after 2015", "Treatment"], "SR") == ("diagnosed after 2015 / SR", "treatment")
    assert describe_group(["Patients diagnosed after 2015", "Diagnosis"], "Overall") == ("diagnosed after 2015", "period")
    assert describe_group([], "Total") == ("overall", "overall")


def _doc_with(grid, label="Table 9"):
    lines = ["\t".join(r) for r in grid]
    text = "\n".join(lines)
    cells, pos = [], 0
    for line in lines:
        cells.append([(c.text, c.start, c.end) for c in split_cells(line, pos, "\t")])
        pos += len(line) + 1
    return Document("t.txt", "text", text, [Page(1, 0, len(text))], tables=[make_table(cells, label=label)])


def test_columns_found_by_meaning_not_position():
    doc = _doc_with([
        ["Arm", "Infections", "95% CI", "Rate per 100 person-years", "Follow-up (years)", "Patients"],
        ["Sirolimus", "4", "0.5-4.1", "1.6", "250", "40"],
    ])
    [r] = table_rows(doc, {"study_id": "x2020"})
    assert (r["events"], r["total"], r["person_time"], r["time_unit"]) == (4, 40, 250, "years")
    assert (r["reported_value"], r["reported_scale"], r["ci_low"], r["ci_high"]) == (1.6, "per 100 person-years", 0.5, 4.1)
    assert r["group"] == "Sirolimus" and r["group_type"] == "treatment"


def test_table_without_counts_gives_no_rows():
    doc = _doc_with([["Grade", "Level", "Description"], ["A", "1a", "x"], ["B", "2b", "y"]])
    assert table_rows(doc, {"study_id": "x"}) == []


from hypothesis import given, settings, strategies as st

_CELL = st.one_of(st.just(""), st.sampled_from(["n (%)", "Overall", "SR", "ALPS-like", "Patients", "Months", "SIE (n)",
                                                 "95% CI", "0.1-0.2", "1 (5%)", "3,132", "abc", "-", "NaN", "1e999"]),
                  st.text(max_size=6), st.integers(0, 10**6).map(str))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_CELL, min_size=2, max_size=5), min_size=2, max_size=6))
def test_any_grid_gives_rows_with_finite_numbers_or_none(grid):
    grid = [[c.replace("\t", " ").replace("\n", " ") for c in r] for r in grid]
    doc = _doc_with(grid)
    for r in table_rows(doc, {"study_id": "x"}):
        for col in ("events", "total", "person_time", "reported_value", "ci_low", "ci_high"):
            v = r[col]
            assert v is None or (isinstance(v, (int, float)) and v == v and abs(v) != float("inf"))
        for e in r["evidence"]:
            assert doc.text[e["start"]:e["end"]] == e["quote"]


def test_one_row_per_outcome_column_with_count_and_percent_spans():
    doc = _doc_with([
        ["Diagnosis", "Patients (n)", "CR n (%)", "PR n (%)", "NR n (%)"],
        ["AIHA", "5", "3 (60%)", "1 (20%)", "1 (20%)"],
        ["ITP", "6", "2 (33.3%)", "3 (50%)", "1 (16.7%)"],
    ])
    rows = table_rows(doc, {"study_id": "x"})
    got = {(r["group"], r["outcome"]): (r["events"], r["total"], r["reported_value"], r["reported_scale"]) for r in rows}
    assert got[("AIHA", "response_complete")] == (3, 5, 60, "percent")
    assert got[("ITP", "response_partial")] == (3, 6, 50, "percent")
    assert got[("ITP", "no_response")] == (1, 6, 16.7, "percent")
    assert len(rows) == 6
    for r in rows:
        quotes = {e["field"]: e["quote"] for e in r["evidence"]}
        assert float(quotes["events"]) == r["events"] and float(quotes["percent"]) == r["reported_value"]
        assert all(doc.text[e["start"]:e["end"]] == e["quote"] for e in r["evidence"])


def test_single_count_percent_column_is_not_read_as_a_percent_of_its_count():
    doc = _doc_with([["Arm", "Patients", "Responders n (%)"], ["Sirolimus", "17", "13 (76.4%)"]])
    [r] = table_rows(doc, {"study_id": "x"})
    assert (r["events"], r["total"], r["reported_value"], r["reported_scale"]) == (13, 17, 76.4, "percent")


def test_arms_as_columns_outcomes_as_rows():
    doc = _doc_with([
        ["Outcome", "Sirolimus (n = 17)", "MMF (n = 20)"],
        ["Complete response", "8 (47.1%)", "6 (30%)"],
        ["Age, years", "9 (4)", "10 (5)"],
        ["Deaths", "0 (0%)", "1 (5%)"],
    ])
    rows = table_rows(doc, {"study_id": "x"})
    got = {(r["group"], r["outcome"]): (r["events"], r["total"], r["reported_value"]) for r in rows}
    assert got == {("Sirolimus", "response_complete"): (8, 17, 47.1), ("MMF", "response_complete"): (6, 20, 30),
                   ("Sirolimus", "death"): (0, 17, 0), ("MMF", "death"): (1, 20, 5)}
    sr = next(r for r in rows if r["group"] == "Sirolimus" and r["outcome"] == "death")
    assert sr["group_type"] == "treatment" and sr["intervention"] == "sirolimus"
    assert {e["field"]: e["quote"] for e in sr["evidence"]} == {"events": "0", "percent": "0", "total": "17"}
