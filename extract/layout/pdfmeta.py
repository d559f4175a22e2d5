"""Bibliographic metadata of a PDF: its info dictionary first, then the first page's text.

Publishers fill the info dictionary unevenly, so the DOI, PMID and year are also looked for
in the opening text (the DOI is the one fact almost every paper prints on page 1).
"""
from __future__ import annotations

import re

from ..document import Metadata

DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>,;()\[\]]+[^\s\"<>,;()\[\].])")
PMID = re.compile(r"\bPMID:?\s*(\d{5,9})\b")
YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_PDF_DATE = re.compile(r"^D:(\d{4})")
_JOURNAL = re.compile(r"^(.+?)\.?\s+(?:\d|doi\b)")
_STATED_YEAR = re.compile(r"(?:©|\(c\)|copyright|published)[^\n]{0,30}?\b(19[5-9]\d|20[0-4]\d)\b", re.I)


def _authors(value: str) -> list[str]:
    parts = re.split(r"\s*(?:;|,| and )\s*", value.strip())
    return [p for p in parts if p]


def read_metadata(info: dict[str, str], first_text: str, head_text: str = "") -> Metadata:
    """Metadata from the PDF info dict and the first page's text (and its running head)."""
    meta = Metadata()
    meta.title = (info.get("Title") or "").strip()
    if info.get("Author"):
        meta.authors = _authors(info["Author"])
    subject = (info.get("Subject") or "").strip()
    m = _JOURNAL.match(subject)
    meta.journal = m.group(1).strip() if m else ""
    text = head_text + "\n" + first_text
    m = DOI.search(text) or DOI.search(info.get("Subject", "") + " " + info.get("Keywords", ""))
    if m:
        meta.doi = m.group(1)
    m = PMID.search(text)
    if m:
        meta.pmid = m.group(1)
    years = [int(y) for y in YEAR.findall(first_text[:4000])]
    stated = YEAR.search(subject) or _STATED_YEAR.search(text)
    if stated:
        meta.year = int(stated.group(1))
    elif years:
        meta.year = max(set(years), key=lambda y: (years.count(y), y))
    else:
        m = _PDF_DATE.match(info.get("CreationDate") or "")
        meta.year = int(m.group(1)) if m else None
    meta.extra["pdf_info"] = {k: v for k, v in info.items() if v}
    return meta
