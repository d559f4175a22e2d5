"""--ocr on a scanned page: refused by default; with Debian's ocrmypdf present, read through OCR."""
from __future__ import annotations

import pytest

import extract
from extract.errors import NoTextLayer
from extract.readers import ocr


def test_scan_is_refused_without_ocr(shared):
    with pytest.raises(NoTextLayer) as err:
        extract.read(shared / "corpus" / "bad" / "comella2024_scanned_page1.pdf")
    assert "OCR" in str(err.value) and "\n" not in str(err.value)


def test_missing_ocr_tool_is_one_line(shared, monkeypatch):
    monkeypatch.setattr(ocr.shutil, "which", lambda name: None)
    with pytest.raises(NoTextLayer) as err:
        extract.read(shared / "corpus" / "bad" / "comella2024_scanned_page1.pdf", ocr=True)
    assert "ocrmypdf is not installed" in str(err.value)


def test_text_pdf_is_not_ocred(shared):
    doc = extract.read(shared / "corpus" / "pdf" / "okuracar2024_scand_j_immunol.pdf", ocr=True)
    assert not doc.metadata.extra.get("ocr") and ocr.OCR_WARNING not in doc.warnings


@pytest.mark.skipif(not ocr.available(), reason="Debian's ocrmypdf is not installed (optional extra; tested where present)")
def test_scan_read_through_ocr(shared):
    doc = extract.read(shared / "corpus" / "bad" / "comella2024_scanned_page1.pdf", ocr=True)
    assert doc.metadata.extra.get("ocr") and ocr.OCR_WARNING in doc.warnings
    flat = " ".join(doc.text.split())
    # page 1 of Comella: the title and the abstract's figures come back as text
    assert "mycophenolate" in flat.lower() and "sirolimus" in flat.lower()
    assert "96" in flat
