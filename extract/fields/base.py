"""What every field extractor shares: facts with proof, and the paper read once into sentences.

Why: each module finds one kind of fact, but all of them need the same sentences, the same
vocabulary terms and the same list of places that are *not* this study (references, citing
articles' excerpts, introductions quoting other series). Reading the paper once into a
:class:`Context` keeps the modules small and consistent.

A :class:`Fact` is one value with its evidence items (``{"quote","page","start","end"}``, made
by ``doc.evidence`` so that ``quote == doc.text[start:end]``), a confidence and flags. An
outcome-like finding is a plain dict with Contract 1 keys (see :func:`finding`).
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..document import Document
from ..nlp import CAPTION, Sentence, Term, sentences, terms
from ..numbers import Proportion, find_proportions
from ..vocab import Vocab, load_vocab


@dataclass
class Fact:
    """One extracted value with its proof; ``confidence`` < 1 and ``flags`` say when it is a guess."""

    name: str
    value: Any
    evidence: list[dict] = field(default_factory=list)
    confidence: float = 1.0
    flags: list[str] = field(default_factory=list)


def proof(doc: Document, *spans: tuple[int, int] | None) -> list[dict]:
    """Evidence items for the given ``(start, end)`` spans (None and empty spans skipped, no repeats)."""
    out, seen = [], set()
    for span in spans:
        if not span or span[1] <= span[0] or span in seen:
            continue
        seen.add(span)
        out.append(doc.evidence(span[0], span[1]))
    return out


def finding(doc: Document, outcome: str, spans: list[tuple[int, int]], *, confidence: float = 0.9,
            flags: list[str] | None = None, **values: Any) -> dict:
    """A row fragment (outcome, group, counts…) with evidence for ``spans``; group defaults to overall."""
    row = {"outcome": outcome, "group": "overall", "group_type": "overall", "unit": None, "events": None,
           "total": None, "person_time": None, "time_unit": None, "reported_value": None, "reported_scale": None,
           "ci_low": None, "ci_high": None}
    row.update({k: v for k, v in values.items()})
    row["evidence"] = proof(doc, *spans)
    row["confidence"] = confidence
    row["flags"] = list(flags or [])
    return row


# Sections whose numbers are about other studies or are not study data at all.
FOREIGN_SECTIONS = {"references", "introduction"}
_FOREIGN_HEADING = re.compile(r"^\s*(?:cited by|citing articles|citation excerpt|related articles|recommended articles|"
                              r"similar articles|personalised recommendations|references?)\b[^\n]{0,30}$", re.I | re.M)
_REFERENCE_LINE = re.compile(r"^[ \t]*(?:\[\d{1,3}\]|\d{1,3}\.[ \t]+[A-Z][\w'\u2019-]+,? [A-Z]{1,3}[,. ]).*$", re.M)
_CITATION_MARK = re.compile(r"\(\s*\d+(?:\s*[,\u2013-]\s*\d+)*\s*\)|\[\s*\d+(?:\s*[,\u2013-]\s*\d+)*\s*\]")


@dataclass
class Context:
    """The paper read once: its sentences, their terms and count statements, and foreign zones."""

    doc: Document
    vocab: Vocab

    @cached_property
    def foreign_zones(self) -> list[tuple[int, int]]:
        """Spans that are not this study's data: references, introduction, citing articles' excerpts (merged, sorted)."""
        zones = [(s.start, s.end) for s in self.doc.sections if s.name in FOREIGN_SECTIONS]
        for m in _FOREIGN_HEADING.finditer(self.doc.text):
            zones.append((m.start(), len(self.doc.text)))
        for m in _REFERENCE_LINE.finditer(self.doc.text):
            zones.append((m.start(), m.end()))
        merged: list[tuple[int, int]] = []
        for a, b in sorted(zones):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
            else:
                merged.append((a, b))
        return merged

    @cached_property
    def _zone_starts(self) -> list[int]:
        return [a for a, _ in self.foreign_zones]

    def is_foreign(self, offset: int) -> bool:
        i = bisect.bisect_right(self._zone_starts, offset) - 1
        return i >= 0 and offset < self.foreign_zones[i][1]

    @cached_property
    def _sections(self) -> tuple[list[int], list]:
        ordered = sorted(self.doc.sections, key=lambda x: (x.start, -x.end))
        return [x.start for x in ordered], ordered

    def section_at(self, offset: int) -> str:
        """Name of the innermost section holding ``offset`` (``other`` outside any), by bisection."""
        starts, ordered = self._sections
        i = bisect.bisect_right(starts, offset) - 1
        while i >= 0:
            if offset < ordered[i].end:
                return ordered[i].name
            i -= 1
        return "other"

    @cached_property
    def sentences(self) -> list[Sentence]:
        """Sentences of this study's own text (foreign zones, tables and captions left out)."""
        out = []
        for s in sentences(self.doc.text, breaks=[x.start for x in self.doc.sections]):
            if self.is_foreign(s.start) or self.section_at(s.start) == "tables" or CAPTION.match(s.text):
                continue  # captions describe a table; its numbers are read from the table
            out.append(s)
        return out

    def section(self, sent: Sentence) -> str:
        return self.section_at(sent.start)

    @cached_property
    def _terms(self) -> dict[tuple[int, str], list]:
        return {}

    def terms(self, sent: Sentence, kind: str) -> list[Term]:
        """Vocabulary mentions of ``kind`` in ``sent`` (offsets into ``doc.text``)."""
        key = (sent.start, kind)
        if key not in self._terms:
            self._terms[key] = terms(sent.text, kind, self.vocab, offset=sent.start)
        return self._terms[key]

    def proportions(self, sent: Sentence) -> list[Proportion]:
        """Count statements of ``sent`` (read once per sentence; several modules ask)."""
        key = (sent.start, "__proportions__")
        if key not in self._terms:
            self._terms[key] = find_proportions(sent.text, offset=sent.start)
        return self._terms[key]

    def about_other_studies(self, sent: Sentence) -> bool:
        """A sentence citing or describing other work ("previous series", "(12)", "et al.").

        Weak cues ("series of", "registry of", "literature") also name a paper's own design
        ("we performed a case series of …"), so alone they mark a sentence as foreign only when
        no first-person or this-study marker stands with them, or a bracketed citation is printed.
        Strong cues ("previous", "reported by", "et al") and citation marks always do.
        """
        cues = self.terms(sent, "other_study")
        if cues:
            if any(t.label != WEAK_OTHER_STUDY_CUE for t in cues) or not self.terms(sent, "own_study"):
                return True
            if BRACKET_CITATION.search(sent.text):
                return True
        for m in _CITATION_MARK.finditer(sent.text):
            before = sent.text[:m.start()].rstrip()
            if before and not re.search(r"(?:n|N)\s*=?\s*$", before) and not _looks_like_count_paren(sent.text, m):
                return True
        return False

    @cached_property
    def _data_sentences(self) -> list[Sentence]:
        return [s for s in self.sentences
                if self.section(s) not in ("discussion", "introduction") and not self.about_other_studies(s)]

    def data_sentences(self) -> list[Sentence]:
        """Sentences that may hold this study's numbers: not about other studies, not in discussion."""
        return self._data_sentences


BRACKET_CITATION = re.compile(r"\[\s*\d+(?:\s*[,\u2013-]\s*\d+)*\s*\]")
WEAK_OTHER_STUDY_CUE = "weak_other_study_cue"


def _looks_like_count_paren(text: str, m: re.Match) -> bool:
    """"pneumonias (10)" or "sepsis (2)" is a count; "(1–9)" after a claim is a citation."""
    inner = m.group(0)
    if re.search(r"[,\u2013-]", inner):
        return False
    before = text[:m.start()].rstrip().lower()
    return bool(re.search(r"(?:infections?|pneumonias?|sepsis|meningitis|pyelonephritis|gastroenteritis|events?|"
                          r"episodes?|deaths?|cases?|patients?|bacteremia|cellulitis|zoster|abscess|colitis)$", before))


def context_for(doc: Document, vocab: Vocab | None = None) -> Context:
    return Context(doc, vocab or load_vocab())


def clause_bounds(text: str, pos: int, lo: int = 0, hi: int | None = None) -> tuple[int, int]:
    """The clause of ``text`` around ``pos``: between the nearest ``;`` or sentence edges."""
    hi = len(text) if hi is None else hi
    a = max(text.rfind(";", lo, pos), lo - 1) + 1
    b = text.find(";", pos, hi)
    return a, (hi if b == -1 else b)
