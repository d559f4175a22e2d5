"""Reference lists as citation records and guideline recommendations, on the shared seeds."""
from pathlib import Path

import pytest

from extract import read
from extract.fields.base import context_for
from extract.fields.guideline import recommendations
from extract.fields.references import citations, parse_reference
from extract.pipeline import extract_paths

SEEDS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "seeds"
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/corpus/seeds is absent (shared corpus not mounted)")


def _seed(stem):
    (path,) = [p for p in SEEDS.iterdir() if p.name.startswith(stem)]
    return path


@pytest.mark.parametrize("entry,authors,year,journal,doi", [
    ("Doe J, Roe RA, et al. A made-up trial of a drug. N Engl J Med. 2019;380(2):100-110.",
     ["Doe J", "Roe RA"], 2019, "N Engl J Med", None),
    ("Doe J, van Dam K. A made-up cohort[J]. Ann Hematol, 2021, 100(3): 1-9. doi: 10.1000/xyz.123",
     ["Doe J", "van Dam K"], 2021, "Ann Hematol", "10.1000/xyz.123"),
    ("Doe J. Another title. *Blood.* (2016) 128:227–38. doi: 10.1182/blood-2015-11-685024",
     ["Doe J"], 2016, "Blood", "10.1182/blood-2015-11-685024"),
])
def test_parse_reference_styles(entry, authors, year, journal, doi):
    rec = parse_reference(entry)
    assert (rec["authors"], rec["year"], rec["journal"], rec["doi"]) == (authors, year, journal, doi)
    assert rec["title"] and "made-up" in rec["title"] or rec["title"] == "Another title"


@needs_seeds
def test_consensus_references_and_recommendations():
    doc = read(_seed("mtor_consensus"))
    refs = citations(doc)
    assert [r["number"] for r in refs] == list(range(1, 58))
    assert refs[0]["doi"] == "10.3389/fonc.2020.611690" and refs[0]["year"] == 2021
    for r in refs:
        for ev in r["evidence"]:
            assert ev["quote"] == doc.text[ev["start"]:ev["end"]]
    recs = recommendations(context_for(doc))
    assert {r["disease"] for r in recs} >= {"ITP", "AIHA", "PRCA", "ALPS", "GVHD"}
    assert all(r["intervention"] == "sirolimus" for r in recs)
    assert all(r["strength"] is None for r in recs)  # not printed beside the recommendation: never guessed


@needs_seeds
def test_repeated_reference_numbers_are_renumbered_and_flagged():
    refs = citations(read(_seed("okuracar2024")))
    assert [r["number"] for r in refs][:4] == [1, 2, 3, 4]
    assert all("renumbered" in r["flags"][0] for r in refs)


@needs_seeds
def test_guidance_travels_with_the_batch():
    result = extract_paths([_seed("mtor_consensus"), _seed("okuracar2024")])
    assert list(result.guidance) == [_seed("mtor_consensus").name]
    assert len(result.guidance[_seed("mtor_consensus").name]["citations"]) == 57
