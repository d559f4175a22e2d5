"""Why a file could not be read: one clear line for the reviewer, never a traceback."""
from __future__ import annotations


class ReadError(Exception):
    """A file litmeta cannot read. ``str(err)`` is the one line shown to the user."""

    reason = "cannot be read"

    def __init__(self, path: str, detail: str = "") -> None:
        self.path = str(path)
        self.detail = detail
        super().__init__(f"{self.path}: {self.reason}" + (f" ({detail})" if detail else ""))


class EmptyFile(ReadError):
    reason = "empty file"


class NotSupported(ReadError):
    reason = "not a supported document (PDF, HTML, JATS XML, text or Markdown)"


class NoTextLayer(ReadError):
    reason = "scan without text layer: run OCR first (ocrmypdf), or pass --ocr"


class Encrypted(ReadError):
    reason = "encrypted: password required"


class Corrupt(ReadError):
    reason = "corrupt or truncated PDF"
