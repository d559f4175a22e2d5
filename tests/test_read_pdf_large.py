"""The long synthetic PDF: repeated body copies keep their heads out and their tables labelled."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from extract.readers.pdf import read_pdf

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
LARGE = SHARED / "corpus" / "bad" / "comella2024_large_300pages.pdf"

pytestmark = pytest.mark.skipif(not LARGE.exists(), reason="../shared/corpus is absent (shared test corpus not mounted)")


@pytest.fixture(scope="module")
def doc():
    """The first 24 pages (keeps the test fast; the benchmark reads all 300)."""
    src = pdfium.PdfDocument(LARGE)
    dst = pdfium.PdfDocument.new()
    dst.import_pages(src, list(range(24)))
    buf = io.BytesIO()
    dst.save(buf)
    return read_pdf(LARGE.name, buf.getvalue())


def test_every_page_has_its_head_and_foot_out_of_the_text(doc):
    assert doc.n_pages == 24
    heads = {p.header for p in doc.pages[1:]}
    assert len(heads) == 1 and heads != {""}
    for p in doc.pages:
        assert p.footer and p.footer not in doc.text


def test_tables_labelled_by_their_own_caption(doc):
    assert len(doc.tables) >= 6
    for t in doc.tables:
        assert t.label, doc.text[t.start - 100:t.start]
        # the caption names the table it stands over: Table 2 is the one per patient (9 columns)
        assert (t.label == "Table 2") == (len(t.header[0]) == 9)
    assert not re.search(r"-TABLE \d", doc.text)  # a caption is never glued to a broken word


def test_word_broken_before_a_float_is_continued_after_it(doc):
    # a column that ends mid-word before a table at the head of the next column: the word is
    # rejoined with its continuation, which is moved before the float
    assert re.findall(r"[a-z]-\n(?=TABLE \d)", doc.text) == []
    assert not re.search(r"[a-z]-\n[a-z]", doc.text)
