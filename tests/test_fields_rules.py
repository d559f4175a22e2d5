"""Field rules on small made-up texts: what is this study's number, and what is not.

The texts are written for the tests (no paper text); each checks one rule that must hold on
unseen papers: cohort verbs, subgroup denominators, derived counts, events vs patients,
numbers about other studies or centres, and proof for every value.
"""
import pytest
from hypothesis import given, settings, strategies as st

from extract.document import Document, Page
from extract.fields.base import context_for
from extract.fields.bibliography import study_id, surname_key
from extract.fields.design import extract_design
from extract.fields.interventions import treatment_groups
from extract.fields.population import cohort, distribution
from extract.fields.response import response_rows
from extract.fields.safety import safety_rows
from extract.pipeline import extract_document


def make(text: str) -> Document:
    return Document(source="made_up.txt", kind="text", text=text, pages=[Page(1, 0, len(text))])


def by_outcome(rows, outcome, **match):
    return [r for r in rows if r["outcome"] == outcome and all(r.get(k) == v for k, v in match.items())]


def assert_proof(doc, rows):
    for r in rows:
        assert r["evidence"], r
        for ev in r["evidence"]:
            assert ev["quote"] == doc.text[ev["start"]:ev["end"]]


def test_cohort_verbs_and_lost_to_follow_up():
    doc = make("We identified a total of 58 patients. Four patients were lost to follow-up. "
               "The remaining 54 were treated with everolimus.")
    coh = cohort(context_for(doc))
    assert coh.counts == {"enrolled": 58, "lost_to_follow_up": 4, "treated": 54}
    assert coh.total == 54
    assert_proof(doc, coh.rows)


def test_years_centres_and_rate_denominators_are_not_patients():
    doc = make("Between 2012 and 2019, 40 patients from 5 hospitals were enrolled. "
               "Rates were expressed per 100 persons/months at risk for patients treated.")
    ctx = context_for(doc)
    coh = cohort(ctx)
    assert coh.counts == {"enrolled": 40}
    design = extract_design(ctx)
    assert design["centres"].value == 5 and design["multicenter"].value is True


def test_distribution_needs_the_cohort_as_denominator():
    doc = make("Of the 20 patients, eight (40%) had ITP and twelve (60%) had AIHA. "
               "Among patients with relapse, 3 (75%) had AIHA.")
    ctx = context_for(doc)
    rows = distribution(ctx, cohort(ctx), "diagnosis", "diagnosis")
    got = {(r["population"], r["events"], r["total"]) for r in rows}
    assert got == {("ITP", 8, 20), ("AIHA", 12, 20)}  # 3 (75%) is a percent of a subgroup: not of the cohort
    assert_proof(doc, rows)


def test_respectively_pairs_groups_in_order():
    doc = make("A total of 50 patients were enrolled. The remaining 30 (60%) and 20 (40%) had ALPS and ITP, respectively.")
    ctx = context_for(doc)
    rows = distribution(ctx, cohort(ctx), "diagnosis", "diagnosis")
    assert {(r["population"], r["events"]) for r in rows} == {("ALPS", 30), ("ITP", 20)}


def test_treatment_arms_keep_their_printed_form_and_sequence():
    doc = make("A total of 40 patients were treated with CsA (10, 25%) or with sirolimus after MMF failure (30, 75%).")
    ctx = context_for(doc)
    rows = treatment_groups(ctx, cohort(ctx))
    arms = {r["group"]: r["intervention"] for r in rows}
    assert arms == {"CsA": "cyclosporine", "sirolimus after MMF failure": "mycophenolate mofetil+sirolimus"}


def test_subgroup_percent_stays_with_the_subgroup_and_derived_is_flagged():
    doc = make("A total of 10 patients were treated with sirolimus. Overall response was seen in 8 of 10 patients (80%). "
               "Among the 8 patients who responded, 50% of them had complete response.")
    ctx = context_for(doc)
    rows = response_rows(ctx, cohort(ctx))
    (overall,) = by_outcome(rows, "response_overall")
    assert (overall["events"], overall["total"], overall["reported_value"]) == (8, 10, 80)
    (cr,) = by_outcome(rows, "response_complete")
    assert (cr["events"], cr["total"]) == (4, 8)  # 50% of the 8 responders, not 50% of the cohort
    assert "derived" in cr["flags"] and cr["confidence"] < 1
    assert cr["group"] != "overall"
    assert_proof(doc, rows)


def test_complete_plus_partial_is_its_own_outcome():
    doc = make("Of the 17 patients, complete response (CR) and partial response (PR) were obtained in 13 of 17 patients "
               "(76.4%) and no response in four patients (23.5%).")
    ctx = context_for(doc)
    rows = response_rows(ctx, cohort(ctx))
    assert {(r["outcome"], r["events"], r["total"]) for r in rows} == {
        ("response_complete_or_partial", 13, 17), ("no_response", 4, 17)}


def test_events_and_patients_with_events_are_two_rows():
    doc = make("A total of 60 patients were treated. Twelve serious infections occurred in 9/60 patients (15%). "
               "The observation time was 3,000 months, with a rate of 0.40 per 100 person-months (95% CI 0.2\u20130.7).")
    ctx = context_for(doc)
    rows = safety_rows(ctx, cohort(ctx))
    (pts,) = by_outcome(rows, "serious_infection", unit="patients")
    assert (pts["events"], pts["total"]) == (9, 60)
    (rate,) = [r for r in rows if r.get("reported_scale") == "per 100 person-months"]
    assert rate["events"] == 12 and rate["unit"] == "episodes"
    assert rate["person_time"] == 3000 and rate["time_unit"] == "months"
    assert (rate["reported_value"], rate["ci_low"], rate["ci_high"]) == (0.40, 0.2, 0.7)
    assert_proof(doc, rows)


def test_an_outcome_in_another_clause_does_not_claim_a_count():
    """A demographic count in a parenthesis is not a count of an outcome named in the next clause;
    the same outcome right after a count in its own clause still is."""
    doc = make("Ninety-six patients were treated with sirolimus. A total of 103 patients (51 female patients, 53%) "
               "with a median age of 9 years (IQR 10) were identified, and patients with and without SIEs were compared. "
               "Of the 96 treated patients, 13 (13.5%) had severe infectious events.")
    ctx = context_for(doc)
    rows = safety_rows(ctx, cohort(ctx))
    assert not [r for r in rows if r["events"] == 51]
    (sie,) = by_outcome(rows, "serious_infection", unit="patients")
    assert (sie["events"], sie["total"]) == (13, 96)
    assert_proof(doc, rows)


def test_rate_without_matching_events_says_so():
    doc = make("A total of 60 patients were treated. Serious infections occurred at 0.90 per 100 patient-years.")
    ctx = context_for(doc)
    (rate,) = safety_rows(ctx, cohort(ctx))
    assert rate["events"] is None and any("without matching" in f for f in rate["flags"])


def test_no_deaths():
    doc = make("A total of 25 patients were treated. No patients died.")
    ctx = context_for(doc)
    (death,) = by_outcome(safety_rows(ctx, cohort(ctx)), "death")
    assert (death["events"], death["total"]) == (0, 25)


def test_other_studies_and_citing_excerpts_are_not_this_study():
    doc = make("Sirolimus in refractory ITP: a case series\n\n"
               "We report the use of sirolimus in 4 patients with ITP. All 4 responded.\n\n"
               "In a previous series of 11 patients, 7 of 11 (64%) responded [12].\n\n"
               "References (23)\n\nCited by (88)\n\nAmong the 370 patients, 312 patients (84%) responded to therapy.\n")
    rows = extract_document(doc)
    numbers = {r["events"] for r in rows} | {r["total"] for r in rows}
    assert not numbers & {11, 7, 23, 88, 370, 312}
    assert by_outcome(rows, "treated")[0]["events"] == 4
    assert rows[0]["design"] == "case_series" and rows[0]["evidence_level"] == "4"
    assert_proof(doc, rows)


def test_no_numbers_gives_one_bibliographic_row():
    doc = make("Expert consensus on mTOR inhibitors in immune cytopenias\n\n"
               "The panel recommends sirolimus as a second-line option for refractory ITP and AIHA.\n")
    rows = extract_document(doc)
    assert len(rows) == 1
    assert rows[0]["outcome"] is None and rows[0]["design"] == "guideline" and rows[0]["evidence_level"] == "5"


@pytest.mark.parametrize("name,key", [("Okur Acar", "okuracar"), ("Dell\u2019Orso", "dellorso"), ("Müller", "muller")])
def test_surname_keys(name, key):
    assert surname_key(name) == key
    assert study_id(name, 2024) == key + "2024"


def test_episodes_by_infection_type_follow_the_events_sentence():
    doc = make("A total of 30 patients were treated. Nine severe infections occurred in 7/30 patients (23%), mostly "
               "pneumonia (6). The other events were sepsis (2) and cellulitis (1).")
    ctx = context_for(doc)
    rows = [r for r in safety_rows(ctx, cohort(ctx)) if r["group_type"] == "infection_type"]
    assert {(r["group"], r["events"], r["unit"], r["outcome"]) for r in rows} == {
        ("pneumonia", 6, "episodes", "serious_infection"), ("sepsis", 2, "episodes", "serious_infection"),
        ("cellulitis", 1, "episodes", "serious_infection")}
    assert_proof(doc, rows)


def test_citation_line_broken_across_a_narrow_column():
    doc = make("CITATION\nRossi A, Bianchi B and\nVerdi C (2021) A made-up title of a\nstudy. Made Up J. 12:345.\n\n"
               "Results\n\nA total of 12 patients were treated.\n")
    rows = extract_document(doc)
    assert (rows[0]["first_author"], rows[0]["year"], rows[0]["study_id"]) == ("Rossi", 2021, "rossi2021")


def test_common_phrasings_of_a_cohort_and_its_outcomes():
    doc = make("In this prospective phase II trial, 40 adults with wAIHA were enrolled and 38 were evaluable. "
               "CR was achieved in 20/38 (52.6%) and PR in 10/38 (26.3%). Grade 3 infections occurred in 4 patients. "
               "One patient died of sepsis.")
    rows = extract_document(doc)
    got = {(r["outcome"], r["events"], r["total"]) for r in rows}
    assert {("enrolled", 40, None), ("analysed", 38, 40), ("response_complete", 20, 38), ("response_partial", 10, 38),
            ("serious_infection", 4, 38), ("death", 1, 38)} <= got
    assert not any(r["events"] == 3 for r in rows)  # "grade 3" is not three events
    assert rows[0]["design"] == "prospective" and rows[0]["population"] == "AIHA"
    assert_proof(doc, rows)


def test_percent_first_and_a_term_after_its_count():
    doc = make("We retrospectively reviewed 24 children with refractory ITP treated with sirolimus. The overall response "
               "rate was 75% (18/24); 10 patients (41.7%) achieved a complete response and 8 (33.3%) a partial response.")
    rows = extract_document(doc)
    got = {(r["outcome"], r["events"], r["total"], r["reported_value"]) for r in rows}
    assert {("treated", 24, None, None), ("response_overall", 18, 24, 75.0), ("response_complete", 10, 24, 41.7),
            ("response_partial", 8, 24, 33.3)} <= got
    assert {r["intervention"] for r in rows} == {"sirolimus"} and {r["population"] for r in rows} == {"ITP"}


_FRAGMENTS = ["A total of", "Of the", "17", "Thirty-two", "patients", "(29.4%)", "13 of 17", "13/96", "were treated",
              "with sirolimus", "ITP", "AIHA", "complete response", "infections", "0.24 per 100 person-months",
              "(95% CI 0.09\u20130.3)", "No patients died.", "in 2015", "p = 0.03", "[12]", "respectively", ".", ";", "\n",
              "\t", "6,620 months", "Table 1", "Among the 8 patients who responded,", "50% of them", "Grade 3"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), min_size=1, max_size=40))
def test_any_text_gives_rows_with_exact_quotes_and_no_nan(parts):
    doc = make(" ".join(parts))
    rows = extract_document(doc)
    assert rows
    for r in rows:
        for ev in r["evidence"]:
            assert ev["quote"] == doc.text[ev["start"]:ev["end"]]
        for col in ("events", "total", "person_time", "reported_value", "ci_low", "ci_high"):
            v = r[col]
            assert v is None or (v == v and v >= 0)  # never a NaN presented as a number


def test_transplant_phrasings_bare_counts_and_derived_percent():
    doc = make("A total of 50 kidney transplant recipients were switched to everolimus. The overall response rate was 64%. "
               "Acute rejection occurred in 3 patients (6%). Two patients discontinued everolimus.")
    rows = extract_document(doc)
    got = {(r["outcome"], r["events"], r["total"]) for r in rows}
    assert {("treated", 50, None), ("rejection", 3, 50), ("discontinuation", 2, 50), ("response_overall", 32, 50)} <= got
    (orr,) = by_outcome(rows, "response_overall")
    assert "derived" in orr["flags"] and orr["confidence"] < 1
    assert_proof(doc, rows)


def test_percent_no_whole_count_gives_is_not_turned_into_a_count():
    doc = make("A total of 50 patients were treated with sirolimus. The overall response rate was 63%.")
    (orr,) = by_outcome(extract_document(doc), "response_overall")
    assert orr["events"] is None and orr["reported_value"] == 63


def test_randomised_arms_file_outcomes_under_their_arm():
    doc = make("Fifty adults were randomised: everolimus (n = 26) vs tacrolimus (n = 24). Overall response was reached by "
               "13/26 (50.0%) adults in the everolimus arm and 6/24 (25.0%) in the tacrolimus arm. "
               "Infections were recorded in 5/26 (19.2%) and 8/24 (33.3%) adults.")
    rows = extract_document(doc)
    got = {(r["outcome"], r["group_type"], r["intervention"], r["events"], r["total"]) for r in rows}
    assert {("enrolled", "overall", "everolimus+tacrolimus", 50, None),
            ("patients", "treatment", "everolimus", 26, 50), ("patients", "treatment", "tacrolimus", 24, 50),
            ("response_overall", "treatment", "everolimus", 13, 26), ("response_overall", "treatment", "tacrolimus", 6, 24),
            ("infection", "treatment", "everolimus", 5, 26), ("infection", "treatment", "tacrolimus", 8, 24)} <= got
    assert_proof(doc, rows)


def test_cumulative_incidences_name_their_event_and_give_no_counts():
    doc = make("We prospectively treated 80 adults with sirolimus and tacrolimus as GVHD prophylaxis. The cumulative "
               "incidence of grade II\u2013IV acute GVHD at day 100 was 30% (95% CI 20\u201340), and that of grade III\u2013IV "
               "acute GVHD was 10% (95% CI 5\u201318). At 2 years, the cumulative incidence of relapse was 20% (95% CI 12\u201329).")
    rows = extract_document(doc)
    got = {(r["outcome"], r["group"], r["reported_value"], r["ci_low"], r["ci_high"]) for r in rows}
    assert {("acute_gvhd", "grade II\u2013IV", 30, 20, 40), ("acute_gvhd", "grade III\u2013IV", 10, 5, 18),
            ("relapse", "overall", 20, 12, 29)} <= got
    assert all(r["events"] is None for r in rows if r["outcome"] in ("acute_gvhd", "relapse"))  # no count from a KM percent
    assert_proof(doc, rows)


def test_table_patients_column_gives_group_sizes(tmp_path):
    import extract

    cells = [("ITP", 11, "7 (63.6)", "3 (27.3)"), ("AIHA", 9, "4 (44.4)", "2 (22.2)"), ("Total", 20, "11 (55.0)", "5 (25.0)")]
    body = "".join(f"<tr><td>{a}</td><td>{n}</td><td>{o}</td><td>{c}</td></tr>" for a, n, o, c in cells)
    html = ("<html><body><p>Twenty patients were treated.</p><table><caption>Table 1. Response by diagnosis</caption>"
            "<thead><tr><th>Diagnosis</th><th>Patients (n)</th><th>Overall response, n (%)</th>"
            f"<th>Complete response, n (%)</th></tr></thead><tbody>{body}</tbody></table></body></html>")
    path = tmp_path / "t.html"
    path.write_text(html, encoding="utf-8")
    doc = extract.read(str(path))
    rows = extract_document(doc)
    sizes = {r["group"]: (r["events"], r["total"]) for r in rows if r["outcome"] == "patients"}
    assert sizes == {"ITP": (11, 20), "AIHA": (9, 20)}
    assert_proof(doc, rows)


def test_response_counts_at_time_points_say_when():
    doc = make("Thirty patients were treated. At 4 weeks, 12 of 30 patients (40.0%) had responded; "
               "at 12 weeks, 21 of 30 (70.0%) had responded.")
    rows = extract_document(doc)
    got = {r["events"]: [f for f in r["flags"] if f.startswith("time point")] for r in by_outcome(rows, "response_overall")}
    assert got == {12: ["time point: At 4 weeks"], 21: ["time point: at 12 weeks"]}
    assert_proof(doc, rows)


@pytest.mark.parametrize("text, outcome, group, n", [
    ("Fifty patients were treated. Mucositis occurred in 6 patients (12.0%).", "adverse_event", "Mucositis", 6),
    ("Fifty patients were treated. Three patients stopped the drug because of hyperlipidaemia.", "adverse_event",
     "hyperlipidaemia", 3),
    ("Fifty patients were treated. CMV reactivation was seen in 5 of 50 patients.", "infection", "CMV", 5),
    ("Fifty patients were treated. Mucositis was not monitored; 5 patients relapsed.", None, None, None),
    ("Fifty patients were treated. Herpes zoster developed in 2 patients.", "infection", "Herpes zoster", 2),
])
def test_named_events_counted_in_patients(text, outcome, group, n):
    doc = make(text)
    rows = extract_document(doc)
    named = [r for r in rows if r["group_type"] in ("adverse_event", "infection_type")]
    if outcome is None:  # the count belongs to another clause: no row
        assert named == []
    else:
        assert [(r["outcome"], r["group"], r["events"], r["total"]) for r in named] == [(outcome, group, n, 50)]
    assert_proof(doc, rows)


def test_case_report_one_patient_and_outcomes_without_numbers():
    doc = make("We describe a 12-year-old girl with refractory cytopenias. Sirolimus was started. "
               "She achieved a partial response and had no relapse.")
    rows = extract_document(doc)
    assert [(r["events"]) for r in by_outcome(rows, "treated")] == [1]
    assert [(r["events"], r["total"]) for r in by_outcome(rows, "response_partial")] == [(1, 1)]
    assert [(r["events"], r["total"]) for r in by_outcome(rows, "relapse")] == [(0, 1)]
    assert_proof(doc, rows)


def test_cohort_paper_without_a_reported_case_gets_no_single_patient_rows():
    doc = make("Records were reviewed. She achieved a partial response.")
    rows = extract_document(doc)
    assert by_outcome(rows, "treated") == [] and by_outcome(rows, "response_partial") == []
