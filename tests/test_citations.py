"""Reference lists → citations: invented entries in each style, then the real papers of ../shared.

The real-paper tests compare with hand-checked gold (corpus/gold/references_*.json: counts and
per-entry first author, year, DOI) and with the facts file of ../shared, read at test time.
"""
from __future__ import annotations

import csv
import json
import re
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extract import read
from extract.document import Document, Page, Section
from extract.fields.citations import (
    Citation, citations_frame, link_to_evidence_base, normalise_doi, parse_entry, parse_references,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
GOLD = sorted((ROOT / "corpus" / "gold").glob("references_*.json"))
needs_shared = pytest.mark.skipif(not (SHARED / "corpus").is_dir(),
                                  reason="../shared/corpus (the real papers) is absent")


def make_doc(text: str, refs_from: str | None = "References\n") -> Document:
    """A one-page document whose references section starts at ``refs_from`` (None: no section)."""
    sections = []
    if refs_from is not None:
        start = text.index(refs_from)
        sections.append(Section("references", refs_from.strip(), start, len(text)))
    return Document(source="invented.txt", kind="text", text=text, pages=[Page(1, 0, len(text))], sections=sections)


# --- invented entries, one per style ---------------------------------------------------------------

def test_gbt_entry_with_chinese_and_latin_fields():
    e = parse_entry("Smith AB, Jones C, et al. A made-up trial of drug X[J]. J Invented Med, 2019, 12(3): 45-50. "
                    "doi: 10.1234/JIM.2019.045.")
    assert e["authors"] == ["Smith AB", "Jones C"] and e["first_author"] == "Smith AB"
    assert (e["year"], e["journal"], e["volume"], e["issue"], e["pages"]) == (2019, "J Invented Med", "12", "3", "45-50")
    assert e["title"] == "A made-up trial of drug X"
    assert e["doi"] == "10.1234/JIM.2019.045"
    zh = parse_entry("张三, 李四, 等. 虚构研究[J]. 虚构杂志, 2021, 5(2): 10-15.")
    assert zh["authors"] == ["张三", "李四"] and zh["year"] == 2021 and zh["journal"] == "虚构杂志"
    assert zh["doi"] == "" and zh["pmid"] == ""


def test_frontiers_and_ama_entries():
    fr = parse_entry("Doe J, Roe R. An imaginary cohort. Part two. *Fict Stud.* (2020) 7:100–9. doi: 10.5555/fs.2020.7")
    assert (fr["first_author"], fr["year"], fr["journal"], fr["volume"], fr["pages"]) == ("Doe J", 2020, "Fict Stud", "7", "100–9")
    assert fr["title"] == "An imaginary cohort. Part two"
    ama = parse_entry("Brown K, Green L. Pretend outcomes. Imag J. 2018 Mar;33(4):210-219. doi:10.9999/IJ.2018.0210. PMID: 12345678")
    assert (ama["year"], ama["journal"], ama["volume"], ama["issue"], ama["pages"]) == (2018, "Imag J", "33", "4", "210-219")
    assert ama["doi"] == "10.9999/IJ.2018.0210" and ama["pmid"] == "12345678"
    org = parse_entry("Agency for Invented Things. Nothing approved. http://example.org/x.html")
    assert org["first_author"] == "Agency for Invented Things" and org["year"] is None and org["journal"] == ""


@pytest.mark.parametrize("raw, doi", [
    ("doi: 10.1182/blood-\n2015-07-123456", "10.1182/blood-2015-07-123456"),
    ("doi: 10.1186/ 1471-2431-13-999", "10.1186/1471-2431-13-999"),
    ("doi:\n10.1080/1744666X.\n2021.1234567", "10.1080/1744666X.2021.1234567"),
    ("https://doi.org/10.1000/ABC.1.", "10.1000/ABC.1"),
    ("DOI 10.1016/S0000-0000(19)30088-2; next", "10.1016/S0000-0000(19)30088-2"),
    ("doi: 10.1234/abc.5. Erratum in: X.", "10.1234/abc.5"),
    ("doi: 10.1038/s41436-\n39. Someone A, Other B.", "10.1038/s41436-"),
    ("no identifier here", ""),
])
def test_doi_normalised_and_joined(raw, doi):
    assert normalise_doi(raw) == doi


def test_numbered_list_offsets_and_wrapped_entries():
    text = ("Body text 2019 with numbers.\nReferences\n"
            "[1] Smith AB, Jones C. First made-up paper[J]. Fake J, 2019, 1(2): 3-4. doi: 10.1234/\nfake.1\n"
            "[2] Doe J. Second made-up\npaper wrapped over lines[J]. Fake J, 2020, 2: 5-6.\n"
            "Page metrics\nvisits: 12\n"
            "[3] Roe R. Third[J]. Other J, 2021, 3: 7.\n")
    doc = make_doc(text)
    doc.sections.append(Section("other", "Page metrics", text.index("Page metrics"), text.index("[3]")))
    cites = parse_references(doc)
    assert [c.number for c in cites] == [1, 2, 3]
    assert cites[0].doi == "10.1234/fake.1"
    assert cites[1].title == "Second made-up paper wrapped over lines"
    assert "Page metrics" not in text[cites[1].raw_start:cites[1].raw_end]  # cut at the next part
    for c in cites:
        assert c.evidence["quote"] == text[c.raw_start:c.raw_end] and str(c.year) in c.evidence["quote"]


def test_every_entry_numbered_one_and_double_numbers():
    ones = "References\n    1. Aa B. T one. J A. 2001;1:1.\n    1. Cc D. T two. J B. 2002;2:2.\n    1. Ee F. T three. J C. 2003;3:3.\n"
    assert [c.number for c in parse_references(make_doc(ones))] == [1, 2, 3]
    double = "References\n  1. 1.\n    Aa B. T one. J A. 2001;1:1.\n  2. 2.\n    Cc D. T two. J B. 2002;2:2.\n"
    cites = parse_references(make_doc(double))
    assert [(c.number, c.first_author, c.year) for c in cites] == [(1, "Aa B", 2001), (2, "Cc D", 2002)]


def test_numbers_followed_by_a_space_and_unpunctuated_entries():
    text = "References\n\n1 Aa B. T one. J A. 2001;1:1.\n\n2 Cc D T two J B 2002 2 5\n"
    cites = parse_references(make_doc(text))
    assert [(c.number, c.first_author, c.year) for c in cites] == [(1, "Aa B", 2001), (2, "", 2002)]
    assert (cites[1].title, cites[1].journal, cites[1].volume) == ("", "", "")  # not guessed


def test_list_without_heading_found_at_the_end_and_unnumbered_lists():
    text = ("Intro 1. Something. 2. Else.\n" * 3 + "\n1. Aa B. T one. J A. (2001) 1:1.\n"
            "2. Cc D. T two. J B. (2002) 2:2.\n3. Ee F. T three. J C. (2003) 3:3.\n")
    assert [c.year for c in parse_references(make_doc(text, None))] == [2001, 2002, 2003]
    unnumbered = ("References\nAa B, Cc D. T one\ncontinued. J A. 2001;1:1.\nEe F. T two. J B. 2002;2:2.\n")
    cites = parse_references(make_doc(unnumbered))
    assert [(c.number, c.first_author, c.title) for c in cites] == [(None, "Aa B", "T one continued"), (None, "Ee F", "T two")]


def test_no_reference_list_gives_nothing():
    assert parse_references(make_doc("Title\nReferences (17)\nMore are in the full text.\n", "References (17)")) == []
    assert parse_references(make_doc("A paper without references at all, 2019.\n", None)) == []


def test_frame_and_linking_by_doi_and_by_author_year_with_initials():
    text = ("References\n[1] Alpha AB, et al. One[J]. J, 2016, 1: 1. doi: 10.1000/X.1\n"
            "[2] Beta C. Two[J]. J, 2023, 2: 2.\n[3] Beta D. Three[J]. J, 2023, 3: 3.\n")
    cites = parse_references(make_doc(text))
    base = [{"study_id": "one", "doi": "10.1000/x.1", "first_author": "Someone Z", "year": 1999},
            {"study_id": "beta2023", "doi": "", "first_author": "Beta C", "year": 2023}]
    f = link_to_evidence_base(cites, base)
    assert list(f["match"]) == ["doi", "author_year", ""]
    assert list(f["study_id"]) == ["one", "beta2023", ""] and list(f["in_evidence_base"]) == [True, True, False]
    frame = citations_frame(cites)
    assert list(frame["number"]) == [1, 2, 3] and frame.loc[0, "authors"] == "Alpha AB"
    assert isinstance(cites[0], Citation) and cites[0].to_dict()["raw_start"] == cites[0].raw_start


# --- the real papers ------------------------------------------------------------------------------

@lru_cache(maxsize=None)
def _doc(rel: str) -> Document:
    return read(SHARED / "corpus" / rel)


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s).lower()


@needs_shared
@pytest.mark.parametrize("gold_path", GOLD, ids=lambda p: p.stem)
@pytest.mark.parametrize("form", ["seed", "pdf"])
def test_reference_lists_match_gold(gold_path, form):
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    doc = _doc(gold[form])
    cites = parse_references(doc)
    assert len(cites) == gold["count"]
    numbers = [c.number for c in cites]
    assert [n for n in numbers if n is not None] == [g["number"] for g, n in zip(gold["references"], numbers) if n is not None]
    assert numbers.count(None) <= (1 if form == "seed" else 0)  # the Comella seed prints no "10."
    for c, g in zip(cites, gold["references"]):
        assert (c.year, c.doi) == (g["year"], g["doi"]), g["number"]
        assert re.sub(r"\s", "", c.first_author) == re.sub(r"\s", "", g["first_author"]), g["number"]
        raw = doc.text[c.raw_start:c.raw_end]
        assert c.evidence["quote"] == raw
        if c.year:
            assert str(c.year) in raw
        if c.doi:
            assert _squash(c.doi) in _squash(raw)


@needs_shared
@pytest.mark.parametrize("form", ["seeds/mtor_consensus_2025_zh_en.txt", "pdf/mtor_consensus_2025_zh_en.pdf"])
def test_consensus_cites_the_facts_studies_and_keeps_chinese_entries(form):
    cites = parse_references(_doc(form))
    assert [c.number for c in cites] == list(range(1, 58))
    with open(SHARED / "facts" / "sirolimus_studies.csv", encoding="utf-8") as fh:
        facts = list({r["doi"].lower(): r for r in csv.DictReader(fh)}.values())  # one per study
    by_doi = {c.doi.lower(): c for c in cites if c.doi}
    for fact in facts:
        c = by_doi[fact["doi"].lower()]
        assert c.year == int(fact["year"]) and c.first_author == fact["first_author"]
    assert sorted(by_doi[f["doi"].lower()].number for f in facts) == [9, 17, 18, 28, 35]
    chinese = [c for c in cites if re.search(r"[\u4e00-\u9fff]", c.first_author + c.title)]
    assert [c.number for c in chinese] == [10, 15, 23, 47, 49]
    assert all(c.year and c.journal and not c.doi for c in chinese)
    linked = link_to_evidence_base(cites)
    hits = linked[linked["in_evidence_base"]]
    assert {d.lower() for d in hits["doi"]} == {f["doi"].lower() for f in facts}
    assert set(hits["match"]) == {"doi"}


@needs_shared
def test_gold_facts_are_printed_in_the_seeds():
    for path in GOLD:
        gold = json.loads(path.read_text(encoding="utf-8"))
        seed = _squash((SHARED / "corpus" / gold["seed"]).read_text(encoding="utf-8"))
        for g in gold["references"]:
            assert not g["doi"] or _squash(g["doi"]) in seed, (path.name, g["number"])
            assert not g["year"] or str(g["year"]) in seed


@needs_shared
def test_pages_without_a_list_give_none():
    assert parse_references(_doc("seeds/bindl2005_ipex.txt")) == []


# --- the command line -----------------------------------------------------------------------------

def test_cli_references_json_failures_and_usage(tmp_path, capsys):
    import cli

    paper = tmp_path / "paper.txt"
    paper.write_text("An invented paper\n\nSome text.\n\nReferences\n\n"
                     "1. Bride KL, Other A. A title. Blood. (2016) 127:17–28. doi: 10.1182/blood-2015-07-657981\n\n"
                     "2. Nobody N. Another title. Fake J. (2001) 1:1.\n", encoding="utf-8")
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    code = cli.main(["references", str(paper), str(empty), "--json"])
    out, err = capsys.readouterr()
    payload = json.loads(out)
    assert code == 1 and "empty.pdf" in err and len(err.strip().splitlines()) == 1
    assert payload["documents"] == [{"source": "paper.txt", "citations": 2, "in_evidence_base": 1}]
    assert [c["in_evidence_base"] for c in payload["citations"]] == [True, False]
    assert payload["failed"][0]["path"] == str(empty)
    assert cli.main(["references", str(paper), "-o", str(tmp_path / "x.parquet")]) == 2
    out_csv = tmp_path / "refs.csv"
    assert cli.main(["references", str(paper), "-o", str(out_csv)]) == 0
    import pandas as pd

    frame = pd.read_csv(out_csv)
    assert list(frame["year"]) == [2016, 2001] and list(frame["source"]) == ["paper.txt"] * 2


@needs_shared
def test_list_found_without_section_headings():
    """Readers that find no references heading: the numbered run at the end is still the list."""
    doc = _doc("seeds/comella2024_front_immunol.md")
    bare = Document(source=doc.source, kind=doc.kind, text=doc.text, pages=doc.pages)
    gold = json.loads((ROOT / "corpus" / "gold" / "references_comella2024.json").read_text(encoding="utf-8"))
    cites = parse_references(bare)
    assert [(c.year, c.doi) for c in cites] == [(g["year"], g["doi"]) for g in gold["references"]]


_NAME = st.from_regex(r"[A-Z][a-z]{2,9} [A-Z]{1,2}", fullmatch=True)
_ENTRY = st.tuples(st.lists(_NAME, min_size=1, max_size=4), st.integers(1950, 2049),
                   st.from_regex(r"[a-z]{2,8}\.[0-9]{1,6}", fullmatch=True), st.sampled_from(["ama", "frontiers", "gbt"]))


@settings(max_examples=40, deadline=None)
@given(st.lists(_ENTRY, min_size=1, max_size=12), st.booleans())
def test_generated_lists_round_trip(entries, wrap):
    """Any list of well-formed invented entries: one citation each, in order, with its year and DOI."""
    lines = []
    for i, (authors, year, suffix, style) in enumerate(entries, 1):
        who = ", ".join(authors)
        if style == "ama":
            body = f"{i}. {who}. A generated title. Gen J. {year};{i}({i}):1-9. doi: 10.5555/{suffix}"
        elif style == "frontiers":
            body = f"{i}. {who}. A generated title. Gen J. ({year}) {i}:1–9. doi: 10.5555/{suffix}"
        else:
            body = f"[{i}] {who}. A generated title[J]. Gen J, {year}, {i}({i}): 1-9. doi: 10.5555/{suffix}"
        lines.append(body.replace(" A generated", "\nA generated") if wrap else body)
    text = "References\n" + "\n".join(lines) + "\n"
    cites = parse_references(make_doc(text))
    assert [c.number for c in cites] == list(range(1, len(entries) + 1))
    for c, (authors, year, suffix, _) in zip(cites, entries):
        assert (c.first_author, c.year, c.doi, c.journal, c.volume) == (authors[0], year, f"10.5555/{suffix}", "Gen J", str(c.number))
        assert c.title == "A generated title" and text[c.raw_start:c.raw_end] == c.evidence["quote"]
