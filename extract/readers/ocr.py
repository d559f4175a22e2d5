"""OCR for scanned PDFs through Debian's ``ocrmypdf`` (optional: litmeta never needs it to run).

A scan has no text layer, so litmeta refuses it by default ("run OCR first"). With ``ocr=True``
the scan is passed through ``ocrmypdf`` (Tesseract) into a temporary PDF with a text layer, which
the ordinary PDF reader then reads. Text that came from OCR is a guess about the page, so the
Document says so in ``warnings`` and ``metadata.extra["ocr"]``.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..document import Document
from ..errors import NoTextLayer

OCR_WARNING = "text recognised by OCR (ocrmypdf/Tesseract): check every number against the page image"


def available() -> bool:
    return shutil.which("ocrmypdf") is not None


def ocr_pdf(path: str | Path, data: bytes, password: str | None = None, timeout: float = 600) -> Document:
    """Run ocrmypdf on ``data`` and read the result; a missing tool or a failed run is a NoTextLayer line."""
    from .pdf import read_pdf

    if not available():
        raise NoTextLayer(str(path), "ocrmypdf is not installed (Debian: apt-get install ocrmypdf)")
    with tempfile.TemporaryDirectory(prefix="litmeta-ocr-") as tmp:
        src, out = Path(tmp) / "in.pdf", Path(tmp) / "out.pdf"
        src.write_bytes(data)
        cmd = ["ocrmypdf", "--quiet", "--rotate-pages", "--deskew", "--skip-text", "-l", "eng", str(src), str(out)]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise NoTextLayer(str(path), f"OCR took longer than {timeout:g} s") from None
        if run.returncode != 0 or not out.is_file():
            last = (run.stderr.strip().splitlines() or ["no output"])[-1]
            raise NoTextLayer(str(path), f"OCR failed: {last}")
        doc = read_pdf(path, out.read_bytes(), password=password)
    doc.warnings.append(OCR_WARNING)
    doc.metadata.extra["ocr"] = True
    return doc
