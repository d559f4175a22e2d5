"""The spaCy pipeline: sentences and vocabulary terms, with offsets into ``Document.text``.

Why spaCy blank + rules: no model download, no network, deterministic, and fast enough for a
300-page PDF; the Matcher/PhraseMatcher give term matches on token boundaries, which plain
substring search does not ("ES" inside "diseases").

Offsets: the pipeline runs on :func:`canon` of the text, which has the same length as the
text (dashes, quotes and odd spaces replaced one character for one), so every token offset
is an offset into ``doc.text`` and every quote ``doc.text[start:end]`` stays exact.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

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


@dataclass(frozen=True)
class Term:
    """A vocabulary mention: kind, normalised label and its span in ``doc.text``."""

    kind: str
    label: str
    start: int
    end: int
    text: str


_ABBREV_END = re.compile(r"(?:\b(?:vs|et al|e\.g|i\.e|Fig|Figs|approx|no|Dr|ca|resp)\.|\b[A-Z]\.)$")


def sentences(text: str) -> list[Sentence]:
    """Sentences of ``text`` by line-paragraph and spaCy's sentencizer, with exact offsets.

    Lines holding tab-separated table rows are skipped (the tables module reads them); a
    sentence never crosses a line break, because in extracted papers a line break is a
    paragraph, heading or table boundary.
    """
    nlp = get_nlp()
    out: list[Sentence] = []
    pos = 0
    spans: list[tuple[int, int, int]] = []
    for para, line in enumerate(text.split("\n")):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not line.strip() or "\t" in line:
            continue
        spans.append((start, end, para))
    docs = nlp.pipe((canon(text[s:e]) for s, e, _ in spans), batch_size=64)
    for (s, _e, para), sdoc in zip(spans, docs):
        pending: tuple[int, int] | None = None
        for sent in sdoc.sents:
            a, b = s + sent.start_char, s + sent.end_char
            if pending is not None:
                a = pending[0]
            # sentencizer splits after "vs." and "et al."; glue those back
            if _ABBREV_END.search(text[a:b].rstrip()) and b < _e:
                pending = (a, b)
                continue
            pending = None
            if text[a:b].strip():
                out.append(Sentence(a, b, text[a:b], para))
        if pending is not None:
            out.append(Sentence(pending[0], pending[1], text[pending[0]:pending[1]], para))
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
