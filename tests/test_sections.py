"""Section detection from heading lines, run-in labels, known headings and table spans."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from extract.document import Table
from extract.sections import VOCAB_FILE, find_sections, heading_name, locate

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.mark.parametrize("heading,name", [
    ("2 Methods", "methods"), ("2. METHODS", "methods"), ("Materials and methods", "methods"),
    ("MATERIALS AND METHODS:", "methods"), ("II. Results", "results"), ("**Results**", "results"),
    ("Abstract", "abstract"), ("Background", "introduction"), ("1 Introduction", "introduction"),
    ("References (17)", "references"), ("REFERENCES", "references"), ("Keywords", "other"),
    ("Conclusions", "conclusion"), ("4.  Discussion", "discussion"), ("Patients & Methods", "methods"),
    ("参考文献", "references"), ("Statistics of the cohort", None), ("Results were good", None),
])
def test_heading_names(heading, name):
    assert heading_name(heading) == name


def test_vocabulary_is_data():
    data = json.loads(VOCAB_FILE.read_text(encoding="utf-8"))
    for part in ("abstract", "introduction", "methods", "results", "discussion", "conclusion", "references", "other"):
        assert data[part], part


def names(text: str, **kw) -> list[str]:
    return [s.name for s in find_sections(text, **kw) if s.name != "tables"]


def test_plain_text_headings_in_order():
    text = ("A made-up title of an invented study\n\nAbstract\n\nWe studied 10 people.\n\n1 Introduction\n\n"
            "Why.\n\n2. MATERIALS AND METHODS\n\nHow.\n\n3 Results\n\n7 of 10 responded.\n\nDiscussion\n\n"
            "Good.\n\nConclusions\n\nFine.\n\nReferences\n\n1. Someone. A paper.\n")
    secs = find_sections(text)
    assert [s.name for s in secs] == ["title", "abstract", "introduction", "methods", "results", "discussion",
                                      "conclusion", "references"]
    res = next(s for s in secs if s.name == "results")
    assert text[res.start:res.end] == "3 Results\n\n7 of 10 responded."
    assert res.heading == "3 Results"


def test_markdown_subsections_stay_inside():
    text = "# Title here\n\n## Methods\n\nText.\n\n### Statistical modelling choices\n\nMore.\n\n## Results\n\nR.\n"
    secs = find_sections(text)
    assert [s.name for s in secs] == ["title", "methods", "results"]
    assert secs[1].end > text.index("More.")


def test_structured_abstract_run_in_labels():
    text = ("# Invented title\n\n**Background:** Something.\n\n**Methods:** We did it.\n\n**Results:** 3 of 4.\n\n"
            "Keywords: a; b\n\n## Introduction\n\nText.\n\nResults: a run-in label in the body is not a part.\n")
    secs = find_sections(text)
    assert [s.name for s in secs] == ["title", "abstract", "other", "introduction"]
    abstract = secs[1]
    assert "3 of 4." in text[abstract.start:abstract.end]


def test_reference_block_without_heading():
    text = "Title of a thing here\n-\nSome text.\n[1] A. Paper.\n[2] B. Paper.\n[3] C. Paper.\n"
    secs = find_sections(text)
    assert secs[-1].name == "references" and text[secs[-1].start:].startswith("[1]")


def test_known_headings_from_markup():
    text = "My title\n\nAbstract text.\n\nSomething odd\n\nBody."
    secs = find_sections(text, headings=[(0, 8, 1), (10, 10, 2, "abstract"), (26, 39, 2), (41, 45, 3)], plain_lines=False)
    assert [(s.name, s.heading) for s in secs] == [("title", "My title"), ("abstract", ""), ("other", "Something odd")]


def test_table_spans_nest_and_captions_without_grid():
    text = "Results\n\nTable 2 Outcomes of a made-up trial\nrows that could not be parsed\n\nAfter the table.\n"
    secs = find_sections(text)
    assert [s.name for s in secs] == ["results", "tables"]
    tab = secs[1]
    assert text[tab.start:tab.end] == "Table 2 Outcomes of a made-up trial\nrows that could not be parsed"
    table = Table("Table 2", "Outcomes", pd.DataFrame(), 1, tab.start, tab.end)
    assert [s.name for s in find_sections(text, [table])] == ["results", "tables"]


def test_sentence_starting_with_table_is_not_a_caption():
    text = "Results\n\nThe responses are summarized in\nTable 1. Among the responders most were young.\n"
    assert names(text) == ["results"]
    assert all(s.name != "tables" for s in find_sections(text))


def test_title_hint_across_lines():
    text = "Journal (2024) An invented title of a study\n\nAn invented title\nof a study\n\nAbstract\n\nText."
    secs = find_sections(text, title="An invented title of a study")
    title = secs[0]
    assert title.name == "title" and title.start == text.index("An invented title\nof")
    assert locate(text, "not there") is None


LINE = st.one_of(
    st.sampled_from(["Abstract", "2 Methods", "RESULTS", "# Discussion", "References", "Keywords: x; y",
                     "**Results:** 3 of 4.", "Table 1 Things", "a\tb\tc", "[1] A ref.", ""]),
    st.text(alphabet="abcdefghij ,.0123456789", max_size=50),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(LINE, max_size=30))
def test_sections_are_well_formed(lines):
    text = "\n".join(lines)
    secs = find_sections(text)
    tops = [s for s in secs if s.name != "tables"]
    for s in secs:
        assert 0 <= s.start <= s.end <= len(text)
        assert s.name in ("title", "abstract", "introduction", "methods", "results", "discussion",
                          "conclusion", "tables", "references", "other")
        if s.heading and s.name != "tables":
            assert s.heading.strip("#* ").split()[0].strip("*:") in text[s.start:s.end]
    assert all(a.end <= b.start for a, b in zip(tops, tops[1:]))
    assert [s.start for s in secs] == sorted(s.start for s in secs)


@pytest.mark.skipif(not (SHARED / "corpus" / "seeds").exists(), reason="../shared corpus folder absent")
def test_okur_seed_references_merge_duplicate_heading():
    text = (SHARED / "corpus" / "seeds" / "okuracar2024_pubmed.txt").read_text(encoding="utf-8")
    secs = find_sections(text)
    refs = [s for s in secs if s.name == "references"]
    assert len(refs) == 1
    body = text[refs[0].start:refs[0].end]
    assert body.count("    1. ") == 5  # the five numbered references are inside


@pytest.mark.parametrize("line,label,caption", [
    ("TABLE 1 Clinical features", "Table 1", "Clinical features"), ("Tab.2 Doses", "Table 2", "Doses"),
    ("**Table 3.** Responses", "Table 3", "Responses"), ("#### TABLE 3 Rates.", "Table 3", "Rates."),
    ("Table S1 Extra", "Table S1", "Extra"), ("表 1 证据", "Table 1", "证据"), ("No caption here", "", "No caption here"),
])
def test_caption_labels(line, label, caption):
    from extract.tables import split_caption
    assert split_caption(line) == (label, caption)


def test_unlabelled_abstract_needs_a_long_paragraph():
    words = " ".join(f"w{i}" for i in range(45))
    text = f"An invented title for testing\n\n{words}.\n\nDiscussion\n\nShort."
    assert names(text) == ["title", "abstract", "discussion"]
    assert names("An invented title for testing\n\nShort text only.\n\nDiscussion\n\nx.") == ["title", "discussion"]
