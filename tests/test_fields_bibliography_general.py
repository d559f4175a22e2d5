"""Bibliography and design rules that must hold on papers the rules were not written on.

Every text here is made up for the test (invented names, journals and numbers, no paper
text). Each test checks one general rule: the author-line styles of PubMed/Vancouver and of
publisher pages, citation lines under the title, dates from named meta tags only, a stable
study_id without an author, design adverbs, single-centre phrasing and other-study cues.
"""
from __future__ import annotations

import pytest

from extract.document import Document, Metadata, Page
from extract.fields.base import context_for
from extract.fields.bibliography import GUESSED_ID_FLAG, extract_bibliography, study_id, study_id_is_guess
from extract.fields.design import extract_design


def make(text: str, source: str = "made_up.txt", metadata: Metadata | None = None) -> Document:
    return Document(source=source, kind="text", text=text, pages=[Page(1, 0, len(text))],
                    metadata=metadata or Metadata())


def bib(text: str, **kw) -> dict:
    doc = make(text, **kw)
    facts = extract_bibliography(doc)
    for f in facts.values():  # every printed value carries its proof
        for ev in f.evidence:
            assert doc.text[ev["start"]:ev["end"]] == ev["quote"]
    return {k: f.value for k, f in facts.items()}


@pytest.mark.parametrize("line, first, n", [
    ("Brakenhoff LJ1,2, Ostrava P3, Tamura M1", "Brakenhoff", 3),
    ("Ostrava-Lind RT, Quell J, Hirsch K", "Ostrava-Lind", 3),
    ("**Authors:** Quell K, Brandau N, Ferro-Lupo A", "Quell", 3),
    ("Lindgard E, Marchesi G, Oyewale T, et al.", "Lindgard", 3),
    ("van der Velde AB, Sørlie K", "van der Velde", 2),
    ("Tamsin Q, Orvald P, Kettering M.", "Tamsin", 3),
    ("Irene Quintana1,2, Jonas Feldt3, Ayla Demir1", "Quintana", 3),
    ("Irene Quintana<sup>1</sup>, Jonas Feldt<sup>2</sup>", "Quintana", 2),
])
def test_author_line_styles(line: str, first: str, n: int) -> None:
    got = bib(f"A made-up title about sirolimus\n\n{line}\n\nAbstract\nNothing here.\n")
    assert got["first_author"] == first
    assert len(got["authors"]) == n
    assert not any(ch.isdigit() or "<" in a for a in got["authors"] for ch in a)


@pytest.mark.parametrize("line", ["Table S1", "Sirolimus In Children", "Results And Discussion"])
def test_heading_lines_are_not_authors(line: str) -> None:
    assert "first_author" not in bib(f"{line}\n\nSome words without any author.\n")


@pytest.mark.parametrize("line, journal, year", [
    ("Pediatr Hematol Rep. 2022;69(4):e29511. doi: 10.1000/x.1", "Pediatr Hematol Rep", 2022),
    ("Lupoid Dis. 2019;28(11):1335-1341", "Lupoid Dis", 2019),
    ("Rheum Notes (Oxford). 2023;62(5):1890-1897", "Rheum Notes (Oxford)", 2023),
    ("**Journal:** Br J Madeup. 2021;193:310-318", "Br J Madeup", 2021),
    ("J Invented Immunol. 2017 Oct;37(7):655-662.", "J Invented Immunol", 2017),
    ("J Invented Immunol\n. 2018 Jan;37(7):655-662. Epub 2017 Aug 21.", "J Invented Immunol", 2018),
])
def test_citation_line_gives_year_and_journal(line: str, journal: str, year: int) -> None:
    got = bib(f"A made-up title\n\nQuell K, Brandau N\n\n{line}\n\nAbstract\nIn 2008 nothing happened.\n")
    assert (got["year"], got["journal"]) == (year, journal)


def test_year_in_body_text_is_not_a_citation_line() -> None:
    got = bib("A made-up title\n\nQuell K, Brandau N\n\nAbstract\nPatients treated in 2012; 40 of them responded.\n")
    assert "year" not in got


def test_meta_author_surname_first_and_dated_meta_tag() -> None:
    md = Metadata(title="A made-up page", authors=["Fitzwilliam, Maura", "Rahim, Tal"],
                  extra={"citation_publication_date": ["2021/03/15"]})
    doc = make("A made-up page\n\nMaura Fitzwilliam, Tal Rahim\n\nAbstract\nNothing dated here.\n", metadata=md)
    facts = extract_bibliography(doc)
    assert facts["first_author"].value == "Fitzwilliam"
    assert facts["year"].value == 2021
    assert any("citation_publication_date" in f for f in facts["year"].flags)


def test_undated_metadata_year_is_still_refused() -> None:
    """A reader's year guessed from any number is not a statement of publication date."""
    md = Metadata(title="A made-up page", year=2009)
    got = bib("A made-up page\n\nNo date is printed anywhere.\n", metadata=md)
    assert "year" not in got


def test_study_id_without_author_is_stable_distinct_and_a_guess() -> None:
    a = study_id(None, None, "Sirolimus in one disease", "in/paper_one.txt")
    b = study_id(None, None, "Sirolimus in another disease", "in/paper_two.pdf")
    assert a != b and a == study_id(None, None, "Sirolimus again", "other/paper_one.txt")
    assert a.isascii() and a == a.lower()
    assert study_id(None, 2020, None, "consensus_2020.txt") == "consensus2020"
    assert study_id("Ørsted", 2020, None, "x.txt") == "orsted2020"
    assert study_id_is_guess(None) and not study_id_is_guess("Ørsted")
    assert "file name" in GUESSED_ID_FLAG


def design(text: str) -> dict:
    return {k: f.value for k, f in extract_design(context_for(make(text))).items()}


@pytest.mark.parametrize("text, label", [
    ("We prospectively treated 40 adults with sirolimus.", "prospective"),
    ("We analysed retrospectively the records of 40 adults.", "retrospective"),
    ("We performed a retrospective single-centre case series of 12 recipients.", "case_series"),
    ("This retrospective multicentre cohort study reviewed 97 charts.", "retrospective"),
    ("We describe a case series of 8 boys treated with sirolimus.", "case_series"),
])
def test_design_words_and_head_noun(text: str, label: str) -> None:
    assert design(text)["design"] == label


@pytest.mark.parametrize("text, multi", [
    ("Adults received sirolimus at a single academic centre from 2017 to 2021.", False),
    ("This was a single-centre study of 19 adults.", False),
    ("Patients were treated at a single tertiary hospital.", False),
    ("Records from 3 university hospitals were reviewed.", True),
])
def test_single_and_multi_centre(text: str, multi: bool) -> None:
    assert design(text)["multicenter"] is multi


def test_single_dose_is_not_single_centre() -> None:
    assert "multicenter" not in design("Each patient received a single dose at home before the visit.")


def test_weak_other_study_cue_yields_to_own_study_marker() -> None:
    own = design("We analysed retrospectively the national registry of 18 hospitals.")
    assert own["design"] == "retrospective" and own["multicenter"] is True
    other = design("A registry of 40 adults was analysed retrospectively in Spain.")
    assert other["design"] == "unknown"
    cited = design("We note that a series of 5 patients was reported retrospectively [4].")
    assert cited["design"] == "unknown"
    strong = design("Our earlier series of 5 patients was prospectively followed.")
    assert strong["design"] == "unknown"
