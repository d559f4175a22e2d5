"""HTML reader on a small invented journal page (tests/fixtures/article.html) and generated pages."""
from __future__ import annotations

import html
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from extract.readers import read, sniff

FIXTURE = Path(__file__).parent / "fixtures" / "article.html"


@pytest.fixture(scope="module")
def doc():
    return read(FIXTURE)


def test_kind_from_content_not_extension(tmp_path):
    assert sniff(FIXTURE.read_bytes()) == "html"
    renamed = tmp_path / "page.txt"
    renamed.write_bytes(FIXTURE.read_bytes())
    assert read(renamed).kind == "html"


def test_metadata_from_meta_tags(doc):
    m = doc.metadata
    assert m.title == "Tacrolimus for an invented cytopenia: a made-up cohort"
    assert m.authors == ["Rossi, Anna", "Bianchi, Luca", "Verdi, Carla"]
    assert m.journal == "Journal of Invented Haematology"
    assert (m.year, m.doi, m.pmid) == (2021, "10.9999/jih.2021.0042", "31415926")


def test_boilerplate_dropped(doc):
    for junk in ("tracking", "color: red", "Subscribe", "Methods menu", "Cookie settings"):
        assert junk not in doc.text
    assert doc.text.startswith("Tacrolimus for an invented cytopenia")
    assert "28 of 40 (70%) responded & none died." in doc.text


def test_sections(doc):
    top = [s for s in doc.sections if s.name != "tables"]
    assert [s.name for s in top] == ["title", "abstract", "introduction", "methods", "results",
                                     "discussion", "references"]
    assert doc.section_of(doc.text.index("exact intervals")) == "methods"  # 2.1 is a subsection
    assert doc.section_of(doc.text.index("No serious infections")) == "results"
    assert doc.section_of(doc.text.index("0.51-0.88")) == "tables"


def test_table(doc):
    (t,) = doc.tables
    assert (t.label, t.caption) == ("Table 1", "Response by invented subtype")
    assert t.header == [["", "Patients (n)", "Responders, n (%)", "95% CI"]]
    assert t.frame["group"].tolist() == ["Primary", "Primary", "Total"]
    assert t.frame.iloc[2].tolist()[:4] == ["All", "40", "28 (70%)", "0.53-0.83"]
    assert t.footnotes == "CI, confidence interval."
    for c in t.cells:
        assert doc.text[c.start:c.end] == c.text
    # tables are written into doc.text as tab-separated lines
    assert "Type A\t25\t18 (72%)\t0.51-0.88" in doc.text
    assert doc.text[t.start:t.end].startswith("Table 1. Response")


def test_element_map(doc):
    spans = doc.elements
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    at = doc.text.index("40 invented")
    assert doc.element_of(at).endswith("section[1]/p/b")
    assert doc.element_of(doc.text.index("18 (72%)")).endswith("tbody/tr[2]/td[3]")
    assert doc.element_of(doc.text.index("Forty were")) == "body/main/article/section[3]/p[1]"
    # every non-space character of the text comes from some element
    covered = set()
    for s, e, _ in spans:
        covered.update(range(s, e))
    assert all(i in covered for i, ch in enumerate(doc.text) if not ch.isspace())


WORD = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFG0123456789.,;%()-<>&\"'é–"),
               min_size=1, max_size=12)
PARA = st.lists(WORD, min_size=1, max_size=8).map(" ".join)
CELL = st.lists(WORD, min_size=0, max_size=3).map(" ".join)


@settings(max_examples=40, deadline=None)
@given(paras=st.lists(PARA, min_size=1, max_size=5),
       rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=2, max_size=5))
def test_generated_pages_offsets(tmp_path_factory, paras, rows):
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paras)
    table = "<table>" + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                                for r in rows) + "</table>"
    page = f"<!DOCTYPE html><html><head><title>t</title></head><body><h1>Heading</h1>{body}{table}</body></html>"
    path = tmp_path_factory.mktemp("h") / "gen.html"
    path.write_text(page, encoding="utf-8")
    doc = read(path)
    for p in paras:
        assert " ".join(p.split()) in doc.text
    for s, e, el in doc.elements:
        assert e > s and doc.text[s:e] == doc.text[s:e].strip()
        assert doc.element_of(s) == el
    for t in doc.tables:
        for c in t.cells:
            assert doc.text[c.start:c.end] == c.text
    cells = [c.text for t in doc.tables for c in t.cells]
    cells += [x for t in doc.tables for g in t.frame.attrs["group_rows"] for x in g["cells"]]  # group rows
    for t in doc.tables:
        for g in t.frame.attrs["group_rows"]:
            assert doc.text[g["start"]:g["start"] + len(g["cells"][0])] == g["cells"][0]
    for r in rows:
        for c in r:
            if c.strip():
                assert " ".join(c.split()) in cells
