"""Broken inputs in ../shared/corpus/bad: one error class, one line, never a traceback."""
from __future__ import annotations

from pathlib import Path

import pytest

from extract.errors import Corrupt, EmptyFile, Encrypted, NoTextLayer, NotSupported
from extract.readers import read
from extract.readers.pdf import read_pdf

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BAD = SHARED / "corpus" / "bad"

pytestmark = pytest.mark.skipif(not BAD.exists(), reason="../shared/corpus/bad is absent (shared test corpus not mounted)")


@pytest.mark.parametrize("name, error, words", [
    ("comella2024_scanned_page1.pdf", NoTextLayer, "text layer"),
    ("comella2024_encrypted.pdf", Encrypted, "password"),
    ("empty.pdf", EmptyFile, "empty"),
    ("not_a_pdf.pdf", NotSupported, "not a supported"),
])
def test_each_bad_file_gives_its_error(name, error, words):
    with pytest.raises(error) as info:
        read(BAD / name)
    msg = str(info.value)
    assert "\n" not in msg and name in msg and words in msg
    assert "Traceback" not in msg


def test_truncated_file_is_read_as_far_as_it_goes_with_a_warning():
    """The first half of the Comella PDF: no longer Corrupt, but the pages its content streams
    hold, and a one-line warning that says they were recovered (see test_read_pdf_salvage)."""
    doc = read(BAD / "comella2024_truncated.pdf")
    assert doc.n_pages >= 4 and doc.metadata.extra["salvaged"]["pages"] == doc.n_pages
    warning = next(w for w in doc.warnings if "recovered" in w)
    assert "\n" not in warning and "truncated" in warning and "guessed" in warning


def test_encrypted_with_password_reads_the_paper():
    doc = read(BAD / "comella2024_encrypted.pdf", password="secret")
    assert doc.n_pages == 6 and len(doc.tables) == 3
    assert "10.3389/fimmu.2024.1415389" in doc.metadata.doi


def test_wrong_password_says_so():
    with pytest.raises(Encrypted, match="wrong password"):
        read(BAD / "comella2024_encrypted.pdf", password="not-it")


def test_reader_called_directly_on_empty_or_garbage_bytes():
    with pytest.raises(EmptyFile):
        read_pdf("x.pdf", b"")
    with pytest.raises(Corrupt):
        read_pdf("x.pdf", b"%PDF-1.7\n garbage without objects")
