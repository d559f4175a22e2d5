"""JATS reader on a small invented PMC-style article (tests/fixtures/article.jats.xml) and generated ones."""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings, strategies as st

from extract.errors import NotSupported
from extract.readers import read, sniff

FIXTURE = Path(__file__).parent / "fixtures" / "article.jats.xml"


@pytest.fixture(scope="module")
def doc():
    return read(FIXTURE)


def test_kind(doc):
    assert sniff(FIXTURE.read_bytes()) == "jats"
    assert doc.kind == "jats"


def test_front_matter(doc):
    m = doc.metadata
    assert m.title == "Everolimus in an imaginary anaemia: a fictional series"
    assert m.authors == ["Neri, Paola", "Gialli, Marco"]  # the editor is not an author
    assert (m.journal, m.year, m.doi, m.pmid) == ("Invented Haematology Reports", 2019,
                                                    "10.9999/ihr.2019.77", "27182818")
    assert m.extra["pmc"] == "PMC1234567"


def test_text_and_entities(doc):
    assert "This series is entirely invented." in doc.text  # &nbsp; parsed, then spaces collapsed
    assert "9 responded (75%; 95% CI 0.43–0.95)." in doc.text


def test_sections_from_structure(doc):
    top = [s for s in doc.sections if s.name != "tables"]
    assert [s.name for s in top] == ["title", "abstract", "other", "introduction", "methods", "results",
                                     "discussion", "other", "references"]
    # the abstract's own "Results" title does not start the results section
    assert doc.section_of(doc.text.index("9 responded")) == "abstract"
    assert doc.section_of(doc.text.index("rise of 2 g/dL")) == "methods"
    refs = next(doc.iter_sections("references"))
    assert "Fictus A. An unreal paper." in doc.text[refs.start:refs.end]


def test_table_wrap(doc):
    (t,) = doc.tables
    assert (t.label, t.caption) == ("Table 1", "Response by line of therapy")
    assert t.header == [["Line", "Patients", "Responders (%)"]]
    assert t.frame["group"].tolist() == ["Second line", "Third line"]
    assert t.frame["Patients"].tolist() == ["8", "4"]
    assert t.footnotes == "CI, confidence interval."
    for c in t.cells:
        assert doc.text[c.start:c.end] == c.text


def test_element_paths(doc):
    assert doc.element_of(doc.text.index("Definitions")) == "article/body/sec[2]/sec/title"
    cell = next(c for c in doc.tables[0].cells if c.text == "6 (75.0)")
    assert doc.element_of(cell.start) == "article/body/sec[3]/table-wrap/table/tbody/tr[2]/td[3]"
    assert doc.element_of(doc.text.index("Paola Neri")).endswith("contrib-group/contrib[1]")


def test_malformed_xml_is_refused(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?><article dtd-version="1.3"><front><p>unclosed</front>', encoding="utf-8")
    with pytest.raises(NotSupported) as err:
        read(bad)
    assert "bad.xml" in str(err.value) and "malformed" in str(err.value)


TEXT = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789 .,;%()<>&–"), min_size=1,
               max_size=40).filter(lambda s: s.strip())


@settings(max_examples=40, deadline=None)
@given(secs=st.lists(st.tuples(TEXT, st.lists(TEXT, min_size=1, max_size=3)), min_size=1, max_size=4),
       cells=st.lists(st.lists(TEXT, min_size=2, max_size=2), min_size=2, max_size=4))
def test_generated_articles_offsets(tmp_path_factory, secs, cells):
    body = "".join(f"<sec><title>{escape(t)}</title>" + "".join(f"<p>{escape(p)}</p>" for p in ps) + "</sec>"
                   for t, ps in secs)
    rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in cells)
    xml = ('<?xml version="1.0"?><article dtd-version="1.3"><front><article-meta><title-group>'
           '<article-title>Generated</article-title></title-group></article-meta></front>'
           f'<body>{body}<table-wrap><label>Table 9</label><table><tbody>{rows}</tbody></table>'
           '</table-wrap></body></article>')
    path = tmp_path_factory.mktemp("j") / "gen.xml"
    path.write_text(xml, encoding="utf-8")
    doc = read(path)
    for s, e, el in doc.elements:
        assert doc.element_of(s) == el and doc.text[s:e].strip() == doc.text[s:e] != ""
    for t, ps in secs:
        for p in ps:
            assert " ".join(p.split()) in doc.text
    (table,) = doc.tables
    assert table.label == "Table 9"
    for c in table.cells:
        assert doc.text[c.start:c.end] == c.text
    texts = [c.text for c in table.cells] + [x for g in table.frame.attrs["group_rows"] for x in g["cells"]]
    for r in cells:
        for c in r:
            assert " ".join(c.split()) in texts
