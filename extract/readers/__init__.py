"""Readers: one per input kind, each turning a file into a :class:`~extract.document.Document`.

The kind comes from the content (magic bytes, markup), never from the file extension: a PNG
named ``.pdf`` is refused as what it is, a JATS file named ``.txt`` is read as JATS.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..document import Document
from ..errors import EmptyFile, NoTextLayer, NotSupported, ReadError

BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"PK\x03\x04", b"\x1f\x8b", b"BM", b"II*\x00",
                b"MM\x00*", b"\xd0\xcf\x11\xe0", b"7z\xbc\xaf", b"Rar!", b"\x7fELF", b"OggS", b"RIFF")
_JATS = re.compile(rb"<!doctype\s+article|<article\b[^>]*(?:dtd-version|jats|xmlns:(?:xlink|mml|ali)|article-type)"
                   rb"|<(?:article-meta|journal-meta|front)\b")
_HTML = re.compile(rb"<!doctype\s+html|<html\b|<head\b|<body\b|<meta\s+(?:charset|name|http-equiv)")
_MD = re.compile(r"^(?:#{1,6}[ \t]+\S|\|.*\|[ \t]*\n[ \t]*\|?[ \t]*:?-{2,})", re.MULTILINE)


def sniff(data: bytes) -> str:
    """Kind of document from its bytes: ``pdf``, ``jats``, ``html``, ``markdown``, ``text``,
    or ``binary`` / ``xml`` (not supported)."""
    if data[:1024].find(b"%PDF-") != -1:
        return "pdf"
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            body = body.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return "binary"
    if body.startswith(BINARY_MAGIC) or b"\x00" in body[:4096]:
        return "binary"
    head = body[:65536].lstrip().lower()
    if head.startswith(b"<"):
        if _JATS.search(head[:8192]) and not re.search(rb"<html\b", head[:8192]):
            return "jats"
        if _HTML.search(head[:8192]):
            return "html"
        if head.startswith(b"<?xml"):
            return "xml"
    elif _HTML.search(head[:2048]) and re.search(rb"<(?:html|body)\b", head[:8192]):
        return "html"
    try:
        sample = body[:65536].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < min(len(body), 65536) - 4:
            return "text"  # maybe a legacy encoding: the text reader decides
        sample = body[: exc.start].decode("utf-8")
    return "markdown" if _MD.search(sample) else "text"


def parse(path: str | Path, data: bytes, kind: str, password: str | None = None) -> Document:
    """Parse bytes already read, with the reader for ``kind``."""
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
    detail = {"binary": "binary content", "xml": "XML that is not JATS"}.get(kind, kind)
    raise NotSupported(str(path), detail)


def read(path: str | Path, cache: bool | str | Path | None = None, password: str | None = None,
         ocr: bool = False) -> Document:
    """Read one paper. Raises :class:`~extract.errors.ReadError` with a one-line reason on bad input.

    ``cache``: None → parse every time; True → the user cache dir (``$XDG_CACHE_HOME/litmeta``);
    a path → that directory. A cached Document is reused only for the same bytes, litmeta version
    and reader version. ``ocr=True``: a scanned PDF (no text layer) is run through ocrmypdf
    instead of being refused (see :mod:`extract.readers.ocr`).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(str(path), exc.strerror or str(exc)) from None
    if not data.strip():
        raise EmptyFile(str(path))
    # a cached read needs no sniffing (the key is the bytes); the reader is chosen on a miss
    kind = sniff(data) if ocr or not cache else None
    if ocr and kind == "pdf":
        try:
            return read(path, cache=cache, password=password)
        except NoTextLayer:
            from .ocr import ocr_pdf

            doc = ocr_pdf(path, data, password)
            doc.source = path.name
            doc.sha256 = hashlib.sha256(data).hexdigest()
            return doc
    if not cache:
        doc = parse(path, data, kind, password)
    else:
        from ..cache import DocumentCache
        doc = DocumentCache(None if cache is True else cache).get_or_parse(
            path, data, lambda: parse(path, data, kind or sniff(data), password))
    doc.source = path.name
    if not doc.sha256:
        doc.sha256 = hashlib.sha256(data).hexdigest()
    return doc
