"""Plain text and Markdown papers (minimal first version; tables and sections come with the readers issue)."""
from __future__ import annotations

from pathlib import Path

from ..document import Document, Page


def read_text(path: str | Path, data: bytes, kind: str = "text") -> Document:
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return Document(source=Path(path).name, kind=kind, text=text, pages=[Page(1, 0, len(text))])
