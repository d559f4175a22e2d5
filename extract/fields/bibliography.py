"""Bibliographic facts: title, authors, first author, year, journal, DOI, PMID and the study_id.

Why both metadata and text: a PDF's info dictionary or a JATS front is authoritative when
present, but web print-outs and previews only print these facts on their first page, in
citation lines ("Comella M, … (2024) … Front. Immunol."), bylines ("Sultan Okur Acar et al.
Scand J Immunol. 2024 Aug.") or copyright lines ("© Springer Nature … 2019"). Values from
metadata carry the evidence of where the same string is printed, when it is.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath

from ..document import Document
from .base import Fact, proof

_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>,;]+[^\s\"<>,;.)\]])")
_PMID = re.compile(r"\bPMID:?\s*(\d{6,9})\b")
_YEAR = r"(?:19[5-9]\d|20[0-4]\d)"
_CITATION_LINE = re.compile(
    # line ends may fall anywhere in a narrow side column (PDF): names and separators allow them
    r"(?P<authors>(?:[A-Z](?=[\w'\u2019-]*[a-z])[\w'\u2019-]+(?:\s[A-Z](?=[\w'\u2019-]*[a-z])[\w'\u2019-]+)*\s[A-Z]{1,3}(?:,\s+|\s+and\s+|,?\s+et al\.?))+[^()]{0,40}?)"
    r"\s*\((?P<year>%s)\)\s*(?P<title>[^()]+?)\.\s*\*?(?P<journal>[A-Z][\w. ]+?)\*?\.?\s+\d" % _YEAR)
_BYLINE = re.compile(r"^(?P<name>[A-Z][\w'\u2019-]+(?:[ \u00a0][A-Z][\w'\u2019-]+){1,3})[\s\u00a0]+et al\.?\s+"
                     r"(?P<journal>[A-Z][A-Za-z. ]+?)\.?\s+(?P<year>%s)\b" % _YEAR, re.M)
_ET_AL_CITE = re.compile(r"\((?P<name>[A-Z][\w'\u2019-]+) et al\.?,? (?P<year>%s)\)" % _YEAR)
_AFFIL = r"(?:<sup>[^<]*</sup>|\d{1,2}(?:,\d{1,2})*|[*\u2020\u2021])?"
_GIVEN_SURNAME = r"(?:[A-Z][\w'\u2019.-]+ ){1,3}[A-Z][\w'\u2019-]+%s" % _AFFIL
_AUTHOR_LIST_LINE = re.compile(r"^(?P<line>%s(?:, %s)+(?:,? and %s)?)\s*$" % ((_GIVEN_SURNAME,) * 3), re.M)
_COPYRIGHT_YEAR = re.compile(r"(?:©|\(c\)|copyright)\s*(?:[^\n]{0,60}?)\b(?P<year>%s)\b" % _YEAR, re.I)
_DATED = re.compile(r"\b(?:PUBLISHED|Published(?: online)?|Epub|Accepted|ACCEPTED|Received|RECEIVED)\s*:?\s*"
                    r"(?:\d{1,2} [A-Z][a-z]+ )?(?P<year>%s)" % _YEAR)
_LEAD_YEAR = re.compile(r"^\s*\.?\s*(?P<year>%s)\s+[A-Z][a-z]{2};\d+\(\d+\)" % _YEAR, re.M)
_PARTICLE = r"(?:(?:van|von|de|der|den|da|di|del|dos|du|la|le) )*"
# Vancouver / PubMed author lists: "Haverkamp L1,2, Orsini P3, Takeda M1" or "Lindqvist E, Marchetti G, et al."
_VANCOUVER_NAME = r"%s[A-Z][\w'\u2019-]+(?: [A-Z][\w'\u2019-]+)? [A-Z]{1,3}%s" % (_PARTICLE, _AFFIL)
_VANCOUVER_LINE = re.compile(r"^(?:\W{0,2}Authors?\W{0,3}\s*)?(?P<line>{n}(?:(?:, {n})+(?:,? and {n})?|,? and {n}|(?=,? et al)))"
                             r"(?:,? et al)?\.?\s*$".replace("{n}", _VANCOUVER_NAME), re.M)
# the citation line under the title: "Pediatr Blood Cancer. 2022;69(4):e29511", "Lupus. 2019;28(11):1335-1341",
# or PubMed's with the journal on a line of its own before ". 2017 Oct;37(7):655-662"
_JOURNAL_CITE = re.compile(r"^(?:\W{0,2}Journal\W{0,3}\s*)?(?P<journal>[A-Z][\w&' -]*(?: \([A-Z][\w ]*\))?)\n?\.\s+"
                           r"(?P<year>%s)(?: [A-Z][a-z]{2}(?: \d{1,2})?)?;\s*\d+(?:\(\d+\))?:\s*e?\d+" % _YEAR, re.M)
# meta tags naming the document's own publication date (HTML readers keep them in ``metadata.extra``)
_DATE_TAGS = ("citation_publication_date", "citation_date", "citation_online_date", "dc.date",
              "prism.publicationdate", "citation_year")
_AUTHOR_EMAIL = re.compile(r"^\s*[•\u2022*-]?\s*(?P<name>[A-Z][a-z'\u2019-]+(?:[ \u00a0][A-Z][a-z'\u2019-]+){1,3}?)\s*Email author", re.M)


# letters that Unicode does not decompose into an ASCII base letter plus accents
_UNDECOMPOSED = str.maketrans({"Ø": "O", "ø": "o", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "ß": "ss",
                               "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Þ": "Th", "þ": "th", "ı": "i"})


def _ascii_lower(text: str) -> str:
    return unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED)).encode("ascii", "ignore").decode().lower()


def surname_key(surname: str) -> str:
    """Lowercase ASCII key of a surname: "Okur Acar" → okuracar, "Dell’Orso" → dellorso, "Sørlie" → sorlie."""
    return re.sub(r"[^a-z]", "", _ascii_lower(surname))


GUESSED_ID_FLAG = "study_id from the file name: no first author found"


def study_id(first_author: str | None, year: int | None, title: str | None = None, source: str | None = None) -> str:
    """First author's surname key + year (``comella2024``).

    Without an author (consensus statements, anonymous pages) the file name stands in when
    it is given: it is stable and differs between papers, where a title's first word
    ("sirolimus") is shared by half a review's inputs. The caller flags such an id with
    :data:`GUESSED_ID_FLAG` (see :func:`study_id_is_guess`). Without a file name the title's
    first word is used; without either, ``unknown``.
    """
    key = surname_key(first_author or "")
    if not key and source:
        stem = PurePath(source).stem
        key = re.sub(r"[^a-z0-9]", "", _ascii_lower(stem))
        if year and key.endswith(str(year)):
            return key
    if not key and title:
        key = surname_key(next(iter(re.findall(r"[A-Za-z]{3,}", title)), ""))
    return f"{key or 'unknown'}{year or ''}"


def study_id_is_guess(first_author: str | None) -> bool:
    """Whether :func:`study_id` had to stand in for a missing first author."""
    return not surname_key(first_author or "")


def _first(doc: Document, pattern: re.Pattern, limit: int | None = None) -> re.Match | None:
    text = doc.text if limit is None else doc.text[:limit]
    return pattern.search(text)


def _front_end(doc: Document) -> int:
    """End of the front matter: the first body or reference section, else the first 4000 characters."""
    for s in doc.sections:
        if s.name in ("introduction", "methods", "results", "discussion", "references"):
            return s.start
    return min(len(doc.text), 4000)


def _find(doc: Document, value: str, limit: int | None = None) -> tuple[int, int] | None:
    if not value:
        return None
    i = doc.text.find(value, 0, limit) if limit else doc.text.find(value)
    return (i, i + len(value)) if i >= 0 else None


def extract_bibliography(doc: Document) -> dict[str, Fact]:
    """Title, authors, first_author (surname as printed), year, journal, doi, pmid, each a :class:`Fact`."""
    md = doc.metadata
    front = _front_end(doc)
    facts: dict[str, Fact] = {}

    title = md.title or ""
    if title:
        guessed = "title" in (md.extra or {}).get("guessed", [])
        facts["title"] = Fact("title", title, proof(doc, _find(doc, title)), 0.9 if guessed else 1.0)

    m = _DOI.search(doc.text[:front]) if not md.doi else None
    doi = md.doi or (m.group(1) if m else "")
    if doi:
        facts["doi"] = Fact("doi", doi, proof(doc, _find(doc, doi) if md.doi else m.span(1)))
    m = _PMID.search(doc.text)
    if md.pmid or m:
        facts["pmid"] = Fact("pmid", md.pmid or m.group(1), proof(doc, m.span(1) if m else _find(doc, md.pmid)))

    _authors_and_year(doc, front, facts)
    return facts


def _authors_and_year(doc: Document, front: int, facts: dict[str, Fact]) -> None:
    md = doc.metadata
    text = doc.text
    if md.authors:
        name = md.authors[0]
        bare = re.sub(r",?\s*et\s+al\.?\s*$", "", name).strip()
        guessed = bare != name and len(bare.split()) >= 3
        surname = _compound_surname(bare) if guessed else _surname(bare)
        facts["authors"] = Fact("authors", [bare] + list(md.authors[1:]), proof(doc, _find(doc, bare)))
        facts["first_author"] = Fact("first_author", surname, proof(doc, _find(doc, surname)), 0.9 if guessed else 1.0,
                                     ["surname guessed from 'et al.' byline"] if guessed else [])
    cite = _CITATION_LINE.search(text[:front])
    if cite and "first_author" not in facts:
        names = [re.sub(r"\s+", " ", n) for n in
                 re.split(r",\s+|\s+and\s+", re.sub(r",?\s+et al\.?", "", cite.group("authors")).strip())]
        facts["authors"] = Fact("authors", names, proof(doc, cite.span("authors")))
        first = names[0].rsplit(" ", 1)[0] if re.search(r" [A-Z]{1,3}$", names[0]) else names[0]
        facts["first_author"] = Fact("first_author", first, proof(doc, (cite.start("authors"), cite.start("authors") + len(first))))
    if cite:
        facts.setdefault("year", Fact("year", int(cite.group("year")), proof(doc, cite.span("year"))))
        facts.setdefault("journal", Fact("journal", cite.group("journal").strip(" .*"), proof(doc, cite.span("journal")), 0.9))
    byline = _BYLINE.search(text[:front])
    if byline:
        if "first_author" not in facts:
            full = byline.group("name").replace("\u00a0", " ")
            surname = _compound_surname(full)
            s = byline.start("name") + len(byline.group("name")) - len(surname)
            facts["first_author"] = Fact("first_author", surname, proof(doc, (s, byline.end("name"))), 0.9,
                                         ["surname guessed from 'et al.' byline"] if " " in surname else [])
            facts.setdefault("authors", Fact("authors", [full], proof(doc, byline.span("name")), 0.8, ["only first author printed"]))
        facts.setdefault("journal", Fact("journal", byline.group("journal").strip(), proof(doc, byline.span("journal")), 0.9))
        facts.setdefault("year", Fact("year", int(byline.group("year")), proof(doc, byline.span("year")), 0.95))
    if "first_author" not in facts:
        listing = (_VANCOUVER_LINE.search(text[:front]) or _AUTHOR_LIST_LINE.search(text[:front])
                   or _AUTHOR_EMAIL.search(text[:front]))
        if listing:
            grp = "line" if "line" in listing.re.groupindex else "name"
            names = [_strip_affiliation(n).replace("\u00a0", " ").strip() for n in re.split(r", (?!\d)|,? and ", listing.group(grp))]
            facts["authors"] = Fact("authors", names, proof(doc, listing.span(grp)), 0.8)
            sur = _surname(names[0])
            s = listing.start(grp) + names[0].rfind(sur)
            facts["first_author"] = Fact("first_author", sur, proof(doc, (s, s + len(sur))), 0.8)
    if "year" not in facts or "journal" not in facts:
        cited = _JOURNAL_CITE.search(text[:front])
        if cited:
            facts.setdefault("year", Fact("year", int(cited.group("year")), proof(doc, cited.span("year")), 0.95))
            facts.setdefault("journal", Fact("journal", cited.group("journal").strip(), proof(doc, cited.span("journal")), 0.9))
    if "first_author" not in facts:
        cited = _ET_AL_CITE.search(text)
        if cited:
            facts["first_author"] = Fact("first_author", cited.group("name"), proof(doc, cited.span("name")), 0.6,
                                         ["first author taken from a citing excerpt"])
            facts.setdefault("year", Fact("year", int(cited.group("year")), proof(doc, cited.span("year")), 0.6,
                                          ["year taken from a citing excerpt"]))
    if "year" not in facts:
        for pat, conf in ((_DATED, 0.95), (_LEAD_YEAR, 0.9), (_COPYRIGHT_YEAR, 0.8)):
            m = pat.search(text[:max(front, 4000)]) or pat.search(text)
            if m:
                facts["year"] = Fact("year", int(m.group("year")), proof(doc, m.span("year")), conf)
                break
    if "year" not in facts:
        _year_from_date_tag(doc, facts)
    # any other metadata year with no printed date to back it is not taken: readers guess it from
    # any four-digit number ("2009 版" of an evidence table), and a year without proof is not extracted
    if doc.metadata.journal:
        facts["journal"] = Fact("journal", doc.metadata.journal, proof(doc, _find(doc, doc.metadata.journal)))


def _year_from_date_tag(doc: Document, facts: dict[str, Fact]) -> None:
    """Year from a named publication-date meta tag: the document's statement about itself.

    Only named date tags count (not a reader's guess from any four-digit number); the year is
    proved by where it is printed when it is, and flagged with the tag it came from.
    """
    extra = doc.metadata.extra or {}
    for tag in _DATE_TAGS:
        values = extra.get(tag)
        values = [values] if isinstance(values, str) else list(values or [])
        found = next((m for m in (re.search(r"\b(%s)\b" % _YEAR, str(v)) for v in values) if m), None)
        if found:
            year = found.group(1)
            facts["year"] = Fact("year", int(year), proof(doc, _find(doc, year, _front_end(doc))), 0.9,
                                 [f"year from the '{tag}' meta tag"])
            return


def _strip_affiliation(name: str) -> str:
    """"Quintero1,2" → "Quintero", "Fitzgerald<sup>1</sup>" → "Fitzgerald": affiliation marks are not names."""
    return re.sub(r"(?:<sup>[^<]*</sup>|[\d,*\u2020\u2021]+)+$", "", name.strip()).strip()


def _surname(name: str) -> str:
    """Surname of "Mattia Comella", "Comella M" or "Comella, Mattia" (particles kept: "van der Berg")."""
    name = _strip_affiliation(name)
    if "," in name:
        return name.split(",", 1)[0].strip()
    if re.search(r"\s[A-Z]{1,3}$", name):
        return name.rsplit(" ", 1)[0]
    parts = name.split()
    return parts[-1] if parts else name


def _compound_surname(full: str) -> str:
    """"Sultan Okur Acar" → "Okur Acar": with three or more words, all but the given name."""
    parts = full.split()
    return " ".join(parts[1:]) if len(parts) >= 3 else parts[-1]
