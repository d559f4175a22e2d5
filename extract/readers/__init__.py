"""Readers: one per input kind, each turning a file into a :class:`~extract.document.Document`.

The kind comes from the content (magic bytes, markup), never from the file extension.
"""
from __future__ import annotations

from pathlib import Path

from ..document import Document
from ..errors import EmptyFile, NotSupported, ReadError


def sniff(data: bytes) -> str:
    """Kind of document from its first bytes: pdf, html, jats, markdown, text."""
    head = data[:4096].lstrip()
    if data[:1024].find(b"%PDF-") != -1:
        return "pdf"
    low = head.lower()
    if low.startswith(b"<?xml") or low.startswith(b"<!doctype article") or b"<article" in low[:2048]:
        if b"<article" in data[:65536].lower() or b"jats" in low:
            return "jats"
    if low.startswith(b"<!doctype html") or b"<html" in low[:2048]:
        return "html"
    if b"\x00" in data[:4096]:
        return "binary"
    try:
        sample = data[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 65530:
            return "binary"
        sample = data[: exc.start].decode("utf-8")
    if any(line.startswith("#") for line in sample.splitlines()[:200]):
        return "markdown"
    return "text"


def read(path: str | Path, cache: str | Path | None = None, password: str | None = None) -> Document:
    """Read one paper. Raises :class:`~extract.errors.ReadError` with a one-line reason on bad input."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(str(path), exc.strerror or str(exc)) from None
    if not data.strip():
        raise EmptyFile(str(path))
    kind = sniff(data)
    if kind in ("text", "markdown"):
        from .text import read_text
        return read_text(path, data, kind)
    if kind == "pdf":
        from .pdf import read_pdf
        return read_pdf(path, data, password=password)
    if kind == "html":
        from .html import read_html
        return read_html(path, data)
    if kind == "jats":
        from .jats import read_jats
        return read_jats(path, data)
    raise NotSupported(str(path))
