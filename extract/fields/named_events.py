"""Named adverse events and infection types counted in patients ("SOS occurred in 4 patients (3.6%)").

Why a module of its own: a paper often names the event itself instead of an outcome word
("herpes zoster developed in 2 patients", "four patients discontinued the drug because of
mucositis"). The event's name (vocabulary kinds ``adverse_event_type`` and ``infection_type``)
becomes the row's group, the count of patients the events, the cohort the total. Only a count in
the same clause, tied to the name by "in"/"among" (name first) or by a cause/onset verb (count
first), is read: a name alone or a count of something else gives no row.
"""
from __future__ import annotations

import re

from ..nlp import Sentence
from ..numbers import parse_number
from .base import Context, finding
from .population import Cohort, consistent
from .response import BARE_COUNT

_KINDS = (("adverse_event_type", "adverse_event", "adverse_event"), ("infection_type", "infection", "infection_type"))  # kind, outcome, group_type
_NAME_FIRST = re.compile(r"^[^;,.()\d]{0,40}?\b(?:in|among)\s+$", re.I)
_COUNT_FIRST = re.compile(r"^[^;.()\d]{0,60}?\b(?:because\s+of|due\s+to|for|developed|had|experienced|presented\s+with|"
                          r"suffered(?:\s+from)?)\s+(?:an?\s+|the\s+)?(?:\w+\s+){0,2}$", re.I)


def named_event_rows(ctx: Context, sent: Sentence, coh: Cohort) -> list[dict]:
    """Rows ``adverse_event``/``infection`` per named event with its patient count in ``sent``."""
    if coh.total is None:
        return []
    counts = _counts(ctx, sent, coh.total)
    out = []
    for kind, outcome, group_type in _KINDS:
        for t in ctx.terms(sent, kind):
            got = _count_for(ctx, t.start, t.end, counts)
            if got is None:
                continue
            (s, e), n, pct = got
            if n > coh.total or (pct is not None and not consistent(n, pct, coh.total)):
                continue
            out.append(finding(ctx.doc, outcome, [(s, e), (t.start, t.end)], group=ctx.doc.text[t.start:t.end],
                               group_type=group_type, events=n, unit="patients", total=coh.total,
                               reported_value=pct, reported_scale="percent" if pct is not None else None,
                               confidence=0.7))
    return out


def _counts(ctx: Context, sent: Sentence, total: int) -> list[tuple[tuple[int, int], int, float | None]]:
    """Patient counts of the sentence: proportions of the cohort (or without a total), then bare "N patients"."""
    found = [(p.span, int(p.events), p.percent.value if p.percent else None) for p in ctx.proportions(sent)
             if (p.total is None or p.total.value == total) and float(p.events).is_integer()]
    for m in BARE_COUNT.finditer(sent.text):
        n = parse_number(m.group("n"))
        s, e = sent.start + m.start(), sent.start + m.end()
        if n is None or not float(n).is_integer() or any(a < e and s < b for (a, b), _, _ in found):
            continue
        found.append(((s, e), int(n), None))
    return found


def _count_for(ctx: Context, start: int, end: int, counts: list) -> tuple | None:
    """The count tied to the name at ``[start, end)``: right after it ("in 4 patients"), else before it."""
    text = ctx.doc.text
    after = [c for c in counts if c[0][0] >= end and _NAME_FIRST.match(text[end:c[0][0]])]
    if after:
        return min(after, key=lambda c: c[0][0])
    before = [c for c in counts if c[0][1] <= start and _COUNT_FIRST.match(text[c[0][1]:start])]
    return max(before, key=lambda c: c[0][1]) if before else None
