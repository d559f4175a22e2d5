"""Guideline recommendations → rows: invented sentences, then the consensus paper of ../shared."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from extract import read
from extract.document import Document, Page
from extract.fields.recommendations import recommendation_rows
from extract.rows import COLUMNS, make_frame

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
needs_shared = pytest.mark.skipif(not (SHARED / "corpus").is_dir(),
                                  reason="../shared/corpus (the real papers) is absent")
GUIDELINE = {"study_id": "inventedguide2030", "source": "invented.txt", "design": "guideline"}


def make_doc(text: str) -> Document:
    return Document(source="invented.txt", kind="text", text=text, pages=[Page(1, 0, len(text))])


def _by_population(rows):
    return {r["population"]: r for r in rows}


def test_english_recommendation_with_grade_and_level():
    text = ("Background sentence about nothing. For steroid-refractory warm AIHA, rituximab is recommended "
            "as second-line therapy (grade B, 2b). Sirolimus is not recommended for newly diagnosed ITP.")
    rows = _by_population(recommendation_rows(make_doc(text), GUIDELINE))
    aiha = rows["AIHA"]
    assert (aiha["intervention"], aiha["reported_scale"], aiha["evidence_level"]) == ("rituximab", "grade B", "2b")
    assert aiha["group"] == "AIHA" and aiha["group_type"] == "diagnosis" and aiha["outcome"] == "recommendation"
    assert aiha["confidence"] == 0.9 and aiha["flags"] == []
    itp = rows["ITP"]
    assert (itp["intervention"], itp["reported_scale"]) == ("sirolimus", "not recommended")
    assert itp["confidence"] < 1 and itp["flags"]
    for r in rows.values():
        ev = r["evidence"][0]
        assert text[ev["start"]:ev["end"]] == ev["quote"] and ev["quote"].endswith(".")
        assert set(r) <= set(COLUMNS) and r["study_id"] == "inventedguide2030"
        assert r["reported_value"] is None and r["events"] is None


def test_chinese_recommendation_with_printed_strength_and_level():
    text = "背景。推荐西罗莫司用于难治性ITP的二线治疗(推荐强度: B, 证据级别: 2b)。其他内容。"
    (row,) = recommendation_rows(make_doc(text), GUIDELINE)
    assert (row["population"], row["intervention"], row["reported_scale"], row["evidence_level"]) == ("ITP", "sirolimus", "grade B", "2b")
    assert row["group"] == "ITP"


def test_line_of_therapy_without_grade_is_flagged_and_same_advice_twice_is_one_row():
    text = ("共识推荐西罗莫司作为难治性纯红细胞再生障碍的二线治疗。\n\n"
            "The panel recommends sirolimus as a second-line option for refractory pure red cell aplasia.")
    (row,) = recommendation_rows(make_doc(text), GUIDELINE)
    assert (row["population"], row["reported_scale"], row["evidence_level"]) == ("PRCA", "second-line", "")
    assert len(row["evidence"]) == 2 and row["confidence"] < 1
    assert "not printed" in row["flags"][0]


def test_no_rows_without_drug_disease_cue_or_outside_guidelines():
    assert recommendation_rows(make_doc("We recommend reading the methods. ITP is common."), GUIDELINE) == []
    assert recommendation_rows(make_doc("Sirolimus was given for ITP in 12 patients."), GUIDELINE) == []
    text = "Sirolimus is recommended for refractory ITP."
    assert recommendation_rows(make_doc(text), {"design": "retrospective"}) == []
    assert len(recommendation_rows(make_doc(text), GUIDELINE)) == 1


@lru_cache(maxsize=None)
def _doc(rel: str) -> Document:
    return read(SHARED / "corpus" / rel)


@needs_shared
@pytest.mark.parametrize("rel", ["seeds/mtor_consensus_2025_zh_en.txt", "pdf/mtor_consensus_2025_zh_en.pdf"])
def test_consensus_abstract_recommends_sirolimus_for_the_named_diseases(rel):
    doc = _doc(rel)
    rows = recommendation_rows(doc, {"study_id": "consensus", "source": Path(rel).name, "design": "guideline"})
    rows_by = _by_population(rows)
    assert {"ITP", "AIHA", "PRCA", "ALPS", "GVHD"} <= set(rows_by)
    for label in ("ITP", "AIHA", "PRCA", "ALPS", "GVHD"):
        r = rows_by[label]
        assert r["intervention"] == "sirolimus"
        assert "second-line" in r["reported_scale"] and "preferred" in r["reported_scale"]
        assert r["evidence_level"] == "" and r["confidence"] < 1
        quotes = [e["quote"] for e in r["evidence"]]
        assert any("recommends" in q for q in quotes) and any("推荐" in q for q in quotes)
        for e in r["evidence"]:
            assert doc.text[e["start"]:e["end"]] == e["quote"] and label in e["quote"]
    frame = make_frame(rows)
    assert list(frame.columns) == COLUMNS and set(frame["outcome"]) == {"recommendation"}


@needs_shared
def test_study_papers_give_no_recommendation_rows():
    doc = _doc("seeds/okuracar2024_pubmed.txt")
    assert recommendation_rows(doc, {"design": "retrospective"}) == []


def test_cited_titles_in_the_reference_list_are_not_recommendations():
    from extract.document import Section

    text = "Advice.\n\nReferences\n\n1. Aa B. Rituximab is recommended for ITP: a made-up title. J A. 2001;1:1.\n"
    doc = make_doc(text)
    assert len(recommendation_rows(doc, GUIDELINE)) == 1
    doc.sections.append(Section("references", "References", text.index("References"), len(text)))
    assert recommendation_rows(doc, GUIDELINE) == []
