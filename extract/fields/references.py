"""Reference lists → citation records (authors, year, title, journal, DOI) with their evidence.

Why: guideline and review papers carry their evidence in their references; a panel wants to
know which studies a recommendation rests on, and the pooled corpus must not count a study
twice because a review cites it. The parser reads the common styles — Vancouver
("Miano M, … Title. Br J Haematol. 2015;171(2):247-253."), the Frontiers/APA-like one
("… Title. *Br J Haematol.* (2015) 171:247–53. doi: …") and the Chinese GB/T 7714 one
("… Title[J]. Front Oncol, 2021, 10: 611690.") — from the references section, one entry per
number ("1.", "[1]", or the duplicated "1. 1." of web pages).
"""
from __future__ import annotations

import re

from ..document import Document
from .base import proof

_ENTRY = re.compile(r"^[ \t]*(?:\[(?P<b>\d{1,3})\]|(?P<n>\d{1,3})\.(?:[ \t]+\d{1,3}\.)?)[ \t]*(?:\n[ \t]*)?(?P<body>\S[^\n]*)", re.M)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+[^\s\"<>.,;])")
_YEAR = re.compile(r"(?<!\d)(19[5-9]\d|20[0-4]\d)(?!\d)")
_AUTHOR = r"(?:(?:van|von|de|der|del|da|di|le|la|du)\s)*[A-Z][\w'\u2019-]+(?:[ -][A-Za-z][\w'\u2019-]+)*\s[A-Z]{1,3}"
_CJK_AUTHOR = r"[\u4e00-\u9fff]{2,4}"
_AUTHORS = re.compile(r"^(?P<a>%s(?:,\s*%s)*(?:,?\s*et al)?|%s(?:,\s*%s)*(?:,\s*等)?)\.\s*"
                      % (_AUTHOR, _AUTHOR, _CJK_AUTHOR, _CJK_AUTHOR))
_NOISE = re.compile(r"CrossRef|Google Scholar|PubMed", re.I)


def _reference_spans(doc: Document) -> list[tuple[int, int]]:
    spans = [(s.start, s.end) for s in doc.sections if s.name == "references"]
    return spans or [(0, len(doc.text))]


def parse_reference(body: str) -> dict:
    """Fields of one reference entry's text (missing ones are None)."""
    text = _NOISE.sub("", body).strip()
    out: dict = {"authors": [], "year": None, "title": None, "journal": None, "doi": None}
    m = _DOI.search(text)
    if m:
        out["doi"] = m.group(1)
    a = _AUTHORS.match(text)
    rest = text
    if a:
        out["authors"] = [x.strip() for x in re.split(r",\s*", re.sub(r",?\s*(?:et al|等)$", "", a.group("a"))) if x.strip()]
        rest = text[a.end():]
    title = re.match(r"(?P<t>.+?)(?:\[[A-Z]\]\.|\.)\s+(?P<rest>.*)$", rest)
    if title:
        out["title"] = title.group("t").strip()
        journal = re.match(r"\*?(?P<j>[^*.,;(\d][^*;(\d]*?)\.?\*?\s*[.,]?\s*\(?(?:19|20)\d\d", title.group("rest"))
        if journal:
            out["journal"] = journal.group("j").strip(" .,")
        years = _YEAR.findall(title.group("rest"))
        if years:
            out["year"] = int(years[0])
    elif _YEAR.search(text):
        out["year"] = int(_YEAR.search(text).group(1))
    return out


def citations(doc: Document) -> list[dict]:
    """Citation records of the paper's reference list, in order, each with ``number`` and ``evidence``.

    Numbers are renumbered in order when the source repeats one number for every entry (a
    common web-export defect, "1." for all), and the record says so in ``flags``.
    """
    out: list[dict] = []
    for start, end in _reference_spans(doc):
        start = doc.text.rfind("\n", 0, start) + 1  # entries are matched from the start of a line
        for m in _ENTRY.finditer(doc.text, start, end):
            body = m.group("body")
            if len(body) < 25 or not re.search(r"[A-Za-z\u4e00-\u9fff]{3}", body):
                continue
            rec = parse_reference(body)
            if not rec["authors"] and not rec["doi"] and rec["year"] is None:
                continue
            rec["number"] = int(m.group("b") or m.group("n"))
            rec["evidence"] = proof(doc, m.span("body"))
            rec["flags"] = []
            out.append(rec)
    numbers = [r["number"] for r in out]
    if len(out) > 1 and len(set(numbers)) == 1:
        for i, r in enumerate(out, 1):
            r["number"] = i
            r["flags"].append("reference numbers repeated in the source; renumbered in order")
    return out
