"""The spaCy pipeline: sentences and vocabulary terms, with offsets into ``Document.text``.

Why spaCy blank + rules: no model download, no network, deterministic, and fast enough for a
300-page PDF; the Matcher/PhraseMatcher give term matches on token boundaries, which plain
substring search does not ("ES" inside "diseases").

Offsets: the pipeline runs on :func:`canon` of the text, which has the same length as the
text (dashes, quotes and odd spaces replaced one character for one), so every token offset
is an offset into ``doc.text`` and every quote ``doc.text[start:end]`` stays exact.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

import spacy
from spacy.matcher import PhraseMatcher

from .vocab import Vocab, load_vocab

_ONE_FOR_ONE = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ", "\u2009": " ",
    "\u202f": " ", "\u2002": " ", "\u2003": " ", "\u00b7": ".", "\uff08": "(", "\uff09": ")",
    "\uff0c": ",", "\uff1a": ":", "\uff1b": ";", "\uff5e": "~",
})


def canon(text: str) -> str:
    """Same-length canonical text: ASCII dashes, quotes, spaces and decimal points."""
    return text.translate(_ONE_FOR_ONE)


@lru_cache(maxsize=1)
def get_nlp() -> spacy.language.Language:
    """``spacy.blank("en")`` with a sentencizer, built once per process."""
    nlp = spacy.blank("en")
    # split "MMF+SR", "MMF/SR", "MMF-SR" into drug tokens so terms match inside combinations
    infixes = list(nlp.Defaults.infixes) + [r"[+/]", r"(?<=[A-Za-z0-9])-(?=[A-Za-z])"]
    nlp.tokenizer.infix_finditer = spacy.util.compile_infix_regex(infixes).finditer
    nlp.add_pipe("sentencizer")
    nlp.max_length = 5_000_000
    return nlp


@dataclass(frozen=True)
class Sentence:
    """A sentence of ``doc.text``: ``[start, end)``, its text and the paragraph it sits in."""

    start: int
    end: int
    text: str
    paragraph: int
    tail: tuple[int, int] | None = None  # where the sentence goes on after a table or figure cut it


@dataclass(frozen=True)
class Term:
    """A vocabulary mention: kind, normalised label and its span in ``doc.text``."""

    kind: str
    label: str
    start: int
    end: int
    text: str


CAPTION = re.compile(r"\s*(?:TABLE|Table|FIGURE|Figure|Fig\.)\s*\d+[A-Za-z]?\b")
_ABBREV_END = re.compile(r"(?:\b(?:vs|et al|e\.g|i\.e|Fig|Figs|approx|no|Dr|ca|resp)\.|\b[A-Z]\.)$")


def blocks(text: str, breaks: Iterable[int] = ()) -> list[tuple[int, int]]:
    """Paragraph-like blocks of ``text`` as ``(start, end)``.

    A PDF's text keeps its line ends inside paragraphs, a Markdown or web page's text has one
    paragraph per line; so consecutive lines are joined, and a block ends at a blank line, a
    table line (tab-separated), a given break offset (section starts), or a short line ending a
    sentence (the last line of a paragraph in justified text).
    """
    hard = sorted(set(breaks))
    lines: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    widths = sorted(e - s for s, e in lines if e - s > 20)
    typical = widths[int(len(widths) * 0.75)] if widths else 80
    out: list[tuple[int, int]] = []
    cur: tuple[int, int] | None = None
    for s, e in lines:
        line = text[s:e]
        if not line.strip() or "\t" in line:
            if cur:
                out.append(cur)
            cur = None
            continue
        if cur is not None and (_between(hard, cur[1], s) or CAPTION.match(line)):
            out.append(cur)
            cur = None
        if cur is None:
            cur = (s, e)
        else:
            cur = (cur[0], e)
        if re.search(r"[.!?:]\s*$", line) and (e - s) < 0.8 * typical:
            out.append(cur)
            cur = None
    if cur:
        out.append(cur)
    return out


def _between(points: list[int], lo: int, hi: int) -> bool:
    """Is there a point ``p`` with ``lo < p <= hi`` (points sorted)?"""
    i = bisect.bisect_right(points, lo)
    return i < len(points) and points[i] <= hi


def sentences(text: str, breaks: Iterable[int] = ()) -> list[Sentence]:
    """Sentences of ``text`` by block (see :func:`blocks`) and spaCy's sentencizer, with exact offsets.

    Table lines (tab-separated) are skipped: the tables module reads them. Inside a block, line
    ends are read as spaces (same length, so offsets stay exact).
    """
    nlp = get_nlp()
    out: list[Sentence] = []
    spans = blocks(text, breaks)
    docs = nlp.pipe((canon(text[s:e]).replace("\n", " ") for s, e in spans), batch_size=64)
    for para, ((s, e), sdoc) in enumerate(zip(spans, docs)):
        pending: int | None = None
        for sent in sdoc.sents:
            a, b = s + sent.start_char, s + sent.end_char
            if pending is not None:
                a = pending
            # sentencizer splits after "vs." and "et al."; glue those back
            if _ABBREV_END.search(text[a:b].rstrip()) and b < e:
                pending = a
                continue
            pending = None
            if text[a:b].strip():
                out.append(Sentence(a, b, text[a:b], para))
        if pending is not None and text[pending:e].strip():
            out.append(Sentence(pending, e, text[pending:e], para))
    return _join_cut(out)


def _join_cut(sents: list[Sentence]) -> list[Sentence]:
    """Point a sentence cut by a table (no final stop) to its continuation (the next one starting lower-case)."""
    out = list(sents)
    for i, s in enumerate(sents):
        if re.search(r"[.!?:;]\W*$", s.text.rstrip()) or not s.text.strip():
            continue
        for t in sents[i + 1:]:
            if t.start - s.end > 3000:
                break
            if t.text[:1].islower():
                out[i] = Sentence(s.start, s.end, s.text, s.paragraph, (t.start, t.end))
                break
    return out


@lru_cache(maxsize=16)
def _matchers(domain: str) -> dict[str, tuple[PhraseMatcher, PhraseMatcher, dict[str, str]]]:
    vocab = load_vocab(domain)
    return {kind: _build(vocab, kind) for kind in vocab.kinds}


def _build(vocab: Vocab, kind: str) -> tuple[PhraseMatcher, PhraseMatcher, dict[str, str]]:
    nlp = get_nlp()
    exact = PhraseMatcher(nlp.vocab, attr="ORTH")
    lower = PhraseMatcher(nlp.vocab, attr="LOWER")
    labels: dict[str, str] = {}
    for label, synonyms in vocab.terms(kind).items():
        key = f"{kind}:{label}"
        labels[key] = label
        cs, ci = [], []
        for syn in dict.fromkeys([label, *synonyms]):
            (cs if vocab.is_case_sensitive(syn) else ci).append(nlp.make_doc(canon(syn)))
        if cs:
            exact.add(key, cs)
        if ci:
            lower.add(key, ci)
    return exact, lower, labels


def terms(text: str, kind: str, vocab: Vocab | None = None, offset: int = 0) -> list[Term]:
    """Mentions of ``kind`` terms in ``text``: longest match wins, no overlaps, sorted by position."""
    vocab = vocab or load_vocab()
    if kind not in vocab.kinds:
        return []
    exact, lower, labels = _matchers(vocab.domain)[kind]
    sdoc = get_nlp().make_doc(canon(text))
    spans = []
    for matcher in (exact, lower):
        for key, s, e in matcher(sdoc):
            span = sdoc[s:e]
            spans.append((span.start_char, span.end_char, labels[sdoc.vocab.strings[key]]))
    spans.sort(key=lambda t: (-(t[1] - t[0]), t[0]))
    taken: list[tuple[int, int, str]] = []
    for s, e, label in spans:
        if not any(s < te and ts < e for ts, te, _ in taken):
            taken.append((s, e, label))
    taken.sort()
    return [Term(kind, label, s + offset, e + offset, text[s:e]) for s, e, label in taken]
