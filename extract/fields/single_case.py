"""A case report's one patient: the cohort of 1 and the outcomes said of him or her without numbers.

Why: a case report prints no count ("We report a 7-year-old boy …; he remained in complete
remission … without infections"), yet states a cohort of one and outcomes of that one patient.
A sentence saying who is reported gives the cohort; afterwards an outcome term in a sentence
about the patient (a pronoun or "the patient" as subject) gives 1 of 1, or 0 of 1 when negated
("without infections", "no relapse"). Only the first statement of each outcome counts.
"""
from __future__ import annotations

import re

from .base import Context, finding

_PERSON = r"(?:boy|girl|man|woman|patient|child|infant|neonate|adolescent|toddler|male|female|gentleman|lady)"
_REPORTED = re.compile(r"\b(?:report|describe|present)(?:ed)?\s+(?:here\s+)?(?:the\s+case\s+of\s+|on\s+)?an?\s+"
                       r"(?:[\w-]+\s+){0,3}?" + _PERSON + r"\b", re.I)
_ABOUT_HIM = re.compile(r"^\s*(?:he|she|the\s+(?:patient|boy|girl|child|infant|man|woman))\b|\b(?:his|her)\b", re.I)
_NEGATED = re.compile(r"\b(?:no|without|never|free\s+of|did\s+not\s+(?:have|develop|experience))\s+(?:[\w-]+\s+){0,2}$", re.I)


def single_case(ctx: Context) -> dict | None:
    """The ``treated`` row of a case report (events 1), from the sentence saying who is reported."""
    for sent in ctx.data_sentences():
        m = _REPORTED.search(sent.text)
        if m:
            return finding(ctx.doc, "treated", [(sent.start + m.start(), sent.start + m.end())], events=1,
                           unit="patients", confidence=0.7, flags=["case report: a cohort of one patient"])
    return None


def single_case_rows(ctx: Context, labels: tuple[str, ...]) -> list[dict]:
    """Outcomes of ``labels`` said of the one patient: 1/1, or 0/1 when negated."""
    out: dict[str, dict] = {}
    for sent in ctx.data_sentences():
        if not _ABOUT_HIM.search(sent.text) or ctx.proportions(sent):
            continue
        for t in ctx.terms(sent, "outcome"):
            if t.label not in labels or t.label in out:
                continue
            negated = bool(_NEGATED.search(ctx.doc.text[sent.start:t.start]))
            out[t.label] = finding(ctx.doc, t.label, [(t.start, t.end)], events=0 if negated else 1, unit="patients",
                                   total=1, confidence=0.6, flags=["case report: outcome of the one patient"])
    return list(out.values())
