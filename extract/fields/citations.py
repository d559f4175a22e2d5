"""Reference lists → citation records, each with the offsets of its entry in ``doc.text``.

Why: a guideline's or review's reference list is where its evidence base is named. Reading it
into records (first author, year, journal, DOI) lets litmeta say which cited studies are
already rows of the bundled evidence base and which are still to be read. Every record keeps
the span of its entry (``raw_start``/``raw_end``), so it is provable like any other value;
a field the entry does not print stays empty — nothing is guessed.

Styles read: numbered ``[1]`` (Chinese GB/T 7714 with ``[J]``), ``1.`` (AMA/Vancouver,
Frontiers, PubMed print-outs, including web pages that number every entry "1."), and
unnumbered one-entry-per-line lists. Entries may wrap across lines (PDF columns).
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

import pandas as pd

from ..document import Document

_YEAR = r"(?:1[89]\d\d|20[0-4]\d)"
_CJK = "\u3400-\u9fff\uf900-\ufaff"
_DOI_START = re.compile(r"(?:https?://(?:dx\.)?doi\.org/|doi:\s*|DOI:?\s*)?(10\.\d{4,9}/)", re.I)
_DOI_CHAR = re.compile(r"[^\s\"<>,;\[\]]")
_PMID = re.compile(r"\bPMID:?\s*(\d{6,9})\b")
_GBT_KIND = re.compile(r"\[(?:J|M|C|D|R|S|N|P|EB/OL|J/OL|M/OL|Z)\]")
# the year anchor, by style: GB/T ", 2021," after [J]; Frontiers "(2015)"; AMA/PubMed "2015;" / "2015 Aug;"
_ANCHOR_GBT = re.compile(rf",\s*({_YEAR})[a-z]?\s*(?=,|\.|$)")
_ANCHOR_PAREN = re.compile(rf"\(({_YEAR})[a-z]?\)")
_ANCHOR_AMA = re.compile(rf"(?<![\d/.-])({_YEAR})[a-z]?(?:\s+[A-Z][a-z]{{2}}(?:\s+\d{{1,2}})?)?\s*;")
_ANCHOR_ANY = re.compile(rf"(?<![\d/.:-])({_YEAR})(?![\d/-])")
_PAGE = r"[A-Za-z]?\d+(?:\.e\d+)?"
_VOL = re.compile(
    rf"^\s*[,;:]?\s*(?P<volume>[A-Za-z]?\d+[A-Za-z]?)?\s*(?:\((?P<issue>[^)]{{1,20}})\))?"
    rf"(?:\s*:\s*(?P<pages>{_PAGE}(?:\s*[-\u2010\u2011\u2013]\s*{_PAGE})?))?")
_ET_AL = re.compile(r"^(?:et\.?\s*al\.?|等|\.\.\.|…)$", re.I)
_LINK_LABELS = re.compile(r"(?:CrossRef|Google Scholar|PubMed|Full Text|Abstract)+\s*$")


@dataclass
class Citation:
    """One entry of a reference list; ``raw_start``/``raw_end`` slice ``doc.text`` to the entry."""

    number: int | None
    authors: list[str] = field(default_factory=list)
    first_author: str = ""
    year: int | None = None
    title: str = ""
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    raw_start: int = 0
    raw_end: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain values (lists and the evidence dict kept), for JSON and DataFrames."""
        return asdict(self)


# --- finding the list and its entries ------------------------------------------------------------

_MARK = re.compile(r"(?m)^[ \t]*(?:[-*\u2022][ \t]+)?(?:\[(?P<b>\d{1,3})\]|(?P<d>\d{1,3})\.(?!\d)(?:[ \t]*(?P=d)\.)?"
                   r"|(?P<s>\d{1,3})(?=[ \t]+[A-Z\u3400-\u9fff]))[ \t]*\n?[ \t]*(?=\S)")
_LEAD = re.compile(r"[ \t]*(?:[-*\u2022][ \t]+)?(?:\[\d{1,3}\]|\d{1,3}\.(?:[ \t]*\d{1,3}\.)?|\d{1,3}(?=\s))\s*")
_INLINE_MARK = r"(?<=[\s\-./])(?:\[{n}\]|{n}\.(?!\d))[ \t]*(?=[A-Z{cjk}][\w'\u2019-]*[ ,])"


def _section_bounds(doc: Document) -> tuple[int, int] | None:
    refs = [s for s in doc.sections if s.name == "references"]
    if not refs:
        return None
    return refs[0].start, refs[-1].end


def _cuts(doc: Document, start: int) -> list[int]:
    """Where other parts of the paper begin after ``start``: an entry never runs across one."""
    return sorted(s.start for s in doc.sections if s.start > start and s.name not in ("references", "tables"))


def _markers(text: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """``(number, marker_start, body_start)`` of line-initial reference numbers in ``[start, end)``."""
    out = []
    start = text.rfind("\n", 0, start) + 1  # "^" only matches at a line start
    for m in _MARK.finditer(text, start, end):
        num = int(m.group("b") or m.group("d") or m.group("s"))
        out.append((num, m.start() + len(m.group(0)) - len(m.group(0).lstrip()), m.end()))
    return out


def _sequence(text: str, marks: list[tuple[int, int, int]], section_end: int) -> list[tuple[int, int, int]]:
    """The run of markers numbered 1, 2, 3, … (or every entry "1.", as some web pages print them).

    A number the line-initial scan missed (a PDF line join such as "s41436-39. Salzer") is looked
    for inside the text between the previous marker and the next one.
    """
    ones = [m for m in marks if m[0] == 1 and m[1] < section_end]
    if len(ones) >= 2 and all(m[0] == 1 for m in marks if m[1] < section_end):
        return [(i + 1, s, b) for i, (_, s, b) in enumerate(ones)]
    by_num: dict[int, list[tuple[int, int, int]]] = {}
    for m in marks:
        by_num.setdefault(m[0], []).append(m)
    if 1 not in by_num:
        return []

    def after(num: int, pos: int) -> tuple[int, int, int] | None:
        cands = by_num.get(num, [])
        i = bisect.bisect_right(cands, pos, key=lambda m: m[1])
        return cands[i] if i < len(cands) else None

    seq = [by_num[1][0]]
    while True:
        want, pos = seq[-1][0] + 1, seq[-1][1]
        nxt = after(want, pos)
        if nxt is None:  # a number left out in print ("9.", unnumbered entry, "11."): skip at most two
            nxt = next((m for m in (after(want + 1, pos), after(want + 2, pos)) if m and m[1] < section_end), None)
        limit = nxt[1] if nxt else max(section_end, seq[-1][2])
        inline = re.compile(_INLINE_MARK.format(n=want, cjk=_CJK)).search(text, seq[-1][2], limit)
        if inline:
            seq.append((want, inline.start(), inline.end()))
        elif nxt is not None:
            seq.append(nxt)
        else:
            return seq


def _numbered_run(doc: Document) -> tuple[int, int] | None:
    """Without a references heading: the last run of 3+ numbered, mostly dated lines in the second half."""
    text = doc.text
    marks = _markers(text, len(text) // 2, len(text))
    firsts = [i for i, m in enumerate(marks) if m[0] == 1][-20:]  # a list starts at one of the last "1."
    for i in reversed(firsts):
        s = marks[i][1]
        seq = _sequence(text, marks[i:], len(text))
        dated = sum(bool(re.search(_YEAR, text[a[2]:b[1]])) for a, b in zip(seq, seq[1:]))
        if len(seq) >= 3 and dated >= 0.8 * (len(seq) - 1):
            return s, len(text)
    return None


def _entry_spans(doc: Document) -> list[tuple[int | None, int, int]]:
    """``(number, start, end)`` of each entry, trimmed of trailing blanks and of any next part."""
    text = doc.text
    bounds = _section_bounds(doc)
    if bounds is None:
        bounds = _numbered_run(doc)
        if bounds is None:
            return []
    start, end = bounds
    cuts = _cuts(doc, start)
    seq = _sequence(text, _markers(text, start, len(text)), end)
    spans: list[tuple[int | None, int, int]] = []
    if seq:
        for i, (num, s, body) in enumerate(seq):
            stop = seq[i + 1][1] if i + 1 < len(seq) else next((c for c in cuts if c > s), len(text))
            stop = min([stop] + [c for c in cuts if body < c < stop])
            missing = seq[i + 1][0] - num - 1 if i + 1 < len(seq) else 0
            spans.extend(_split_missing(text, num, s, stop, missing))
    else:
        spans = _unnumbered(text, start, end)
    return [(n, s, _trim_end(text, s, e)) for n, s, e in spans if text[s:e].strip()]


def _split_missing(text: str, num: int, start: int, end: int, missing: int) -> list[tuple[int | None, int, int]]:
    """An entry followed by ``missing`` unnumbered ones: split at blank lines when the count agrees."""
    if missing <= 0:
        return [(num, start, end)]
    cuts = [m.end() for m in re.finditer(r"\n[ \t]*\n[ \t]*(?=\S)", text[start:end])]
    if len(cuts) != missing:
        return [(num, start, end)]
    bounds = [start] + [start + c for c in cuts] + [end]
    return [(num if i == 0 else None, a, b) for i, (a, b) in enumerate(zip(bounds, bounds[1:]))]


def _unnumbered(text: str, start: int, end: int) -> list[tuple[int | None, int, int]]:
    """One entry per line starting with an author ("Surname AB,"); other lines continue the entry."""
    author_start = re.compile(rf"^[ \t]*(?:[A-Z][\w'\u2019-]+(?: [A-Z][\w'\u2019-]+)* [A-Z]{{1,3}}[,.]|[{_CJK}]{{2,4}}[,，])")
    spans: list[tuple[int | None, int, int]] = []
    pos = start
    for line in text[start:end].split("\n"):
        s, e = pos, pos + len(line)
        pos = e + 1
        if not line.strip():
            continue
        if author_start.match(line) or not spans:
            if author_start.match(line):
                spans.append((None, s + len(line) - len(line.lstrip()), e))
        else:
            spans[-1] = (None, spans[-1][1], e)
    return [sp for sp in spans if re.search(_YEAR, text[sp[1]:sp[2]])]


def _trim_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


# --- reading one entry ---------------------------------------------------------------------------

def _flat(raw: str) -> str:
    """One line for parsing: NFKC, lines joined (no space between two CJK characters), markup dropped."""
    s = unicodedata.normalize("NFKC", raw)
    s = re.sub(rf"(?<=[{_CJK}])[ \t]*\n[ \t]*(?=[{_CJK}])", "", s)
    s = re.sub(r"\s+", " ", s.replace("*", "")).strip()
    s = re.sub(rf"(?<=[{_CJK}])\s+(?=[(\[{_CJK}])|(?<=[)\]])\s+(?=[{_CJK}])", "", s)
    return s


def normalise_doi(raw: str) -> str:
    """DOI as a key: no ``doi:``/URL prefix, lowercase ``10.`` prefix, no trailing punctuation.

    A DOI broken across lines (after "/", "-" or before a digit group) is joined first.
    """
    m = _DOI_START.search(raw)
    if not m:
        return ""
    prefix = m.group(1).lower()
    i, n = m.end(), len(raw)
    out = []
    while i < n:
        ch = raw[i]
        if _DOI_CHAR.match(ch):
            out.append(ch)
            i += 1
            continue
        j = i
        while j < n and raw[j].isspace():
            j += 1
        gap = raw[i:j]
        prev = out[-1] if out else "/"
        nxt = raw[j] if j < n else ""
        joins = gap and nxt and (
            prev in "/-" and nxt.isalnum() or (prev == "." and nxt.isdigit() and "\n" in gap))
        if not joins or (prev == "-" and re.match(r"\d{1,3}\.\s", raw[j:])):
            break
        i = j
    suffix = "".join(out).rstrip(".,;:)]}'\"")
    return prefix + suffix if suffix else ""


def _authors(head: str) -> list[str]:
    sep = r"\s*[,，、;]\s*|\s+and\s+|\s*&\s*" if re.search(r"[,，、;]", head) else r"\s*[，、;]\s*"
    names = [a.strip(" .") for a in re.split(sep, head) if a.strip(" .")]
    return [a for a in names if not _ET_AL.match(a)]


def _split_head(pre: str) -> tuple[str, str]:
    """Authors and the rest: authors end at the first ". " that follows initials, "et al" or a name."""
    m = re.search(rf"^(.*?(?:\b[A-Z]{{1,3}}|et al|等|[{_CJK}\w)]))\.\s+(?=\S)", pre)
    if not m:
        return "", pre
    return m.group(1), pre[m.end():]


def parse_entry(raw: str) -> dict[str, Any]:
    """Fields of one reference string (number marker already removed); absent fields empty."""
    flat = _flat(raw)
    flat = _LINK_LABELS.sub("", flat).strip()
    out: dict[str, Any] = {"authors": [], "first_author": "", "year": None, "title": "", "journal": "",
                           "volume": "", "issue": "", "pages": "", "doi": normalise_doi(raw), "pmid": ""}
    pm = _PMID.search(flat)
    if pm:
        out["pmid"] = pm.group(1)
    body = re.split(r"\s*(?:\bdoi\b|\bDOI\b|https?://|\bPMID\b)", flat, maxsplit=1)[0].strip()
    kind = _GBT_KIND.search(body)
    if kind:  # GB/T 7714: Authors. Title[J]. Journal, Year, Vol(Issue): Pages.
        head, title = _split_head(body[:kind.start()])
        out["title"] = title.strip(" .")
        tail = body[kind.end():].lstrip(" .")
        anchor = _ANCHOR_GBT.search(tail)
        if anchor:
            out["journal"] = tail[:anchor.start()].strip(" .,")
            out["year"] = int(anchor.group(1))
            rest = tail[anchor.end():]
        else:
            rest = ""
    else:
        anchor = _ANCHOR_PAREN.search(body) or _ANCHOR_AMA.search(body)
        loose = anchor is None and _ANCHOR_ANY.search(body)  # a bare year: what follows is not read
        anchor = anchor or loose
        pre = body[:anchor.start()] if anchor else body
        head, after = _split_head(pre)
        if not head:  # authors, title and journal run together unpunctuated: keep only the year
            after = ""
        if anchor:
            out["year"] = int(anchor.group(1))
            parts = [p for p in re.split(r"(?<=[^\s.][^\s.])\.\s+", after.strip(" .")) if p.strip()]
            if len(parts) >= 2:
                out["journal"] = parts[-1].strip(" .")
                out["title"] = ". ".join(parts[:-1]).strip(" .")
            elif parts:
                out["title"] = parts[0].strip(" .")
            rest = "" if loose else body[anchor.end():]
        else:
            out["title"] = re.split(r"\.\s+", after, maxsplit=1)[0].strip(" .")
            rest = ""
    out["authors"] = _authors(head)
    out["first_author"] = out["authors"][0] if out["authors"] else ""
    vm = _VOL.match(rest) if rest else None
    if vm:
        for key in ("volume", "issue", "pages"):
            out[key] = (vm.group(key) or "").strip()
    return out


# --- public API ----------------------------------------------------------------------------------

def parse_references(doc: Document) -> list[Citation]:
    """The reference list of ``doc`` as citations, in printed order (empty when there is none)."""
    citations = []
    for num, start, end in _entry_spans(doc):
        marker = _LEAD.match(doc.text, start, end) if num is not None else None
        fields = parse_entry(doc.text[marker.end() if marker else start:end])
        citations.append(Citation(number=num, raw_start=start, raw_end=end,
                                  evidence=doc.evidence(start, end), **fields))
    return citations


CITATION_COLUMNS = ["number", "first_author", "year", "title", "journal", "volume", "issue", "pages",
                    "doi", "pmid", "authors", "raw_start", "raw_end", "evidence"]


def citations_frame(citations: Iterable[Citation]) -> pd.DataFrame:
    """One row per citation; ``authors`` joined by "; ", evidence kept as its quote's offsets."""
    rows = []
    for c in citations:
        d = c.to_dict()
        d["authors"] = "; ".join(c.authors)
        rows.append(d)
    frame = pd.DataFrame(rows, columns=CITATION_COLUMNS)
    frame["year"] = frame["year"].astype("Int64")
    frame["number"] = frame["number"].astype("Int64")
    return frame


def _surname(name: str) -> tuple[str, str]:
    """Surname key and initials of "Bride KL" / "Okur Acar S" (initials empty when not printed)."""
    from .bibliography import surname_key

    m = re.match(r"^(.*?)[\s\u00a0]+([A-Z]{1,3})$", name.strip())
    if m:
        return surname_key(m.group(1)), m.group(2)
    return surname_key(name), ""


def link_to_evidence_base(citations: Iterable[Citation], rows: pd.DataFrame | Iterable[dict] | None = None) -> pd.DataFrame:
    """Citations with ``in_evidence_base``, ``study_id`` and ``match`` (``doi`` or ``author_year``).

    ``rows`` are study rows (default: the bundled evidence base). A DOI match is exact after
    normalisation; otherwise first author's surname and year must agree, and the first initial
    too when both sides print one ("Zhang Y 2023" is not "Zhang Z 2023").
    """
    if rows is None:
        from corpus import load_evidence_base

        rows = load_evidence_base()
    base = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    by_doi: dict[str, str] = {}
    by_name: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for r in base.drop_duplicates("study_id").to_dict("records"):
        doi = r.get("doi")
        if isinstance(doi, str) and doi.strip():
            by_doi[(normalise_doi(doi) or doi.strip()).lower()] = r["study_id"]
        year = pd.to_numeric(r.get("year"), errors="coerce")
        if isinstance(r.get("first_author"), str) and pd.notna(year):
            key, initials = _surname(r["first_author"])
            by_name.setdefault((key, int(year)), []).append((initials, r["study_id"]))
    citations = list(citations)
    frame = citations_frame(citations)
    ids, how = [], []
    for c in citations:
        sid, m = by_doi.get(c.doi.lower()) if c.doi else None, "doi"
        if sid is None and c.first_author and c.year:
            key, initials = _surname(c.first_author)
            cands = [s for ini, s in by_name.get((key, c.year), [])
                     if not ini or not initials or ini[0] == initials[0]]
            sid, m = (cands[0], "author_year") if cands else (None, "")
        ids.append(sid or "")
        how.append(m if sid else "")
    frame["in_evidence_base"] = pd.Series([bool(s) for s in ids], index=frame.index, dtype=bool)
    frame["study_id"] = ids
    frame["match"] = how
    return frame
