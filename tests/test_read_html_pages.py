"""HTML reader on a PubMed-style record and on messy markup (implied end tags, spans, nesting)."""
from __future__ import annotations

from pathlib import Path

import pytest

from extract.errors import NotSupported
from extract.readers import read

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def record():
    return read(FIXTURES / "pubmed_record.html")


def test_record_metadata(record):
    m = record.metadata
    assert m.title.startswith("Imaginary inhibitor in invented thrombocytopenia")
    assert m.authors == ["Esposito M", "Ricci G"]
    assert (m.journal, m.year, m.doi, m.pmid) == ("Pretend J Haematol", 2022, "10.9999/pjh.1234", "35000001")


def test_record_chrome_dropped(record):
    for junk in ("banner", "cookies", "Skip to main", "Footer links"):
        assert junk not in record.text
    assert "Of 20 children, 14 (70%) responded" in record.text


def test_record_sections(record):
    tops = [s.name for s in record.sections]
    assert tops == ["title", "abstract", "other", "references", "other"]
    assert record.section_of(record.text.index("14 (70%)")) == "abstract"  # run-in "Results:" stays inside
    assert record.section_of(record.text.index("Nessuno")) == "references"


def write(tmp_path, name, html):
    p = tmp_path / name
    p.write_text(html, encoding="utf-8")
    return read(p)


def test_implied_end_tags_rowspan_and_th_header(tmp_path):
    doc = write(tmp_path, "messy.html", """<html><body>
<p>First paragraph<p>Second paragraph
<ul><li>one<li>two</ul>
<table><tr><th>Arm<th>n<th>Events
<tr><td rowspan=2>Drug<td>10<td>2
<tr><td>11<td>3
<tr><td>Placebo<td>9<td>5<br>(56%)
</table>
<p><b>Methods</b></p><p>We counted.</p>
</body></html>""")
    assert "First paragraph\n\nSecond paragraph" in doc.text
    assert "one\n\ntwo" in doc.text
    (t,) = doc.tables
    assert t.header == [["Arm", "n", "Events"]]
    assert t.frame[["Arm", "n", "Events"]].values.tolist() == [["Drug", "10", "2"], ["", "11", "3"],
                                                               ["Placebo", "9", "5 (56%)"]]
    for c in t.cells:
        assert doc.text[c.start:c.end] == c.text
    assert doc.section_of(doc.text.index("We counted")) == "methods"  # bold paragraph as a heading


def test_fragment_without_body(tmp_path):
    doc = write(tmp_path, "frag.html", "<html><h1>Only a title</h1><p>And 3 words.</p></html>")
    assert doc.text.startswith("Only a title")
    assert doc.metadata.title == "Only a title"


def test_too_deep_is_a_clear_error(tmp_path):
    with pytest.raises(NotSupported) as err:
        write(tmp_path, "deep.html", "<html><body>" + "<div>" * 3000 + "x" + "</div>" * 3000 + "</body></html>")
    assert "deep.html" in str(err.value)


def test_script_only_page_is_empty(tmp_path):
    from extract.errors import EmptyFile
    with pytest.raises(EmptyFile):
        write(tmp_path, "js.html", "<html><head><script>var a = 1;</script></head><body><script>go()</script></body></html>")


def test_parts_named_by_class_without_headings(tmp_path):
    doc = write(tmp_path, "classes.html", """<html><body><h1>An invented title</h1>
<div class="abstract"><p>We enrolled 12 and 5 responded.</p></div>
<h2>Introduction</h2><p>Why.</p>
<div id="references"><ol><li>Nobody. 2001.</li></ol></div></body></html>""")
    assert [s.name for s in doc.sections] == ["title", "abstract", "introduction", "references"]
    assert doc.section_of(doc.text.index("5 responded")) == "abstract"
    assert doc.section_of(doc.text.index("Nobody")) == "references"


def test_dublin_core_metadata(tmp_path):
    doc = write(tmp_path, "dc.html", """<html><head>
<meta name="DC.title" content="A pretend report">
<meta name="DC.creator" content="Bruno Lupi"><meta name="DC.creator" content="Sara Orsi">
<meta name="DC.identifier" content="doi:10.9999/pretend.7">
<meta name="DC.date" content="2018-11-02"><meta name="DC.source" content="Pretend Reports">
</head><body><p>Body text with PMID: 29999999 in it.</p></body></html>""")
    m = doc.metadata
    assert (m.title, m.authors, m.doi, m.year, m.journal, m.pmid) == (
        "A pretend report", ["Bruno Lupi", "Sara Orsi"], "10.9999/pretend.7", 2018, "Pretend Reports", "29999999")


def test_caption_in_the_paragraph_before_the_table(tmp_path):
    doc = write(tmp_path, "cap.html", """<html><body><h2>Results</h2><p>Intro sentence.</p>
<p><b>Table 2.</b> Events by arm</p>
<table><tr><td>Arm</td><td>Events</td></tr><tr><td>A</td><td>4/10</td></tr></table></body></html>""")
    (t,) = doc.tables
    assert (t.label, t.caption) == ("Table 2", "Events by arm")
    assert doc.text[t.start:].startswith("Table 2. Events by arm")
    assert t.frame.iloc[0].tolist() == ["A", "4/10", ""]
