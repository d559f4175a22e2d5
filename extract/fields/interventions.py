"""Interventions: the drugs studied, treatment arms as printed, and sequences ("SR after MMF failure").

Why a phrase walk: an arm is often several words around drug names — "SR after MMF failure",
"sequential MMF/SR", "MMF alone". Starting from a drug mention, the walk extends over other
drug mentions and connector words from the vocabulary (``group_connector``: after, then,
sequential, alone, failure, +, /) and stops at anything else, so the group keeps its printed
form while ``intervention`` gets the normalised labels in the order they were given
(for "X after Y", Y first).
"""
from __future__ import annotations

import re

from ..nlp import Sentence, Term
from .base import Context, Fact, finding, proof
from .population import Cohort, distribution

_WORD = re.compile(r"[A-Za-z]\w*|[+/-]")


def _connectors(ctx: Context) -> tuple[set[str], set[str]]:
    table = ctx.vocab.terms("group_connector")
    every = {w.lower() for words in table.values() for w in words if " " not in w}
    return every, {w.lower() for w in table.get("sequence_word", [])}


def group_phrase(ctx: Context, sent: Sentence, term: Term) -> tuple[int, int, list[str]]:
    """Widen a drug ``term`` to its arm as printed: ``(start, end, labels in order of use)``."""
    connectors, sequence = _connectors(ctx)
    drugs = ctx.terms(sent, "drug")
    text = ctx.doc.text
    start, end = term.start, term.end
    words = [(m.start() + sent.start, m.end() + sent.start, m.group(0)) for m in _WORD.finditer(sent.text)]
    inside = lambda a, b: next((d for d in drugs if d.start <= a and b <= d.end), None)  # noqa: E731
    left = [w for w in words if w[1] <= start][::-1]
    for a, b, w in left:
        gap = text[b:start]
        if not re.fullmatch(r"[\s+/-]*", gap):
            break
        if inside(a, b) or w.lower() in connectors - {"failure", "failing"} and w.lower() not in ("-",):
            start = inside(a, b).start if inside(a, b) else a
        else:
            break
    for a, b, w in (w for w in words if w[0] >= end):
        gap = text[end:a]
        if not re.fullmatch(r"[\s+/-]*", gap):
            break
        if inside(a, b) or w.lower() in connectors:
            end = inside(a, b).end if inside(a, b) else b
        else:
            break
    while True:  # a phrase neither starts nor ends on a bare connector word such as "after" or "+"
        m = re.match(r"(?:after|then|plus|followed by|[+/-])\s*", text[start:end], re.I)
        n = re.search(r"\s*(?:after|then|plus|followed|[+/-])$", text[start:end], re.I)
        if m and m.end() < end - start:
            start += m.end()
        elif n and n.start() > 0:
            end = start + n.start()
        else:
            break
    phrase = text[start:end]
    mentions = [d for d in drugs if start <= d.start and d.end <= end]
    labels = [d.label for d in mentions]
    if re.search(r"\b(?:after|following)\b", phrase, re.I) and len(labels) > 1:
        labels = labels[::-1]
    return start, end, list(dict.fromkeys(labels))


def treatment_groups(ctx: Context, coh: Cohort) -> list[dict]:
    """Rows ``patients`` per treatment arm whose denominator is the cohort ("MMF (35, 36%)")."""
    return distribution(ctx, coh, "drug", "treatment", phrase=group_phrase)


def studied_drugs(ctx: Context) -> Fact | None:
    """The drugs the study is about: named in the title, else the abstract, most-mentioned first."""
    for sections in (("title",), ("abstract",), ("methods", "results"), ("other",)):
        counts: dict[str, list[Term]] = {}
        for s in ctx.sentences:
            if ctx.section(s) in sections:
                for t in ctx.terms(s, "drug"):
                    counts.setdefault(t.label, []).append(t)
        generic = set(ctx.vocab.terms("generic").get("drug", []))
        specific = {k: v for k, v in counts.items() if k not in generic}
        if specific:
            order = sorted(specific, key=lambda k: (-len(specific[k]), specific[k][0].start))
            spans = [(specific[k][0].start, specific[k][0].end) for k in order]
            return Fact("intervention", "+".join(sorted(order)), proof(ctx.doc, *spans), 0.8 if sections != ("title",) else 0.9)
    return None


_ARM_N = re.compile(r"^\s*(?:arm|group)?\s*\(\s*[nN]\s*=\s*(?P<n>\d+)\s*\)")
_ARM_VERB = re.compile(r"(?<![\w.,/])(?P<n>\d+|[A-Za-z]+(?:-[a-z]+)?)\s+(?:patients\s+|children\s+)?(?:received|were assigned to|"
                       r"were randomi[sz]ed to|were allocated to|were treated with)\s+$", re.I)


def arm_sizes(ctx: Context, coh: Cohort) -> list[dict]:
    """Treatment arms of a comparative study: "sirolimus (n = 24) vs cyclosporine (n = 22)", "12 received sirolimus".

    Fills ``coh.arms`` (size → arm) so that outcome counts over an arm's size are filed under that
    arm, and returns one ``patients`` row per arm (total = the cohort).
    """
    from ..numbers import parse_number

    rows: list[dict] = []
    sizes: dict[int, list[tuple[str, str]]] = {}
    text = ctx.doc.text
    for sent in ctx.data_sentences():
        for t in ctx.terms(sent, "drug"):
            m = _ARM_N.match(text[t.end:t.end + 20])
            span = (t.end + m.start("n"), t.end + m.end("n")) if m else None
            if not m:
                b = _ARM_VERB.search(text[max(sent.start, t.start - 50):t.start])
                if not b:
                    continue
                n = parse_number(b.group("n"))
                off = max(sent.start, t.start - 50)
                span = (off + b.start("n"), off + b.end("n"))
            else:
                n = parse_number(m.group("n"))
            if n is None or not float(n).is_integer():
                continue
            n = int(n)
            total = coh.total
            if total is None or n >= total:
                continue
            start, end, labels = group_phrase(ctx, sent, t)
            label = "+".join(labels) or t.label
            sizes.setdefault(n, []).append((text[start:end], label))
            rows.append(finding(ctx.doc, "patients", [span, (start, end)], group=text[start:end], group_type="treatment",
                                intervention=label, events=n, unit="patients", total=total, confidence=0.8))
    coh.arms = {n: (arms[0] if len({a[1] for a in arms}) == 1 else None) for n, arms in sizes.items()}
    return rows
