"""Kind from content, bad inputs, encodings, and the cell offset property for text tables."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from extract.errors import EmptyFile, NotSupported, ReadError
from extract.readers import read, sniff

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BAD = SHARED / "corpus" / "bad"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("data,kind", [
    (b"%PDF-1.7\n...", "pdf"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
    (b"PK\x03\x04zip", "binary"),
    (b"<!DOCTYPE html><html><body><p>x</p></body></html>", "html"),
    (b"  <html><p>x</p></html>", "html"),
    (b'<?xml version="1.0"?><article dtd-version="1.2"><front/></article>', "jats"),
    (b'<?xml version="1.0"?><PubmedArticleSet><x/></PubmedArticleSet>', "xml"),
    (b"# Heading\n\nText", "markdown"),
    (b"| a | b |\n|---|---|\n| 1 | 2 |\n", "markdown"),
    (b"Plain words.\nMore words; #not a heading\n", "text"),
    ("Caf\u00e9 text".encode("cp1252"), "text"),
])
def test_sniff(data, kind):
    assert sniff(data) == kind


def test_kind_ignores_extension(tmp_path):
    jats = tmp_path / "looks_like.txt"
    jats.write_bytes((FIXTURES / "article.jats.xml").read_bytes())
    assert read(jats).kind == "jats"
    md = tmp_path / "looks_like.html"
    md.write_text("# A title\n\nSome text.\n", encoding="utf-8")
    assert read(md).kind == "markdown"


def test_encodings(tmp_path):
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Allg\u00e4uer wrote 3 of 4.\r\n".encode("cp1252"))
    assert read(latin).text == "Allg\u00e4uer wrote 3 of 4.\n"
    utf16 = tmp_path / "u16.txt"
    utf16.write_bytes(b"\xff\xfe" + "Hello 12 patients\n".encode("utf-16-le"))
    assert read(utf16).text == "Hello 12 patients\n"
    bom = tmp_path / "bom.md"
    bom.write_bytes(b"\xef\xbb\xbf# Title\n")
    assert read(bom).text == "# Title\n"


def test_unsupported_xml_and_missing_file(tmp_path):
    xml = tmp_path / "x.xml"
    xml.write_bytes(b'<?xml version="1.0"?><PubmedArticleSet><x/></PubmedArticleSet>')
    with pytest.raises(NotSupported) as err:
        read(xml)
    assert "x.xml" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ReadError) as err:
        read(tmp_path / "nope.txt")
    assert "nope.txt" in str(err.value)


@pytest.mark.skipif(not BAD.exists(), reason="../shared corpus folder absent")
def test_corpus_bad_files():
    with pytest.raises(NotSupported):
        read(BAD / "not_a_pdf.pdf")
    with pytest.raises(EmptyFile):
        read(BAD / "empty.pdf")


CELL = st.text(alphabet=st.sampled_from("abcXYZ019 .,%()-–+*é中"), max_size=10)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.lists(CELL, min_size=2, max_size=5), min_size=2, max_size=6),
       pipe=st.booleans(), crlf=st.booleans())
def test_table_cells_slice_the_text(tmp_path_factory, rows, pipe, crlf):
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    rows = [[c.replace("|", "/") for c in r] for r in rows]
    rows[0] = [c or f"h{i}" for i, c in enumerate(rows[0])]  # a header with some text in each cell
    if pipe:
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width] + ["| " + " | ".join(r) + " |" for r in rows[1:]]
    else:
        lines = ["\t".join(r) for r in rows]
    nl = "\r\n" if crlf else "\n"
    text = nl.join(["Intro line.", "", "Table 4 Generated", ""] + lines + ["", "After."]) + nl
    path = tmp_path_factory.mktemp("t") / "gen.md"
    path.write_bytes(text.encode("utf-8"))
    doc = read(path)
    if not any(any(c.strip() for c in r) for r in rows[1:]):
        return
    (table,) = doc.tables
    assert table.label == "Table 4"
    for c in table.cells:
        assert doc.text[c.start:c.end] == c.text
        assert c.text == c.text.strip()
    body_cells = [c for c in table.cells if c.row >= len(table.header)]
    for c in body_cells:
        assert table.frame.iloc[c.row - len(table.header), c.col] == c.text
    printed = {c.strip() for r in rows for c in r if c.strip()}
    found = {c.text for c in table.cells} | {x.strip() for g in table.frame.attrs["group_rows"] for x in g["cells"]}
    assert printed <= found
