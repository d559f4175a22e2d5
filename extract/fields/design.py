"""Study design: kind of study, single or multi-centre, number of centres, countries, period, CEBM level.

Why a ranked search: papers name their design in the title ("A multicentre study"), the
methods, or only in passing ("the limitations of a retrospective data review"), while the
introduction and references name the designs of *other* studies. So design words are read
from the study's own text only (see ``Context.foreign_zones``), title first, then abstract
and methods, then anywhere else; among designs found at the same rank the most specific
wins (a systematic review beats an RCT it includes; retrospective beats "review").
"""
from __future__ import annotations

import re

from ..numbers import WORD_VALUES, parse_number
from ..rows import EVIDENCE_LEVEL
from .base import Context, Fact, proof

PRIORITY = ["systematic_review", "guideline", "rct", "retrospective", "prospective", "case_series", "case_report", "review"]
_RANKS = [("title",), ("abstract", "methods"), None]

_CENTRE_MODIFIER = (r"large|main|major|tertiary|academic|participating|different|referral|university|[A-Z][a-z]+|"
                    r"paediatric|pediatric|haematology|hematology|oncology|and|care")
_CENTRES = re.compile(
    r"\b(?P<n>\d+|%s)\s+(?:(?:%s)\s+){0,5}"
    r"(?:centres|centers|units|hospitals|institutions|sites)\b"
    % ("|".join(w for w in WORD_VALUES if w not in ("no", "none", "zero", "one")), _CENTRE_MODIFIER),
    re.I)
_MULTI = re.compile(r"\bmulti[- ]?(?:centre|center|central|institutional|site|national)\b|\bnationwide\b", re.I)
# "single-centre", "a single academic centre", "single tertiary-care hospital": modifiers may stand between
_SINGLE = re.compile(r"\b(?i:single)[- ](?:(?:%s)[- ]){0,3}(?i:centre|center|institution|institutional|site|hospital|clinic)\b"
                     r"|\b(?i:monocentric)\b" % _CENTRE_MODIFIER)
# a design adjective before the design's head noun ("retrospective single-centre case series"): the noun names it
_HEAD_NOUNS = ("case_series", "case_report")
_ADJECTIVES = ("retrospective", "prospective")
_PHRASE_GAP = re.compile(r"[\w\s,-]{0,40}")
_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:tember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
_PERIOD = re.compile(r"\b(?:between|from)\s+(?P<a>(?:%s\s+)?(?:19|20)\d\d)\s+(?:and|to|until|through)\s+(?P<b>(?:%s\s+)?(?:19|20)\d\d)"
                     % (_MONTH, _MONTH))


def extract_design(ctx: Context) -> dict[str, Fact]:
    """``design``, ``evidence_level``, ``multicenter``, ``centres``, ``countries``, ``period`` as Facts."""
    doc = ctx.doc
    facts: dict[str, Fact] = {}
    sents = [s for s in ctx.sentences if not ctx.about_other_studies(s) or ctx.section(s) in ("title", "abstract")]
    for rank in _RANKS:
        pool = [s for s in sents if rank is None or ctx.section(s) in rank]
        found = {}
        for s in pool:
            for t in design_terms(ctx, s):
                found.setdefault(t.label, t)
        if found:
            label = min(found, key=PRIORITY.index)
            t = found[label]
            conf = 0.95 if rank == ("title",) else 0.85 if rank else 0.7
            facts["design"] = Fact("design", label, proof(doc, (t.start, t.end)), conf)
            break
    if "design" not in facts:
        facts["design"] = Fact("design", "unknown", [], 0.3, ["design not stated"])
    level = EVIDENCE_LEVEL.get(facts["design"].value, "")
    facts["evidence_level"] = Fact("evidence_level", level, facts["design"].evidence, facts["design"].confidence,
                                   ["evidence level implied by design (Oxford CEBM 2009)"] if level else [])
    _centres(ctx, sents, facts)
    _period(ctx, sents, facts)
    return facts


def design_terms(ctx: Context, sent) -> list:
    """Design mentions in ``sent``, without adjectives that modify a later design noun.

    "retrospective … case series" is a case series (CEBM 4), not a retrospective cohort:
    the adjective says how the series was gathered, the noun what the study is.
    """
    found = ctx.terms(sent, "design")
    text = ctx.doc.text
    heads = [t for t in found if t.label in _HEAD_NOUNS]

    def modifies_head(t) -> bool:
        return t.label in _ADJECTIVES and any(
            h.start >= t.end and _PHRASE_GAP.fullmatch(text[t.end:h.start]) and len(text[t.end:h.start].split()) <= 4
            for h in heads)
    return [t for t in found if not modifies_head(t)]


def _centres(ctx: Context, sents, facts: dict[str, Fact]) -> None:
    doc = ctx.doc
    for s in sents:
        m = _CENTRES.search(s.text)
        if m and ctx.section(s) in ("abstract", "methods", "title", "results", "other"):
            n = int(parse_number(m.group("n")))
            span = (s.start + m.start(), s.start + m.end())
            facts.setdefault("centres", Fact("centres", n, proof(doc, span), 0.85))
            facts.setdefault("multicenter", Fact("multicenter", n > 1, proof(doc, span), 0.85))
            countries = ctx.terms(s, "country")
            if countries:
                facts.setdefault("countries", Fact("countries", sorted({c.label for c in countries}),
                                                   proof(doc, *[(c.start, c.end) for c in countries]), 0.8))
    for s in sents:
        for pat, value in ((_MULTI, True), (_SINGLE, False)):
            m = pat.search(s.text)
            if m and "multicenter" not in facts:
                facts["multicenter"] = Fact("multicenter", value, proof(doc, (s.start + m.start(), s.start + m.end())), 0.9)
    if "countries" not in facts and "centres" in facts:
        # affiliations name the centres' countries when the methods do not
        first = [s for s in ctx.sentences if ctx.section(s) in ("title", "other")][:40]
        found = {}
        for s in first:
            for c in ctx.terms(s, "country"):
                found.setdefault(c.label, c)
        if found:
            facts["countries"] = Fact("countries", sorted(found), proof(doc, *[(c.start, c.end) for c in found.values()]),
                                      0.6, ["countries from affiliations"])


def _period(ctx: Context, sents, facts: dict[str, Fact]) -> None:
    for s in sents:
        if ctx.section(s) not in ("abstract", "methods", "results"):
            continue
        m = _PERIOD.search(s.text)
        if m:
            facts["period"] = Fact("period", f"{m.group('a')} – {m.group('b')}",
                                   proof(ctx.doc, (s.start + m.start("a"), s.start + m.end("b"))), 0.9)
            return


def infer_design(facts: dict[str, Fact], has_data: bool, year: int | None) -> None:
    """Fill an unstated design from what the paper shows, as a flagged guess.

    A cohort counted over a study period that ended before publication is a retrospective
    series (``retrospective``); a paper without any study numbers is read as a ``review``.
    """
    design = facts.get("design")
    if design is None or design.value != "unknown":
        return
    period = facts.get("period")
    label, flag = None, ""
    if has_data and period is not None:
        years = [int(y) for y in re.findall(r"(?:19|20)\d\d", str(period.value))]
        if years and year and max(years) < int(year):
            label, flag = "retrospective", "design inferred: cohort over a past study period, design not stated"
    elif not has_data:
        label, flag = "review", "design inferred: no study numbers, read as a review or chapter"
    if label:
        evidence = period.evidence if label == "retrospective" and period else []
        facts["design"] = Fact("design", label, evidence, 0.5, [flag])
        facts["evidence_level"] = Fact("evidence_level", EVIDENCE_LEVEL.get(label, ""), evidence, 0.5, [flag])
